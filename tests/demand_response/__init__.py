"""Tests of demand response in Home Assistant."""
