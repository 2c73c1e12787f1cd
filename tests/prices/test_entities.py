"""Snapshot of every price entity, and the threshold sensor's behaviour."""

from __future__ import annotations

from datetime import timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from tests.fake_oasis import FakeOasis

from .conftest import NP15, SP15, prices_entry
from .test_coordinator import advance


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_entities(
    hass: HomeAssistant,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
    setup_domain,
) -> None:
    """All price entities, with their registry entries and states."""
    await setup_domain()
    entry = prices_entry([NP15, SP15], threshold=40.0)
    entry.add_to_hass(hass)
    with patch("custom_components.tesladr.PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    # Past the first wake and its day-ahead request.
    await advance(hass, freezer, timedelta(minutes=6))
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_price_above_threshold_follows_the_newest_price(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """NP15 (39.55) is below 35 + SP15 above it; a spike turns NP15 on."""
    np15 = "binary_sensor.caiso_prices_np15_hub_price_above_threshold"
    sp15 = "binary_sensor.caiso_prices_sp15_hub_price_above_threshold"
    assert hass.states.get(np15).state == "on"  # type: ignore[union-attr]
    oasis.price_fn = lambda market, node, start: 10.0
    await advance(hass, freezer, timedelta(minutes=5))
    assert hass.states.get(np15).state == "off"  # type: ignore[union-attr]
    assert hass.states.get(sp15).state == "off"  # type: ignore[union-attr]
