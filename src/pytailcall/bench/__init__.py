"""Benchmark workload and timing for pytailcall (``python -m pytailcall bench``)."""
