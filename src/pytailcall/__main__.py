"""``python -m pytailcall``: see :mod:`pytailcall.cli`."""

import sys

from pytailcall.cli import main

sys.exit(main())
