"""A price spike: the charging car is stopped once and started once; the ledger adds up."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.tesladr.dr_coordinator import EVENT_DR
from tests.fake_tesla import FakeTesla

from .conftest import (
    CHARGING,
    CHARGING_SWITCH,
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


# The price coordinator looks at most this long after a boundary: its default lag, and
# earlier once it has learned that this fake OASIS publishes at the boundary.
POLL = 15


async def step_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    done: Callable[[], bool],
    limit: datetime,
) -> datetime:
    """Advance in the suite's 5 s steps until `done` holds (or `limit`); return when."""
    while not done() and dt_util.utcnow() < limit:
        await advance_to(hass, freezer, dt_util.utcnow() + timedelta(seconds=5))
    return dt_util.utcnow()


async def test_spike_pauses_at_first_high_interval_and_resumes_below_band(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """T = 100, A = 50: pause above 100, hold at 96 (not below 95), resume at 90."""
    events = async_capture_events(hass, EVENT_DR)
    prices.set(0, 150, 120, 96, 90)  # 17:00 … 17:15
    assert state(hass, STATUS) == "monitoring"

    # 17:00 interval (150) publishes at 17:05 and is read by 17:05:15.
    await advance_to(hass, freezer, at(5))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    car = tesla.cars[CHARGING]
    stopped = await step_until(
        hass,
        freezer,
        lambda: car.charging_state == "Stopped",
        at(5) + timedelta(seconds=POLL),
    )
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert state(hass, STATUS) == "paused"
    assert state(hass, "binary_sensor.model_3_dr_active") == "on"
    assert state(hass, CHARGING_SWITCH) == "off"
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["reason"] == "waiting_for_price_drop"
    assert status.attributes["price"] == 150

    # 120 and 96 hold (96 is above the 95 resume band); 90 resumes by 17:20:15.
    await advance_to(hass, freezer, at(20))
    assert state(hass, STATUS) == "paused"
    resumed = await step_until(
        hass,
        freezer,
        lambda: car.charging_state == "Charging",
        at(20) + timedelta(seconds=POLL),
    )
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert state(hass, STATUS) == "monitoring"
    assert state(hass, CHARGING_SWITCH) == "on"

    # The tail of the pause (17:20:00 until the resume) is valued when 17:20 publishes.
    await advance_to(hass, freezer, at(30))
    minutes_by_price = {  # paused from the stop to the resume, a few seconds after 17:05
        120: (at(10) - stopped).total_seconds() / 60,
        96: 5,
        90: 5,
        40: (resumed - at(20)).total_seconds() / 60,
    }
    kwh = 7 * sum(minutes_by_price.values()) / 60
    usd = sum(7 * m / 60 * p / 1000 for p, m in minutes_by_price.items())
    assert 1.7 <= kwh <= 1.75
    assert float(state(hass, "sensor.model_3_energy_not_consumed")) == pytest.approx(
        kwh, abs=1e-4
    )
    assert float(
        state(hass, "sensor.model_3_wholesale_value_not_consumed")
    ) == pytest.approx(usd, abs=1e-4)
    assert state(hass, "sensor.model_3_dr_events_in_last_24_h") == "1"

    # Exactly one stop and one start; nothing for the sleeping car.
    assert tesla.count(CHARGING, "command") == 2
    assert tesla.count(CHARGING, "wake") == 0
    for kind in ("command", "wake", "data"):
        assert tesla.count(SLEEPING, kind) == 0
    assert state(hass, STATUS_Y) == "monitoring"
    assert [(e.data["type"], e.data["reason"]) for e in events] == [
        ("started", "price_above_threshold"),
        ("ended", "price_below_resume"),
    ]
    assert events[0].data["car"] == "Model 3"
    assert events[0].data["node"] == "TH_NP15_GEN-APND"
    assert events[0].data["price"] == 150
    assert events[0].data["device_id"] is not None
