"""One simulated day of the fault week (benchmarks/test_fault_week.py) breaks no invariant.

The week itself runs in `./scripts/bench faults`; this is its short version, with a fixed seed
and three cars, so every change meets the same faults together: OASIS outages, throttling and
bad payloads, Tesla errors and refusals, an owner stopping and restarting charging, Home
Assistant restarts, reloads, an options change and an account removed and added again.
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest

from benchmarks.fault_week import INVARIANTS, KINDS, PACIFIC, schedule
from benchmarks.replay_sim import generated_day
from benchmarks.test_fault_week import run_week

SEED = 1
CARS = 3


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
        hass, freezer, hass_storage, SEED, 1, trace_memory=False, cars=CARS
    )
    assert row["faults_total"] >= len(KINDS) - len(row["faults_not_applicable"])
    assert row["dr"]["pauses"] > 0
    assert row["violations"] == dict.fromkeys(INVARIANTS, 0), row["violation_examples"]


def test_a_seed_gives_one_schedule_with_every_kind_each_day() -> None:
    """The same seed replays the same faults; each day has every kind and a joint moment."""
    first = generated_day().start
    week = schedule(SEED, first, 7)
    assert week == schedule(SEED, first, 7)
    assert week != schedule(SEED + 1, first, 7)
    for day in range(7):
        local = (first.astimezone(PACIFIC).date().toordinal()) + day
        todays = [f for f in week if f.at.astimezone(PACIFIC).toordinal() == local]
        assert {f.kind for f in todays} == {kind.name for kind in KINDS}
        moments = [f.at for f in todays]
        assert any(moments.count(moment) >= 3 for moment in moments)
