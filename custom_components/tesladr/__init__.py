"""Tesla CAISO demand response for Home Assistant.

Two kinds of config entry share this domain: one "CAISO prices" entry (single instance) that
owns the price devices, and one entry per Tesla account that owns its cars and their demand
response. Both use the one price coordinator of the Home Assistant instance.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.typing import ConfigType
import probatio

from .account import async_setup_account, async_unload_account
from .const import CONF_ENTRY_TYPE, CONF_OASIS_URL, DOMAIN, ENTRY_TYPE_PRICES
from .price_coordinator import DATA_OASIS_URL
from .prices import async_setup_prices, async_unload_prices

# Only for tests and the offline demo: point the OASIS client at a local fake.
CONFIG_SCHEMA = probatio.Schema(
    {DOMAIN: probatio.Schema({probatio.Optional(CONF_OASIS_URL): cv.url})},
    extra=probatio.ALLOW_EXTRA,
)

PRICE_PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]
ACCOUNT_PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Read the optional developer settings from YAML."""
    if url := config.get(DOMAIN, {}).get(CONF_OASIS_URL):
        hass.data[DATA_OASIS_URL] = url
    return True


def _platforms(entry: ConfigEntry) -> list[Platform]:
    if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
        return PRICE_PLATFORMS
    return ACCOUNT_PLATFORMS


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up a tesladr config entry."""
    if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
        entry.runtime_data = await async_setup_prices(hass, entry)
    else:
        entry.runtime_data = await async_setup_account(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, _platforms(entry))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload a tesladr config entry."""
    if not await hass.config_entries.async_unload_platforms(entry, _platforms(entry)):
        return False
    if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
        await async_unload_prices(hass, entry)
    else:
        await async_unload_account(hass, entry)
    return True
