"""A linked car's notify target: its own options, and DR's messages with Skip for it."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.tesladr.const import CONF_NOTIFY_TARGET, DOMAIN
from custom_components.tesladr.sources import SOURCE_GENERIC, Role
from tests.dr_harness import PriceTable, advance_to, at, state
from tests.fake_oasis import FakeOasis

from .routes import linked_entry

pytestmark = pytest.mark.usefixtures("churn_control_off")

ACTION = "mobile_app_notification_action"


async def test_linked_car_notify_option_pauses_with_skip_that_skips(
    hass: HomeAssistant,
    oasis: FakeOasis,
    charger: dict[Role, str],
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The charger's options take a phone; its pause is told with Skip, and Skip works."""
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = linked_entry(
        SOURCE_GENERIC,
        charger[Role.SWITCH],
        None,
        charger,
        title="Garage charger",
        entry_id="linked01",
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "linked_options"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_NOTIFY_TARGET: "notify.mobile_app_pixel"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()  # the options reload the entry
    assert dict(entry.options) == {CONF_NOTIFY_TARGET: "notify.mobile_app_pixel"}

    status = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_dr_status"
    )
    assert status is not None
    prices.set(0, 300, 300, 300)
    await advance_to(hass, freezer, at(5).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, status) == "paused"
    [call] = calls
    assert call.data["title"] == "Garage charger: demand response"
    assert call.data["message"] == (
        "Charging paused: the price at TH_SP15_GEN-APND is 0.300 USD/kWh (300 USD/MWh)."
    )
    [action] = call.data["data"]["actions"]
    hass.bus.async_fire(ACTION, {"action": action["action"]})
    await hass.async_block_till_done()
    assert state(hass, status) == "skipped"
    assert state(hass, "input_boolean.relay") == "on"


async def test_linked_car_options_left_empty_notify_nobody(
    hass: HomeAssistant, oasis: FakeOasis, charger: dict[Role, str]
) -> None:
    """An empty target is no option at all: nothing to send to."""
    entry = linked_entry(
        SOURCE_GENERIC,
        charger[Role.SWITCH],
        None,
        charger,
        title="Garage charger",
        entry_id="linked02",
    )
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, options={CONF_NOTIFY_TARGET: "notify.mobile_app_pixel"}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert dict(entry.options) == {}
