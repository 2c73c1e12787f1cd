"""Car devices of an account: the user may delete one tesladr no longer manages, not one in use."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.tesladr.const import DOMAIN

from .conftest import CHARGING, SLEEPING

GONE = "5YJ3E1EA0LF000009"


async def test_a_car_in_use_is_refused_one_that_left_is_deleted(
    hass: HomeAssistant,
    account: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The account's cars keep their devices; a device of a car it no longer has goes."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    gone = device_registry.async_get_or_create(
        config_entry_id=account.entry_id, identifiers={(DOMAIN, GONE)}, name="Old car"
    )
    for vin in (CHARGING, SLEEPING):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, vin), account.entry_id
        )
        assert device is not None
        response = await client.remove_device(device.id)
        assert not response["success"]
        assert device_registry.async_get(device.id) is not None

    response = await client.remove_device(gone.id)
    assert response["success"]
    assert device_registry.async_get(gone.id) is None


async def test_an_account_not_loaded_keeps_its_car_devices(
    hass: HomeAssistant,
    account: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Unloaded, the entry cannot tell which cars the account still has: it refuses."""
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    assert await hass.config_entries.async_unload(account.entry_id)
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, CHARGING), account.entry_id
    )
    assert device is not None
    response = await client.remove_device(device.id)
    assert not response["success"]
    assert device_registry.async_get(device.id) is not None
