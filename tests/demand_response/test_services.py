"""Per-car DR settings, the skip button and services, events and logbook."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.number import ATTR_VALUE, SERVICE_SET_VALUE
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_OFF, SERVICE_TURN_ON
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.tesladr.const import (
    CONF_ENTRY_TYPE,
    CONF_NODES,
    DOMAIN,
    ENTRY_TYPE_PRICES,
)
from custom_components.tesladr.dr_coordinator import EVENT_DR
from custom_components.tesladr.logbook import async_describe_events
from tests.fake_tesla import FakeTesla

from .conftest import CHARGING, STATUS, PriceTable, advance_to, at, state

# Written for DR without churn control: each crossing pauses, each dip resumes.
pytestmark = pytest.mark.usefixtures("churn_control_off")


SKIP = "button.model_3_skip_this_event"
OPT_IN = "switch.model_3_demand_response"


def car_device(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    """The Model 3's device id."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, CHARGING), entry.entry_id
    )
    assert device is not None
    return device.id


async def set_number(hass: HomeAssistant, entity_id: str, value: float) -> None:
    """Change a DR setting through its number entity."""
    await hass.services.async_call(
        "number",
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value},
        blocking=True,
    )


async def test_skip_resumes_and_the_budget_is_enforced(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One skip per 24 h: the first resumes the car, the second is refused with a reason."""
    events = async_capture_events(hass, EVENT_DR)
    await set_number(hass, "number.model_3_skips_per_24_h", 1)
    with pytest.raises(ServiceValidationError) as nothing:
        await hass.services.async_call(
            "button", SERVICE_PRESS, {ATTR_ENTITY_ID: SKIP}, blocking=True
        )
    assert nothing.value.translation_key == "no_event_to_skip"

    prices.set(0, 300, 300, 40, 40, 300, 300)
    await advance_to(hass, freezer, at(5).replace(second=30))
    assert state(hass, STATUS) == "paused"
    await hass.services.async_call(
        "button", SERVICE_PRESS, {ATTR_ENTITY_ID: SKIP}, blocking=True
    )
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert state(hass, STATUS) == "skipped"
    # Still high at 17:05: the skipped car is left charging for the rest of the event.
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert state(hass, STATUS) == "skipped"
    assert tesla.cars[CHARGING].charging_state == "Charging"
    # 17:10 is calm: the event is over. The spike at 17:20 starts a new one.
    await advance_to(hass, freezer, at(25).replace(second=30))
    assert state(hass, STATUS) == "paused"
    with pytest.raises(ServiceValidationError) as refused:
        await hass.services.async_call(
            DOMAIN,
            "skip_event",
            {"device_id": car_device(hass, account)},
            blocking=True,
        )
    assert refused.value.translation_key == "skip_budget_exceeded"
    assert refused.value.translation_placeholders == {"limit": "1", "next": "17:05"}
    assert state(hass, STATUS) == "paused"
    assert [e.data["type"] for e in events] == [
        "started",
        "skipped",
        "ended",
        "started",
    ]
    assert events[2].data["reason"] == "skipped"


async def test_skip_service_skips_the_cars_event(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The service does what the button does, for a car device."""
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, at(5).replace(second=30))
    await hass.services.async_call(
        DOMAIN, "skip_event", {"device_id": car_device(hass, account)}, blocking=True
    )
    assert tesla.cars[CHARGING].charging_state == "Charging"
    with pytest.raises(ServiceValidationError) as again:
        await hass.services.async_call(
            DOMAIN,
            "skip_event",
            {"device_id": car_device(hass, account)},
            blocking=True,
        )
    assert again.value.translation_key == "no_event_to_skip"


async def test_services_reject_devices_that_are_not_loaded_cars(
    hass: HomeAssistant,
    account: MockConfigEntry,
) -> None:
    """Unknown devices and unloaded accounts get clear errors."""
    with pytest.raises(ServiceValidationError) as unknown:
        await hass.services.async_call(
            DOMAIN, "skip_event", {"device_id": "nope"}, blocking=True
        )
    assert unknown.value.translation_key == "not_a_car"
    device_id = car_device(hass, account)
    assert await hass.config_entries.async_unload(account.entry_id)
    with pytest.raises(ServiceValidationError) as unloaded:
        await hass.services.async_call(
            DOMAIN,
            "get_events",
            {"device_id": device_id},
            blocking=True,
            return_response=True,
        )
    assert unloaded.value.translation_key == "car_not_loaded"


async def test_services_look_past_prices_and_other_devices(
    hass: HomeAssistant, account: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """A node's device is not a car; a car device no loaded entry manages is not loaded.

    The prices entry is loaded beside the account, so the look-up passes over it too.
    """
    prices = MockConfigEntry(
        domain=DOMAIN,
        unique_id="caiso_prices",
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_PRICES},
        options={CONF_NODES: ["TH_NP15_GEN-APND"]},
    )
    prices.add_to_hass(hass)
    assert await hass.config_entries.async_setup(prices.entry_id)
    await hass.async_block_till_done()
    node = device_registry.async_get_device_by_identifier(
        (DOMAIN, "node_TH_NP15_GEN-APND"), prices.entry_id
    )
    assert node is not None
    with pytest.raises(ServiceValidationError) as not_a_car:
        await hass.services.async_call(
            DOMAIN, "skip_event", {"device_id": node.id}, blocking=True
        )
    assert not_a_car.value.translation_key == "not_a_car"

    left = device_registry.async_get_or_create(
        config_entry_id=account.entry_id,
        identifiers={(DOMAIN, "5YJ3E1EA0LF000009")},
        name="Old car",
    )
    with pytest.raises(ServiceValidationError) as unmanaged:
        await hass.services.async_call(
            DOMAIN, "skip_event", {"device_id": left.id}, blocking=True
        )
    assert unmanaged.value.translation_key == "car_not_loaded"


async def test_get_events_returns_the_ledger_of_a_period(
    hass: HomeAssistant,
    account: MockConfigEntry,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The event with its energy and value; an empty period; a reversed period refused."""
    prices.set(
        0, 300, 200
    )  # paused 17:05:15; 17:05 holds; calm 17:10 resumes at 17:15:15
    await advance_to(hass, freezer, at(20).replace(second=30))
    device_id = car_device(hass, account)
    response: Any = await hass.services.async_call(
        DOMAIN,
        "get_events",
        {"device_id": device_id},
        blocking=True,
        return_response=True,
    )
    assert len(response["events"]) == 1
    event = response["events"][0]
    assert event["outcome"] == "resumed"
    assert event["node"] == "TH_NP15_GEN-APND"
    assert event["power_kw"] == 7.0
    assert "vin" not in event
    # No emissions region or RIN chosen: no CO2 or retail figure, and no per-interval maps.
    assert (event["kg_co2"], event["net_kg_co2"]) == (None, None)
    assert (event["retail_usd"], event["net_retail_usd"]) == (None, None)
    assert not {"co2", "retail", "draws"} & set(event)
    for total in ("kg_co2", "net_kg_co2", "retail_usd", "net_retail_usd"):
        assert response[total] is None
    # Paused 17:05:15–17:15:15: 4.75 min at 200, 5 at 40 and 0.25 at 40.
    assert response["kwh"] == pytest.approx(7 * 10 / 60, abs=1e-3)
    assert response["usd"] == pytest.approx(
        7 / 60 * (4.75 * 200 + 5.25 * 40) / 1000, abs=1e-4
    )
    # Charging again from 17:15:15, the car drew 5 minutes back at 40 by 17:20 (the 17:15
    # interval, published at 17:20): the net value is the avoided cost less that.
    drawn = 7 * 5 / 60
    assert event["drawn_kwh"] == pytest.approx(drawn)
    assert event["drawn_usd"] == pytest.approx(drawn * 40 / 1000)
    assert event["owed_kwh"] == pytest.approx(event["kwh"] - drawn)
    assert event["net_usd"] == pytest.approx(event["usd"] - event["drawn_usd"])
    assert response["net_usd"] == pytest.approx(event["net_usd"], abs=1e-4)
    assert float(state(hass, "sensor.model_3_net_value_avoided")) == pytest.approx(
        event["net_usd"], abs=1e-4
    )
    earlier: Any = await hass.services.async_call(
        DOMAIN,
        "get_events",
        {
            "device_id": device_id,
            "start": (at(-120)).isoformat(),
            "end": (at(-60)).isoformat(),
        },
        blocking=True,
        return_response=True,
    )
    assert earlier == {
        "events": [],
        "kwh": 0,
        "usd": 0,
        "net_usd": 0,
        "kg_co2": None,
        "net_kg_co2": None,
        "retail_usd": None,
        "net_retail_usd": None,
    }
    with pytest.raises(ServiceValidationError) as reversed_period:
        await hass.services.async_call(
            DOMAIN,
            "get_events",
            {
                "device_id": device_id,
                "start": "2026-07-02 10:00",
                "end": "2026-07-02 09:00",
            },
            blocking=True,
            return_response=True,
        )
    assert reversed_period.value.translation_key == "invalid_period"


async def test_opting_out_resumes_and_settings_survive_a_reload(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Opt-out starts the car DR paused; thresholds change the effective values at once."""
    prices.set(0, *[300.0] * 8)
    await advance_to(hass, freezer, at(5).replace(second=30))
    await hass.services.async_call(
        "switch", SERVICE_TURN_OFF, {ATTR_ENTITY_ID: OPT_IN}, blocking=True
    )
    await hass.async_block_till_done()
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert state(hass, STATUS) == "opted_out"
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert tesla.count(CHARGING, "command") == 2

    await set_number(hass, "number.model_3_aggressiveness", 90)
    await set_number(hass, "number.model_3_price_threshold", 400)
    await hass.async_block_till_done()
    assert state(hass, "sensor.model_3_effective_start_threshold") == "240.0"
    assert state(hass, "sensor.model_3_battery_floor") == "26.0"
    assert await hass.config_entries.async_reload(account.entry_id)
    await hass.async_block_till_done()
    assert state(hass, OPT_IN) == "off"
    assert state(hass, "number.model_3_price_threshold") == "400.0"
    assert state(hass, "number.model_3_aggressiveness") == "90"

    # Opting in again: 300 is above 240, so the car is paused once more.
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: OPT_IN}, blocking=True
    )
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "paused"


async def test_invalid_setting_is_a_translated_error(
    hass: HomeAssistant,
    account: MockConfigEntry,
) -> None:
    """Settings outside the contract are refused, naming the setting."""
    with pytest.raises(ServiceValidationError) as err:
        await account.runtime_data.dr.async_update_settings(CHARGING, aggressiveness=0)
    assert err.value.translation_placeholders == {"setting": "aggressiveness"}


async def test_logbook_describes_dr_events(hass: HomeAssistant) -> None:
    """Every event type reads as a sentence about the car."""
    described: dict[str, Any] = {}

    def register(domain: str, event_type: str, describe: Any) -> None:
        described[event_type] = describe

    async_describe_events(hass, register)
    describe = described[EVENT_DR]
    data = {"car": "Model 3", "node": "TH_NP15_GEN-APND", "price": 150.0}
    started = describe(
        Event(EVENT_DR, {**data, "type": "started", "reason": "price_above_threshold"})
    )
    assert started == {
        "name": "Model 3",
        "message": "paused charging: price 150.0 USD/MWh at TH_NP15_GEN-APND (price above threshold)",
    }
    ended = describe(
        Event(EVENT_DR, {**data, "type": "ended", "reason": "prices_stale"})
    )
    assert ended["message"] == "resumed charging (prices stale)"
    assert describe(Event(EVENT_DR, {"type": "odd"}))["name"] == "Tesla"


async def test_a_car_far_from_caiso_is_never_paused(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A Model 3 charging in Portland is outside CAISO; a node chosen by hand doesn't reach it."""
    car = tesla.cars[CHARGING]
    car.latitude, car.longitude = 45.52, -122.68
    await account.runtime_data.dr.async_update_settings(
        CHARGING, node="TH_NP15_GEN-APND"
    )
    await account.runtime_data.coordinator.async_refresh()
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, at(10).replace(second=30))
    status = hass.states.get(STATUS)
    assert status is not None
    assert (status.state, status.attributes["reason"]) == (
        "monitoring",
        "outside_caiso",
    )
    assert tesla.count(CHARGING, "command") == 0
    await account.runtime_data.dr.async_update_settings(CHARGING, node=None)
    await hass.async_block_till_done()
    assert account.runtime_data.dr.resolve_node(CHARGING) == ("TH_NP15_GEN-APND", False)


async def test_choosing_a_pricing_node_and_back_to_auto(
    hass: HomeAssistant, account: MockConfigEntry
) -> None:
    """The select moves the car to the chosen node; auto returns it to the nearest."""
    select = "select.model_3_pricing_node_setting"
    assert state(hass, select) == "auto"
    assert state(hass, "sensor.model_3_pricing_node") == "TH_NP15_GEN-APND"
    for option, node in (("dlap_pgae-apnd", "DLAP_PGAE-APND"), ("auto", None)):
        await hass.services.async_call(
            "select",
            "select_option",
            {ATTR_ENTITY_ID: select, "option": option},
            blocking=True,
        )
        await hass.async_block_till_done()
        assert state(hass, select) == option
        assert account.runtime_data.dr.car(CHARGING).settings.node == node
        assert state(hass, "sensor.model_3_pricing_node") == (
            node or "TH_NP15_GEN-APND"
        )
