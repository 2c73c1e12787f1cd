"""Tesla CAISO demand response for Home Assistant.

The "CAISO prices" entry (single instance) owns the price devices; it and every later kind of
entry share the one price coordinator of the Home Assistant instance. `entry_type` in the entry
data tells the kinds apart.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.storage import Store
from homeassistant.helpers.typing import ConfigType
import probatio

from .account import async_setup_account, async_unload_account
from .const import CONF_ENTRY_TYPE, CONF_OASIS_URL, DOMAIN, ENTRY_TYPE_PRICES
from .dr_manager import STORAGE_VERSION, storage_key
from .price_coordinator import DATA_OASIS_URL
from .prices import async_setup_prices, async_unload_prices
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]
ACCOUNT_PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]

# Only for tests and the offline demo: point the OASIS client at a local fake.
CONFIG_SCHEMA = probatio.Schema(
    {DOMAIN: probatio.Schema({probatio.Optional(CONF_OASIS_URL): cv.url})},
    extra=probatio.ALLOW_EXTRA,
)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Read the optional developer settings from YAML."""
    if url := config.get(DOMAIN, {}).get(CONF_OASIS_URL):
        hass.data[DATA_OASIS_URL] = url
    async_setup_services(hass)
    return True


def _is_prices(entry: ConfigEntry) -> bool:
    return bool(entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES)


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up the prices entry or a Tesla account entry."""
    if _is_prices(entry):
        entry.runtime_data = await async_setup_prices(hass, entry)
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    else:
        entry.runtime_data = await async_setup_account(hass, entry)
        await hass.config_entries.async_forward_entry_setups(entry, ACCOUNT_PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Unload a tesladr config entry."""
    platforms = PLATFORMS if _is_prices(entry) else ACCOUNT_PLATFORMS
    if not await hass.config_entries.async_unload_platforms(entry, platforms):
        return False
    if _is_prices(entry):
        await async_unload_prices(hass, entry)
    else:
        await async_unload_account(hass, entry)
    return True


async def async_remove_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Forget a removed account's DR settings, state and ledger (its cars were resumed)."""
    if not _is_prices(entry):
        await Store[dict[str, Any]](
            hass, STORAGE_VERSION, storage_key(entry.entry_id)
        ).async_remove()
