"""Timed comparisons that print JSON (not run as tests): `python -m benchmarks [--quick] [--only NAME] [--out FILE]`.

Every figure is measured against a baseline in the same run; see benchmarks/runner.py for the list
and docs/performance.md for the latest numbers. `benchmarks/gpu.py` is the GPU script (full 11B
architecture with random weights; `--tiny` checks its code path on a CPU).
"""
