"""Benchmarks of the bus against baselines measured in the same process: `nautilus bench`."""
