"""Benchmarks run in the same Home Assistant test harness as the tests."""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.fake_oasis"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/."""
