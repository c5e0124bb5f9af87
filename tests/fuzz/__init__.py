"""Differential fuzzing of pytailcall: random tail-recursive programs, native vs optimized.

``generate`` builds the programs (as source text) from a stream of choices, which either
hypothesis draws (:func:`generate.programs`) or a seeded ``random.Random`` makes
(:func:`generate.program_from_seed`). ``run`` executes a program natively and optimized with
every available strategy, compares what happened, runs batches in a crash-proof worker
subprocess, minimizes failures, and is the command line of long campaigns::

    python -m tests.fuzz.run --examples 20000 --seed 1

What is generated is a weighted mix (``generate.Mix``); ``stats`` measures how many of the
generated calls end up optimized. ``found/`` keeps minimized programs on which the library
still differs from native. See docs/fuzzing.md.
"""
