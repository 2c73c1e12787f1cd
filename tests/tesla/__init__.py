"""Tests of the Tesla account entry."""
