"""Tesla CAISO demand response for Home Assistant.

The "CAISO prices" entry (single instance) owns the price devices; Tesla account entries (cars
through tesladr's own login) and linked cars (cars or chargers another integration provides)
share the one price coordinator of the Home Assistant instance. `entry_type` in the entry data
tells the kinds apart.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry, ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .account import async_setup_account, async_unload_account
from .const import (
    CONF_ENTRY_TYPE,
    CONF_NOTIFY_TARGET,
    CONF_SCAN_MINUTES,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_TYPE_ACCOUNT,
    ENTRY_TYPE_PRICES,
    ISSUE_LEFT_PAUSED,
)
from .dr_store import DrStore, left_paused_issue_id
from .identity import ACCOUNT_ID_MINOR_VERSION
from .linked import async_setup_linked, async_unload_linked
from .models import TesladrConfigEntry, car_runtime
from .notify_dr import DrNotifier, async_remove_notified
from .prices import async_setup_prices, async_unload_prices, nodes_in_use
from .services import async_setup_services

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]
CAR_PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.CALENDAR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
    Platform.TIME,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the services, once for every entry."""
    async_setup_services(hass)
    return True


def _platforms(entry: ConfigEntry) -> list[Platform]:
    return (
        PLATFORMS if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES else CAR_PLATFORMS
    )


async def async_migrate_entry(hass: HomeAssistant, entry: TesladrConfigEntry) -> bool:
    """Bring an entry to 1.3: drop the polling interval option earlier versions offered.

    An account entry still identified by its e-mail (1.1) stays 1.1 until its next token
    refresh gives it the account's id (identity.async_adopt_account_id); a later start takes
    it on to 1.3.
    """
    if entry.minor_version >= ENTRY_MINOR_VERSION:
        return (
            True  # a newer minor version reads the same (Home Assistant refuses majors)
        )
    awaits_account_id = (
        entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_ACCOUNT
        and entry.minor_version < ACCOUNT_ID_MINOR_VERSION
    )
    hass.config_entries.async_update_entry(
        entry,
        options={k: v for k, v in entry.options.items() if k != CONF_SCAN_MINUTES},
        minor_version=entry.minor_version if awaits_account_id else ENTRY_MINOR_VERSION,
    )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: TesladrConfigEntry) -> bool:
    """Set up the prices entry, a Tesla account entry or a linked car."""
    kind = entry.data[CONF_ENTRY_TYPE]
    if kind == ENTRY_TYPE_PRICES:
        entry.runtime_data = await async_setup_prices(hass, entry)
    elif kind == ENTRY_TYPE_ACCOUNT:
        entry.runtime_data = await async_setup_account(hass, entry)
    else:
        entry.runtime_data = await async_setup_linked(hass, entry)
    if (runtime := car_runtime(entry)) is not None and (
        target := entry.options.get(CONF_NOTIFY_TARGET)
    ):
        notifier = DrNotifier(hass, entry, runtime.dr, target)
        entry.async_on_unload(await notifier.async_start())
    await hass.config_entries.async_forward_entry_setups(entry, _platforms(entry))
    return True


async def async_unload_entry(hass: HomeAssistant, entry: TesladrConfigEntry) -> bool:
    """Unload a tesladr config entry (cars DR paused are resumed first)."""
    if not await hass.config_entries.async_unload_platforms(entry, _platforms(entry)):
        return False
    kind = entry.data[CONF_ENTRY_TYPE]
    if kind == ENTRY_TYPE_PRICES:
        await async_unload_prices(hass, entry)
    elif kind == ENTRY_TYPE_ACCOUNT:
        await async_unload_account(hass, entry)
    else:
        await async_unload_linked(hass, entry)
    return True


async def async_remove_entry(hass: HomeAssistant, entry: TesladrConfigEntry) -> None:
    """Forget a removed car entry's DR settings, state, ledger and notifications sent.

    Its cars were resumed as it unloaded; one that could not be is kept (see DrStore).
    """
    if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
        return
    await async_remove_notified(hass, entry.entry_id)
    paused = await DrStore(hass, entry.entry_id, entry.unique_id).async_remove()
    if paused:
        # Unloading could not reach these cars to resume them: the owner must know.
        ir.async_create_issue(
            hass,
            DOMAIN,
            left_paused_issue_id(entry.unique_id or entry.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_LEFT_PAUSED,
            translation_placeholders={"entry": entry.title, "count": str(len(paused))},
        )


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: TesladrConfigEntry, device: dr.DeviceEntry
) -> bool:
    """Let the user delete a device tesladr no longer uses, never one it uses.

    A node's device is in use while the prices options choose the node; a car's while the
    loaded entry manages the car. A car entry that is not loaded cannot tell which cars its
    account still has, so it keeps them.
    """
    if (
        entry.state is ConfigEntryState.LOADED
        and (runtime := car_runtime(entry)) is not None
    ):
        source = runtime.dr.source
        return device.id not in {source.device_id(car_id) for car_id in source.cars}
    if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
        return not device.identifiers & nodes_in_use(entry)
    return False
