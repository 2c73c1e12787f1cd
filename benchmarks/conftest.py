"""Benchmarks run in the same Home Assistant test harness as the tests."""

from __future__ import annotations

import pytest

# pyproject's addopts keeps pytest from loading the Home Assistant plugin by entry point (see
# tests/conftest.py for why); the benchmarks, outside tests/, load it here.
pytest_plugins = ["pytest_homeassistant_custom_component.plugins", "tests.fake_oasis"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Lag settings of the replay (see replay_sim.LagSpec)."""
    group = parser.getgroup("tesladr replay")
    group.addoption(
        "--lag",
        action="append",
        default=None,
        help="OASIS publication lag: 120, 90-180, 60-120@12:00+120, 30/20+120 "
        "(repeatable; replaces the default matrix)",
    )
    group.addoption(
        "--lag-cars",
        default="1",
        help="fleet sizes of the lag runs, comma-separated (default 1)",
    )


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/."""
