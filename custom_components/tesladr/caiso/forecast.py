"""The best price tesladr knows for each quarter hour ahead, from the 15-minute and day-ahead markets.

The 15-minute market (RTPD) is settled closer to real time than the day-ahead market (DAM), so
where both price a quarter hour the 15-minute price stands; elsewhere the day-ahead hour's price
covers each of its quarters. A gap in both stays a gap: nothing here guesses a price.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from .models import PriceInterval

QUARTER = timedelta(minutes=15)


class Source(StrEnum):
    """The market a forecast price comes from."""

    FIFTEEN_MINUTE = "fifteen_minute"
    DAY_AHEAD = "day_ahead"


@dataclass(frozen=True, slots=True)
class ForecastPrice:
    """One quarter hour's price, USD/MWh, with UTC-aware bounds and its market."""

    start: datetime
    end: datetime
    price: float
    source: Source


def _quarters(interval: PriceInterval, source: Source) -> list[ForecastPrice]:
    """An interval cut into quarter hours from its start (a shorter tail stays as it is)."""
    pieces: list[ForecastPrice] = []
    start = interval.start
    while start < interval.end:
        end = min(start + QUARTER, interval.end)
        pieces.append(ForecastPrice(start, end, interval.price, source))
        start = end
    return pieces


def quarter_forecast(
    fifteen_minute: Iterable[PriceInterval],
    day_ahead: Iterable[PriceInterval],
    after: datetime | None = None,
) -> list[ForecastPrice]:
    """One node's quarter hours, sorted, none overlapping another, ending after `after`.

    Each day-ahead quarter that overlaps a 15-minute one gives way to it; a 15-minute interval
    repeated (re-priced) counts once, its last price.
    """
    fifteen = {
        piece.start: piece
        for interval in fifteen_minute
        for piece in _quarters(interval, Source.FIFTEEN_MINUTE)
    }
    kept = sorted(fifteen.values(), key=lambda piece: piece.start)
    pieces = list(kept)
    for interval in day_ahead:
        pieces.extend(
            piece
            for piece in _quarters(interval, Source.DAY_AHEAD)
            if not any(
                other.start < piece.end and piece.start < other.end for other in kept
            )
        )
    pieces.sort(key=lambda piece: piece.start)
    forecast: list[ForecastPrice] = []
    for piece in pieces:
        # Day-ahead hours repeated, or cut off-grid, would otherwise price a moment twice.
        if forecast and piece.start < forecast[-1].end:
            continue
        forecast.append(piece)
    return [piece for piece in forecast if after is None or piece.end > after]
