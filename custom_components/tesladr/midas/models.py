"""Data types shared by the MIDAS client and its users; every datetime is UTC-aware."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class SignalType(IntEnum):
    """The `SignalType` filter of the RIN list."""

    ALL = 0
    RATES = 1
    GHG = 2
    FLEX_ALERT = 3


# Keys the v2 RIN list wraps its array in, one per signal type (v1 answered a bare array).
LIST_KEYS = frozenset({"All", "Rates", "GHGEmissions", "FlexAlerts"})


class QueryType(StrEnum):
    """The `QueryType` of a value request."""

    # 72 hours from midnight Pacific of the request date.
    REALTIME = "realtime"
    # 90 days ending 23:59:59 Pacific on the day after tomorrow.
    ALLDATA = "alldata"


@dataclass(frozen=True, slots=True)
class RateListing:
    """One RIN of the RIN list: what the RIN search offers."""

    rin: str
    signal_type: str
    description: str
    last_updated: datetime | None


@dataclass(frozen=True, slots=True)
class ValueInterval:
    """One row of a RIN's values; `end` is exclusive (MIDAS writes it inclusive, 07:04:59)."""

    start: datetime
    end: datetime
    value: float
    name: str
    unit: str


@dataclass(frozen=True, slots=True)
class RateValues:
    """A RIN's description and its intervals, sorted by start, then unit."""

    rin: str
    name: str
    rate_type: str
    signal_type: str
    description: str
    system_time: datetime | None
    intervals: tuple[ValueInterval, ...]

    @property
    def units(self) -> frozenset[str]:
        """Units the intervals carry (a rate may give $/kWh beside $/kW)."""
        return frozenset(interval.unit for interval in self.intervals)

    def series(self, unit: str | None = None) -> list[ValueInterval]:
        """Intervals of one unit (all when None)."""
        return [i for i in self.intervals if unit is None or i.unit == unit]

    def at(self, moment: datetime, unit: str | None = None) -> ValueInterval | None:
        """The interval holding `moment`, or None in a gap (a season not yet uploaded)."""
        series = self.series(unit)
        index = bisect_right([i.start for i in series], moment)
        # Rows of a series do not overlap, so only the latest one started can hold `moment`.
        if index and moment < series[index - 1].end:
            return series[index - 1]
        return None

    def upcoming(
        self, moment: datetime, count: int, unit: str | None = None
    ) -> list[ValueInterval]:
        """Up to `count` intervals from the one holding `moment` on (the next ones in a gap)."""
        series = self.series(unit)
        return [i for i in series if i.end > moment][:count]
