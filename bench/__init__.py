"""Benchmarks: `make bench` (python -m bench) measures speed and size on PostgreSQL."""
