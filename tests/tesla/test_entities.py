"""Snapshot of every car entity."""

from __future__ import annotations

from unittest.mock import patch

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from tests.fake_tesla import FakeTesla

from .conftest import account_entry


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "platform",
    [
        Platform.SENSOR,
        Platform.BINARY_SENSOR,
        Platform.SWITCH,
        Platform.BUTTON,
        Platform.NUMBER,
        Platform.SELECT,
        Platform.CALENDAR,
        Platform.TIME,
    ],
)
async def test_entities(
    hass: HomeAssistant,
    tesla: FakeTesla,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
) -> None:
    """Registry entries and states of both cars."""
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    with patch("custom_components.tesladr.CAR_PLATFORMS", [platform]):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)
