"""Which departure the ready-by guarantee keeps each weekday, and who chose it.

The owner's setting wins: a time for one weekday, else the daily time. Where the owner set
neither, the car's own schedule is the default (Tesla's scheduled departure). The days the owner
leaves (every day, weekdays, weekends) hold for both: on any other day there is no departure,
and so no ready-by constraint. What a car's own schedule says: vehicles/schedule.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time
from enum import StrEnum

WEEKDAYS = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
# The days an owner leaves, as the departure-days setting names them; weekday 0 is Monday.
DEPARTURE_DAYS: Mapping[str, frozenset[int]] = {
    "every_day": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
}


class DepartureSource(StrEnum):
    """Where a departure comes from."""

    SET_HERE = "set_here"
    CAR_SCHEDULE = "car_schedule"


def weekly_departures(
    *,
    daily: time | None,
    by_weekday: Sequence[time | None],
    days: frozenset[int],
    car: Sequence[time | None] | None,
) -> dict[int, tuple[time, DepartureSource]]:
    """Weekday -> (departure, where it comes from), for the days that have one."""
    week: dict[int, tuple[time, DepartureSource]] = {}
    for day in sorted(days):
        own = by_weekday[day] if day < len(by_weekday) else None
        if (chosen := own if own is not None else daily) is not None:
            week[day] = (chosen, DepartureSource.SET_HERE)
        elif car is not None and day < len(car) and (at := car[day]) is not None:
            week[day] = (at, DepartureSource.CAR_SCHEDULE)
    return week
