"""Edges of demand response: unplugging, refused starts, unreadable storage."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.tesladr.dr import CarDrState
from custom_components.tesladr.dr_coordinator import EVENT_DR
from custom_components.tesladr.dr_store import LEDGER_SAVE_DELAY, storage_key
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import account_entry

from .conftest import (
    CHARGING,
    SLEEPING,
    STATUS,
    STATUS_Y,
    PriceTable,
    advance_to,
    at,
    state,
)

# Written for DR without churn control: each crossing pauses, each dip resumes.
pytestmark = pytest.mark.usefixtures("churn_control_off")


async def test_unplugging_while_paused_ends_the_event_without_a_start(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing to resume once the cable is out: the event ends as "unplugged"."""
    events = async_capture_events(hass, EVENT_DR)
    prices.set(0, *[300.0] * 6)
    await advance_to(hass, freezer, at(5).replace(second=30))
    assert state(hass, STATUS) == "paused"
    tesla.cars[CHARGING].charging_state = "Disconnected"
    await advance_to(hass, freezer, at(11))
    assert state(hass, STATUS) == "monitoring"
    assert tesla.count(CHARGING, "command") == 1
    assert [(e.data["type"], e.data["reason"]) for e in events] == [
        ("started", "price_above_threshold"),
        ("ended", "not_plugged_in"),
    ]
    ledger = account.runtime_data.dr.ledger
    assert ledger.events[0].outcome == "unplugged"


async def test_a_refused_start_is_retried_and_a_full_battery_ends_the_event(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A start refused for a passing reason is tried again a minute later; "complete" ends it."""
    prices.set(0, 300)  # paused at 17:05:15, resumed from 17:10:15
    await advance_to(hass, freezer, at(5).replace(second=30))
    tesla.command_refusals.append("busy")
    await advance_to(hass, freezer, at(10).replace(second=30))
    status = hass.states.get(STATUS)
    assert status is not None
    assert (status.state, status.attributes["reason"]) == (
        "paused",
        "price_below_resume",
    )
    assert sum("Could not resume" in r.getMessage() for r in caplog.records) == 1
    assert account.runtime_data.dr.car(CHARGING).command_error == "busy"
    # The first retry waits a minute; meanwhile the owner lowered the limit to the battery's
    # level, so the car answers "complete".
    car = tesla.cars[CHARGING]
    car.charge_limit_soc = car.battery_level
    await advance_to(hass, freezer, at(11))
    assert tesla.count(CHARGING, "command") == 2
    await advance_to(hass, freezer, at(12).replace(second=30))
    assert tesla.count(CHARGING, "command") == 3
    assert car.charging_state == "Stopped"
    assert state(hass, STATUS) == "monitoring"
    assert account.runtime_data.dr.ledger.events[0].outcome == "resumed"


@pytest.mark.parametrize("reason", ["complete", "disconnected", "is_charging"])
async def test_a_refusal_the_car_contradicts_is_not_taken_for_a_resume(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    reason: str,
) -> None:
    """A start refused as needless while the car reads plugged in, stopped, below its limit.

    Believing the reason would end DR's hold on a car that still waits for its start: DR
    keeps it and starts it at the next retry.
    """
    prices.set(0, 300)  # paused at 17:05:15, resumed from 17:10:15
    await advance_to(hass, freezer, at(5).replace(second=30))
    tesla.command_refusals.append(reason)
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert state(hass, STATUS) == "paused"
    assert account.runtime_data.dr.car(CHARGING).command_error == reason
    await advance_to(hass, freezer, at(12).replace(second=30))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert state(hass, STATUS) == "monitoring"
    [event] = account.runtime_data.dr.ledger.events
    assert event.outcome == "resumed"
    assert event.ended is not None and event.ended >= at(11)


async def test_unreadable_stored_settings_fall_back_to_defaults(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A hand-edited store with an out-of-contract value does not stop the entry."""
    hass_storage[storage_key("account01")] = {
        "version": 1,
        "minor_version": 1,
        "key": storage_key("account01"),
        "data": {
            "cars": {
                CHARGING: {
                    "settings": {"aggressiveness": 0},
                    "state": {
                        "paused_by_dr": False,
                        "overridden": False,
                        "skipped": False,
                    },
                }
            },
            "ledger": {},
        },
    }
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, "number.model_3_aggressiveness") == "50"
    assert "Stored DR settings of a car were invalid" in caplog.text


def stored_car(state: Any) -> dict[str, Any]:
    """A DR store holding the Model 3 with valid settings and the given state."""
    return {
        "version": 1,
        "minor_version": 1,
        "key": storage_key("account01"),
        "data": {"cars": {CHARGING: {"settings": {}, "state": state}}, "ledger": {}},
    }


@pytest.mark.parametrize(
    "stored",
    [
        {"paused_by_dr": "yes", "overridden": False, "skipped": False},
        {"paused_by_dr": 1, "overridden": 0, "skipped": 0},
        {"paused_by_dr": True, "overridden": False, "skipped": False, "extra": 1},
        ["paused_by_dr"],
        None,
    ],
    ids=["string", "integers", "extra", "list", "null"],
)
async def test_unreadable_stored_car_state_starts_afresh(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    caplog: pytest.LogCaptureFixture,
    stored: Any,
) -> None:
    """Stored car state that is not three flags: a clean state and one warning.

    A truthy non-boolean "paused_by_dr" taken at face value would show a car as paused and
    later send it a start the owner never asked for.
    """
    hass_storage[storage_key("account01")] = stored_car(stored)
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.dr.car(CHARGING).state == CarDrState()
    assert state(hass, STATUS) == "monitoring"
    warnings = [
        r for r in caplog.records if "Stored DR state of a car" in r.getMessage()
    ]
    assert len(warnings) == 1
    assert tesla.count(CHARGING, "command") == 0


async def test_an_accounted_interval_alone_is_saved_after_a_delay(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    account: MockConfigEntry,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The pause is written at once; the next interval's value only after the delay."""
    key = storage_key(account.entry_id)
    ledger = account.runtime_data.dr.ledger
    prices.set(0, *[300.0] * 6)
    await advance_to(hass, freezer, at(5).replace(second=30))
    assert state(hass, STATUS) == "paused"
    written = hass_storage[key]["data"]["ledger"]
    assert written["events"][0]["prices"] == {}  # the pause, saved at once
    while not ledger.events[0].prices:
        assert dt_util.utcnow() < at(15), "no interval was accounted"
        await advance_to(hass, freezer, dt_util.utcnow() + timedelta(seconds=5))
    assert state(hass, STATUS) == "paused"  # nothing but the ledger changed
    assert hass_storage[key]["data"]["ledger"] == written
    await advance_to(
        hass, freezer, dt_util.utcnow() + timedelta(seconds=LEDGER_SAVE_DELAY)
    )
    saved = hass_storage[key]["data"]["ledger"]["events"][0]["prices"]
    assert saved == ledger.events[0].prices != {}


async def test_unload_resumes_an_accounts_cars_side_by_side(
    hass: HomeAssistant,
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two paused cars and a slow Tesla: the two starts are in flight together."""
    tesla.cars[SLEEPING].state = "online"
    tesla.cars[SLEEPING].charging_state = "Charging"
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    prices.set(0, *[300.0] * 6)
    await advance_to(hass, freezer, at(5).replace(second=30))
    assert (state(hass, STATUS), state(hass, STATUS_Y)) == ("paused", "paused")
    tesla.spans.clear()
    tesla.slow_turns = 200
    assert await hass.config_entries.async_unload(entry.entry_id)
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert tesla.cars[SLEEPING].charging_state == "Charging"
    starts = {
        vin: (begin, end) for vin, kind, begin, end in tesla.spans if kind == "command"
    }
    assert starts.keys() == {CHARGING, SLEEPING}
    (first_begin, first_end), (second_begin, second_end) = starts.values()
    # Each start was sent before the other one was answered.
    assert first_begin < second_end
    assert second_begin < first_end


@pytest.mark.parametrize(
    "in_flight",
    [
        ["not", "a", "mapping"],
        {CHARGING: {"sent_at": "not a time", "power_kw": 7.0, "needed_kwh": None}},
        {CHARGING: {"power_kw": 7.0}},
        {CHARGING: "yesterday"},
        {CHARGING: {"sent_at": "2026-07-01T17:00:00+00:00", "reason": "no such"}},
    ],
    ids=["list", "bad_time", "missing", "string", "bad_reason"],
)
async def test_an_unreadable_stop_in_flight_is_ignored(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    in_flight: Any,
) -> None:
    """A hand-edited record of a stop (or start) in flight: no pause is made up from it."""
    data = stored_car({"paused_by_dr": False, "overridden": False, "skipped": False})
    data["data"]["stops_in_flight"] = in_flight
    data["data"]["starts_in_flight"] = in_flight
    hass_storage[storage_key("account01")] = data
    tesla.cars[CHARGING].charging_state = "Stopped"
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.runtime_data.dr.ledger.events == []
    assert state(hass, STATUS) == "monitoring"


async def test_a_failing_start_is_retried_after_a_minute_then_every_two(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Retries come often enough that a car is not kept paused past the fail-safe's interval.

    Every 5 minutes (the old cadence) could resume a car minutes after its refusals or its
    outage ended; every few seconds would pile up wake-ups.
    """
    prices.set(0, 300)  # paused at 17:05:15, resumed from 17:10:15
    await advance_to(hass, freezer, at(5).replace(second=30))
    tesla.command_refusals.extend(["busy"] * 3)
    sent: list[float] = []  # when each start arrived
    while len(sent) < 4 and dt_util.utcnow() < at(25):
        before = tesla.count(CHARGING, "command")
        await advance_to(hass, freezer, dt_util.utcnow() + timedelta(seconds=5))
        if tesla.count(CHARGING, "command") > before:
            sent.append(dt_util.utcnow().timestamp())
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert len(sent) == 4  # the resume, refused three times, then taken
    first, *later = [b - a for a, b in pairwise(sent)]
    assert 60 <= first < 120
    assert later and all(120 <= gap < 180 for gap in later), later
