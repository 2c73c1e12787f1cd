"""Diagnostics for tesladr entries."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_LATITUDE, CONF_LONGITUDE
from homeassistant.core import HomeAssistant

from .prices import PricesRuntimeData

TO_REDACT = {
    CONF_LATITUDE,
    CONF_LONGITUDE,
    "refresh_token",
    "access_token",
    "email",
    "vin",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ConfigEntry
) -> dict[str, Any]:
    """Entry settings and what the price coordinator currently knows."""
    runtime: PricesRuntimeData = entry.runtime_data
    return {
        "entry": async_redact_data(
            {"data": dict(entry.data), "options": dict(entry.options)}, TO_REDACT
        ),
        "prices": runtime.coordinator.diagnostics(),
    }
