"""Ready by departure and churn control through a real Home Assistant, fake Tesla and OASIS."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.tesladr.dr import Outcome
from custom_components.tesladr.dr_coordinator import EVENT_DR
from tests.fake_tesla import FakeTesla

from .conftest import CHARGING, STATUS, PriceTable, advance_to, at, state


async def test_ready_by_ends_a_pause_when_the_time_left_is_needed(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Leaving at 18:40 at 70 %: 5.8 kWh at 7 kW need 1 h 15 min with the margin.

    Prices stay high all evening, so only the guarantee ends the pause: at 17:25, when the
    time left is the time needed (not at 17:20, when a read from 17:05 would be too old).
    """
    dr = account.runtime_data.dr
    await dr.async_update_settings(CHARGING, departure="18:40", target_level=70)
    events = async_capture_events(hass, EVENT_DR)
    prices.set(0, *[150.0] * 12)
    car = tesla.cars[CHARGING]

    await advance_to(hass, freezer, at(6))
    assert car.charging_state == "Stopped"
    assert state(hass, STATUS) == "paused"

    await advance_to(hass, freezer, at(24))
    assert car.charging_state == "Stopped"
    while car.charging_state == "Stopped" and dt_util.utcnow() < at(27):
        await advance_to(hass, freezer, dt_util.utcnow() + timedelta(seconds=5))
    assert car.charging_state == "Charging"
    assert at(25) <= dt_util.utcnow() < at(26) + timedelta(seconds=30)
    assert [(e.data["type"], e.data["reason"]) for e in events] == [
        ("started", "price_above_threshold"),
        ("ended", "ready_by"),
    ]
    (event,) = dr.ledger.events
    assert event.outcome is Outcome.READY_BY

    # Charging on at 150 and still dearer than its slack allows: not stopped again, and the
    # energy it draws back is counted against the pause, at the price it draws at.
    await advance_to(hass, freezer, at(45))
    assert car.charging_state == "Charging"
    assert tesla.count(CHARGING, "command") == 2
    assert event.drawn_kwh > 0
    assert event.drawn_usd == event.drawn_kwh * 150 / 1000
    assert event.net_usd < event.usd


async def test_no_departure_time_left_never_pauses(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Leaving at 18:20 at 70 % leaves no room for a pause: DR does not stop the car."""
    dr = account.runtime_data.dr
    await dr.async_update_settings(CHARGING, departure="18:20", target_level=70)
    prices.set(0, 150, 150, 150)
    await advance_to(hass, freezer, at(15))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert tesla.count(CHARGING, "command") == 0
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["reason"] == "ready_by"


async def test_a_held_pause_rides_through_a_short_dip(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Minimum pause 60 min: a dip to 40 at 17:10 does not start the car to stop it again."""
    dr = account.runtime_data.dr
    await dr.async_update_settings(CHARGING, min_pause_minutes=60)
    events = async_capture_events(hass, EVENT_DR)
    prices.set(0, 150, 150, 40, 150, 150, 40)
    await advance_to(hass, freezer, at(32))
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert tesla.count(CHARGING, "command") == 1
    # The hour is up at 18:05; the price is low then: one start.
    await advance_to(hass, freezer, at(66))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert tesla.count(CHARGING, "command") == 2
    assert [(e.data["type"], e.data["reason"]) for e in events] == [
        ("started", "price_above_threshold"),
        ("ended", "price_below_resume"),
    ]


async def test_ready_by_settings_are_entities(
    hass: HomeAssistant, account: MockConfigEntry
) -> None:
    """Departure, target, minimum pause and budget: set from their entities, kept by DR."""
    dr = account.runtime_data.dr
    assert state(hass, "time.model_3_departure") == "unknown"
    assert state(hass, "switch.model_3_ready_by_departure") == "off"
    # The car's own charge limit until the owner sets a target.
    assert state(hass, "number.model_3_target_charge") == "90"

    await hass.services.async_call(
        "time",
        "set_value",
        {"entity_id": "time.model_3_departure", "time": "06:45:00"},
        blocking=True,
    )
    for entity_id, value in (
        ("number.model_3_target_charge", 80),
        ("number.model_3_minimum_pause", 30),
        ("number.model_3_pauses_per_24_h", 4),
    ):
        await hass.services.async_call(
            "number",
            "set_value",
            {"entity_id": entity_id, "value": value},
            blocking=True,
        )
    await hass.async_block_till_done()
    settings = dr.car(CHARGING).settings
    assert (settings.departure, settings.target_level) == ("06:45", 80)
    assert (settings.min_pause_minutes, settings.pauses_per_24h) == (30, 4)
    assert state(hass, "time.model_3_departure") == "06:45:00"
    assert state(hass, "switch.model_3_ready_by_departure") == "on"
    assert state(hass, "number.model_3_target_charge") == "80"

    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.model_3_ready_by_departure"},
        blocking=True,
    )
    # Off keeps the owner's time for when it is turned on again.
    assert not dr.car(CHARGING).settings.ready_by
    assert dr.car(CHARGING).settings.departure == "06:45"
    assert state(hass, "time.model_3_departure") == "unknown"
    await dr.async_update_settings(CHARGING, departure=None)
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.model_3_ready_by_departure"},
        blocking=True,
    )
    # On, with no departure known here or from the car: a usual morning one.
    assert dr.car(CHARGING).settings.departure == "07:00"
    assert state(hass, "switch.model_3_ready_by_departure") == "on"
