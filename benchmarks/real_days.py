"""Named real days: the full Home Assistant replay's days, the pure pass's numbers for them, the table.

Run: ./scripts/bench real-days   (also part of ./scripts/bench replay)

The days come from the reference data's README (its "good test days" and quiet days) and
docs/churn.md's worked examples. Each is replayed by benchmarks/test_real_days.py through a
full Home Assistant; this module gives, for the same day and the same two cars, the pure
policy's numbers from benchmarks/real_years.py, so each JSON line carries both:

- `pure_year`: the always-charging car of the whole-year pass (real_years.run_always over
  the node's year), its pauses started on the day. Its pause history reaches back into the
  day before (the budget's rolling 24 h, a pause still held at midnight).
- `pure_day`: the same car and rule over the replay's own window only (from the day's local
  midnight, no history before), as the full replay starts; and the evening car
  (real_years.evening) with the replay's plug-in, departure, need and power.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
import json
import sys
from typing import Any

from custom_components.tesladr.dr import DrEvent

from .real_years import (
    ACT_AFTER,
    CAPACITY_KWH,
    PACIFIC,
    RECOMMENDED,
    STEP,
    YEARS,
    Car,
    Year,
    evening,
    load,
    run_always,
)

# The evening car: home at 17:30 on a 120 V outlet's worth of power, needing NEED_KWH by the
# next morning's departure: 11.4 of the 13.5 hours at home, so the guarantee binds.
PLUG_IN_H = 17.5
DEPARTURE = "07:00"
DEPARTURE_H = 7.0
NEED_KWH = 16.0
EVENING_KW = 1.4
TARGET = 80  # %, the car's charge limit; the ready-by target left at its default
ALWAYS_KW = 7.0
ALWAYS_SOC = 60
ALWAYS_LIMIT = 90
# What the always-charging car tells Home Assistant it needs (its time to full at its power):
# the ledger counts no pause as keeping more from it. The pure day's pass is given the same.
ALWAYS_NEED_KWH = (ALWAYS_LIMIT - ALWAYS_SOC) / 100 * CAPACITY_KWH


@dataclass(frozen=True, slots=True)
class NamedDay:
    """A Pacific operating day at one DLAP, and why it is in the set."""

    node: str
    day: date
    why: str

    @property
    def year(self) -> int:
        """The calendar year (one file per node and year)."""
        return self.day.year

    @property
    def name(self) -> str:
        """Test id and table column."""
        return f"{self.node.split('_')[1][:4]}-{self.day.isoformat()}"


DAYS = (
    NamedDay(
        "DLAP_SDGE-APND",
        date(2018, 7, 18),
        "SDG&E 2018's most stops for the policy before churn control (17); churn.md's example",
    ),
    NamedDay(
        "DLAP_SDGE-APND",
        date(2018, 7, 24),
        "heat-wave evening: above 1,000 USD/MWh every hour 16:00-19:55",
    ),
    NamedDay(
        "DLAP_PGAE-APND",
        date(2019, 6, 11),
        "PG&E: 72 intervals above 100, max 1,154.57",
    ),
    NamedDay(
        "DLAP_PGAE-APND",
        date(2019, 2, 8),
        "gas-price crunch: 219 of 288 intervals above 100, max 222 (a long, low spike)",
    ),
    NamedDay(
        "DLAP_SDGE-APND",
        date(2019, 2, 7),
        "gas-price crunch at SDG&E: 158 intervals above 100, max 220.54",
    ),
    NamedDay(
        "DLAP_PGAE-APND",
        date(2019, 1, 2),
        "quiet: no interval above 100",
    ),
)


def local(day: date, hours: float) -> datetime:
    """A Pacific wall-clock time of a day (hours may pass 24), as an aware UTC datetime."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=PACIFIC)
    # Wall-clock arithmetic: 31 hours is 07:00 the next day, whatever DST does between.
    return (midnight + timedelta(hours=hours)).astimezone(UTC)


@cache
def recording(node: str, year: int) -> Year | None:
    """The node's recorded year, or None when the reference data is absent."""
    for name_node, name_year, name in YEARS:
        if (name_node, name_year) == (node, year):
            return load(node, year, name)
    raise ValueError(f"no recording of {node} {year}")


@cache
def _year_car(node: str, year: int) -> Car:
    """The always-charging car of the whole-year pass (pure() calls it with the data there)."""
    prices = recording(node, year)
    if prices is None:
        raise ValueError(f"no recording of {node} {year}")
    with RECOMMENDED.escalating():
        return run_always(prices, RECOMMENDED.settings)


def _dated(moment: datetime) -> date:
    """The Pacific day of the interval whose price a decision at `moment` answered."""
    return (moment - timedelta(seconds=ACT_AFTER + STEP)).astimezone(PACIFIC).date()


def always_numbers(
    every: Iterable[DrEvent], day: date, since: datetime | None = None
) -> dict[str, Any]:
    """A car's pauses started on `day` (dated as real_years dates them), and their values.

    A pause started before `since` plus one decision (a replay's first, on the price of the
    interval before its start) counts for `day`.
    """
    first = since + timedelta(seconds=ACT_AFTER + STEP) if since else None
    events = [
        e
        for e in every
        if (first is not None and e.started < first) or _dated(e.started) == day
    ]
    lengths = [
        (e.ended - e.started).total_seconds() for e in events if e.ended is not None
    ]
    return {
        "pauses": len(events),
        "one_interval_share": share_one_interval(lengths),
        "kwh_not_drawn": round(sum(e.kwh for e in events), 2),
        "gross_usd": round(sum(e.usd for e in events), 2),
        "net_value_usd": round(sum(e.net_usd for e in events), 2),
        "stops": stops(events),
    }


def stops(events: Iterable[DrEvent]) -> list[str]:
    """Each pause as Pacific stop-start times."""
    return [
        f"{e.started.astimezone(PACIFIC):%H:%M}-"
        + (f"{e.ended.astimezone(PACIFIC):%H:%M}" if e.ended else "…")
        for e in events
    ]


def share_one_interval(lengths: list[float]) -> float:
    """Share of pauses that lasted one interval (a decision 5 minutes after the stop)."""
    # 30 s of slack: in Home Assistant a stop and its start land a few seconds off the grid.
    return (
        round(sum(1 for n in lengths if n <= STEP + 30) / len(lengths), 3)
        if lengths
        else 0.0
    )


def pure(named: NamedDay) -> dict[str, Any] | None:
    """The pure pass's numbers for a named day, or None without the reference data."""
    prices = recording(named.node, named.year)
    if prices is None:
        return None
    first = bisect_left(prices.starts, int(local(named.day, 0).timestamp()))
    last = bisect_left(
        prices.starts, int(local(named.day, 24 + DEPARTURE_H + 1).timestamp())
    )
    window = Year(
        named.node,
        named.year,
        prices.starts[first:last],
        prices.values[first:last],
    )
    with RECOMMENDED.escalating():
        alone = run_always(window, RECOMMENDED.settings, ALWAYS_NEED_KWH)
    car, missing = evening(
        prices,
        named.day,
        (PLUG_IN_H, DEPARTURE_H),
        (NEED_KWH, EVENING_KW),
        RECOMMENDED,
    )
    lengths = [
        (e.ended - e.started).total_seconds() for e in car.events if e.ended is not None
    ]
    return {
        "pure_year": always_numbers(
            _year_car(named.node, named.year).events, named.day
        ),
        "pure_day": always_numbers(alone.events, named.day)
        | {
            "evening": {
                "pauses": len(car.events),
                "one_interval_share": share_one_interval(lengths),
                "ready_by_resumes": car.ready_by_resumes,
                "short_kwh": round(missing, 2),
                "ready_by_miss": missing > 1e-3,
                "gross_usd": round(sum(e.usd for e in car.events), 2),
                "net_value_usd": round(sum(e.net_usd for e in car.events), 2),
                "stops": stops(car.events),
            }
        },
    }


def table(lines: list[dict[str, Any]]) -> str:
    """One column per day: the full replay beside the pure pass."""
    head = " | ".join(line["name"] for line in lines)
    rows = [
        f"| | {head} |",
        "|" + " --- |" * (1 + len(lines)),
    ]

    def row(label: str, cell: Any) -> None:
        rows.append(f"| {label} | " + " | ".join(cell(x) for x in lines) + " |")

    row(
        "always car: pauses, full HA / pure day / pure year",
        lambda x: (
            f"{x['always']['pauses']} / {x['pure_day']['pauses']} / {x['pure_year']['pauses']}"
        ),
    )
    row(
        "… one-interval share, full HA",
        lambda x: f"{x['always']['one_interval_share'] * 100:.0f} %",
    )
    row(
        "… kWh not drawn, full HA / pure day",
        lambda x: (
            f"{x['always']['kwh_not_drawn']:.1f} / {x['pure_day']['kwh_not_drawn']:.1f}"
        ),
    )
    row(
        "… net / gross USD, full HA",
        lambda x: (
            f"{x['always']['net_value_usd']:.2f} / {x['always']['gross_usd']:.2f}"
        ),
    )
    row(
        "… net / gross USD, pure day",
        lambda x: (
            f"{x['pure_day']['net_value_usd']:.2f} / {x['pure_day']['gross_usd']:.2f}"
        ),
    )
    row(
        "evening car (ready by 07:00): pauses, full HA / pure",
        lambda x: f"{x['evening']['pauses']} / {x['pure_day']['evening']['pauses']}",
    )
    row(
        "… ready-by miss (kWh short), full HA / pure",
        lambda x: (
            f"{'yes' if x['evening']['ready_by_miss'] else 'no'} ({x['evening']['short_kwh']:.2f})"
            f" / {'yes' if x['pure_day']['evening']['ready_by_miss'] else 'no'}"
        ),
    )
    row(
        "Tesla commands per car and event: max stops / starts",
        lambda x: (
            f"{x['commands_per_event']['max_stops']} / {x['commands_per_event']['max_starts']}"
        ),
    )
    row(
        "OASIS requests (per interval mean / max)",
        lambda x: (
            f"{x['oasis']['requests']} ({x['oasis']['per_interval_mean']} / {x['oasis']['per_interval_max']})"
        ),
    )
    row(
        "run: simulated h / wall s",
        lambda x: f"{x['run']['simulated_h']} / {x['run']['wall_s']}",
    )
    return "\n".join(rows)


def main() -> None:
    """Read the replay's JSON lines (stdin): print the table, then the lines."""
    lines = [
        json.loads(line[line.index("{") :])
        for line in sys.stdin
        if '"real_day"' in line
    ]
    if not lines:
        print("real days: reference data absent, nothing replayed")
        return
    print(table(lines))
    for line in lines:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
