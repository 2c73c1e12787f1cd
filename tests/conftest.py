"""Shared fixtures for tesladr tests."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from datetime import timedelta
from pathlib import Path
from unittest.mock import PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.tesladr.caiso import RequestPacer
from custom_components.tesladr.price_coordinator import DATA_FEED, OasisFeed

pytest_plugins = ["tests.fake_oasis", "tests.fake_tesla", "tests.dr_harness"]

# Captured payloads live beside the project; tests that need them skip when it is absent.
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


@pytest.fixture
def reference() -> Path:
    """Folder of real captured payloads; skip the test when it is not beside the project."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not present")
    return REFERENCE


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled, for snapshots."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def frozen_pacer(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> RequestPacer:
    """The instance's pacer, whose waits move the frozen clock as a real wait moves time.

    With the production sleep a wait would pass in real time while HA's clock stands still,
    and the fake OASIS would record the paced request at the same instant as the one before.
    """

    async def sleep(seconds: float) -> None:
        freezer.tick(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    pacer = RequestPacer(clock=lambda: dt_util.utcnow().timestamp(), sleep=sleep)
    hass.data[DATA_FEED] = OasisFeed(pacer)
    return pacer


@pytest.fixture
def instant_pacer(hass: HomeAssistant) -> RequestPacer:
    """A pacer that never waits, for tests about something other than the 5 s rule.

    Its production sleep would pass in real time while a test's frozen clock stands still,
    and a test moving frozen time would never see it end.
    """

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    pacer = RequestPacer(clock=lambda: dt_util.utcnow().timestamp(), sleep=no_wait)
    hass.data[DATA_FEED] = OasisFeed(pacer)
    return pacer
