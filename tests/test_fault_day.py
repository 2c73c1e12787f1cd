"""One simulated day of the fault week (benchmarks/test_fault_week.py) breaks no invariant.

The week itself runs in `./scripts/bench faults`; this is its short version, with a fixed seed,
three account cars and the linked charger, on the 25-hour day clocks fall back, so every change
meets the same faults together: OASIS outages, throttling and bad payloads, Tesla errors and
refusals, an owner stopping and restarting charging, the linked charger unavailable and
switched by its owner, Home Assistant restarts, reloads, an options change and an account
removed and added again, and a restart while a command is in flight. DR runs at its default
settings: churn control holds pauses through dips, into the outages and restarts above.
"""

from __future__ import annotations

from datetime import date, timedelta
import itertools
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from benchmarks.fault_week import ALL_KINDS, INVARIANTS, PACIFIC, WEEK_START, schedule
from benchmarks.replay_sim import generated_week, local_midnight
from benchmarks.test_fault_week import run_week

SEED = 1
CARS = 3
FALL_BACK = date(2026, 11, 1)
LEFT_OUT: set[str] = set()


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The fake servers' keep-alive timers outlive the run; they are harmless."""
    return True


async def test_a_day_of_faults_breaks_no_invariant(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
) -> None:
    """Every kind of fault once, and three at one moment: every invariant holds."""
    row = await run_week(
        hass,
        freezer,
        hass_storage,
        SEED,
        1,
        trace_memory=False,
        cars=CARS,
        first_day=FALL_BACK,
        leave_out=LEFT_OUT,
    )
    assert row["day_hours"] == [25.0]
    assert row["linked_car"]["switch_calls"].get("turn_off", 0) > 0
    assert row["faults_total"] >= len(ALL_KINDS) - len(LEFT_OUT) - len(
        row["faults_not_applicable"]
    )
    assert row["dr"]["pauses"] > 0
    assert row["violations"] == dict.fromkeys(INVARIANTS, 0), row["violation_examples"]


def test_a_seed_gives_one_schedule_with_every_kind_each_day() -> None:
    """The same seed replays the same faults; each day has every kind and a joint moment."""
    first = local_midnight(WEEK_START)
    week = schedule(SEED, first, 7)
    assert week == schedule(SEED, first, 7)
    assert week != schedule(SEED + 1, first, 7)
    for day in range(7):
        local = WEEK_START + timedelta(days=day)
        todays = [f for f in week if f.at.astimezone(PACIFIC).date() == local]
        assert {f.kind for f in todays} == {kind.name for kind in ALL_KINDS}
        moments = [f.at for f in todays]
        assert any(moments.count(moment) >= 3 for moment in moments)


@pytest.mark.parametrize(
    ("first", "hours"),
    [(date(2026, 10, 31), [24.0, 25.0, 24.0]), (date(2026, 3, 7), [24.0, 23.0, 24.0])],
)
def test_the_week_follows_local_days_across_dst(
    first: date, hours: list[float]
) -> None:
    """Days run midnight to local midnight; the evening events keep their local times."""
    week = generated_week(first, 3)
    lengths = [
        (b - a) / timedelta(hours=1) for a, b in itertools.pairwise(week.midnights)
    ]
    assert lengths == hours
    for day in week.days:
        spike = max(day.prices[day.nodes[0]].items(), key=lambda item: item[1])[0]
        assert spike.astimezone(PACIFIC).strftime("%H:%M") == "19:00"
