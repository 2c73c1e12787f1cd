"""A car's own charging schedule, as the ready-by guarantee reads it (no Home Assistant imports).

A Tesla with scheduled departure on ("DepartBy") plans to be charged by its departure time
every day, or, where it charges off-peak, by the end of its off-peak hours (on weekdays only
when it says so), whichever comes first: that is the car's own ready-by time of each weekday.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

MINUTES_PER_DAY = 24 * 60


def clock(minutes: object) -> time | None:
    """A wall-clock time from minutes after midnight, None when it is not one."""
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not 0 <= minutes < MINUTES_PER_DAY
    ):
        return None
    return time(minutes // 60, minutes % 60)


def car_schedule(
    departure: time | None,
    off_peak_end: time | None = None,
    off_peak_weekdays_only: bool = False,
) -> tuple[time | None, ...] | None:
    """The car's ready-by time of each weekday (Monday first); None without a departure.

    `off_peak_end` is given only while the car charges off-peak.
    """
    if departure is None:
        return None
    return tuple(
        min(departure, off_peak_end)
        if off_peak_end is not None and (day < 5 or not off_peak_weekdays_only)
        else departure
        for day in range(7)
    )


def tesla_schedule(charge: Mapping[str, Any]) -> tuple[time | None, ...] | None:
    """The car's ready-by times from Tesla's charge_state, while scheduled departure is on.

    Tesla's times are minutes after midnight in the car's time zone, taken as Home
    Assistant's (the car charges at home). StartAt (scheduled charging) names no departure.
    """
    if charge.get("scheduled_charging_mode") != "DepartBy":
        return None
    off_peak = charge.get("off_peak_charging_enabled") is True
    return car_schedule(
        clock(charge.get("scheduled_departure_time_minutes")),
        clock(charge.get("off_peak_hours_end_time")) if off_peak else None,
        charge.get("off_peak_charging_times") == "weekdays",
    )
