"""A Tesla's own schedule, from its charge_state fields: synthetic and real payloads."""

from __future__ import annotations

from datetime import time
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.tesladr.vehicles.schedule import (
    car_schedule,
    clock,
    tesla_schedule,
)


def charge(**fields: Any) -> dict[str, Any]:
    """Scheduled departure at 07:00, no off-peak charging, unless told otherwise."""
    return {
        "scheduled_charging_mode": "DepartBy",
        "scheduled_departure_time_minutes": 420,
        "off_peak_charging_enabled": False,
        "off_peak_charging_times": "all_week",
        "off_peak_hours_end_time": 360,
    } | fields


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        (0, time(0)),
        (1439, time(23, 59)),
        (1440, None),
        (-1, None),
        (True, None),
        ("7", None),
        (None, None),
    ],
)
def test_minutes_after_midnight(minutes: object, expected: time | None) -> None:
    """Only whole minutes of one day are a time."""
    assert clock(minutes) == expected


def test_scheduled_departure_every_day() -> None:
    """DepartBy without off-peak charging: the departure itself, every weekday."""
    assert tesla_schedule(charge()) == (time(7),) * 7


@pytest.mark.parametrize("mode", ["Off", "StartAt", None])
def test_no_departure_without_depart_by(mode: str | None) -> None:
    """Scheduled charging (StartAt) or none at all names no departure."""
    assert tesla_schedule(charge(scheduled_charging_mode=mode)) is None


def test_off_peak_end_on_weekdays_only() -> None:
    """Charged off-peak until 06:00 on weekdays; by departure at weekends."""
    schedule = tesla_schedule(
        charge(off_peak_charging_enabled=True, off_peak_charging_times="weekdays")
    )
    assert schedule == (time(6),) * 5 + (time(7),) * 2


def test_a_departure_before_the_off_peak_end_stays_the_ready_by_time() -> None:
    """Leaving at 05:00 with off-peak hours to 06:00: ready by 05:00."""
    assert car_schedule(time(5), time(6)) == (time(5),) * 7


def test_an_unreadable_departure_is_no_schedule() -> None:
    """A car that names no usable departure time has no schedule."""
    assert tesla_schedule(charge(scheduled_departure_time_minutes=None)) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # DepartBy at 05:00, off-peak on weekdays until 06:00: 05:00 comes first every day.
        ("teslajsonpy_tests/json/VEHICLE_DATA.json", (time(5),) * 7),
        ("alandtse_tesla_tests/json_car/VEHICLE_DATA.json", (time(5),) * 7),
        # Scheduled departure off.
        ("timdorr_tesla_api_docs/charge_state_01.json", None),
    ],
)
def test_real_payloads(
    reference: Path, path: str, expected: tuple[time, ...] | None
) -> None:
    """Tesla's field names and values as real cars send them."""
    body = json.loads((reference / "tesla" / path).read_text())
    body = body.get("response", body)
    state = body.get("charge_state", body)
    assert tesla_schedule(state) == expected
