"""What a car's energy count says: when it stopped or restarted, and whether a command took.

Pure: the caller passes the car's read and the clock. Two questions use it:
- a command unanswered when Home Assistant stopped (a stop or a start "in flight", saved before
  it went out) is settled at the next start by the car's read: did it take?
- the ledger dates an owner's restart the source could not see happen.

Both date a moment by the energy the car added between two reads at the power it drew
(`time_to_draw`), and read "the count moved" through `count_moved`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from .event import DrEvent
from .policy import Reason

# The resolution of a car's energy count, and how far a read's time may be off the moment
# the car measured (see `stopped_as_sent`).
COUNT_STEP_KWH = 0.01
READ_TIMING = timedelta(seconds=10)
# More than the count's rounding: a stopped car's count moved by this much charged since.
COUNT_MOVED_KWH = 0.05
# A car answers a stop within seconds; its energy count moves 0.01 kWh in 5 s at 7 kW.
STOP_TOOK_WITHIN = timedelta(minutes=1)


class CountRead(Protocol):
    """What these rules read of a car (vehicles.ChargeState has it all)."""

    @property
    def charging_state(self) -> str | None:
        """Charging, Stopped, Complete, Disconnected, NoPower, Starting."""

    @property
    def charging(self) -> bool:
        """Whether the car draws power now."""

    @property
    def charger_power_kw(self) -> float | None:
        """The power it draws."""

    @property
    def charge_energy_added_kwh(self) -> float | None:
        """The session's energy count."""

    @property
    def updated_at(self) -> datetime | None:
        """When the car was read."""

    @property
    def stale(self) -> bool:
        """Last-known data of a car not read now."""

    @property
    def owner_started_at(self) -> datetime | None:
        """When someone other than tesladr turned charging on, where the source tells."""


def time_to_draw(kwh: float, power_kw: float) -> timedelta:
    """How long a car drawing `power_kw` takes to add `kwh`: the one energy-dating formula."""
    return timedelta(hours=kwh / power_kw)


def count_moved(
    before: float | None, after: float | None, *, more_than: float = COUNT_MOVED_KWH
) -> bool:
    """Whether the energy count moved (either way: down is a new session) between reads.

    Unknown counts never moved. `more_than` is the count's rounding a check may ignore.
    """
    if before is None or after is None:
        return False
    return abs(after - before) > more_than


def settleable(read: CountRead) -> bool:
    """Whether the read can settle a command in flight; a car not read yet is asked later."""
    return not read.stale and read.charging_state is not None


@dataclass(frozen=True, slots=True)
class StopInFlight:
    """A stop sent and not yet answered, with what the pause's ledger event needs.

    Saved before the stop goes out: when Home Assistant stops before the answer, the next
    start finds out from the car whether the stop took, instead of losing the pause.
    """

    sent_at: datetime
    power_kw: float
    needed_kwh: float | None
    # The energy the car had added by its read before the stop, and when that read was:
    # how much it added after tells whether the stop, or something later, stopped it.
    energy_added_kwh: float | None = None
    read_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "sent_at": self.sent_at.isoformat(),
            "power_kw": self.power_kw,
            "needed_kwh": self.needed_kwh,
            "energy_added_kwh": self.energy_added_kwh,
            "read_at": self.read_at.isoformat() if self.read_at else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> StopInFlight | None:
        """Inverse of as_dict; None for a record that does not fit."""
        try:
            sent_at = datetime.fromisoformat(data["sent_at"])
            energy, read_at = data.get("energy_added_kwh"), data.get("read_at")
            return cls(
                sent_at,
                float(data["power_kw"]),
                None if data["needed_kwh"] is None else float(data["needed_kwh"]),
                None if energy is None else float(energy),
                None if read_at is None else datetime.fromisoformat(read_at),
            )
        except KeyError, TypeError, ValueError:
            return None


@dataclass(frozen=True, slots=True)
class StartInFlight:
    """A start sent and not yet answered (or not yet seen), saved before it went out.

    `restored`: the stopped instance sent it; the car's first read settles it (`start_took`).
    """

    sent_at: datetime
    reason: Reason
    restored: bool = False

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (whether it was restored is this instance's business)."""
        return {"sent_at": self.sent_at.isoformat(), "reason": str(self.reason)}

    @classmethod
    def from_dict(cls, data: Any) -> StartInFlight | None:
        """A start the stopped instance left; None for a record that does not fit."""
        try:
            return cls(
                datetime.fromisoformat(data["sent_at"]),
                Reason(data["reason"]),
                restored=True,
            )
        except KeyError, TypeError, ValueError:
            return None


def _per_car[T](records: Any, parse: Callable[[Any], T | None]) -> dict[str, T]:
    """Stored records by car, each parsed; a record that does not fit is dropped."""
    if not isinstance(records, Mapping):
        return {}
    return {
        car_id: record
        for car_id, data in records.items()
        if (record := parse(data)) is not None
    }


@dataclass(slots=True)
class InFlight:
    """The commands on their way, by car: the one record of them, saved before each is sent."""

    stops: dict[str, StopInFlight] = field(default_factory=dict)
    starts: dict[str, StartInFlight] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, as two entries of the stored data."""
        return {
            "stops_in_flight": {
                car_id: stop.as_dict() for car_id, stop in self.stops.items()
            },
            "starts_in_flight": {
                car_id: start.as_dict() for car_id, start in self.starts.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> InFlight:
        """What the stopped instance left on its way; records that do not fit are dropped."""
        return cls(
            _per_car(data.get("stops_in_flight"), StopInFlight.from_dict),
            _per_car(data.get("starts_in_flight"), StartInFlight.from_dict),
        )


def stopped_at(stop: StopInFlight, read: CountRead) -> datetime | None:
    """When the car stopped, as far as its energy count tells; None when it cannot tell.

    The energy it added since its read before the stop, at the power it drew, dates when it
    stopped. A count that went down is a new charging session, begun after the stop: later
    than any stop accounts for.
    """
    if (
        stop.energy_added_kwh is None
        or stop.read_at is None
        or read.charge_energy_added_kwh is None
        or stop.power_kw <= 0
    ):
        return None
    drawn = read.charge_energy_added_kwh - stop.energy_added_kwh
    if drawn < 0:
        return datetime.max.replace(tzinfo=UTC)
    return stop.read_at + time_to_draw(drawn, stop.power_kw)


def stop_took(stop: StopInFlight, read: CountRead) -> bool:
    """Whether the car stopped as the stop arrived (or no count says otherwise)."""
    at = stopped_at(stop, read)
    return at is None or at <= stop.sent_at + STOP_TOOK_WITHIN


def stopped_as_sent(stop: StopInFlight, read: CountRead | None) -> bool:
    """Whether a car that answered a stop with "not charging" stopped as it was sent.

    About when the stop was sent, an earlier try of it went through; well before, the car
    stopped by itself or its owner stopped it. The count moves in steps of COUNT_STEP_KWH.
    Without a count it cannot be told, and the car is not taken for DR's.
    """
    if (
        read is None
        or read.stale
        or read.charging_state != "Stopped"
        or (at := stopped_at(stop, read)) is None
    ):
        return False
    step = time_to_draw(COUNT_STEP_KWH, stop.power_kw) + READ_TIMING
    return stop.sent_at - step <= at <= stop.sent_at + STOP_TOOK_WITHIN


def start_took(event: DrEvent, read: CountRead) -> bool:
    """Whether a start the stopped instance left unanswered reached the car.

    Charging, or stopped with a count that moved since DR saw it paused: its owner stopped it
    since. Here any step of the count counts, not COUNT_MOVED_KWH: a start that took and a
    stop seconds later move the count by one step, and a start believed lost would be sent
    again to a car its owner just stopped.
    """
    return read.charging or count_moved(
        event.seen_paused_energy_kwh, read.charge_energy_added_kwh, more_than=0.0
    )


def charged_since_pause(event: DrEvent | None, read: CountRead) -> bool:
    """Whether a car read stopped has charged since it was last seen paused.

    Its energy count moved (or went down: a new session): somebody started it between two
    reads and it stopped again.
    """
    if event is None or read.charging or read.stale:
        return False
    return count_moved(event.seen_paused_energy_kwh, read.charge_energy_added_kwh)


def override_at(
    event: DrEvent | None, read: CountRead, now: datetime, *, tells_overrides: bool
) -> datetime:
    """When the owner restarted charging, for the ledger.

    A source that tells overrides changed its state at that moment. A source that cannot
    tell is read every poll while the car is paused: the restart came between the read
    that saw the car paused and the one that saw it charging. The energy the car added in
    between, at its power, dates it; where the car reports neither, halfway is the
    estimate that counts neither the whole gap nor none of it. A car that has stopped
    again by the read charged up to some moment before it: halfway again.
    """
    seen = min(read.updated_at or now, now)
    if event is None:
        return now
    if tells_overrides:
        # The source reported the restart as it happened: its state changed then.
        started = read.owner_started_at
        if not read.charging and started is not None and event.started < started < seen:
            seen = started
        return max(seen, event.started)
    if event.seen_paused_at is None:
        return now
    last_paused = max(event.seen_paused_at, event.started)
    if seen <= last_paused:
        return now
    drawn = (
        read.charge_energy_added_kwh - event.seen_paused_energy_kwh
        if read.charge_energy_added_kwh is not None
        and event.seen_paused_energy_kwh is not None
        else None
    )
    power = read.charger_power_kw if read.charging else event.power_kw
    if drawn is not None and drawn >= 0 and power:
        # The energy the car added since the paused read, at the power it drew.
        latest = max(last_paused, seen - time_to_draw(drawn, power))
        if read.charging:
            return latest
        return last_paused + (latest - last_paused) / 2
    return last_paused + (seen - last_paused) / 2
