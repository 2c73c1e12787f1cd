"""DR's reading of the MIDAS feed: the signals now, and the ledger's emissions and retail value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.tesladr.dr import DrSettings, Ledger, Outcome, Price
from custom_components.tesladr.dr.signals import GridReading
from custom_components.tesladr.dr_grid import (
    RATE_UNIT,
    account_grid,
    account_rates,
    car_signal,
    grid_reading,
)
from custom_components.tesladr.grid_signals import GridSignals
from custom_components.tesladr.midas import FLEX_ALERT_RIN, moer_rin
from custom_components.tesladr.midas.models import RateValues, ValueInterval
from custom_components.tesladr.midas_coordinator import MidasData

# 18:00 Pacific daylight time.
NOW = datetime(2026, 7, 2, 1, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)
HOUR = timedelta(hours=1)
RIN = "USCA-PGPG-ETOU-0000"
VIN = "5YJ3E1EA7KF000001"
ALL = GridSignals(flex_alert=True, moer_region="PGE", rin=RIN)


def values(
    rin: str, rows: list[tuple[datetime, timedelta, float]], unit: str
) -> RateValues:
    return RateValues(
        rin=rin,
        name=rin,
        rate_type="",
        signal_type="",
        description="",
        system_time=None,
        intervals=tuple(
            ValueInterval(start, start + length, value, "", unit)
            for start, length, value in rows
        ),
    )


def feed(alert: float = 1.0, fetched: datetime = NOW) -> MidasData:
    """An alert hour at 18:00, emissions 200 + 10 per interval from 17:00, retail 0.40 then 0.55."""
    moer = moer_rin("PGE")
    data = MidasData(
        values={
            FLEX_ALERT_RIN: values(FLEX_ALERT_RIN, [(NOW, HOUR, alert)], ""),
            moer: values(
                moer,
                [(NOW - HOUR + FIVE * i, FIVE, 200.0 + 10 * i) for i in range(24)],
                "g/kWh",
            ),
            RIN: values(
                RIN,
                [(NOW - HOUR, HOUR, 0.40), (NOW, HOUR, 0.55)],
                RATE_UNIT,
            ),
        }
    )
    data.fetched_at = dict.fromkeys(data.values, fetched)
    return data


@pytest.fixture(autouse=True)
def pacific(hass: HomeAssistant) -> None:
    """The day's emissions are the local day's."""
    dt_util.set_default_time_zone(dt_util.get_time_zone("America/Los_Angeles"))


def test_reading_now() -> None:
    """The alert hour, the current interval's rate, and the local day's intervals."""
    reading = grid_reading(ALL, feed(), NOW + timedelta(minutes=2))
    assert reading.flex_alert_active is True
    assert reading.moer == 320.0  # the 13th interval: 18:00
    assert len(reading.day_moer) == 24
    assert grid_reading(ALL, feed(alert=0), NOW).flex_alert_active is False


def test_unknown_or_stale_reads_as_unknown() -> None:
    """Values not chosen, not read, outside their intervals, or stale never count."""
    assert grid_reading(GridSignals(), feed(), NOW) == GridReading()
    stale = feed(fetched=NOW - timedelta(hours=1))
    assert grid_reading(ALL, stale, NOW) == GridReading()
    later = NOW + timedelta(hours=2)
    fresh_later = feed(fetched=later)
    outside = grid_reading(ALL, fresh_later, later)
    assert (outside.flex_alert_active, outside.moer) == (None, None)
    empty = MidasData(fetched_at=dict.fromkeys(feed().values, NOW))
    assert grid_reading(ALL, empty, NOW) == GridReading()


def test_account_rates_by_hand() -> None:
    """6 kW paused 17:50-18:10: CO2 at each interval's rate, retail at each hour's."""
    ledger = Ledger()
    start = NOW - 2 * FIVE
    event = ledger.start(VIN, "node", start, 6.0, None)
    assert account_rates(ledger, ALL, feed(), NOW + 2 * FIVE)
    ledger.end(VIN, NOW + 2 * FIVE, Outcome.RESUMED)
    assert account_rates(ledger, ALL, feed(), NOW + 2 * FIVE) is False
    per_interval = 6 * 5 / 60
    assert event.kg_co2 == pytest.approx(per_interval * (300 + 310 + 320 + 330) / 1000)
    assert event.retail_usd == pytest.approx(per_interval * (2 * 0.40 + 2 * 0.55))
    # An event ended long ago takes in nothing more.
    assert account_rates(ledger, ALL, feed(), NOW + timedelta(hours=3)) is False
    # Nothing chosen: nothing accounted.
    assert account_rates(Ledger(), GridSignals(), feed(), NOW) is False


def test_retail_gap_is_left_out() -> None:
    """A slot without a tariff period adds nothing: no retail figure, not a zero one."""
    ledger = Ledger()
    event = ledger.start(VIN, "node", NOW + HOUR, 6.0, None)
    account_rates(ledger, GridSignals(rin=RIN), feed(), NOW + HOUR + 2 * FIVE)
    assert event.retail_usd is None


async def test_without_a_prices_entry_nothing_asks(hass: HomeAssistant) -> None:
    """No loaded prices entry with a MIDAS feed: no signal, nothing accounted."""
    assert car_signal(hass, DrSettings(pause_on_flex_alert=True), NOW) is None
    assert car_signal(hass, DrSettings(), NOW) is None
    assert account_grid(hass, Ledger(), NOW) is False


def test_draw_back_takes_the_rates_of_the_interval_drawn_in() -> None:
    """Energy drawn back at 18:00-18:05 nets 320 g/kWh and 0.55 USD/kWh; later, unknown."""
    ledger = Ledger()
    event = ledger.start(VIN, "node", NOW - 2 * FIVE, 6.0, None)
    account_rates(ledger, ALL, feed(), NOW)
    ledger.end(VIN, NOW, Outcome.RESUMED)
    event.kwh = 1.0  # the price side, accounted elsewhere
    ledger.draw(VIN, Price(40.0, NOW, NOW + FIVE), 0.5)
    assert event.net_kg_co2 is None  # drawn, its rate not looked up yet
    assert account_rates(ledger, ALL, feed(), NOW + FIVE) is True
    gross = 0.5 * (300 + 310) / 1000
    assert event.net_kg_co2 == pytest.approx(gross - 0.5 * 320 / 1000)
    assert event.net_retail_usd == pytest.approx(0.5 * 0.40 * 2 - 0.5 * 0.55)
    assert account_rates(ledger, ALL, feed(), NOW + FIVE) is False
    # Drawn after MIDAS's intervals end: no rate, the net stays unknown.
    late = NOW + 3 * HOUR
    ledger.draw(VIN, Price(40.0, late, late + FIVE), 0.2)
    assert account_rates(ledger, ALL, feed(), late + FIVE) is False
    assert (event.net_kg_co2, event.net_retail_usd) == (None, None)
    assert event.kg_co2 == pytest.approx(gross)
