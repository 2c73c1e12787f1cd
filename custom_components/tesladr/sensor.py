"""Sensor platform for tesladr."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_ENTRY_TYPE, ENTRY_TYPE_PRICES

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up entities for a prices entry or an account entry."""
    if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
        _async_setup_price_entities(entry, async_add_entities)
    else:
        _async_setup_account_entities(entry, async_add_entities)


def _async_setup_price_entities(
    entry: ConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """CAISO price entities (owner: price feed work)."""


def _async_setup_account_entities(
    entry: ConfigEntry, async_add_entities: AddConfigEntryEntitiesCallback
) -> None:
    """Vehicle and demand-response entities (owners: Tesla account and DR work)."""
