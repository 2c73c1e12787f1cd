"""Three real CAISO years through the pure DR policy and ledger, without Home Assistant.

Run: ./scripts/bench real-years   (also part of ./scripts/bench replay)

Prices: the recorded 5-minute real-time LMPs of the reference data (DLAP_PGAE 2019,
DLAP_SDGE 2018 and 2019); skipped when the data is absent. Each interval's price is acted on
60 s after the interval ends, as in the issue that asked for this benchmark. Two kinds of car:

- the always-charging car: plugged in and charging at 7 kW all day, every day, with no
  departure (the worst case for churn); its pauses per Pacific day are the churn numbers;
- the fleet: FLEET_CARS cars every evening, each car-day drawn from a generator seeded by node
  and year (the same car-days for every rule): plugged in around 18:30 (normal, 75 min
  spread, kept within 15:00-23:00), leaving around 07:30 the next morning (normal, 60 min
  spread, kept within 05:00-10:00), both on 5-minute boundaries; needing a lognormal amount
  of energy (median 10 kWh, about a 35-mile day, sigma 0.6, kept within 2-60 kWh);
  charging at 3.3, 7.2 or 11.5 kW (10 / 60 / 30 %); 75 kWh usable, target 80 % (so its
  battery starts at 80 % less the need; DR's battery floor applies). The car's data is read
  fresh at each decision; it gives the policy its charge need for the ready-by guarantee.

Value: gross = what the ledger accounts while paused (kWh × LMP); net = gross less the cost
of drawing that energy back, first in, first out, in the intervals the car charges after
the pause (Ledger.draw and DrEvent.draw, dr/ledger.py and dr/event.py). The always-charging
car draws it back right after each resume; a fleet car draws it back before it leaves, or
never when it leaves short.

Each Candidate is a churn rule (DrSettings' knobs and the budget's bar escalation) with the
ready-by guarantee on; "today" is the policy without either (the policy before issue 20).
A line's pauses, one-interval share and value are the always-charging car's; its
ready_by_misses are the fleet's (the always-charging car has no departure); the fleet's own
pauses and value are under "fleet".
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
import json
import math
from pathlib import Path
import random
import sys
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
    Reason,
    churn,
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
# Short by more than this at departure counts as a miss (float dust does not).
MISS_KWH = 1e-3


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
    # Commands per pause: [stops, starts] from DR's stop to its start.
    commands: list[list[int]] = field(default_factory=list)
    ready_by_resumes: int = 0
    done: list[DrEvent] = field(default_factory=list)

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
        if decision.action is Action.PAUSE and self.state.paused_by_dr:
            self.commands[-1][0] += 1
        elif decision.action is Action.PAUSE:
            self.commands.append([1, 0])
            self.paused_since = now
            self.recent_pauses.append(now)
            self.pause_starts.append(now)
            self.event = self.ledger.start(
                self.vin, year.node, moment, power_kw, need_kwh
            )
        elif decision.action is Action.RESUME:
            self.commands[-1][1] += 1
            self.pause_lengths.append(now - (self.paused_since or now))
            self.paused_since = None
            self.last_resumed = now
            outcome = Outcome.RESUMED
            if decision.reason is Reason.READY_BY:
                self.ready_by_resumes += 1
                outcome = Outcome.READY_BY
            self.ledger.end(self.vin, moment, outcome)
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
            # Paid back oldest first: when the newest closed pause is paid, all are. Those
            # leave the ledger for `done` (the DR manager's ledger prunes, to the same end).
            closed = [e for e in self.ledger.events if e.ended is not None]
            self.owing = closed[-1].owed_kwh > 0
            if not self.owing:
                self.done += closed
                self.ledger.events = [e for e in self.ledger.events if e.ended is None]

    @property
    def events(self) -> list[DrEvent]:
        """Every pause of the car, paid back or not."""
        return [*self.done, *self.ledger.events]


def charging_minutes(before: bool, after: bool) -> float:
    """Minutes an interval charges: its first minute as before the decision, then as after."""
    return (1.0 if before else 0.0) + (4.0 if after else 0.0)


def run_always(year: Year, settings: DrSettings, need_kwh: float | None = None) -> Car:
    """The always-charging car through the whole year.

    `need_kwh`: the energy it tells the ledger it needs at each stop (a pause never keeps
    more from it); None, as in the year's pass: the car that never fills.
    """
    car = Car("always", settings)
    charging = CarSnapshot(True, True, True, False, 60.0, True)
    stopped = replace(charging, charging=False)
    values = year.values
    start_threshold = settings.start_threshold
    full = ALWAYS_KW * 5 / 60
    for index in range(1, len(values)):
        if not (
            car.state.paused_by_dr
            or car.event
            or car.owing
            or values[index - 1] > start_threshold
        ):
            # Charging, nothing owed, the price below the threshold: nothing to decide
            # or account (Car.step and Car.account would return at once).
            continue
        before = not car.state.paused_by_dr
        snapshot = charging if before else stopped
        car.step(year, index - 1, lambda snap=snapshot: snap, ALWAYS_KW, need_kwh)
        minutes = charging_minutes(before, not car.state.paused_by_dr)
        car.account(year, index, full * minutes / 5)
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
    if max(year.values[day.arrive - 1 : day.leave - 1]) <= settings.start_threshold:
        # No price DR sees while the car is home crosses: it charges throughout (the same
        # shortcut as Car.step's, for a whole evening at once).
        hours = (day.leave - day.arrive) * STEP / 3600
        return car, max(0.0, remaining - day.power_kw * hours)
    departure = _at(year.starts[day.leave])
    values = year.values
    start = settings.start_threshold
    full = day.power_kw * 5 / 60
    for index in range(day.arrive, day.leave):
        before = not car.state.paused_by_dr
        if before and not (car.event or car.owing) and values[index - 1] <= start:
            # As in run_always: nothing to decide or account, the car just charges.
            remaining -= min(remaining, full)
            continue
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


@dataclass(frozen=True, slots=True)
class Candidate:
    """A churn rule measured side by side: DrSettings' knobs, the bar's escalation, ready-by."""

    name: str
    min_pause: int = 0
    rearm: int = 0
    budget: int = 0
    escalation: float = churn.ESCALATION
    ready_by: bool = True

    @property
    def settings(self) -> DrSettings:
        """The car's DR settings: the defaults (T 100, A 50) with this rule's knobs."""
        return DrSettings(
            min_pause_minutes=self.min_pause,
            rearm_minutes=self.rearm,
            pauses_per_24h=self.budget,
        )

    @contextmanager
    def escalating(self) -> Iterator[None]:
        """The policy's bar escalation for this run (a module constant in dr/churn.py)."""
        kept = churn.ESCALATION
        churn.ESCALATION = self.escalation
        try:
            yield
        finally:
            churn.ESCALATION = kept


TODAY = Candidate("today", ready_by=False)
RECOMMENDED = Candidate(
    "recommended",
    min_pause=churn.RECOMMENDED_MIN_PAUSE_MINUTES,
    budget=churn.RECOMMENDED_PAUSES_PER_24H,
)
CANDIDATES = (
    TODAY,
    Candidate("ready-by only"),
    Candidate("min pause 15", min_pause=15),
    Candidate("min pause 60", min_pause=60),
    Candidate("rearm 30", rearm=30),
    Candidate("rearm 60", rearm=60),
    Candidate("budget 5", budget=5),
    Candidate("min pause 60, rearm 30", min_pause=60, rearm=30),
    Candidate("min pause 30, budget 5", min_pause=30, budget=5),
    Candidate("min pause 60, flat cap 4", min_pause=60, budget=4, escalation=1.0),
    Candidate("min pause 60, budget 5, x2", min_pause=60, budget=5, escalation=2.0),
    RECOMMENDED,
    Candidate("min pause 120, budget 5", min_pause=120, budget=5),
)


def measure(year: Year, candidate: Candidate) -> dict[str, Any]:
    """One rule on one year: the always-charging car and the fleet."""
    with candidate.escalating():
        return _measure(year, candidate)


def _share_one_interval(lengths: list[float]) -> float:
    return (
        round(sum(1 for n in lengths if n <= STEP) / len(lengths), 3)
        if lengths
        else 0.0
    )


def _most(commands: list[list[int]], which: int) -> int:
    return max((event[which] for event in commands), default=0)


def _measure(year: Year, candidate: Candidate) -> dict[str, Any]:
    settings = candidate.settings
    always = run_always(year, settings)
    per_day = pauses_per_day(year, always.pause_starts)
    misses = possible = car_days = resumes = 0
    gross = net = 0.0
    lengths: list[float] = []
    commands: list[list[int]] = [*always.commands]
    for number, day in enumerate(fleet(year)):
        car, missing = run_fleet_day(
            year, settings, day, ready_by=candidate.ready_by, vin=str(number)
        )
        car_days += 1
        possible += day.possible
        misses += day.possible and missing > MISS_KWH
        gross += sum(e.usd for e in car.events)
        net += sum(e.net_usd for e in car.events)
        lengths += car.pause_lengths
        commands += car.commands
        resumes += car.ready_by_resumes
    return {
        "benchmark": "real_years",
        "node": year.node,
        "year": year.year,
        "setting": candidate.name,
        "knobs": {
            "ready_by": candidate.ready_by,
            "min_pause_minutes": candidate.min_pause,
            "rearm_minutes": candidate.rearm,
            "pauses_per_24h": candidate.budget,
            "escalation": candidate.escalation,
        },
        "ready_by_misses": misses,
        "pauses_per_car_day": {
            "mean": round(sum(per_day) / len(per_day), 2),
            "p95": p95(per_day),
            "max": max(per_day),
        },
        "days_with_5_or_more": sum(1 for n in per_day if n >= 5),
        "one_interval_share": _share_one_interval(always.pause_lengths),
        "net_value_usd": round(sum(e.net_usd for e in always.events), 2),
        "gross_value_usd": round(sum(e.usd for e in always.events), 2),
        "most_stops_per_event": _most(commands, 0),
        "most_starts_per_event": _most(commands, 1),
        "fleet": {
            "car_days": car_days,
            "car_days_possible": possible,
            "ready_by_misses": misses,
            "ready_by_resumes": resumes,
            "pauses": len(lengths),
            "one_interval_share": _share_one_interval(lengths),
            "net_value_usd": round(net, 2),
            "gross_value_usd": round(gross, 2),
        },
    }


def with_ratios(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each line's net values against today's policy on the same node, year and car-days."""
    today = {
        (line["node"], line["year"]): line
        for line in lines
        if line["setting"] == TODAY.name
    }
    for line in lines:
        base = today[line["node"], line["year"]]
        line["net_value_ratio"] = _ratio(line["net_value_usd"], base["net_value_usd"])
        line["fleet"]["net_value_ratio"] = _ratio(
            line["fleet"]["net_value_usd"], base["fleet"]["net_value_usd"]
        )
    return lines


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None


def table(lines: list[dict[str, Any]]) -> str:
    """The trade-off table: each rule, its stops per car-day against the net value kept."""
    years = sorted({(line["node"], line["year"]) for line in lines})
    head = " | ".join(f"{node.split('_')[1][:4]} {year}" for node, year in years)
    out = [
        (
            "always-charging car: pauses per car-day mean/p95/max, one-interval %, net"
            " value ratio; fleet: net value ratio, ready-by misses"
        ),
        f"| rule | {head} | fleet {head} |",
        "|" + " --- |" * (1 + 2 * len(years)),
    ]
    by_rule: dict[str, dict[tuple[str, int], dict[str, Any]]] = {}
    for line in lines:
        by_rule.setdefault(line["setting"], {})[line["node"], line["year"]] = line
    for rule, cells in by_rule.items():
        always = []
        fleet_cells = []
        for key in years:
            line = cells[key]
            pauses = line["pauses_per_car_day"]
            always.append(
                f"{pauses['mean']:.2f}/{pauses['p95']}/{pauses['max']}, "
                f"{line['one_interval_share'] * 100:.0f} %, {line['net_value_ratio']:.2f}"
            )
            fleet_cells.append(
                f"{line['fleet']['net_value_ratio']:.2f}, {line['ready_by_misses']}"
            )
        out.append(f"| {rule} | {' | '.join(always)} | {' | '.join(fleet_cells)} |")
    return "\n".join(out)


def story(
    node: str, year: int, name: str, day: date, candidate: Candidate
) -> list[str]:
    """The always-charging car's stops and starts on one Pacific day, in words."""
    full = load(node, year, name)
    if full is None:
        return []
    first = bisect_left(full.starts, _local(day - timedelta(days=1), 0))
    last = bisect_left(full.starts, _local(day + timedelta(days=1), 0))
    part = Year(node, year, full.starts[first:last], full.values[first:last])
    with candidate.escalating():
        car = run_always(part, candidate.settings)
    words = []
    for event in car.events:
        started = event.started.astimezone(PACIFIC)
        if started.date() != day:
            continue
        ended = event.ended.astimezone(PACIFIC) if event.ended else None
        highest = max(event.prices.values())
        words.append(
            f"stop {started:%H:%M}, start {ended:%H:%M}"
            if ended
            else f"stop {started:%H:%M}"
        )
        words[-1] += (
            f", {event.kwh:.2f} kWh, highest {highest:.0f} USD/MWh,"
            f" gross {event.usd:.2f}, net {event.net_usd:.2f} USD"
        )
    return words


def evening(
    prices: Year,
    day: date,
    hours: tuple[float, float],
    need: tuple[float, float],
    candidate: Candidate,
) -> tuple[Car, float]:
    """One fleet car on a named evening: the car, and the kWh it missed at departure.

    `hours`: Pacific hours it plugs in and (the next morning) leaves; `need`: kWh and kW.
    """
    car_day = CarDay(
        bisect_left(prices.starts, _local(day, hours[0] * 60)),
        bisect_left(prices.starts, _local(day + timedelta(days=1), hours[1] * 60)),
        *need,
    )
    with candidate.escalating():
        return run_fleet_day(
            prices, candidate.settings, car_day, ready_by=candidate.ready_by, vin="car"
        )


def main() -> None:
    """Read the benchmark's JSON lines (stdin): print the trade-off table, then the lines."""
    lines = [
        json.loads(line[line.index("{") :])
        for line in sys.stdin
        if '"real_years"' in line
    ]
    if not lines:
        print("real years: reference data absent, nothing measured")
        return
    print(table(lines))
    for line in lines:
        print(json.dumps(line))


if __name__ == "__main__":
    main()
