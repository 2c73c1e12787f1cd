"""Benchmarks: print JSON lines with a baseline beside each measurement."""
