"""What a car's energy count says (dr.settle): table tests of each rule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.tesladr.dr import DrEvent, Reason
from custom_components.tesladr.dr.settle import (
    COUNT_MOVED_KWH,
    InFlight,
    StartInFlight,
    StopInFlight,
    charged_since_pause,
    count_moved,
    override_at,
    settleable,
    start_took,
    stop_took,
    stopped_as_sent,
    stopped_at,
    time_to_draw,
)

T0 = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Read:
    """A car's read, as a backend gives it (the fields dr.settle reads)."""

    charging_state: str | None = "Stopped"
    charger_power_kw: float | None = None
    charge_energy_added_kwh: float | None = None
    updated_at: datetime | None = None
    stale: bool = False
    owner_started_at: datetime | None = None

    @property
    def charging(self) -> bool:
        return self.charging_state in ("Charging", "Starting")


def event(**changes: object) -> DrEvent:
    """A pause that began at T0 at 7 kW."""
    base = DrEvent("e1", "car", "NODE", T0, 7.0, None)
    for name, value in changes.items():
        setattr(base, name, value)
    return base


def test_time_to_draw_is_energy_over_power() -> None:
    assert time_to_draw(7.0, 7.0) == timedelta(hours=1)
    assert time_to_draw(0.01, 7.2) == timedelta(seconds=5)


@pytest.mark.parametrize(
    ("before", "after", "more_than", "moved"),
    [
        (3.2, 3.2, COUNT_MOVED_KWH, False),
        (3.2, 3.25, COUNT_MOVED_KWH, False),  # rounding, not charging
        (3.2, 3.26, COUNT_MOVED_KWH, True),
        (3.2, 0.0, COUNT_MOVED_KWH, True),  # a new session
        (3.2, 3.21, 0.0, True),  # any step, where asked
        (None, 3.2, COUNT_MOVED_KWH, False),
        (3.2, None, 0.0, False),
    ],
)
def test_count_moved(
    before: float | None, after: float | None, more_than: float, moved: bool
) -> None:
    assert count_moved(before, after, more_than=more_than) is moved


@pytest.mark.parametrize(
    ("read", "ok"),
    [
        (Read(), True),
        (Read(stale=True), False),
        (Read(charging_state=None), False),
    ],
)
def test_settleable(read: Read, ok: bool) -> None:
    assert settleable(read) is ok


STOP = StopInFlight(at(0), 7.0, None, 3.2, at(-2))


@pytest.mark.parametrize(
    ("stop", "read", "when"),
    [
        (STOP, Read(charge_energy_added_kwh=3.2), at(-2)),
        (STOP, Read(charge_energy_added_kwh=3.9), at(4)),  # 0.7 kWh: 6 min at 7 kW
        (STOP, Read(charge_energy_added_kwh=0.1), datetime.max.replace(tzinfo=UTC)),
        (STOP, Read(), None),
        (StopInFlight(at(0), 7.0, None), Read(charge_energy_added_kwh=3.2), None),
        (
            StopInFlight(at(0), 0.0, None, 3.2, at(-2)),
            Read(charge_energy_added_kwh=3.2),
            None,
        ),
    ],
)
def test_stopped_at(stop: StopInFlight, read: Read, when: datetime | None) -> None:
    assert stopped_at(stop, read) == when


@pytest.mark.parametrize(
    ("read", "took"),
    [
        (Read(charge_energy_added_kwh=3.43), True),  # stopped as it arrived
        (Read(charge_energy_added_kwh=3.8), False),  # charged on past it
        (Read(), True),  # no count says otherwise
    ],
)
def test_stop_took(read: Read, took: bool) -> None:
    assert stop_took(STOP, read) is took


@pytest.mark.parametrize(
    ("read", "ours"),
    [
        (Read(charge_energy_added_kwh=3.43), True),
        (Read(charge_energy_added_kwh=3.3), False),  # stopped a minute before
        (Read(charge_energy_added_kwh=3.43, stale=True), False),
        (Read(charging_state="Complete", charge_energy_added_kwh=3.43), False),
        (None, False),
    ],
)
def test_stopped_as_sent(read: Read | None, ours: bool) -> None:
    assert stopped_as_sent(STOP, read) is ours


@pytest.mark.parametrize(
    ("read", "took"),
    [
        (Read(charging_state="Charging", charge_energy_added_kwh=3.2), True),
        (Read(charge_energy_added_kwh=3.21), True),  # one step: started, stopped since
        (Read(charge_energy_added_kwh=3.2), False),  # as DR left it
        (Read(), False),
    ],
)
def test_start_took(read: Read, took: bool) -> None:
    assert start_took(event(seen_paused_energy_kwh=3.2), read) is took


@pytest.mark.parametrize(
    ("paused", "read", "charged"),
    [
        (event(seen_paused_energy_kwh=3.2), Read(charge_energy_added_kwh=3.6), True),
        (event(seen_paused_energy_kwh=3.2), Read(charge_energy_added_kwh=3.21), False),
        (event(seen_paused_energy_kwh=3.2), Read(charge_energy_added_kwh=0.0), True),
        (event(), Read(charge_energy_added_kwh=3.6), False),  # never seen paused
        (None, Read(charge_energy_added_kwh=3.6), False),
        (
            event(seen_paused_energy_kwh=3.2),
            Read(charging_state="Charging", charge_energy_added_kwh=3.6),
            False,  # charging now: the policy's override, not this
        ),
        (
            event(seen_paused_energy_kwh=3.2),
            Read(charge_energy_added_kwh=3.6, stale=True),
            False,
        ),
    ],
)
def test_charged_since_pause(paused: DrEvent | None, read: Read, charged: bool) -> None:
    assert charged_since_pause(paused, read) is charged


NOW = at(20)


@pytest.mark.parametrize(
    ("paused", "read", "tells", "when"),
    [
        (None, Read(updated_at=at(10)), False, NOW),
        # A source that tells: its state changed at the restart.
        (event(), Read(charging_state="Charging", updated_at=at(10)), True, at(10)),
        (
            event(),
            Read(updated_at=at(10), owner_started_at=at(6)),
            True,
            at(6),  # restarted at 6, stopped again by the read
        ),
        (event(), Read(updated_at=at(-5)), True, T0),  # never before the pause
        # A source that cannot tell, never seen paused: now.
        (event(), Read(charging_state="Charging", updated_at=at(10)), False, NOW),
        # Read paused at 4, charging at 10 with 0.35 kWh more at 7 kW: 3 minutes before.
        (
            event(seen_paused_at=at(4), seen_paused_energy_kwh=3.2),
            Read("Charging", 7.0, 3.55, at(10)),
            False,
            at(7),
        ),
        # Stopped again by the read: halfway between the paused read and the latest start.
        (
            event(seen_paused_at=at(4), seen_paused_energy_kwh=3.2),
            Read("Stopped", None, 3.55, at(10)),
            False,
            at(5.5),
        ),
        # No count: halfway between the reads.
        (
            event(seen_paused_at=at(4)),
            Read("Charging", 7.0, None, at(10)),
            False,
            at(7),
        ),
        # The read is no newer than the paused one: now.
        (
            event(seen_paused_at=at(4), seen_paused_energy_kwh=3.2),
            Read("Charging", 7.0, 3.55, at(4)),
            False,
            NOW,
        ),
    ],
)
def test_override_at(
    paused: DrEvent | None, read: Read, tells: bool, when: datetime
) -> None:
    assert override_at(paused, read, NOW, tells_overrides=tells) == when


def test_in_flight_round_trips_and_drops_what_does_not_fit() -> None:
    flight = InFlight(
        {"a": STOP, "b": StopInFlight(at(0), 7.0, 4.0)},
        {"a": StartInFlight(at(1), Reason.PRICE_BELOW_RESUME)},
    )
    stored = flight.as_dict()
    back = InFlight.from_dict(stored)
    assert back.stops == flight.stops
    # What the stopped instance left is settled by the car's next read.
    assert back.starts == {
        "a": StartInFlight(at(1), Reason.PRICE_BELOW_RESUME, restored=True)
    }
    stored["stops_in_flight"]["c"] = {"sent_at": "not a time"}
    stored["starts_in_flight"]["c"] = {"sent_at": at(0).isoformat(), "reason": "?"}
    stored["starts_in_flight"]["d"] = None
    again = InFlight.from_dict(stored)
    assert set(again.stops) == {"a", "b"}
    assert set(again.starts) == {"a"}
    assert InFlight.from_dict({"stops_in_flight": [1, 2]}) == InFlight()
