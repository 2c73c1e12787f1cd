"""Tests of the pure DR core."""
