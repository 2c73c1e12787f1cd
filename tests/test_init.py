"""Set-up and unload of a config entry in a real hass."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import (
    CONF_ENTRY_TYPE,
    CONF_NODES,
    DOMAIN,
    ENTRY_TYPE_PRICES,
)
from custom_components.tesladr.price_coordinator import DATA_PRICES
from tests.fake_oasis import FakeOasis


async def test_setup_and_unload_entry(
    hass: HomeAssistant, fake_oasis: FakeOasis
) -> None:
    """An entry loads against the fake OASIS and unloads cleanly."""
    fake_oasis.price_fn = lambda market, node, start: 42.0
    assert await async_setup_component(hass, DOMAIN, {})
    entry = MockConfigEntry(
        domain=DOMAIN,
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_PRICES},
        options={CONF_NODES: ["TH_NP15_GEN-APND"]},
    )
    entry.add_to_hass(hass)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (
        hass.states.get("sensor.caiso_prices_np15_hub_real_time_price").state == "42.0"
    )  # type: ignore[union-attr]

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert DATA_PRICES not in hass.data
