"""Tests of the vehicle backends."""
