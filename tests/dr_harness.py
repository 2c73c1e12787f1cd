"""Demand response on a frozen evening clock against the fake OASIS: prices, time, states.

A pytest plugin (tests/conftest.py) so that every car route's DR tests share it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.const import DOMAIN
from tests.fake_oasis import FakeOasis

# 17:00:20 Pacific daylight time, 20 s after an interval boundary.
START = datetime(2026, 7, 2, 0, 0, 20, tzinfo=UTC)
EVENING = START.replace(second=0)  # the 17:00 interval
CALM = 40.0


def at(minutes: int) -> datetime:
    """Start of the interval `minutes` after 17:00 Pacific."""
    return EVENING + timedelta(minutes=minutes)


class PriceTable(dict[datetime, float]):
    """5-minute prices by interval start (every node); CALM where unset."""

    def set(self, minutes: int, *values: float) -> None:
        """Price consecutive intervals from `minutes` after 17:00."""
        for index, value in enumerate(values):
            self[at(minutes + 5 * index)] = value

    def price(self, market: Market, _node: str, start: datetime) -> float:
        """What the fake OASIS serves."""
        return self.get(start, CALM) if market is Market.RTM else CALM


@pytest.fixture
def prices() -> PriceTable:
    """The evening's prices; tests set spikes."""
    return PriceTable()


@pytest.fixture
async def oasis(
    hass: HomeAssistant,
    fake_oasis: FakeOasis,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    frozen_pacer: object,
) -> FakeOasis:
    """The fake OASIS on HA's frozen clock, and the domain pointed at it."""
    freezer.move_to(START)
    fake_oasis.clock = dt_util.utcnow
    fake_oasis.price_fn = prices.price
    assert await async_setup_component(hass, DOMAIN, {})
    return fake_oasis


async def advance_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, moment: datetime
) -> None:
    """Move time in 5-second steps so every timer fires when due.

    Background tasks (the vehicle coordinator's polls) finish before time moves on: a request
    still in flight would otherwise see its connect timeout fire with the frozen clock.
    """
    while dt_util.utcnow() < moment:
        freezer.tick(timedelta(seconds=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


async def step_seconds_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    done: Callable[[], bool],
    deadline: datetime,
) -> None:
    """Move time a second at a time until `done`, with loop turns between, never waiting.

    For a task asleep on the frozen clock (the library's wait before a retry), which
    `advance_to` would wait for; a second stays below the connect timeout, so the requests
    on their way get through.
    """
    while not done():
        assert dt_util.utcnow() < deadline
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        for _ in range(200):
            await asyncio.sleep(0)


def state(hass: HomeAssistant, entity_id: str) -> str:
    """An entity's state, failing clearly when it does not exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state
