"""Set-up of the "CAISO prices" entry (owner: price feed work)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant


@dataclass(slots=True)
class PricesRuntimeData:
    """What a prices entry holds while loaded."""


async def async_setup_prices(
    hass: HomeAssistant, entry: ConfigEntry
) -> PricesRuntimeData:
    """Acquire the shared price coordinator for this entry's nodes."""
    return PricesRuntimeData()


async def async_unload_prices(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Release this entry's share of the price coordinator."""
