"""Tariff attributes in the shapes EV Smart Charging and evcc read (docs/calendar-and-notifications.md).

The two readers' rules are restated here from their source, as oracles:
- EV Smart Charging (helpers/price_adaptor.py, helpers/raw.py): the start of each item parsed
  with `datetime.fromisoformat`, the value under "value"; the minutes of the first two starts
  15 apart (quarter hours) or equal (hours), else the list is refused; more than 12 items on
  today's local date.
- evcc (api/rates.go): a JSON list of {"start", "end", "value"}, times as Go parses them into
  `time.Time`, that is RFC 3339.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
import re
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given, strategies as st
import pytest

from custom_components.tesladr.caiso import Market, PriceInterval, parse_payload
from custom_components.tesladr.caiso.forecast import QUARTER, quarter_forecast
from custom_components.tesladr.caiso.tariff import (
    day_rates,
    rate,
    tariff_attributes,
    usd_per_kwh,
)
from tests.fake_oasis import zip_members

PACIFIC = ZoneInfo("America/Los_Angeles")
NODE = "TH_NP15_GEN-APND"
HOUR = timedelta(hours=1)
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$")


def day_ahead_day(day: date, price: float = 40.0) -> list[PriceInterval]:
    """Every hour of a Pacific day (23 or 25 on DST days), priced `price` + its index."""
    start = datetime(day.year, day.month, day.day, tzinfo=PACIFIC).astimezone(UTC)
    end = (
        datetime(day.year, day.month, day.day, tzinfo=PACIFIC) + timedelta(days=1)
    ).astimezone(UTC)
    hours = int((end - start) / HOUR)
    return [
        PriceInterval(NODE, start + i * HOUR, start + (i + 1) * HOUR, price + i)
        for i in range(hours)
    ]


def ev_smart_charging_accepts(items: list[dict[str, Any]], today: date) -> bool:
    """EV Smart Charging's checks of a `raw_today` list (restated, see the module doc)."""
    starts = [datetime.fromisoformat(item["start"]) for item in items]
    if len(starts) >= 2 and starts[1].minute - starts[0].minute not in (0, 15):
        return False
    return sum(1 for start in starts if start.date() == today) > 12


def evcc_reads(items: list[dict[str, Any]]) -> bool:
    """Whether evcc's `[]api.Rate` JSON decoding takes every item (RFC 3339, float)."""
    return all(
        RFC3339.match(item["start"])
        and RFC3339.match(item["end"])
        and isinstance(item["value"], float)
        for item in items
    )


def test_usd_per_kwh_keeps_cents_per_mwh() -> None:
    assert usd_per_kwh(123.45) == 0.12345
    assert usd_per_kwh(-12.3) == -0.0123


def test_a_rate_carries_local_times_with_their_offset() -> None:
    [piece] = quarter_forecast(
        [
            PriceInterval(
                NODE,
                datetime(2026, 7, 14, 7, tzinfo=UTC),
                datetime(2026, 7, 14, 7, 15, tzinfo=UTC),
                250.0,
            )
        ],
        [],
    )
    assert rate(piece, PACIFIC) == {
        "start": "2026-07-14T00:00:00-07:00",
        "end": "2026-07-14T00:15:00-07:00",
        "value": 0.25,
    }


@pytest.mark.parametrize(
    ("day", "quarters"),
    [(date(2026, 7, 14), 96), (date(2026, 3, 8), 92), (date(2026, 11, 1), 100)],
)
def test_a_local_day_of_quarters_both_readers_take(day: date, quarters: int) -> None:
    """Summer, spring-forward and fall-back days: every quarter of the Pacific day."""
    now = datetime(day.year, day.month, day.day, 12, tzinfo=PACIFIC)
    forecast = quarter_forecast(
        [], day_ahead_day(day - timedelta(days=1)) + day_ahead_day(day)
    )
    attributes = tariff_attributes(forecast, now, PACIFIC)
    today = attributes["raw_today"]
    assert len(today) == quarters
    assert {datetime.fromisoformat(i["start"]).date() for i in today} == {day}
    assert attributes["raw_tomorrow"] == []
    assert ev_smart_charging_accepts(today, day)
    assert evcc_reads(attributes["forecast"])
    assert [datetime.fromisoformat(i["start"]) for i in attributes["forecast"]] == [
        p.start for p in forecast if p.end > now
    ]


def test_tomorrow_once_the_day_ahead_market_has_published() -> None:
    day = date(2026, 7, 14)
    now = datetime(2026, 7, 14, 14, tzinfo=PACIFIC)
    forecast = quarter_forecast(
        [], day_ahead_day(day) + day_ahead_day(day + timedelta(days=1), 70.0)
    )
    attributes = tariff_attributes(forecast, now, PACIFIC)
    tomorrow = attributes["raw_tomorrow"]
    assert len(tomorrow) == 96
    assert tomorrow[0] == {
        "start": "2026-07-15T00:00:00-07:00",
        "end": "2026-07-15T00:15:00-07:00",
        "value": 0.07,
    }
    assert ev_smart_charging_accepts(tomorrow, day + timedelta(days=1))
    # evcc gets the rest of today and all of tomorrow, from the current quarter on.
    assert attributes["forecast"][0]["start"] == "2026-07-14T14:00:00-07:00"
    assert len(attributes["forecast"]) == 10 * 4 + 96


def test_fifteen_minute_prices_show_in_the_day_list() -> None:
    day = date(2026, 7, 14)
    dam = day_ahead_day(day)
    spike = PriceInterval(NODE, dam[18].start, dam[18].start + QUARTER, 950.0)
    attributes = tariff_attributes(
        quarter_forecast([spike], dam), dam[17].start, PACIFIC
    )
    values = [item["value"] for item in attributes["raw_today"][72:76]]
    assert values == [0.95, 0.058, 0.058, 0.058]


def test_a_list_never_begins_where_ev_smart_charging_would_refuse_it() -> None:
    """A lone quarter at :45 and one before a gap go; the day from the next full pair stays."""
    day = date(2026, 7, 14)
    dam = day_ahead_day(day)[2:]  # the day-ahead prices begin at 02:00
    midnight = dam[0].start - 2 * HOUR
    lone = [
        PriceInterval(NODE, midnight, midnight + QUARTER, 5.0),  # 00:00, then a gap
        PriceInterval(NODE, dam[0].start - QUARTER, dam[0].start, 6.0),  # 01:45
    ]
    items = day_rates(quarter_forecast(lone, dam), day, PACIFIC)
    assert items[0]["start"] == "2026-07-14T02:00:00-07:00"
    assert len(items) == 22 * 4
    assert ev_smart_charging_accepts(items, day)


def test_nothing_known_gives_empty_lists() -> None:
    now = datetime(2026, 7, 14, 12, tzinfo=PACIFIC)
    assert tariff_attributes([], now, PACIFIC) == {
        "raw_today": [],
        "raw_tomorrow": [],
        "forecast": [],
    }


@given(
    hours=st.sets(st.integers(0, 47), max_size=48),
    quarters=st.sets(st.integers(0, 191), max_size=40),
    now_minutes=st.integers(0, 48 * 60 - 1),
)
def test_whatever_is_known_both_readers_parse_it(
    hours: set[int], quarters: set[int], now_minutes: int
) -> None:
    """Any mix of gaps: each list starts as EV Smart Charging needs; evcc parses every rate."""
    midnight = datetime(2026, 7, 14, tzinfo=PACIFIC).astimezone(UTC)
    forecast = quarter_forecast(
        [
            PriceInterval(NODE, midnight + q * QUARTER, midnight + (q + 1) * QUARTER, q)
            for q in quarters
        ],
        [
            PriceInterval(NODE, midnight + h * HOUR, midnight + (h + 1) * HOUR, h)
            for h in hours
        ],
    )
    now = midnight + timedelta(minutes=now_minutes)
    attributes = tariff_attributes(forecast, now, PACIFIC)
    for key in ("raw_today", "raw_tomorrow"):
        items = attributes[key]
        if len(items) >= 2:
            first, second = (datetime.fromisoformat(i["start"]) for i in items[:2])
            assert second.minute - first.minute == 15
            assert second - first == QUARTER
    assert evcc_reads(attributes["forecast"])
    assert all(datetime.fromisoformat(i["end"]) > now for i in attributes["forecast"])


def test_a_real_day_ahead_day(reference: Path) -> None:
    """NP15's real day-ahead prices of the UTC day 2020-01-02, zipped as OASIS sends them.

    The sample holds one UTC day, so the day is cut in UTC (Home Assistant's time zone here).
    """
    dam = reference / "caiso" / "PRC_LMP_DAM_20200101_ALL_APNODES_hubs_dlaps_subset.csv"
    intervals = [
        i
        for i in parse_payload(zip_members((dam.name, dam.read_bytes())), Market.DAM)
        if i.node == NODE
    ]
    now = datetime(2020, 1, 2, 9, tzinfo=UTC)
    attributes = tariff_attributes(quarter_forecast([], intervals), now, UTC)
    today = attributes["raw_today"]
    assert len(today) == 96
    assert today[0]["start"] == "2020-01-02T00:00:00+00:00"
    assert ev_smart_charging_accepts(today, now.date())
    assert evcc_reads(attributes["forecast"])
    by_hour = {i.start: i.price for i in intervals}
    for item in today:
        start = datetime.fromisoformat(item["start"])
        assert item["value"] == usd_per_kwh(by_hour[start.replace(minute=0)])
