"""The DR events a car is likely to have ahead, read from its node's forecast prices.

DR acts on the 5-minute real-time price, which nobody knows ahead; the 15-minute and
day-ahead markets price the same node earlier and usually move with it. Where they forecast a
price above the car's start threshold, a pause is likely, not certain: the real-time price can
differ, and the car may not be charging then. A likely event follows the policy's hysteresis:
it opens at a forecast above T_on and lasts while the forecast stays at or above the resume
band, so it ends where DR would resume the car.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from .policy import DrSettings


class ForecastPeriod(Protocol):
    """A forecast price over a period (`caiso.forecast.ForecastPrice` is one)."""

    @property
    def start(self) -> datetime:
        """Start, UTC-aware."""

    @property
    def end(self) -> datetime:
        """End, UTC-aware."""

    @property
    def price(self) -> float:
        """USD/MWh."""

    @property
    def source(self) -> str:
        """The market that priced it."""


@dataclass(frozen=True, slots=True)
class LikelyEvent:
    """A period where DR will likely pause the car, if it is charging then."""

    start: datetime
    end: datetime
    max_price: float  # the highest forecast price in it, USD/MWh
    sources: frozenset[str]  # the markets whose prices it rests on


def _event(run: Sequence[ForecastPeriod]) -> LikelyEvent:
    return LikelyEvent(
        start=run[0].start,
        end=run[-1].end,
        max_price=max(period.price for period in run),
        sources=frozenset(period.source for period in run),
    )


def likely_events(
    forecast: Sequence[ForecastPeriod], settings: DrSettings, now: datetime
) -> list[LikelyEvent]:
    """The likely events that have not ended by `now`, in order; none for an opted-out car.

    A gap in the forecast ends an event: an unknown price is no reason to expect a pause.
    """
    if not settings.enabled:
        return []
    events: list[LikelyEvent] = []
    run: list[ForecastPeriod] = []
    for period in sorted(forecast, key=lambda period: period.start):
        if period.end <= now:
            continue
        if run:
            if period.start == run[-1].end and period.price >= settings.resume_below:
                run.append(period)
                continue
            events.append(_event(run))
            run = []
        if period.price > settings.start_threshold:
            run = [period]
    if run:
        events.append(_event(run))
    return events


def expected_end(
    forecast: Sequence[ForecastPeriod], settings: DrSettings, now: datetime
) -> datetime | None:
    """When a car paused now will likely be resumed: the first forecast below the resume band.

    None when the forecast does not tell: no price for now, or it runs out (or has a gap)
    before falling below the band.
    """
    periods = sorted(
        (period for period in forecast if period.end > now),
        key=lambda period: period.start,
    )
    if not periods or periods[0].start > now:
        return None
    reached = periods[0].start
    for period in periods:
        if period.start != reached:
            return None
        if period.price < settings.resume_below:
            return max(period.start, now)
        reached = period.end
    return None
