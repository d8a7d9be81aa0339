"""Benchmarks: each prints ratios measured in the same run (our path vs the bare library or the wire time)."""
