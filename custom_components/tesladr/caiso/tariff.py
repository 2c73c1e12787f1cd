"""A node's prices, USD/kWh, in the attribute shapes that EV Smart Charging and evcc read.

Both read a list of `{"start", "end", "value"}` rates (Nord Pool's shape), with ISO 8601
times carrying their UTC offset; docs/calendar-and-notifications.md cites the source of each.
- `raw_today` / `raw_tomorrow`: the quarter hours of the local day. EV Smart Charging takes
  the resolution from the minutes of a list's first two items (15 apart: quarter hours), so
  each list begins with two consecutive quarter hours of one hour.
- `forecast`: every quarter hour from the current one on, for evcc's `custom` tariff (or its
  Home Assistant tariff), which keeps each rate's own end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from .forecast import QUARTER, ForecastPrice

# OASIS prices carry cents per MWh: five decimals of USD/kWh keep them whole.
KWH_DECIMALS = 5


def usd_per_kwh(usd_per_mwh: float) -> float:
    """A price per MWh as one per kWh."""
    return round(usd_per_mwh / 1000, KWH_DECIMALS)


def rate(piece: ForecastPrice, tz: tzinfo) -> dict[str, Any]:
    """One quarter hour as a rate, its times in the given time zone."""
    return {
        "start": piece.start.astimezone(tz).isoformat(),
        "end": piece.end.astimezone(tz).isoformat(),
        "value": usd_per_kwh(piece.price),
    }


def _starts_cleanly(pieces: Sequence[ForecastPrice], tz: tzinfo) -> bool:
    first, second = pieces[0], pieces[1]
    return (
        second.start - first.start == QUARTER
        and second.start.astimezone(tz).minute - first.start.astimezone(tz).minute
        == QUARTER.seconds // 60
    )


def day_rates(
    forecast: Sequence[ForecastPrice], day: date, tz: tzinfo
) -> list[dict[str, Any]]:
    """The rates of one local day, its first two items a clean quarter-hour pair.

    Leading quarters that would break EV Smart Charging's resolution check (a lone quarter
    before a gap, or one at :45) are left out; the rest of the day stands.
    """
    pieces = [piece for piece in forecast if piece.start.astimezone(tz).date() == day]
    while len(pieces) >= 2 and not _starts_cleanly(pieces, tz):
        pieces.pop(0)
    return [rate(piece, tz) for piece in pieces]


def tariff_attributes(
    forecast: Sequence[ForecastPrice], now: datetime, tz: tzinfo
) -> dict[str, list[dict[str, Any]]]:
    """`raw_today`, `raw_tomorrow` and `forecast` of a price sensor, from `quarter_forecast`."""
    today = now.astimezone(tz).date()
    return {
        "raw_today": day_rates(forecast, today, tz),
        "raw_tomorrow": day_rates(forecast, today + timedelta(days=1), tz),
        "forecast": [rate(piece, tz) for piece in forecast if piece.end > now],
    }
