"""Diagnostics for tesladr entries."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_EMAIL, CONF_LATITUDE, CONF_LONGITUDE
from homeassistant.core import HomeAssistant

from .const import (
    CONF_ACCESS_TOKEN,
    CONF_API_PROXY_CERT,
    CONF_API_PROXY_URL,
    CONF_CLIENT_ID,
    CONF_DEVICE_ID,
    CONF_ENTITIES,
    CONF_REFRESH_TOKEN,
    CONF_VEHICLES,
)
from .midas_coordinator import DATA_MIDAS
from .models import TesladrConfigEntry, car_runtime
from .price_coordinator import DATA_PRICES

TO_REDACT = {
    CONF_LATITUDE,
    CONF_LONGITUDE,
    CONF_REFRESH_TOKEN,
    CONF_ACCESS_TOKEN,
    CONF_EMAIL,
    "vin",
    "id_token",
    # The account options list the managed cars by VIN.
    CONF_VEHICLES,
    # A Fleet API application and a self-hosted proxy identify their owner too.
    CONF_CLIENT_ID,
    CONF_API_PROXY_URL,
    CONF_API_PROXY_CERT,
    # A linked car's device and entities identify the owner's other integration.
    CONF_DEVICE_ID,
    CONF_ENTITIES,
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: TesladrConfigEntry
) -> dict[str, Any]:
    """Entry settings, the cars (VINs, location and tokens redacted) and the price feed."""
    result: dict[str, Any] = {
        "entry": async_redact_data(
            {"data": dict(entry.data), "options": dict(entry.options)}, TO_REDACT
        ),
    }
    if (runtime := car_runtime(entry)) is not None:
        result["vehicles"] = [
            async_redact_data(asdict(car), TO_REDACT)
            for car in runtime.dr.source.cars.values()
        ]
        if (vehicles := runtime.vehicles) is not None:
            result["last_update_success"] = vehicles.last_update_success
            result["reads"] = vehicles.diagnostics()
        result["demand_response"] = runtime.dr.diagnostics()
    if (prices := hass.data.get(DATA_PRICES)) is not None:
        result["prices"] = prices.diagnostics()
    # RINs are public rate identifiers, nothing to redact.
    if (midas := hass.data.get(DATA_MIDAS)) is not None:
        result["midas"] = midas.diagnostics()
    return result
