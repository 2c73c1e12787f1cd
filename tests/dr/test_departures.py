"""Which departure each weekday has: the owner's, the daily one, the car's, or none."""

from __future__ import annotations

from datetime import time

import pytest

from custom_components.tesladr.dr import DrSettings
from custom_components.tesladr.dr.departures import (
    DEPARTURE_DAYS,
    DepartureSource,
    weekly_departures,
)

SEVEN = time(7)
CAR = (time(5),) * 5 + (None, time(9))
HERE = DepartureSource.SET_HERE
CARS = DepartureSource.CAR_SCHEDULE


def test_a_weekday_of_its_own_wins_over_the_daily_time() -> None:
    """Friday at 06:00, the other days at 07:00."""
    week = weekly_departures(
        daily=SEVEN,
        by_weekday=[None] * 4 + [time(6), None, None],
        days=DEPARTURE_DAYS["every_day"],
        car=CAR,
    )
    assert week == dict.fromkeys(range(7), (SEVEN, HERE)) | {4: (time(6), HERE)}


def test_the_cars_schedule_fills_the_days_the_owner_set_nothing_for() -> None:
    """Monday set here; the car's own times elsewhere, none on its Saturday."""
    week = weekly_departures(
        daily=None,
        by_weekday=[time(8)] + [None] * 6,
        days=DEPARTURE_DAYS["every_day"],
        car=CAR,
    )
    assert week == {
        0: (time(8), HERE),
        1: (time(5), CARS),
        2: (time(5), CARS),
        3: (time(5), CARS),
        4: (time(5), CARS),
        6: (time(9), CARS),
    }


@pytest.mark.parametrize(
    ("days", "weekdays"),
    [("every_day", set(range(7))), ("weekdays", {0, 1, 2, 3, 4}), ("weekends", {5, 6})],
)
def test_only_the_days_the_owner_leaves_have_a_departure(
    days: str, weekdays: set[int]
) -> None:
    """The days setting holds for the owner's times and for the car's."""
    for daily, car in ((SEVEN, None), (None, (SEVEN,) * 7)):
        week = weekly_departures(
            daily=daily, by_weekday=[None] * 7, days=DEPARTURE_DAYS[days], car=car
        )
        assert set(week) == weekdays


def test_no_time_anywhere_is_no_departure() -> None:
    """Neither the owner nor the car names a time."""
    assert (
        weekly_departures(
            daily=None, by_weekday=[None] * 7, days=frozenset(range(7)), car=None
        )
        == {}
    )


def test_settings_give_the_week_and_nothing_while_ready_by_is_off() -> None:
    """DrSettings reads its stored strings; off means no departure at all."""
    settings = DrSettings(
        departure="07:00",
        departure_days="weekdays",
        weekday_departures=("06:30", None, None, None, None, None, None),
    )
    week = settings.departures(None)
    assert week[0] == (time(6, 30), HERE)
    assert week[1] == (SEVEN, HERE)
    assert 5 not in week
    off = DrSettings(departure="07:00", ready_by=False)
    assert off.departures((SEVEN,) * 7) == {}


def test_stored_weekly_times_come_back_as_a_tuple() -> None:
    """JSON gives a list; the settings keep a tuple (frozen, comparable)."""
    stored = ["06:30", None, None, None, None, None, "10:00"]
    settings = DrSettings(weekday_departures=stored)  # type: ignore[arg-type]
    assert settings.weekday_departures == tuple(stored)
    assert settings == DrSettings(weekday_departures=tuple(stored))


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"departure_days": "mondays"}, "departure_days"),
        ({"weekday_departures": ("07:00",) * 6}, "weekday_departures"),
        ({"weekday_departures": ("25:00",) + (None,) * 6}, "weekday_departures"),
        ({"weekday_departures": (700,) + (None,) * 6}, "weekday_departures"),
        ({"weekday_departures": "07:00"}, "weekday_departures"),
    ],
)
def test_weekly_settings_outside_the_contract_are_refused(
    changes: dict[str, object], name: str
) -> None:
    """Each invalid value names its setting."""
    with pytest.raises(ValueError, match=name):
        DrSettings(**changes)  # type: ignore[arg-type]
