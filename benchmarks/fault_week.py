"""The fault week's schedule, invariants and report (no Home Assistant here).

A seed gives the whole schedule: `random.Random(seed)` draws every fault's kind, moment,
duration and target, so a failing seed replays exactly. Every simulated day gets one fault of
each kind (most of them during the evening events), plus one moment where three faults of
different sides land together.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import itertools
import json
import random
import statistics
from typing import Any, Literal
from zoneinfo import ZoneInfo

PACIFIC = ZoneInfo("America/Los_Angeles")
INTERVAL = timedelta(minutes=5)
# The DR contract's fail-safe: prices older than this are stale; a paused car may stay paused
# at most one interval past that moment.
STALE_AFTER = timedelta(minutes=15)
STALE_GRACE = INTERVAL
# An OASIS client must leave this much between requests, and ask at most this often per interval.
OASIS_MIN_GAP = timedelta(seconds=5)
OASIS_MAX_PER_INTERVAL = 3
LEDGER_TOLERANCE = 0.01
# How long a pause's end (or start) may go unrecorded in the ledger: the car is read again
# at least this often while DR holds it paused.
RECORD_GRACE = timedelta(minutes=15)
# Memory at the last midnight may exceed the second midnight's (after a day of warm-up) by this.
MEMORY_GROWTH = 0.10
EVENING = (16 * 60 + 45, 20 * 60 + 15)  # local minutes: the generated day's events
# The default week's first local day. Its second day, Sunday 1 November 2026, is 25 hours
# long (clocks fall back at 02:00 PDT); `--start 2026-03-07` gives a 23-hour second day, and
# `--start 2026-07-15` the week without a DST change that the first measured runs used.
WEEK_START = date(2026, 10, 31)

type Side = Literal["oasis", "tesla", "ha", "linked"]


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of fault: which side it hits and how long it lasts (0: one-shot)."""

    name: str
    side: Side
    minutes: tuple[int, int] = (0, 0)
    times: tuple[int, int] = (1, 1)  # replies answered with the fault, for one-shots


KINDS = [
    Kind("oasis_down", "oasis", (3, 60)),
    Kind("oasis_slow", "oasis", (5, 20)),
    Kind("oasis_429", "oasis", times=(1, 3)),
    Kind("oasis_throttle_page", "oasis", times=(1, 3)),
    Kind("oasis_corrupt_zip", "oasis", times=(1, 2)),
    Kind("oasis_error_1000", "oasis", times=(1, 3)),
    Kind("oasis_error_1001", "oasis", times=(1, 2)),
    Kind("oasis_empty_body", "oasis", times=(1, 2)),
    Kind("oasis_html", "oasis", times=(1, 2)),
    Kind("oasis_missing_interval", "oasis"),
    Kind("oasis_repriced_interval", "oasis"),
    Kind("tesla_token_expired", "tesla"),
    Kind("tesla_403", "tesla", times=(1, 2)),
    Kind("tesla_408_command", "tesla"),
    Kind("tesla_429", "tesla", times=(1, 3)),
    Kind("tesla_5xx", "tesla", times=(1, 3)),
    Kind("tesla_down", "tesla", (2, 20)),
    Kind("tesla_refusal", "tesla"),
    Kind("tesla_token_race", "tesla"),
    Kind("car_offline", "tesla", (5, 40)),
    Kind("owner_stop", "tesla", (10, 60)),
    Kind("owner_override", "tesla"),
    Kind("ha_restart", "ha", (1, 3)),
    Kind("entry_reload", "ha"),
    Kind("options_change", "ha"),
    Kind("account_readd", "ha", (1, 20)),
]
# Kinds added after the first measured runs. They are drawn from a stream of their own, so a
# seed's faults of the kinds above stay what they were. All land in the evening events, where
# commands are sent and the linked car charges.
LATER_KINDS = [
    # A stop or start reaches the car (or not: detail "lost"), Home Assistant stops before
    # the answer comes back; it starts again from the Store as the final write left it.
    Kind("ha_restart_in_flight", "ha", (1, 3)),
    Kind("linked_unavailable", "linked", (5, 40)),  # the charger's entities unavailable
    Kind("linked_owner_stop", "linked", (10, 60)),  # the owner switches it off, then on
    Kind("linked_override", "linked"),  # the owner switches it on while DR holds it off
]
ALL_KINDS = KINDS + LATER_KINDS
KIND_BY_NAME = {kind.name: kind for kind in ALL_KINDS}
# Reasons a car gives for `result: false` (the fake's own four, and one the car gives when
# its computers are asleep).
REFUSALS = (
    "not_charging",
    "is_charging",
    "complete",
    "disconnected",
    "could_not_wake_buses",
)


@dataclass(frozen=True, slots=True)
class Fault:
    """One scheduled fault."""

    at: datetime
    kind: str
    duration: timedelta = timedelta(0)
    times: int = 1
    target: int = 0  # a car or account index, taken modulo the fleet
    detail: str = ""  # a refusal reason, an HTTP status

    @property
    def side(self) -> Side:
        """Which side it hits."""
        return KIND_BY_NAME[self.kind].side

    def as_text(self) -> str:
        """One line for a log of the run."""
        local = self.at.astimezone(PACIFIC).strftime("%a %H:%M:%S")
        extra = f" {self.duration}" if self.duration else f" x{self.times}"
        return f"{local} {self.kind}{extra} target={self.target} {self.detail}".rstrip()


def _moment(rng: random.Random, day_start: datetime, evening: bool) -> datetime:
    # Wall-clock minutes of the local day (the events are at local times), as one instant:
    # on a DST day a moment in the skipped hour lands an hour later, none in the repeated one.
    low, high = EVENING if evening else (15, 24 * 60 - 15)
    seconds = rng.uniform(low * 60, high * 60)
    return (day_start + timedelta(seconds=round(seconds, 1))).astimezone(UTC)


def _fault(rng: random.Random, kind: Kind, at: datetime) -> Fault:
    minutes = rng.uniform(*kind.minutes) if kind.minutes[1] else 0.0
    detail = ""
    if kind.name == "tesla_refusal":
        detail = rng.choice(REFUSALS)
    elif kind.name == "tesla_5xx":
        detail = str(rng.choice((500, 502, 503, 504)))
    elif kind.name in ("entry_reload", "options_change"):
        detail = rng.choice(("prices", "account"))
    elif kind.name == "ha_restart_in_flight":
        detail = rng.choice(("applied", "applied", "lost"))
    return Fault(
        at=at,
        kind=kind.name,
        duration=timedelta(seconds=round(minutes * 60)),
        times=rng.randint(*kind.times),
        target=rng.randrange(1000),
        detail=detail,
    )


def schedule(seed: int, first_day: datetime, days: int) -> list[Fault]:
    """Every kind once per day (six in ten during the evening events) and a three-fault moment.

    The later kinds come once per day each, during the evening events.

    `first_day` is a local midnight; the week's days follow it.
    """
    rng = random.Random(seed)
    faults: list[Fault] = []
    for day in range(days):
        start = (first_day.astimezone(PACIFIC) + timedelta(days=day)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        faults.extend(
            _fault(rng, kind, _moment(rng, start, rng.random() < 0.6)) for kind in KINDS
        )
        together = _moment(rng, start, evening=True)
        for side in ("oasis", "tesla", "ha"):
            kind = rng.choice([k for k in KINDS if k.side == side])
            faults.append(_fault(rng, kind, together))
    later = random.Random(f"later kinds {seed}")
    for day in range(days):
        start = (first_day.astimezone(PACIFIC) + timedelta(days=day)).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        faults.extend(
            _fault(later, kind, _moment(later, start, evening=True))
            for kind in LATER_KINDS
        )
    return sorted(faults, key=lambda fault: fault.at)


# --- invariants ----------------------------------------------------------------------------

INVARIANTS = (
    "paused_on_stale_prices",
    "started_a_car_dr_did_not_pause",
    "pause_not_recorded",
    "pause_end_not_recorded",
    "ledger_off_by_more_than_1pct",
    "ledger_lost_on_restart",
    "oasis_gap_under_5s",
    "oasis_over_3_per_interval",
    "unhandled_exception",
    "error_log_line",
    "memory_growth",
)


@dataclass
class Violations:
    """Counts per invariant, with the first few examples of each."""

    counts: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, invariant: str, example: str) -> None:
        """Count one violation."""
        if invariant not in INVARIANTS:
            raise ValueError(f"unknown invariant {invariant}")
        self.counts[invariant] += 1
        shown = self.examples.setdefault(invariant, [])
        if len(shown) < 3:
            shown.append(example)

    @property
    def total(self) -> int:
        """All violations."""
        return sum(self.counts.values())

    def as_dict(self) -> dict[str, int]:
        """Every invariant's count, zeros included."""
        return {name: self.counts[name] for name in INVARIANTS}


def paused_too_long(
    now: datetime, newest_end: datetime | None, since: datetime
) -> bool:
    """A car paused now, on prices whose newest interval ended at `newest_end`, overstays.

    `since` is the latest moment before which tesladr could not have resumed it (Home
    Assistant or the car was unreachable, or the pause began): the fail-safe counts from the
    later of that and the moment the prices went stale.
    """
    stale_at = (newest_end + STALE_AFTER) if newest_end is not None else since
    return now > max(stale_at, since) + STALE_GRACE


def oasis_violations(
    times: list[datetime],
    violations: Violations,
    restarts: list[datetime],
    labels: list[str] | None = None,
) -> int:
    """The 5 s rule over all requests, the per-interval budget per Home Assistant run.

    A restarted Home Assistant cannot know what the stopped one asked in the same interval,
    and the design lets the request of a set-up go past the budget; intervals that exceed
    it only when both runs' requests are counted are returned, not counted as violations.
    """
    label = dict(zip(times, labels or [], strict=False))
    ordered = sorted(times)
    across = 0
    for start, count in Counter(_floor(moment) for moment in ordered).items():
        if count <= OASIS_MAX_PER_INTERVAL:
            continue
        runs = Counter(
            sum(1 for restart in restarts if restart <= moment)
            for moment in ordered
            if _floor(moment) == start
        )
        if max(runs.values()) <= OASIS_MAX_PER_INTERVAL:
            across += 1
    for before, after in itertools.pairwise(ordered):
        if after - before < OASIS_MIN_GAP:
            violations.add(
                "oasis_gap_under_5s",
                f"{before.isoformat()} then {(after - before).total_seconds():.6f} s later",
            )
    per_run = Counter(
        (_floor(moment), sum(1 for restart in restarts if restart <= moment))
        for moment in ordered
    )
    for (start, _run), count in sorted(per_run.items()):
        if count > OASIS_MAX_PER_INTERVAL:
            inside = [
                f"{m:%H:%M:%S}{' ' + label[m] if m in label else ''}"
                for m in ordered
                if _floor(m) == start
            ]
            violations.add(
                "oasis_over_3_per_interval",
                f"{count} requests in {start.isoformat()}: {', '.join(inside)}",
            )
    return across


def ledger_violation(ledger_kwh: float, cars_kwh: float) -> bool:
    """The ledger and the cars' own record of energy not drawn differ by more than 1 %."""
    return abs(ledger_kwh - cars_kwh) > LEDGER_TOLERANCE * max(cars_kwh, 1.0)


def memory_grows(midnights: list[int]) -> bool:
    """Traced memory at the last midnight beyond the second one's by more than 10 %.

    The first day warms caches up (price history, ledger, entity states), so it is left out;
    fewer than three midnights say nothing.
    """
    if len(midnights) < 3:
        return False
    return midnights[-1] > midnights[1] * (1 + MEMORY_GROWTH)


def _floor(moment: datetime) -> datetime:
    return moment.replace(
        minute=moment.minute - moment.minute % 5, second=0, microsecond=0
    )


# --- recovery and the report ---------------------------------------------------------------


@dataclass
class Recovery:
    """Seconds from a fault's end to the first good price and the first correct DR state."""

    price_s: dict[str, list[float]] = field(default_factory=dict)
    dr_s: dict[str, list[float]] = field(default_factory=dict)
    unrecovered: Counter[str] = field(default_factory=Counter)

    def add(self, kind: str, price_s: float | None, dr_s: float | None) -> None:
        """One fault's recovery (None: not before the run ended)."""
        if price_s is None or dr_s is None:
            self.unrecovered[kind] += 1
        if price_s is not None:
            self.price_s.setdefault(kind, []).append(price_s)
        if dr_s is not None:
            self.dr_s.setdefault(kind, []).append(dr_s)


def _stats(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "max": None}
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1)}


def summary(
    *,
    seed: int,
    days: int,
    injected: Counter[str],
    skipped: Counter[str],
    violations: Violations,
    recovery: Recovery,
    dr: dict[str, Any],
    fault_free: dict[str, Any] | None,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """The JSON row of one seed."""
    kinds = [kind.name for kind in ALL_KINDS]
    return {
        "benchmark": "fault_week",
        "seed": seed,
        "days": days,
        "faults": {name: injected[name] for name in kinds},
        "faults_total": sum(injected.values()),
        "faults_not_applicable": dict(skipped),
        "violations": violations.as_dict(),
        "violations_total": violations.total,
        "violation_examples": violations.examples,
        "recover_s": {
            name: {
                "price": _stats(recovery.price_s.get(name, [])),
                "dr": _stats(recovery.dr_s.get(name, [])),
                "unrecovered": recovery.unrecovered[name],
            }
            for name in kinds
        },
        "dr": dr,
        "dr_fault_free": fault_free,
    } | extra


DR_COLUMNS = (
    ("events", "events"),
    ("missed_car_events", "missed car-events"),
    ("pauses", "pauses"),
    ("starts", "starts"),
    ("kwh_not_consumed", "kWh not drawn"),
    ("ledger_kwh", "ledger kWh"),
    ("usd_not_consumed", "USD not drawn"),
    ("reaction_p50_s", "reaction p50 s"),
    ("reaction_max_s", "reaction max s"),
    ("left_paused", "left paused"),
)


def table(rows: list[dict[str, Any]]) -> str:
    """One table: faults and recovery per kind, violations, DR beside the fault-free week."""
    seeds = [row["seed"] for row in rows]
    head = f"{'':34}" + "".join(f"{'seed ' + str(seed):>14}" for seed in seeds)
    lines = [f"fault week: {rows[0]['days']} day(s) per seed", head]
    lines.append("faults injected (n; recover p50/max s: price | DR)")
    for kind in ALL_KINDS:
        cells = []
        for row in rows:
            n = row["faults"].get(kind.name, 0)
            rec = row["recover_s"].get(kind.name) or {
                "price": {"max": None},
                "dr": {"max": None},
                "unrecovered": 0,
            }
            price, dr = rec["price"]["max"], rec["dr"]["max"]
            unrec = "!" if rec["unrecovered"] else ""
            cells.append(f"{n}:{_cell(price)}|{_cell(dr)}{unrec}".rjust(14))
        lines.append(f"  {kind.name:32}" + "".join(cells))
    lines.append("invariant violations")
    lines.extend(
        f"  {name:32}" + "".join(f"{row['violations'][name]:>14}" for row in rows)
        for name in INVARIANTS
    )
    lines.append(
        f"  {'(shown) >3/interval only across':32}"
        + "".join(f"{row['oasis_over_3_only_across_restarts']:>14}" for row in rows)
    )
    lines.append(
        f"  {'(shown) unavailable ERROR lines':32}"
        + "".join(f"{sum(row['unavailable_logged'].values()):>14}" for row in rows)
    )
    lines.append("DR outcome (faulty / fault-free)")
    for key, label in DR_COLUMNS:
        cells = []
        for row in rows:
            free = row["dr_fault_free"] or {}
            cells.append(
                f"{_cell(row['dr'].get(key))}/{_cell(free.get(key))}".rjust(14)
            )
        lines.append(f"  {label:32}" + "".join(cells))
    lines.append(f"  {'wall s':32}" + "".join(f"{row['wall_s']:>14}" for row in rows))
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}"
    return str(value)


def report(lines: list[str]) -> str:
    """The table and one JSON line of all seeds, from the runs' JSON lines."""
    # pytest's progress dots may precede a line.
    rows = [
        json.loads(line[line.index("{") :])
        for line in lines
        if line.lstrip(".").startswith('{"benchmark"')
    ]
    rows = [row for row in rows if row.get("benchmark") == "fault_week"]
    free = next((row["dr"] for row in rows if row.get("fault_free")), None)
    rows = [row | {"dr_fault_free": free} for row in rows if not row.get("fault_free")]
    if not rows:
        return "no fault-week rows"
    combined = {
        "benchmark": "fault_week_all",
        "seeds": [row["seed"] for row in rows],
        "days": rows[0]["days"],
        "faults_total": sum(row["faults_total"] for row in rows),
        "violations": {
            name: sum(row["violations"][name] for row in rows) for name in INVARIANTS
        },
        "violations_total": sum(row["violations_total"] for row in rows),
        "rows": rows,
    }
    return table(rows) + "\n" + json.dumps(combined)


if __name__ == "__main__":
    import sys

    print(report(sys.stdin.read().splitlines()))
