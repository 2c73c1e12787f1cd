"""Tests for the tesladr integration."""
