"""The USD/kWh real-time sensor carries the quarter hours ahead for EV Smart Charging and evcc."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.sensor import CaisoPriceSensor

from .conftest import NP15, price_day
from .test_coordinator import advance

KWH = "sensor.caiso_prices_np15_hub_real_time_price_per_kwh"


async def test_kwh_sensor_has_today_tomorrow_and_forecast_rates(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, freezer: FrozenDateTimeFactory
) -> None:
    """Rates in USD/kWh with local times; the state stays the newest 5-minute price."""
    await advance(hass, freezer, timedelta(minutes=6))
    state = hass.states.get(KWH)
    assert state is not None
    now = dt_util.utcnow()
    assert float(state.state) == round(
        price_day(Market.RTM, NP15, now.replace(minute=0, second=0)) / 1000, 5
    )
    attributes = state.attributes
    assert "interval_start" in attributes
    today, forecast = attributes["raw_today"], attributes["forecast"]
    # Day-ahead prices for the whole local day, 15-minute ones over the hour at hand.
    assert len(today) == 96
    assert today[0]["start"] == "2026-07-01T00:00:00-07:00"
    first = datetime.fromisoformat(forecast[0]["start"])
    assert first <= now < datetime.fromisoformat(forecast[0]["end"])
    quarter = first.astimezone(UTC)
    assert forecast[0]["value"] in {
        round(price_day(Market.RTPD, NP15, quarter) / 1000, 5),
        round(price_day(Market.DAM, NP15, quarter.replace(minute=0)) / 1000, 5),
    }
    assert all(rate in today + attributes["raw_tomorrow"] for rate in forecast)
    # The lists change all day: the recorder keeps none of them.
    assert {"raw_today", "raw_tomorrow", "forecast"} <= (
        CaisoPriceSensor._unrecorded_attributes
    )
