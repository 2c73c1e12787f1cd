"""Departures per weekday, and the car's own schedule as the default, through real entities.

The fake Tesla's Model 3 charges at 7 kW at 60 %: to a 70 % target it needs 1 h 15 min with
the margin, so a departure at 18:20 leaves no room for a pause at 17:05, and any later day's
departure leaves plenty. The harness's evening is Wednesday 1 July 2026, 17:00 Pacific.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.dr import DrSettings
from custom_components.tesladr.dr_store import storage_key
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import account_entry

from .conftest import CHARGING, STATUS, PriceTable, advance_to, at, state

DEPARTURE = "time.model_3_departure"
WEDNESDAY = "time.model_3_departure_wednesday"
THURSDAY = "time.model_3_departure_thursday"
SATURDAY = "time.model_3_departure_saturday"
DAYS = "select.model_3_departure_days"
READY_BY = "switch.model_3_ready_by_departure"
TIGHT = "18:20:00"  # no room for a pause on the evening
LOOSE = "23:30:00"  # room for hours of pause


async def set_time(hass: HomeAssistant, entity_id: str, value: str) -> None:
    """Set a time entity as the owner does."""
    await hass.services.async_call(
        "time", "set_value", {"entity_id": entity_id, "time": value}, blocking=True
    )


async def set_days(hass: HomeAssistant, option: str) -> None:
    """Choose the days the owner leaves."""
    await hass.services.async_call(
        "select",
        "select_option",
        {"entity_id": DAYS, "option": option},
        blocking=True,
    )


async def high_evening(
    hass: HomeAssistant,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> str:
    """Prices high from 17:00; the car's charging state at 17:15."""
    prices.set(0, 150, 150, 150, 150)
    await advance_to(hass, freezer, at(15))
    return tesla.cars[CHARGING].charging_state


def reason(hass: HomeAssistant) -> Any:
    """Why DR last decided what it did for the Model 3."""
    status = hass.states.get(STATUS)
    assert status is not None
    return status.attributes["reason"]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_weekday_departure_of_its_own_decides(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Daily at 23:30, Wednesdays at 18:20: on this Wednesday evening DR does not pause."""
    dr = account.runtime_data.dr
    await dr.async_update_settings(CHARGING, target_level=70)
    await set_time(hass, DEPARTURE, LOOSE)
    await set_time(hass, WEDNESDAY, TIGHT)
    assert state(hass, WEDNESDAY) == TIGHT
    assert (
        state(hass, THURSDAY) == LOOSE
    )  # the daily time, where a day has none of its own
    assert dr.car(CHARGING).settings.weekday_departures[2] == "18:20"

    assert await high_evening(hass, tesla, prices, freezer) == "Charging"
    assert tesla.count(CHARGING, "command") == 0
    assert reason(hass) == "ready_by"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_day_without_departure_has_no_ready_by_constraint(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Leaving at 18:20 on weekends only: this Wednesday DR pauses, as without a departure."""
    dr = account.runtime_data.dr
    await dr.async_update_settings(CHARGING, target_level=70)
    await set_time(hass, DEPARTURE, TIGHT)
    await set_days(hass, "weekends")
    assert state(hass, DAYS) == "weekends"
    assert state(hass, WEDNESDAY) == "unknown"
    assert state(hass, SATURDAY) == TIGHT
    # A day the owner does not leave takes no time of its own.
    with pytest.raises(ServiceValidationError) as err:
        await set_time(hass, WEDNESDAY, TIGHT)
    assert err.value.translation_key == "not_a_departure_day"

    assert await high_evening(hass, tesla, prices, freezer) == "Stopped"
    assert state(hass, STATUS) == "paused"


async def test_the_cars_own_schedule_is_the_default(
    hass: HomeAssistant,
    tesla: FakeTesla,
    oasis: Any,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Tesla's scheduled departure at 18:20 guards the car until the owner sets a time.

    The schedule reaches DR through teslajsonpy's vehicle_data read of the fake Tesla.
    """
    car = tesla.cars[CHARGING]
    car.scheduled_charging_mode = "DepartBy"
    car.scheduled_departure_time_minutes = 18 * 60 + 20
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    dr = entry.runtime_data.dr
    await dr.async_update_settings(CHARGING, target_level=70)

    departure = hass.states.get(DEPARTURE)
    assert departure is not None
    assert departure.state == TIGHT
    assert departure.attributes["source"] == "car_schedule"
    assert state(hass, READY_BY) == "on"
    assert dr.car(CHARGING).settings.departure is None

    assert await high_evening(hass, tesla, prices, freezer) == "Charging"
    assert reason(hass) == "ready_by"

    # The owner's own time wins over the car's.
    await set_time(hass, DEPARTURE, LOOSE)
    departure = hass.states.get(DEPARTURE)
    assert departure is not None
    assert (departure.state, departure.attributes["source"]) == (LOOSE, "set_here")
    prices.set(3, 150, 150, 150)
    await advance_to(hass, freezer, at(25))
    assert car.charging_state == "Stopped"
    assert state(hass, STATUS) == "paused"


async def test_the_cars_off_peak_end_comes_before_its_departure(
    hass: HomeAssistant,
    tesla: FakeTesla,
    oasis: Any,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Leaving at 23:30, charged off-peak until 18:20: the car wants its charge by 18:20."""
    car = tesla.cars[CHARGING]
    car.scheduled_charging_mode = "DepartBy"
    car.scheduled_departure_time_minutes = 23 * 60 + 30
    car.off_peak_charging_enabled = True
    car.off_peak_hours_end_time = 18 * 60 + 20
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await entry.runtime_data.dr.async_update_settings(CHARGING, target_level=70)
    assert state(hass, DEPARTURE) == TIGHT
    assert await high_evening(hass, tesla, prices, freezer) == "Charging"
    assert reason(hass) == "ready_by"


async def test_ready_by_off_ignores_the_cars_schedule_and_keeps_the_owners_time(
    hass: HomeAssistant,
    tesla: FakeTesla,
    oasis: Any,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Off pauses as if no departure were known; on again brings the owner's time back."""
    car = tesla.cars[CHARGING]
    car.scheduled_charging_mode = "DepartBy"
    car.scheduled_departure_time_minutes = 18 * 60 + 20
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    dr = entry.runtime_data.dr
    await dr.async_update_settings(CHARGING, target_level=70, departure="06:45")
    for service in ("turn_off", "turn_on", "turn_off"):
        await hass.services.async_call(
            "switch", service, {"entity_id": READY_BY}, blocking=True
        )
    assert state(hass, READY_BY) == "off"
    assert state(hass, DEPARTURE) == "unknown"
    assert dr.car(CHARGING).settings.departure == "06:45"
    assert await high_evening(hass, tesla, prices, freezer) == "Stopped"

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": READY_BY}, blocking=True
    )
    assert state(hass, DEPARTURE) == "06:45:00"


async def test_weekly_departures_survive_a_restart(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    account: MockConfigEntry,
) -> None:
    """The days and each weekday's time are stored with the car's other settings."""
    dr = account.runtime_data.dr
    weekly = ("07:15", None, None, None, None, None, "09:00")
    await dr.async_update_settings(
        CHARGING, departure_days="weekends", weekday_departures=weekly
    )
    stored = hass_storage[storage_key(account.entry_id)]["data"]["cars"][CHARGING]
    assert stored["settings"]["departure_days"] == "weekends"

    assert await hass.config_entries.async_reload(account.entry_id)
    await hass.async_block_till_done()
    settings = account.runtime_data.dr.car(CHARGING).settings
    assert (settings.departure_days, settings.weekday_departures) == (
        "weekends",
        weekly,
    )
    assert state(hass, DAYS) == "weekends"


async def test_settings_stored_before_weekly_departures_still_load(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: Any,
    tesla: FakeTesla,
) -> None:
    """A daily departure stored by the previous release keeps its meaning: every day."""
    hass_storage[storage_key("account01")] = {
        "version": 1,
        "minor_version": 1,
        "key": storage_key("account01"),
        "data": {
            "cars": {
                CHARGING: {
                    "settings": {"departure": "06:45", "target_level": 80},
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
    settings = entry.runtime_data.dr.car(CHARGING).settings
    assert settings == DrSettings(departure="06:45", target_level=80)
    assert state(hass, DEPARTURE) == "06:45:00"
    assert state(hass, READY_BY) == "on"
