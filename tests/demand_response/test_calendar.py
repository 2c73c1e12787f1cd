"""Each car's DR events calendar: past events from the ledger, likely ones from the forecast."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market

from .conftest import CALM, PriceTable, advance_to, at, state

# Written for a pause on each crossing and a resume on the first dip: not about churn control.
pytestmark = pytest.mark.usefixtures("churn_control_off")

CALENDAR = "calendar.model_3_demand_response_events"
CALENDAR_Y = "calendar.model_y_demand_response_events"
PACIFIC = dt_util.get_time_zone("America/Los_Angeles")


class ForecastTable(PriceTable):
    """Real-time prices as PriceTable; day-ahead and 15-minute prices by interval start."""

    def __init__(self) -> None:
        """Calm everywhere until a test sets a forecast."""
        super().__init__()
        self.forecast: dict[tuple[Market, datetime], float] = {}

    def price(self, market: Market, node: str, start: datetime) -> float:
        """The forecast markets' prices where set, else calm."""
        if market is Market.RTM:
            return super().price(market, node, start)
        return self.forecast.get((market, start), CALM)


@pytest.fixture
def prices() -> ForecastTable:
    """The evening's prices, with day-ahead and 15-minute forecasts."""
    return ForecastTable()


async def get_events(
    hass: HomeAssistant, entity_id: str, start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """The calendar's events through Home Assistant's `calendar.get_events`."""
    response: Any = await hass.services.async_call(
        "calendar",
        "get_events",
        {"start_date_time": start, "end_date_time": end},
        target={"entity_id": entity_id},
        blocking=True,
        return_response=True,
    )
    return list(response[entity_id]["events"])


def local(text: str) -> datetime:
    """A Pacific wall-clock time of the test evening (2026-07-01)."""
    return datetime.fromisoformat(f"2026-07-01T{text}").replace(tzinfo=PACIFIC)


async def test_tomorrow_likely_events_from_day_ahead_prices(
    hass: HomeAssistant,
    account: MockConfigEntry,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """19:00 above T_on, 20:00 in the resume band, 21:00 calm: one tentative 19–21 event."""
    prices.forecast[Market.DAM, at(120)] = 150.0
    prices.forecast[Market.DAM, at(180)] = 97.0
    # The day-ahead request follows the next interval's real-time one.
    await advance_to(hass, freezer, at(11))
    events = await get_events(hass, CALENDAR, at(0), at(24 * 60))
    assert events == [
        {
            "start": local("19:00:00").isoformat(),
            "end": local("21:00:00").isoformat(),
            "summary": "Likely pause for high prices",
            "description": "Forecast up to 150.00 USD/MWh (day-ahead prices).\n"
            "Only if the car is charging then: the real-time price decides.",
            "status": "tentative",
        }
    ]
    assert state(hass, CALENDAR) == STATE_OFF
    attributes = hass.states.get(CALENDAR)
    assert attributes is not None
    assert attributes.attributes["start_time"] == "2026-07-01 19:00:00"
    # The sleeping Model Y, at the same node and default settings, has the same outlook.
    assert len(await get_events(hass, CALENDAR_Y, at(0), at(24 * 60))) == 1
    # Nothing asked before the evening: likely events lie ahead only.
    assert await get_events(hass, CALENDAR, at(-120), at(-60)) == []


async def test_a_car_with_a_higher_threshold_has_no_likely_event(
    hass: HomeAssistant,
    account: MockConfigEntry,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Aggressiveness 1 lifts T_on to 149: a forecast of 140 is no likely pause for it."""
    prices.forecast[Market.DAM, at(120)] = 140.0
    await advance_to(hass, freezer, at(11))
    assert len(await get_events(hass, CALENDAR, at(0), at(600))) == 1
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.model_3_aggressiveness", "value": 1},
        blocking=True,
    )
    assert await get_events(hass, CALENDAR, at(0), at(600)) == []


async def test_a_pause_shows_confirmed_and_the_forecast_after_it_tentative(
    hass: HomeAssistant,
    account: MockConfigEntry,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A real spike while the 15-minute market says the half hour stays high.

    During the pause the calendar is on with the real event; once DR resumes, the rest of the
    forecast window shows as likely, after the real event, not over it. The 15-minute prices
    come at 17:10 for 16:00–17:30; the day-ahead hour is calm.
    """
    for minutes in range(0, 60, 15):
        prices.forecast[Market.RTPD, at(minutes)] = 130.0
    prices.forecast[Market.DAM, at(120)] = 150.0  # and 19:00, well after the pause
    prices.set(0, 300, 200)  # paused 17:05:15, resumed 17:15:15 (17:10 is calm)
    await advance_to(hass, freezer, at(7))
    assert state(hass, CALENDAR) == STATE_ON
    current = hass.states.get(CALENDAR)
    assert current is not None
    assert current.attributes["message"] == "Paused for high prices"
    [during] = await get_events(hass, CALENDAR, at(0), at(60))
    assert during["status"] == "confirmed"

    await advance_to(hass, freezer, at(16))
    past, likely, evening = await get_events(hass, CALENDAR, at(0), at(240))
    assert past["status"] == "confirmed"
    assert past["start"] == local("17:05:15").isoformat()
    assert past["end"] == local("17:15:15").isoformat()
    assert "Node: TH_NP15_GEN-APND (PG&E)" in past["description"]
    [event] = account.runtime_data.dr.ledger.events
    assert (
        f"Energy not drawn: {event.kwh:.2f} kWh, worth {event.usd:.2f} USD"
        in (past["description"])
    )
    assert event.kwh > 1
    assert "Ended: resumed" in past["description"]
    assert likely["status"] == "tentative"
    assert likely["start"] == past["end"]
    assert likely["end"] == local("17:30:00").isoformat()
    assert "15-minute" in likely["description"]
    assert (evening["start"], evening["status"]) == (
        local("19:00:00").isoformat(),
        "tentative",
    )
    # The calendar's state follows: the likely remainder is on now.
    assert state(hass, CALENDAR) == STATE_ON
    current = hass.states.get(CALENDAR)
    assert current is not None
    assert current.attributes["message"] == "Likely pause for high prices"


async def test_an_opted_out_car_has_past_events_but_no_likely_ones(
    hass: HomeAssistant,
    account: MockConfigEntry,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Opting out ends the outlook at once; the calendar updates without waiting a tick."""
    prices.forecast[Market.DAM, at(120)] = 150.0
    await advance_to(hass, freezer, at(11))
    assert state(hass, CALENDAR) == STATE_OFF
    assert hass.states.get(CALENDAR).attributes["start_time"]  # type: ignore[union-attr]
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": "switch.model_3_demand_response"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert await get_events(hass, CALENDAR, at(0), at(600)) == []
    assert "start_time" not in hass.states.get(CALENDAR).attributes  # type: ignore[union-attr]
