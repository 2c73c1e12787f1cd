"""The default polling policy ("demand"): the account's cars are read only as DR needs.

The Model 3 charges and the Model Y sleeps (tests/demand_response/conftest.py). Counts are the
fake Tesla's own record of billed calls.
"""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market
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


async def test_prices_near_the_threshold_or_a_forecast_spike_read_nothing(
    hass: HomeAssistant,
    account: MockConfigEntry,
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """99 for half an hour and 300 expected by the 15-minute market: no read, no list.

    The spike that comes is read at its crossing: the Model 3 is paused at once.
    """
    prices.set(10, *[99.0] * 6, 300.0)  # 17:10 … 17:35, then 17:40
    for node in NODES:
        oasis.prices[Market.RTPD, node, at(45)] = 300.0
    before = lists(tesla), tesla.count(CHARGING, "data")
    await advance_to(hass, freezer, at(40))
    assert (lists(tesla), tesla.count(CHARGING, "data")) == before
    await advance_to(hass, freezer, at(45) + timedelta(seconds=30))
    assert state(hass, STATUS) == "paused"


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
