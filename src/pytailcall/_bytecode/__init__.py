"""Reading, analysing and assembling CPython code objects.

``facts`` holds everything that differs between CPython versions; ``code`` decodes and
encodes the raw formats (instructions, exception table, location table); ``flow`` computes
stack depths and local-variable facts over the control-flow graph.
"""
