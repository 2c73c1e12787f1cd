"""Tests of the pure CAISO client."""
