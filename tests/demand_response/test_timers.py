"""DR's reads of a car do not move the account's own poll (timers fired exactly when due).

`async_fire_time_changed` also fires timers due up to half a second later, which hid this: a
re-read that rescheduled the poll from "now" still looked on time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed_exact,
)

from tests.fake_tesla import FakeTesla

from .conftest import CHARGING, STATUS, PriceTable, at, state


@pytest.fixture
def tesla(fake_tesla: FakeTesla) -> FakeTesla:
    """A plugged-in Model 3, online and not charging (its schedule starts it later)."""
    fake_tesla.add_car(CHARGING, "Model 3", charging_state="Stopped")
    return fake_tesla


async def advance_exact(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime
) -> None:
    """Move time in 1-second steps, firing only the timers due by then."""
    while dt_util.utcnow() < moment:
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed_exact(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


@pytest.mark.parametrize("polling_policy", ["normal"])
async def test_spike_rereads_do_not_starve_the_poll(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """75 minutes above the threshold: the product list is still read every 5 minutes.

    Each new interval makes DR re-read the idle car (it might start charging); if that read
    reset the coordinator's poll timer, the product list would never be read during the
    spike, and a car that starts charging by itself between re-reads would go unseen.
    """
    prices.set(0, *[300.0] * 16)
    lists_before = tesla.count("account", "data")
    await advance_exact(hass, freezer, at(45))
    assert state(hass, STATUS) == "monitoring"
    # The car's schedule starts it: the next poll sees it and DR pauses it.
    tesla.cars[CHARGING].charging_state = "Charging"
    await advance_exact(hass, freezer, at(55))
    assert state(hass, STATUS) == "paused"
    await advance_exact(hass, freezer, at(75))
    polls = tesla.count("account", "data") - lists_before
    # One product list every 5 minutes of the 75, give or take the first.
    assert polls >= 14


async def test_on_demand_a_spike_reads_the_car_at_each_interval(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Under "demand" the car is read at each new price above the threshold, once.

    Nothing else polls it (the product list runs every few hours), so without those reads a
    car whose schedule starts it during the spike would go unseen until the next list.
    """
    prices.set(0, *[300.0] * 16)
    reads_before = tesla.count(CHARGING, "data")
    lists_before = tesla.count("account", "data")
    await advance_exact(hass, freezer, at(45))
    assert state(hass, STATUS) == "monitoring"
    reads = tesla.count(CHARGING, "data") - reads_before
    # Nine new intervals were published by minute 45 (the first at about minute 5).
    assert 8 <= reads <= 10
    tesla.cars[CHARGING].charging_state = "Charging"
    await advance_exact(hass, freezer, at(50) + timedelta(minutes=1))
    assert state(hass, STATUS) == "paused"
    assert tesla.count("account", "data") - lists_before == 0
