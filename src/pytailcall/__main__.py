"""``python -m pytailcall``: see :mod:`pytailcall.cli`."""

from pytailcall.cli import console_main

console_main()
