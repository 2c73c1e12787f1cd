"""The default polling policy ("demand"): the account's cars are read only as DR needs.

The Model 3 charges and the Model Y sleeps (tests/demand_response/conftest.py). Counts are the
fake Tesla's own record of billed calls.
"""

from __future__ import annotations

from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market, PriceInterval
from custom_components.tesladr.vehicle_coordinator import SLOW_LIST
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla

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

NODES = ("TH_NP15_GEN-APND", "TH_SP15_GEN-APND")  # the Model 3's and the Model Y's


def lists(tesla: FakeTesla) -> int:
    """Product-list calls so far."""
    return tesla.count("account", "data")


async def test_calm_prices_read_no_car_and_list_the_account_slowly(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two calm hours cost nothing: no vehicle_data, no product list; the poll is hours off."""
    coordinator = account.runtime_data.coordinator
    assert coordinator.update_interval == SLOW_LIST
    before = lists(tesla), tesla.count(CHARGING, "data")
    await advance_to(hass, freezer, at(120))
    assert state(hass, STATUS) == "monitoring"
    assert (lists(tesla), tesla.count(CHARGING, "data")) == before
    assert tesla.count(SLEEPING, "data") == 0


def vehicle_data(tesla: FakeTesla, vin: str) -> int:
    """vehicle_data calls of a car so far."""
    return tesla.count(vin, "data")


async def test_prices_near_the_threshold_read_at_each_interval_and_the_crossing_acts_at_once(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """95 for three intervals: the Model 3 is read and the sleeping Model Y listed at each.

    At the crossing the Model 3 is stopped on the read of the interval before: no read
    before the stop, only the stop's own read-back. The Model Y is never read.
    """
    prices.set(10, 95.0, 95.0, 95.0, 300.0)  # 17:10 … 17:20, then 17:25
    await advance_to(hass, freezer, at(15))
    before = lists(tesla), vehicle_data(tesla, CHARGING)
    for interval in (15, 20, 25):  # the 17:10, 17:15 and 17:20 prices publish
        await advance_to(hass, freezer, at(interval) + timedelta(seconds=30))
    assert lists(tesla) == before[0] + 3
    assert vehicle_data(tesla, CHARGING) == before[1] + 3
    assert state(hass, STATUS) == "monitoring"
    read_ahead = vehicle_data(tesla, CHARGING)
    await advance_to(hass, freezer, at(30) + timedelta(seconds=30))
    assert state(hass, STATUS) == "paused"
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert tesla.count(CHARGING, "command") == 1
    assert vehicle_data(tesla, CHARGING) == read_ahead + 1  # the stop's read-back
    assert tesla.count(SLEEPING, "data") == 0


async def test_a_forecast_spike_reads_ahead_of_its_interval(
    hass: HomeAssistant,
    account: MockConfigEntry,
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Calm 5-minute prices, 300 expected by the 15-minute market from 17:45.

    Nothing is read while the next interval is calm; the evaluation whose next interval the
    market expects above the threshold reads the Model 3, and the spike is acted on at once.
    """
    prices.set(45, 300.0)
    for node in NODES:
        oasis.prices[Market.RTPD, node, at(45)] = 300.0
    await advance_to(hass, freezer, at(30))
    before = lists(tesla), vehicle_data(tesla, CHARGING)
    await advance_to(hass, freezer, at(40) + timedelta(seconds=30))
    assert (lists(tesla), vehicle_data(tesla, CHARGING)) == before
    await advance_to(hass, freezer, at(45) + timedelta(seconds=30))
    assert vehicle_data(tesla, CHARGING) == before[1] + 1
    assert state(hass, STATUS) == "monitoring"
    await advance_to(hass, freezer, at(50) + timedelta(seconds=30))
    assert state(hass, STATUS) == "paused"
    assert (
        vehicle_data(tesla, CHARGING) == before[1] + 2
    )  # the read ahead, the read-back


async def test_the_day_ahead_price_forecasts_only_without_15_minute_prices(
    hass: HomeAssistant, account: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """The forecast of the next interval: 15-minute, day-ahead when there are no 15-minute prices."""
    dr = account.runtime_data.dr
    assert dr.prices is not None
    data = dr.prices.data
    node = NODES[0]
    hour = at(60)
    data.fifteen_minute[node] = []
    data.day_ahead[node] = [PriceInterval(node, hour, hour + timedelta(hours=1), 250.0)]
    assert dr.expected(node, hour + timedelta(minutes=10)) == 250.0
    assert dr.expected(node, hour - timedelta(minutes=10)) is None
    data.fifteen_minute[node] = [
        PriceInterval(node, hour, hour + timedelta(minutes=15), 40.0)
    ]
    assert dr.expected(node, hour + timedelta(minutes=5)) == 40.0
    # Past the 15-minute market's last quarter: no forecast, not the day-ahead hour.
    assert dr.expected(node, hour + timedelta(minutes=20)) is None


async def test_a_car_that_stopped_since_the_read_ahead_is_no_failure_and_one_stop(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The owner stops the Model 3 between the read ahead and the crossing.

    The stop DR sends on the earlier read finds it not charging: no pause, no event, no
    failed command, no warning; the car is read at the next interval and left alone, and
    when the owner starts it again the event's one pause follows.
    """
    model_3 = tesla.cars[CHARGING]
    dr = account.runtime_data.dr
    prices.set(15, 95.0, 300.0, 300.0, 300.0)  # 17:15, then 17:20 … 17:30
    await advance_to(hass, freezer, at(20) + timedelta(seconds=30))
    model_3.charging_state = "Stopped"
    await advance_to(hass, freezer, at(25) + timedelta(seconds=30))
    assert tesla.count(CHARGING, "command") == 1  # sent on the read ahead, refused
    assert state(hass, STATUS) == "monitoring"
    assert dr.car(CHARGING).command_error is None
    assert dr.ledger.events == []
    await advance_to(hass, freezer, at(30) + timedelta(seconds=30))
    assert tesla.count(CHARGING, "command") == 1  # read, not charging: nothing sent
    model_3.charging_state = "Charging"
    await advance_to(hass, freezer, at(35) + timedelta(seconds=30))
    assert state(hass, STATUS) == "paused"
    assert model_3.charging_state == "Stopped"
    assert len(dr.ledger.events) == 1
    assert tesla.count(CHARGING, "command") == 2
    assert not [
        record
        for record in caplog.records
        if record.name.startswith("custom_components")
        and record.levelno >= logging.WARNING
    ]


async def test_a_car_listed_asleep_that_woke_is_paused_at_the_crossing(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The Model Y wakes and charges with no read in between; the spike lists and reads it."""
    model_y = tesla.cars[SLEEPING]
    await advance_to(hass, freezer, at(3))
    model_y.state, model_y.charging_state = "online", "Charging"
    prices.set(5, 300.0)
    await advance_to(hass, freezer, at(10) + timedelta(seconds=30))
    assert state(hass, STATUS_Y) == "paused"
    assert model_y.charging_state == "Stopped"


async def test_update_entity_reads_every_online_car(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An owner's refresh of a car entity reads the online cars (not the sleeping one)."""
    assert await async_setup_component(hass, "homeassistant", {})
    before = tesla.count(CHARGING, "data")
    await hass.services.async_call(
        "homeassistant",
        "update_entity",
        {"entity_id": "sensor.model_3_charger_power"},
        blocking=True,
    )
    await advance_to(hass, freezer, at(1))
    assert tesla.count(CHARGING, "data") == before + 1
    assert tesla.count(SLEEPING, "data") == 0
    # The next poll of the slow cadence reads no car again.
    await account.runtime_data.coordinator.async_refresh()
    assert tesla.count(CHARGING, "data") == before + 1
