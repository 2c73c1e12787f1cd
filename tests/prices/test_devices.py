"""Node devices follow the prices options; the user may delete only those no longer chosen."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.tesladr.const import CONF_NODES, CONF_THRESHOLD, DOMAIN

from .conftest import NP15, SP15


def node_device(registry: dr.DeviceRegistry, node: str) -> dr.DeviceEntry | None:
    """A node's device of the prices entry, if it exists."""
    return registry.async_get_device_by_identifier((DOMAIN, f"node_{node}"), "prices01")


async def test_a_node_taken_out_of_the_options_loses_its_device(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The reload after the options removes SP15's device and entities; NP15 keeps its."""
    sp15 = node_device(device_registry, SP15)
    assert sp15 is not None
    assert er.async_entries_for_device(entity_registry, sp15.id)

    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_NODES: [NP15], CONF_THRESHOLD: 35}
    )
    await hass.async_block_till_done()

    assert node_device(device_registry, SP15) is None
    assert not er.async_entries_for_device(entity_registry, sp15.id)
    assert hass.states.get("sensor.caiso_prices_sp15_hub_real_time_price") is None
    np15 = node_device(device_registry, NP15)
    assert np15 is not None
    assert er.async_entries_for_device(entity_registry, np15.id)


async def test_only_a_node_no_longer_chosen_can_be_deleted(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Options changed while the entry is unloaded leave SP15's device: the user may delete it.

    NP15, still chosen, is refused, loaded or not.
    """
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    np15 = node_device(device_registry, NP15)
    assert np15 is not None
    response = await client.remove_device(np15.id)
    assert not response["success"]

    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_NODES: [NP15]}
    )
    sp15 = node_device(device_registry, SP15)
    assert sp15 is not None
    response = await client.remove_device(sp15.id)
    assert response["success"]
    assert node_device(device_registry, SP15) is None
    response = await client.remove_device(np15.id)
    assert not response["success"]
    assert node_device(device_registry, NP15) is not None


async def test_removing_the_prices_entry_takes_its_devices_and_keeps_no_dr_data(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    loaded_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The prices entry holds no cars: nothing of DR's is stored or left behind for it."""
    assert node_device(device_registry, NP15) is not None
    await hass.config_entries.async_remove(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert node_device(device_registry, NP15) is None
    assert not [key for key in hass_storage if key.startswith(f"{DOMAIN}.dr")]
    assert not ir.async_get(hass).issues
