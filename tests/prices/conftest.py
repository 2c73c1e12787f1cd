"""Fixtures for the prices entry: a fake OASIS with a price day, and a loaded entry."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market, RequestPacer
from custom_components.tesladr.const import (
    CONF_ENTRY_TYPE,
    CONF_NODES,
    CONF_THRESHOLD,
    DOMAIN,
    ENTRY_TYPE_PRICES,
)
from tests.fake_oasis import FakeOasis

NP15 = "TH_NP15_GEN-APND"
SP15 = "TH_SP15_GEN-APND"
# 13:00:20 Pacific daylight time, 20 s after an interval boundary.
START = datetime(2026, 7, 1, 20, 0, 20, tzinfo=UTC)


def price_day(market: Market, node: str, start: datetime) -> float:
    """A deterministic price: rises through the day, SP15 10 dollars above NP15."""
    base = 20.0 + start.hour + start.minute / 100
    return (
        base + (10.0 if node == SP15 else 0.0) + (0.5 if market is Market.DAM else 0.0)
    )


@pytest.fixture
def oasis(
    fake_oasis: FakeOasis, freezer: FrozenDateTimeFactory, frozen_pacer: RequestPacer
) -> FakeOasis:
    """The fake OASIS on HA's frozen clock, serving the price day."""
    freezer.move_to(START)
    fake_oasis.clock = dt_util.utcnow
    fake_oasis.price_fn = price_day
    return fake_oasis


@pytest.fixture
def setup_domain(hass: HomeAssistant, oasis: FakeOasis) -> Callable[[], object]:
    """Configure the domain to use the fake OASIS."""

    async def _setup() -> None:
        assert await async_setup_component(hass, DOMAIN, {})

    return _setup


def prices_entry(
    nodes: list[str] | None = None, threshold: float = 100.0
) -> MockConfigEntry:
    """A prices entry."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="CAISO prices",
        unique_id="caiso_prices",
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_PRICES},
        options={CONF_NODES: nodes or [NP15], CONF_THRESHOLD: threshold},
        entry_id="prices01",
    )


@pytest.fixture
async def loaded_entry(hass: HomeAssistant, oasis: FakeOasis) -> MockConfigEntry:
    """A loaded prices entry with NP15 and SP15."""
    assert await async_setup_component(hass, DOMAIN, {})
    entry = prices_entry([NP15, SP15], threshold=35.0)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
