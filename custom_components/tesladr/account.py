"""Set-up of a Tesla account entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_EMAIL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.httpx_client import get_async_client
from teslajsonpy import Controller

from .const import (
    CONF_ACCESS_TOKEN,
    CONF_API_PROXY_CERT,
    CONF_API_PROXY_URL,
    CONF_AUTH_DOMAIN,
    CONF_CLIENT_ID,
    CONF_EXPIRATION,
    CONF_REFRESH_TOKEN,
    DEFAULT_AUTH_DOMAIN,
    DEFAULT_CLIENT_ID,
)
from .dr_manager import DrManager
from .vehicle_coordinator import TeslaVehicleCoordinator
from .vehicles.tesla import TeslaChargeControl


@dataclass(slots=True)
class AccountRuntimeData:
    """What an account entry holds while loaded."""

    controller: Controller
    control: TeslaChargeControl
    coordinator: TeslaVehicleCoordinator
    dr: DrManager


def create_controller(hass: HomeAssistant, data: dict[str, Any]) -> Controller:
    """A teslajsonpy controller on Home Assistant's shared httpx client."""
    return Controller(
        websession=get_async_client(hass),
        email=data[CONF_EMAIL],
        refresh_token=data[CONF_REFRESH_TOKEN],
        access_token=data.get(CONF_ACCESS_TOKEN),
        expiration=data.get(CONF_EXPIRATION, 0),
        auth_domain=data.get(CONF_AUTH_DOMAIN) or DEFAULT_AUTH_DOMAIN,
        api_proxy_url=data.get(CONF_API_PROXY_URL) or None,
        api_proxy_cert=data.get(CONF_API_PROXY_CERT) or None,
        client_id=data.get(CONF_CLIENT_ID) or DEFAULT_CLIENT_ID,
    )


async def async_setup_account(
    hass: HomeAssistant, entry: ConfigEntry
) -> AccountRuntimeData:
    """Connect to the account and read its cars once."""
    controller = create_controller(hass, dict(entry.data))
    control = TeslaChargeControl(controller)
    coordinator = TeslaVehicleCoordinator(hass, entry, controller, control)
    await coordinator.async_config_entry_first_refresh()
    manager = DrManager(hass, entry, coordinator, control)
    await manager.async_setup()
    return AccountRuntimeData(controller, control, coordinator, manager)


async def async_unload_account(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Resume every car DR paused; the httpx client is Home Assistant's to close."""
    runtime: AccountRuntimeData = entry.runtime_data
    await runtime.dr.async_unload()
