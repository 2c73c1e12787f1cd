"""Three real CAISO years through the pure DR policy and ledger, without Home Assistant.

Run: ./scripts/bench real-years   (also part of ./scripts/bench replay)

Prices: the recorded 5-minute real-time LMPs of the reference data (DLAP_PGAE 2019,
DLAP_SDGE 2018 and 2019); skipped when the data is absent. Each interval's price is acted on
60 s after the interval ends, as in the issue that asked for this benchmark. Two kinds of car:

- the always-charging car: plugged in and charging at 7 kW all day, every day, with no
  departure (the worst case for churn); its pauses per Pacific day are the churn numbers;
- the fleet: FLEET_CARS cars every evening, each car-day drawn from a generator seeded by node
  and year (the same car-days for every setting): plugged in at ARRIVAL (normal around 18:30,
  75 min spread, kept within 15:00-23:00), leaving at DEPARTURE (normal around 07:30 next
  morning, 60 min spread, kept within 05:00-10:00), both on 5-minute boundaries; needing
  NEED kWh (lognormal, median 10 kWh, about a 35-mile day, sigma 0.6, kept within 2-60 kWh);
  charging at 3.3, 7.2 or 11.5 kW (10 / 60 / 30 %); 75 kWh usable, target 80 % (so its
  battery starts at 80 % less the need; DR's battery floor applies). The car's data is read
  fresh at each decision; it gives the policy its charge need for the ready-by guarantee.

Value: gross = what the ledger accounts while paused (kWh × LMP); net = gross less the cost
of drawing that energy back, first in, first out, in the intervals the car charges after
the pause (dr/value via Ledger.draw). The always-charging car draws it back right after each
resume; a fleet car draws it back before it leaves, or never when it leaves short.

A "setting" is a DrSettings churn configuration; "today" is the policy without churn
control and without the ready-by guarantee (the policy before issue 20).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
import math
from pathlib import Path
import random
from typing import Any
from zoneinfo import ZoneInfo

from custom_components.tesladr.dr import (
    Action,
    CarDrState,
    CarSnapshot,
    DrEvent,
    DrSettings,
    Ledger,
    Outcome,
    Price,
    decide,
    next_state,
)
from custom_components.tesladr.dr.churn import PauseHistory
from custom_components.tesladr.dr.ready_by import ChargeNeed

REAL_RTM = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "reference"
    / "caiso"
    / "real_rtm"
)
YEARS = (
    ("DLAP_PGAE-APND", 2019, "dlap_pgae_rtm5_2019.csv"),
    ("DLAP_SDGE-APND", 2018, "dlap_sdge_rtm5_2018.csv"),
    ("DLAP_SDGE-APND", 2019, "dlap_sdge_rtm5_2019.csv"),
)
PACIFIC = ZoneInfo("America/Los_Angeles")
STEP = 300  # seconds per interval
ACT_AFTER = 60  # seconds after an interval's end that DR acts on its price
ALWAYS_KW = 7.0
FLEET_CARS = 10
CAPACITY_KWH = 75.0
TARGET = 80.0
POWERS = ((3.3, 0.1), (7.2, 0.6), (11.5, 0.3))
EPS_KWH = 1e-6


@dataclass(frozen=True, slots=True)
class Year:
    """One node's year of prices: interval starts (UTC epoch seconds) and LMPs."""

    node: str
    year: int
    starts: list[int]
    values: list[float]


def load(node: str, year: int, name: str) -> Year | None:
    """The year's prices, or None when the reference data is absent."""
    path = REAL_RTM / name
    if not path.is_file():
        return None
    starts: list[int] = []
    values: list[float] = []
    with path.open(encoding="ascii") as rows:
        next(rows)
        for row in rows:
            stamp, _node, value = row.rstrip("\n").split(",")
            starts.append(int(datetime.fromisoformat(stamp).timestamp()))
            values.append(float(value))
    return Year(node, year, starts, values)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


@dataclass(slots=True)
class Car:
    """One car's DR memory across its decisions, as the DR manager keeps it."""

    vin: str
    settings: DrSettings
    state: CarDrState = field(default_factory=CarDrState)
    ledger: Ledger = field(default_factory=Ledger)
    recent_pauses: deque[float] = field(default_factory=deque)
    paused_since: float | None = None
    last_resumed: float | None = None
    owing: bool = False  # a closed pause still owes energy the car has to draw back
    event: DrEvent | None = None  # the pause to account as intervals close
    pause_starts: list[float] = field(default_factory=list)
    pause_lengths: list[float] = field(default_factory=list)

    def history(self, now: float) -> PauseHistory:
        """The pause history the ledger gives the policy."""
        while self.recent_pauses and now - self.recent_pauses[0] >= 86400:
            self.recent_pauses.popleft()
        return PauseHistory(
            paused_since=_at(self.paused_since) if self.paused_since else None,
            last_resumed=_at(self.last_resumed) if self.last_resumed else None,
            pauses_24h=len(self.recent_pauses),
        )

    def step(
        self,
        year: Year,
        index: int,
        snapshot: Callable[[], CarSnapshot],
        power_kw: float,
        need_kwh: float | None,
    ) -> None:
        """Decide on interval `index`'s price, 60 s after it ended, and carry it out."""
        value = year.values[index]
        settings = self.settings
        if not self.state.paused_by_dr and value <= settings.start_threshold:
            # The policy ignores a car it does not hold at or under the start threshold,
            # whatever else it knows; asking it changes nothing here (no overrides, skips).
            return
        start = year.starts[index]
        now = start + STEP + ACT_AFTER
        moment = _at(now)
        price = Price(value, _at(start), _at(start + STEP))
        decision = decide(
            price, settings, snapshot(), self.state, moment, history=self.history(now)
        )
        if decision.action is Action.PAUSE and not self.state.paused_by_dr:
            self.paused_since = now
            self.recent_pauses.append(now)
            self.pause_starts.append(now)
            self.event = self.ledger.start(
                self.vin, year.node, moment, power_kw, need_kwh
            )
        elif decision.action is Action.RESUME:
            self.pause_lengths.append(now - (self.paused_since or now))
            self.paused_since = None
            self.last_resumed = now
            self.ledger.end(self.vin, moment, Outcome.RESUMED)
        self.state = next_state(self.state, decision, price, settings, moment)

    def account(self, year: Year, index: int, drawn_kwh: float) -> None:
        """Interval `index` closes: what the pause saved, and what the car drew back."""
        if self.event is None and not self.owing:
            return
        start = year.starts[index]
        price = Price(year.values[index], _at(start), _at(start + STEP))
        if self.event is not None:
            # As the DR manager does, a pause that ended in this interval is accounted too.
            self.event.account(price)
            if self.event.ended is not None:
                self.event = None
                self.owing = True
        if drawn_kwh > 0 and self.owing:
            self.ledger.draw(self.vin, price, drawn_kwh)
            self.owing = any(e.ended and e.owed_kwh > 0 for e in self.ledger.events)


def charging_minutes(before: bool, after: bool) -> float:
    """Minutes an interval charges: its first minute as before the decision, then as after."""
    return (1.0 if before else 0.0) + (4.0 if after else 0.0)


def run_always(year: Year, settings: DrSettings) -> Car:
    """The always-charging car through the whole year."""
    car = Car("always", settings)
    charging = CarSnapshot(True, True, True, False, 60.0, True)
    stopped = replace(charging, charging=False)
    for index in range(1, len(year.values)):
        before = not car.state.paused_by_dr
        snapshot = charging if before else stopped
        car.step(year, index - 1, lambda snap=snapshot: snap, ALWAYS_KW, None)
        minutes = charging_minutes(before, not car.state.paused_by_dr)
        car.account(year, index, ALWAYS_KW * minutes / 60)
    return car


@dataclass(frozen=True, slots=True)
class CarDay:
    """One fleet car's evening: plugged in at interval `arrive`, gone at `leave`."""

    arrive: int
    leave: int
    need_kwh: float
    power_kw: float

    @property
    def possible(self) -> bool:
        """Whether charging all the time it is plugged in would reach the target."""
        hours = (self.leave - self.arrive) * STEP / 3600
        return self.need_kwh <= self.power_kw * hours + EPS_KWH


def fleet(year: Year) -> list[CarDay]:
    """The seeded car-days of a year (the same for every setting)."""
    rng = random.Random(f"{year.node}/{year.year}")
    days: list[CarDay] = []
    day = date(year.year, 1, 1)
    while day < date(year.year, 12, 31):
        for _car in range(FLEET_CARS):
            arrive_min = min(max(rng.gauss(18.5 * 60, 75), 15 * 60), 23 * 60)
            leave_min = min(max(rng.gauss(7.5 * 60, 60), 5 * 60), 10 * 60)
            need = min(max(rng.lognormvariate(math.log(10), 0.6), 2.0), 60.0)
            power = rng.choices([p for p, _ in POWERS], [w for _, w in POWERS])[0]
            days.append(
                CarDay(
                    bisect_left(year.starts, _local(day, arrive_min)),
                    bisect_left(
                        year.starts, _local(day + timedelta(days=1), leave_min)
                    ),
                    need,
                    power,
                )
            )
        day += timedelta(days=1)
    return days


def _local(day: date, minutes: float) -> int:
    """A Pacific wall-clock time of a day, on a 5-minute boundary, as UTC epoch seconds."""
    rounded = round(minutes / 5) * 5
    midnight = datetime(day.year, day.month, day.day, tzinfo=PACIFIC)
    return int((midnight + timedelta(minutes=rounded)).timestamp())


def run_fleet_day(
    year: Year, settings: DrSettings, day: CarDay, *, ready_by: bool, vin: str
) -> tuple[Car, float]:
    """One car-day: the car and the energy it still missed at departure."""
    car = Car(vin, settings)
    remaining = day.need_kwh
    departure = _at(year.starts[day.leave])
    for index in range(day.arrive, day.leave):
        before = not car.state.paused_by_dr
        # Interval `index` begins; a minute in, DR decides on the price before it.
        now = year.starts[index] + ACT_AFTER

        def snapshot(
            now: int = now, before: bool = before, remaining: float = remaining
        ) -> CarSnapshot:
            return CarSnapshot(
                online=True,
                plugged_in=True,
                charging=remaining > EPS_KWH and before,
                fast_charging=False,
                battery_level=TARGET - remaining / CAPACITY_KWH * 100,
                in_caiso=True,
                charge_need=(
                    ChargeNeed(departure, remaining, day.power_kw, _at(now))
                    if ready_by
                    else None
                ),
            )

        car.step(year, index - 1, snapshot, day.power_kw, remaining)
        minutes = charging_minutes(before, not car.state.paused_by_dr)
        kwh = min(remaining, day.power_kw * minutes / 60)
        remaining -= kwh
        car.account(year, index, kwh)
    return car, remaining


def pauses_per_day(year: Year, starts: list[float]) -> list[int]:
    """Pauses started on each Pacific day of the year, days without any included."""
    counts = dict.fromkeys(_days(year), 0)
    for moment in starts:
        # Dated by the interval whose price it answered (a pause at 00:01 is the day before's).
        day = _at(moment - ACT_AFTER - STEP).astimezone(PACIFIC).date()
        if day in counts:
            counts[day] += 1
    return list(counts.values())


def _days(year: Year) -> list[date]:
    day, days = date(year.year, 1, 1), []
    while day.year == year.year:
        days.append(day)
        day += timedelta(days=1)
    return days


def p95(values: list[int]) -> int:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def measure(
    year: Year, name: str, settings: DrSettings, *, ready_by: bool
) -> dict[str, Any]:
    """One setting on one year: the always-charging car and the fleet."""
    always = run_always(year, settings)
    per_day = pauses_per_day(year, always.pause_starts)
    lengths = always.pause_lengths
    events = always.ledger.events
    misses = possible = 0
    fleet_gross = fleet_net = 0.0
    fleet_pauses = 0
    for number, day in enumerate(fleet(year)):
        car, missing = run_fleet_day(
            year, settings, day, ready_by=ready_by, vin=str(number)
        )
        possible += day.possible
        misses += day.possible and missing > 1e-3
        fleet_gross += sum(e.usd for e in car.ledger.events)
        fleet_net += sum(e.net_usd for e in car.ledger.events)
        fleet_pauses += len(car.ledger.events)
    return {
        "benchmark": "real_years",
        "node": year.node,
        "year": year.year,
        "setting": name,
        "ready_by": ready_by,
        "ready_by_misses": misses,
        "fleet_car_days_possible": possible,
        "pauses_per_car_day": {
            "mean": round(sum(per_day) / len(per_day), 2),
            "p95": p95(per_day),
            "max": max(per_day),
        },
        "days_with_5_or_more": sum(1 for n in per_day if n >= 5),
        "one_interval_share": round(
            sum(1 for n in lengths if n <= STEP) / len(lengths), 3
        )
        if lengths
        else 0.0,
        "always_gross_usd": round(sum(e.usd for e in events), 2),
        "always_net_usd": round(sum(e.net_usd for e in events), 2),
        "fleet_pauses": fleet_pauses,
        "net_value_usd": round(fleet_net, 2),
        "gross_value_usd": round(fleet_gross, 2),
    }
