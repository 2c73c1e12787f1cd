"""Edges of demand response: unplugging, refused starts, unreadable storage."""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.tesladr.dr_coordinator import EVENT_DR
from custom_components.tesladr.dr_store import storage_key
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import account_entry

from .conftest import CHARGING, STATUS, PriceTable, advance_to, at, state


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
    """A start refused for a passing reason is tried again 5 minutes later; "complete" ends it."""
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
    # The retry waits 5 minutes; then the car says its battery is at the limit.
    tesla.command_refusals.append("complete")
    await advance_to(hass, freezer, at(14))
    assert tesla.count(CHARGING, "command") == 2
    await advance_to(hass, freezer, at(16))
    assert tesla.count(CHARGING, "command") == 3
    assert state(hass, STATUS) == "monitoring"
    assert account.runtime_data.dr.ledger.events[0].outcome == "resumed"


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
