"""Ready by departure: DR never leaves a car short of its target charge when the owner leaves.

A pure rule over one car read. The time the car still needs is its energy to the target at
its measured charge power, plus a safety margin:

    needed = energy_kwh / power_kw × (1 + MARGIN_SHARE) + MARGIN

- MARGIN_SHARE (10 %): a charge rate that sags (a weaker evening grid, the taper near a
  high target) finishes later than the measured power says;
- MARGIN (20 minutes): while DR holds a pause it next decides on the next interval (5 min
  plus the publication lag), at the latest when its prices go stale (15 min after an
  interval's end, the policy's fail-safe), and the start command takes its seconds; a pause
  must end one such gap before the time would run out.

The slack is the time to departure beyond what is needed. DR may stop a car only when the
slack leaves room for a pause worth its stop (PAUSE_ROOM); it must end its pause as soon as
the slack is gone. The gap between the two keeps the guarantee itself from stopping and
starting the car: a car charging gains slack (MARGIN_SHARE of each minute), and would
otherwise be stopped again as soon as it had a minute of it.

A car whose data is older than CAR_DATA_STALE_AFTER, or that does not say how much it needs
or how fast it charges, is treated as having no time to spare: never paused, and a pause DR
holds on it ends. The guarantee only ever ends DR's own pauses (the policy asks it only then).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
import math

MARGIN_SHARE = 0.10
MARGIN = timedelta(minutes=20)
PAUSE_ROOM = timedelta(minutes=15)
CAR_DATA_STALE_AFTER = timedelta(minutes=15)
LONGEST_HOURS = 366 * 24.0


@dataclass(frozen=True, slots=True)
class ChargeNeed:
    """What the guarantee needs of a car, as of one read.

    `power_kw` is the power the car charges at, or charged at before DR paused it (a paused
    car draws nothing; the pause's ledger event keeps its power from before the stop).
    """

    departure: datetime
    energy_needed_kwh: float | None
    power_kw: float | None
    read_at: datetime | None


def energy_to_target(
    battery_level: float | None, target_level: float, usable_capacity_kwh: float | None
) -> float | None:
    """KWh from the battery level to the target (0 at or above it), None when unknown."""
    if battery_level is None or usable_capacity_kwh is None:
        return None
    return max(0.0, (target_level - battery_level) / 100 * usable_capacity_kwh)


def energy_from_time_to_full(
    time_to_full_h: float | None, power_kw: float | None
) -> float | None:
    """KWh the car still needs by its own estimate: its time to full at its charge power."""
    if time_to_full_h is None or power_kw is None or power_kw <= 0:
        return None
    return max(0.0, time_to_full_h) * power_kw


def energy_to_target_below_limit(
    battery_level: float | None,
    target_level: float | None,
    limit_level: float | None,
    energy_to_limit_kwh: float | None,
) -> float | None:
    """KWh to the target, scaled from the car's own estimate of the energy to its limit.

    Sources tell the energy to the charge limit (time to full × power), not the battery's
    capacity; the capacity per percent follows from the two. The car stops at its limit, so a
    target above it counts as the limit. No target: the limit itself.
    """
    if energy_to_limit_kwh is None:
        return None
    if target_level is None:
        return max(0.0, energy_to_limit_kwh)
    if battery_level is None or limit_level is None:
        return None
    target = min(target_level, limit_level)
    if target <= battery_level:
        return 0.0
    return (
        max(0.0, energy_to_limit_kwh)
        * (target - battery_level)
        / (limit_level - battery_level)
    )


def time_needed(energy_kwh: float, power_kw: float) -> timedelta:
    """Charging time to reach the target, with the safety margin; power must be positive.

    Longer than a year reads as a year: no departure is that far, and a timedelta has bounds.
    """
    hours = max(0.0, energy_kwh) / power_kw * (1 + MARGIN_SHARE)
    return timedelta(hours=min(hours, LONGEST_HOURS)) + MARGIN


def slack(need: ChargeNeed, now: datetime) -> timedelta | None:
    """Time to departure beyond what the car needs; None when the car's data cannot tell."""
    if (
        need.read_at is None
        or now - need.read_at > CAR_DATA_STALE_AFTER
        or need.energy_needed_kwh is None
        or not math.isfinite(need.energy_needed_kwh)
        or need.power_kw is None
        or not math.isfinite(need.power_kw)
        or need.power_kw <= 0
    ):
        return None
    if need.energy_needed_kwh <= 0:
        # At the target already: a pause costs it nothing, whenever it leaves.
        return timedelta.max
    return need.departure - now - time_needed(need.energy_needed_kwh, need.power_kw)


def may_pause(need: ChargeNeed, now: datetime) -> bool:
    """Whether DR may stop the car now and still keep it paused a while."""
    spare = slack(need, now)
    return spare is not None and spare >= PAUSE_ROOM


def must_end_pause(need: ChargeNeed, now: datetime) -> bool:
    """Whether a pause DR holds must end now for the car to be ready."""
    spare = slack(need, now)
    return spare is None or spare < timedelta(0)


def next_departure(
    now: datetime, departures: Mapping[int, time], zone: tzinfo
) -> datetime | None:
    """The next departure after `now`: weekday (0 Monday) to wall-clock time in `zone`.

    A weekday without a time has no departure; None when no weekday has one. On the spring
    DST day a time inside the skipped hour is the same offset later (02:30 is 03:30).
    """
    local = now.astimezone(zone)
    for days in range(8):
        day = local.date() + timedelta(days=days)
        if (at := departures.get(day.weekday())) is None:
            continue
        # Compared in UTC: aware datetimes of one zone compare by wall clock alone.
        moment = datetime.combine(day, at, tzinfo=zone).astimezone(UTC)
        if moment > now.astimezone(UTC):
            return moment
    return None
