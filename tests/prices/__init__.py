"""Tests of the CAISO prices entry."""
