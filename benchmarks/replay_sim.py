"""Price days, the fleet's day and the metrics of the replay benchmark (no Home Assistant here).

Everything is deterministic: the same day and fleet give the same run.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import csv
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import itertools
import math
from pathlib import Path
import random
import re
import statistics
from typing import Any, Literal
from zoneinfo import ZoneInfo

from custom_components.tesladr.caiso import nearest_node
from tests.fake_tesla import FakeCar

from .replay_fakes import CallRecord

PACIFIC = ZoneInfo("America/Los_Angeles")
INTERVAL = timedelta(minutes=5)
DAY = timedelta(hours=24)
NP15 = "TH_NP15_GEN-APND"
SP15 = "TH_SP15_GEN-APND"
# The DR contract's defaults: T = 100, A = 50, so T_on = 100 and resume below 95.
THRESHOLD = 100.0
RESUME_BELOW = 95.0
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
REFERENCE_DAM = "caiso/PRC_LMP_DAM_20200101_ALL_APNODES_hubs_dlaps_subset.csv"

# Fleet API prices (calls per USD) and the monthly credit of a Fleet API application.
CALLS_PER_USD = {"data": 500, "command": 1000, "wake": 50}
MONTHLY_CREDIT_USD = 10.0
DAYS_PER_MONTH = 30
BATTERY_KWH = 75.0
# A parked car that is not charging falls asleep after this long without a call that keeps
# it awake. Owners have long reported that polling vehicle_data every few minutes keeps a car
# awake; some report recent cars sleeping anyway. The replay assumes the former unless told
# otherwise (see test_replay); product-list and summary reads never keep a car awake.
IDLE_SLEEP = timedelta(minutes=15)
KEEP_AWAKE = frozenset({"vehicle_data", "wake_up", "charge_stop", "charge_start"})
KEEP_AWAKE_UNLESS_POLLED = KEEP_AWAKE - {"vehicle_data"}
# A plausible round trip of one OASIS request or one Fleet API call through the proxy.
CALL_LATENCY_S = 1.0
# Publication lag of each 5-minute price: spread over this range, per interval.
LAG_RANGE_S = (10.0, 60.0)


@dataclass(frozen=True, slots=True)
class PriceDay:
    """5-minute LMPs of one day per node, and where they come from."""

    name: str
    source: str
    start: datetime  # UTC, first interval
    prices: dict[str, dict[datetime, float]]

    @property
    def end(self) -> datetime:
        """End of the last interval."""
        return self.start + DAY

    @property
    def nodes(self) -> list[str]:
        """Nodes with prices."""
        return sorted(self.prices)

    def price(self, node: str, start: datetime) -> float | None:
        """The LMP of an interval; outside the day, the same time of day (for look-backs)."""
        table = self.prices.get(node)
        if table is None:
            return None
        offset = (start - self.start) % DAY
        return table.get(self.start + offset)

    @staticmethod
    def lag(start: datetime) -> timedelta:
        """Publication lag of the interval starting at `start` (deterministic)."""
        rng = random.Random(int(start.timestamp()))
        return timedelta(seconds=round(rng.uniform(*LAG_RANGE_S), 1))


@dataclass(frozen=True, slots=True)
class LagSpec:
    """A publication-lag setting of the replay, as given to `--lag`.

    `A` is a fixed lag of A seconds, `A-B` uniform between A and B (per interval,
    deterministic); `@HH:MM+D` (or `-D`) shifts it by D seconds from that Pacific time on;
    `/N+D` publishes one interval in N (drawn per interval) D seconds later still.
    Examples: `120`, `90-180`, `60-120@12:00+120`, `30/20+120`, `-60`.
    """

    text: str
    low: float
    high: float
    jump_at: tuple[int, int] | None = None
    jump_s: float = 0.0
    late_one_in: int = 0
    late_s: float = 0.0

    def lag(self, start: datetime) -> timedelta:
        """Publication lag of the interval starting at `start`."""
        rng = random.Random(int(start.timestamp()))
        seconds = rng.uniform(self.low, self.high) if self.high > self.low else self.low
        if self.jump_at is not None:
            local = start.astimezone(PACIFIC)
            if (local.hour, local.minute) >= self.jump_at:
                seconds += self.jump_s
        if self.late_one_in and rng.randrange(self.late_one_in) == 0:
            seconds += self.late_s
        return timedelta(seconds=round(seconds, 1))


_LAG = re.compile(
    r"^(?P<low>-?\d+(?:\.\d+)?)(?:-(?P<high>-?\d+(?:\.\d+)?))?"
    r"(?:@(?P<hour>\d{1,2}):(?P<minute>\d\d)(?P<jump>[+-]\d+(?:\.\d+)?))?"
    r"(?:/(?P<one_in>\d+)(?P<late>[+-]\d+(?:\.\d+)?))?$"
)


def parse_lag(text: str) -> LagSpec:
    """Read a `--lag` setting (see LagSpec); raise ValueError on anything else."""
    match = _LAG.match(text.strip())
    if match is None:
        raise ValueError(
            f"not a lag setting: {text!r} (e.g. 120, 90-180, 60-120@12:00+120)"
        )
    low = float(match["low"])
    high = float(match["high"]) if match["high"] is not None else low
    if high < low:
        raise ValueError(f"lag range goes down: {text!r}")
    return LagSpec(
        text=text.strip(),
        low=low,
        high=high,
        jump_at=(int(match["hour"]), int(match["minute"])) if match["hour"] else None,
        jump_s=float(match["jump"] or 0),
        late_one_in=int(match["one_in"] or 0),
        late_s=float(match["late"] or 0),
    )


# The default matrix: fixed lags, one interval in twenty 2 minutes late, a jump at noon.
DEFAULT_LAGS = ("0", "30", "120", "240", "480", "30/20+120", "30@12:00+120")


def _shape(hour: float) -> float:
    """A summer weekday without events: night plateau, solar dip, evening ramp."""
    points = [
        (0.0, 32.0),
        (5.0, 28.0),
        (7.0, 45.0),
        (9.0, 30.0),
        (11.0, 5.0),
        (12.5, -12.0),
        (14.0, 8.0),
        (16.0, 45.0),
        (17.5, 78.0),
        (19.5, 85.0),
        (21.0, 55.0),
        (24.0, 35.0),
    ]
    for (h0, p0), (h1, p1) in itertools.pairwise(points):
        if h0 <= hour <= h1:
            return p0 + (p1 - p0) * (hour - h0) / (h1 - h0)
    return points[-1][1]


# Five evening events at NP15 (Pacific interval starts), while the fleet charges. Two of them
# hold one interval at 96, inside the 95-100 band, where a controller without hysteresis
# restarts and stops the car again.
EVENTS_NP15 = {
    "17:05": 130.0,
    "17:10": 105.0,
    "17:15": 88.0,
    "17:35": 120.0,
    "17:40": 185.0,
    "17:45": 260.0,
    "17:50": 96.0,
    "17:55": 165.0,
    "18:00": 140.0,
    "18:05": 82.0,
    "18:30": 220.0,
    "18:35": 84.0,
    "18:55": 150.0,
    "19:00": 400.0,
    "19:05": 310.0,
    "19:10": 205.0,
    "19:15": 96.0,
    "19:20": 130.0,
    "19:25": 70.0,
    "19:50": 150.0,
    "19:55": 115.0,
    "20:00": 86.0,
}
SP15_OFFSET = 2.0


GENERATED_DATE = date(2026, 7, 15)


def local_midnight(on: date) -> datetime:
    """The Pacific midnight that starts a local day, in UTC."""
    return datetime.combine(on, time(), PACIFIC).astimezone(UTC)


def generated_day(on: date = GENERATED_DATE) -> PriceDay:
    """A summer day (Pacific) with a negative midday dip and five evening spikes.

    Another date gives the same shape and events by local time of day, over that day's
    local length: 23 hours on the day clocks spring forward, 25 on the day they fall back.
    """
    start = local_midnight(on)
    intervals = (local_midnight(on + timedelta(days=1)) - start) // INTERVAL
    rng = random.Random(20260715)
    np15: dict[datetime, float] = {}
    for i in range(intervals):
        moment = start + i * INTERVAL
        local = moment.astimezone(PACIFIC)
        label = local.strftime("%H:%M")
        if label in EVENTS_NP15:
            np15[moment] = EVENTS_NP15[label]
        else:
            hour = local.hour + local.minute / 60
            np15[moment] = round(_shape(hour) + rng.uniform(-4.0, 4.0), 2)
    sp15 = {moment: price + SP15_OFFSET for moment, price in np15.items()}
    return PriceDay(
        name=f"generated-{on.isoformat()}",
        source="generated summer weekday, Pacific: negative midday, five evening spikes to 400",
        start=start,
        prices={NP15: np15, SP15: sp15},
    )


@dataclass(frozen=True, slots=True)
class PriceWeek:
    """Consecutive generated local days (a DST day among them is 23 or 25 hours long)."""

    days: tuple[PriceDay, ...]

    @property
    def start(self) -> datetime:
        """The first local midnight (UTC)."""
        return self.days[0].start

    @property
    def midnights(self) -> list[datetime]:
        """Every local midnight from the first day's start to the last day's end (UTC)."""
        return [day.start for day in self.days] + [self.end]

    @property
    def end(self) -> datetime:
        """The local midnight after the last day (UTC)."""
        last = self.days[-1]
        return max(max(table) for table in last.prices.values()) + INTERVAL

    @property
    def nodes(self) -> list[str]:
        """Nodes with prices."""
        return self.days[0].nodes

    def price(self, node: str, start: datetime) -> float | None:
        """The LMP of an interval; before or after the week, its first or last day's."""
        for day in self.days:
            if start < day.start:
                break
            if start in day.prices.get(node, {}):
                return day.prices[node][start]
        edge = self.days[0] if start < self.start else self.days[-1]
        return edge.price(node, start)


def generated_week(first: date, days: int) -> PriceWeek:
    """The generated day on `days` local dates from `first` on."""
    return PriceWeek(
        tuple(generated_day(first + timedelta(days=d)) for d in range(days))
    )


def reference_day(reference: Path = REFERENCE) -> PriceDay | None:
    """The real day in ../shared/reference, or None when it is not there.

    The reference holds no full day of 5-minute prices (its only real-time file has one
    interval), so this replays the real hourly day-ahead LMPs of 2020-01-02 (UTC day), each
    hour held over its twelve 5-minute intervals. That day has no price above 44 USD/MWh:
    it measures what a day without an event costs.
    """
    path = reference / REFERENCE_DAM
    if not path.is_file():
        return None
    hourly: dict[str, dict[datetime, float]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["LMP_TYPE"] != "LMP" or row["NODE"] not in (NP15, SP15):
                continue
            begin = datetime.fromisoformat(row["INTERVALSTARTTIME_GMT"])
            hourly.setdefault(row["NODE"], {})[begin.astimezone(UTC)] = float(row["MW"])
    start = min(min(table) for table in hourly.values())
    prices = {
        node: {
            hour + i * INTERVAL: price
            for hour, price in table.items()
            for i in range(12)
        }
        for node, table in hourly.items()
    }
    return PriceDay(
        name="reference-2020-01-02",
        source=(
            "real CAISO day-ahead LMPs of 2020-01-02 (UTC day), hourly, held per 5 min"
        ),
        start=start,
        prices=prices,
    )


def price_days() -> list[PriceDay]:
    """The generated day, and the real day when the reference folder is there."""
    days = [generated_day()]
    if (real := reference_day()) is not None:
        days.append(real)
    return days


# --- the fleet -----------------------------------------------------------------------------

type Role = Literal["evening", "sleeper", "unplugged"]
type Segment = Literal["home", "driving", "away"]
HOMES = [
    (37.4419, -122.143),
    (34.0522, -118.2437),
]  # Palo Alto (NP15), Los Angeles (SP15)


@dataclass(frozen=True, slots=True)
class CarPlan:
    """One car's day, in Pacific local minutes since midnight."""

    index: int
    account: int
    role: Role
    latitude: float
    longitude: float
    power_kw: float
    arrive_soc: float
    limit: int
    leave_min: int  # morning departure
    arrive_min: int  # evening plug-in

    @property
    def vin(self) -> str:
        """A VIN-shaped identifier."""
        return f"5YJ3E1EA7KF{self.index:06d}"

    @property
    def name(self) -> str:
        """Display name."""
        return f"Car {self.index:02d}"

    @property
    def node(self) -> str:
        """The node tesladr picks for the car's location."""
        if (found := nearest_node(self.latitude, self.longitude)) is None:
            raise ValueError("the fleet's homes are all inside CAISO")
        return found.name

    def segment(self, minute: int) -> Segment:
        """Where the car is at a local minute of the day."""
        if self.role == "sleeper":
            return "home"
        if self.role == "unplugged":
            return "driving" if 17 * 60 + 30 <= minute < 18 * 60 + 15 else "away"
        if self.leave_min <= minute < self.leave_min + 30:
            return "driving"
        if self.leave_min + 30 <= minute < self.arrive_min - 30:
            return "away"
        if self.arrive_min - 30 <= minute < self.arrive_min:
            return "driving"
        return "home"


def fleet(cars: int) -> list[CarPlan]:
    """A fleet: up to ten cars per account, and at least two accounts beyond one car.

    Seven in ten cars come home and charge in the evening, two sleep plugged in all day
    (charged), one is unplugged.
    """
    accounts = 1 if cars == 1 else max(2, math.ceil(cars / 10))
    plans = []
    for i in range(cars):
        account = i % accounts
        slot = i % 10
        role: Role = "evening" if slot < 7 else "sleeper" if slot < 9 else "unplugged"
        lat, lon = HOMES[account % len(HOMES)]
        plans.append(
            CarPlan(
                index=i,
                account=account,
                role=role,
                latitude=lat,
                longitude=lon,
                power_kw=(7.0, 7.7, 6.6)[i % 3],
                arrive_soc=55.0 + (i * 3) % 11,
                limit=80 if i % 4 == 3 else 90,
                leave_min=7 * 60 + 30 + (i * 11) % 45,
                arrive_min=16 * 60 + 30 + (i * 7) % 60,
            )
        )
    return plans


def local_minute(moment: datetime) -> int:
    """Pacific minutes since midnight."""
    local = moment.astimezone(PACIFIC)
    return local.hour * 60 + local.minute


@dataclass
class CarTrack:
    """What the simulation knows about a car beyond the fake's fields."""

    plan: CarPlan
    fake: FakeCar
    soc: float
    segment: Segment
    awake_since: datetime
    paused_kwh: float = 0.0
    paused_usd: float = 0.0
    charged_kwh: float = 0.0
    charging_spans: list[tuple[datetime, datetime | None]] = field(default_factory=list)


class FleetSim:
    """Moves the fake cars through their day: driving, plugging in, charging, sleeping.

    Time only moves between calls of `advance`; the state in between is constant, so energy
    is integrated exactly. A car paused by a command ("Stopped") accrues the energy it did not
    draw, valued at the LMP of each interval it spans.
    """

    def __init__(
        self,
        day: PriceDay,
        plans: list[CarPlan],
        cars: dict[str, FakeCar],
        last_calls: Mapping[str, Mapping[str, datetime]],
        now: datetime,
        *,
        keep_awake: frozenset[str] = KEEP_AWAKE,
    ) -> None:
        """Put every car in its state at `now`."""
        self.day = day
        self._last_calls = last_calls
        self._keep_awake = keep_awake
        self.now = now
        self.tracks: dict[str, CarTrack] = {}
        minute = local_minute(now)
        for plan in plans:
            car = cars[plan.vin]
            segment = plan.segment(minute)
            track = CarTrack(plan, car, float(plan.limit), segment, now)
            # Parked at the start: already charged (home) or away; asleep either way.
            car.state = "online" if segment == "driving" else "asleep"
            car.charging_state = "Complete" if segment == "home" else "Disconnected"
            car.battery_level = plan.limit if segment == "home" else 70
            car.charge_limit_soc = plan.limit
            car.charger_power = plan.power_kw
            car.latitude, car.longitude = plan.latitude, plan.longitude
            self.tracks[plan.vin] = track

    def _accrue(self, track: CarTrack, start: datetime, end: datetime) -> None:
        car = track.fake
        hours = (end - start).total_seconds() / 3600
        if car.charging_state == "Charging":
            kwh = track.plan.power_kw * hours
            track.charged_kwh += kwh
            track.soc = min(track.plan.limit, track.soc + kwh / BATTERY_KWH * 100)
            car.battery_level = math.floor(track.soc)
            car.energy_added = round(track.charged_kwh, 2)
        elif car.charging_state == "Stopped":
            moment = start
            while moment < end:
                boundary = _floor(moment) + INTERVAL
                piece_end = min(end, boundary)
                kwh = track.plan.power_kw * (piece_end - moment).total_seconds() / 3600
                price = self.day.price(track.plan.node, _floor(moment)) or 0.0
                track.paused_kwh += kwh
                track.paused_usd += kwh * price / 1000
                moment = piece_end

    def advance(self, now: datetime) -> None:
        """Integrate up to `now`, then apply what happens at `now`."""
        if now <= self.now:
            return
        minute = local_minute(now)
        for track in self.tracks.values():
            car = track.fake
            self._accrue(track, self.now, now)
            if (
                car.charging_state == "Charging"
                and track.soc >= track.plan.limit - 1e-9
            ):
                car.charging_state = "Complete"
                track.awake_since = now
            segment = track.plan.segment(minute)
            if segment != track.segment:
                self._move(track, segment, now)
            idle_from = self._idle_from(track)
            if (
                car.state == "online"
                and track.segment != "driving"
                and car.charging_state != "Charging"
                and now - idle_from >= IDLE_SLEEP
            ):
                car.state = "asleep"
        self.now = now

    def _idle_from(self, track: CarTrack) -> datetime:
        calls = self._last_calls.get(track.plan.vin, {})
        return max(
            [track.awake_since]
            + [at for name, at in calls.items() if name in self._keep_awake]
        )

    def _move(self, track: CarTrack, segment: Segment, now: datetime) -> None:
        car = track.fake
        previous, track.segment = track.segment, segment
        track.awake_since = now
        car.state = "online"
        if segment == "home" and previous == "driving":
            # Home from work: plugged in, charging from the arrival charge.
            track.soc = track.plan.arrive_soc
            car.battery_level = math.floor(track.soc)
            car.charging_state = "Charging"
            car.energy_added = 0.0
        elif segment != "home":
            car.charging_state = "Disconnected"

    def next_change(self) -> datetime:
        """The next moment a car changes by itself (segment, full battery, falling asleep)."""
        now = self.now
        candidates = [now.replace(second=0, microsecond=0) + timedelta(minutes=1)]
        for track in self.tracks.values():
            car = track.fake
            if car.charging_state == "Charging":
                left = (track.plan.limit - track.soc) / 100 * BATTERY_KWH
                candidates.append(
                    now + timedelta(hours=max(left, 0.0) / track.plan.power_kw)
                )
            elif car.state == "online" and track.segment != "driving":
                candidates.append(self._idle_from(track) + IDLE_SLEEP)
        return max(now + timedelta(milliseconds=1), min(candidates))


def _floor(moment: datetime) -> datetime:
    """Start of the 5-minute interval containing a moment (UTC)."""
    return moment.replace(
        minute=moment.minute - moment.minute % 5, second=0, microsecond=0
    )


# --- events and metrics --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Event:
    """A run of intervals at one node from the first price above T until one below the band."""

    node: str
    first: datetime  # start of the first interval above T
    published: datetime  # when that interval was published
    end_published: datetime  # when the first interval below the band was published


def events(day: PriceDay, published_at: Any) -> list[Event]:
    """Events of every node of the day."""
    found = []
    for node, table in day.prices.items():
        first: datetime | None = None
        for start in sorted(table):
            price = table[start]
            if first is None and price > THRESHOLD:
                first = start
            elif first is not None and price < RESUME_BELOW:
                found.append(
                    Event(node, first, published_at(first), published_at(start))
                )
                first = None
    return found


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def oasis_summary(
    request_times: list[datetime], start: datetime, end: datetime
) -> dict[str, float | int | None]:
    """Requests per 5-minute interval (mean over the window, max) and the smallest gap."""
    inside = sorted(t for t in request_times if start <= t < end)
    per_interval: dict[datetime, int] = {}
    for moment in inside:
        per_interval[_floor(moment)] = per_interval.get(_floor(moment), 0) + 1
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(inside)]
    return {
        "requests": len(inside),
        "per_interval_mean": round(len(inside) / ((end - start) / INTERVAL), 2),
        "per_interval_max": max(per_interval.values(), default=0),
        "min_gap_s": round(min(gaps), 1) if gaps else None,
    }


def fleet_cost(calls: Mapping[str, float]) -> float:
    """USD for a set of calls by kind."""
    return sum(calls.get(kind, 0) / per for kind, per in CALLS_PER_USD.items())


def tesla_summary(
    logs: list[list[CallRecord]], plans: list[CarPlan], start: datetime, end: datetime
) -> dict[str, Any]:
    """Calls by kind per car-day, the Fleet API bill per car-month, and sleepers' calls."""
    cars = len(plans)
    days = (end - start) / DAY
    roles = {plan.vin: plan.role for plan in plans}
    totals = dict.fromkeys(CALLS_PER_USD, 0)
    by_name: dict[str, int] = {}
    sleeper = dict.fromkeys(CALLS_PER_USD, 0)
    net_month = 0.0
    for log in logs:
        account = dict.fromkeys(CALLS_PER_USD, 0)
        for call in log:
            if not start <= call.at < end:
                continue
            account[call.kind] += 1
            totals[call.kind] += 1
            by_name[call.name] = by_name.get(call.name, 0) + 1
            if roles.get(call.vin) == "sleeper":
                sleeper[call.kind] += 1
        month = fleet_cost(account) / days * DAYS_PER_MONTH
        net_month += max(0.0, month - MONTHLY_CREDIT_USD)
    sleepers = sum(1 for plan in plans if plan.role == "sleeper")
    per_car_day = {
        kind: round(count / cars / days, 1) for kind, count in totals.items()
    }
    return {
        "calls_per_car_day": per_car_day,
        "calls_by_endpoint_per_car_day": {
            name: round(count / cars / days, 1)
            for name, count in sorted(by_name.items())
        },
        "usd_per_car_month": round(
            fleet_cost(totals) / days * DAYS_PER_MONTH / cars, 2
        ),
        "usd_per_car_month_after_credit": round(net_month / cars, 2),
        # Should Tesla not bill the product list (its billing category is not documented).
        "usd_per_car_month_free_list": round(
            (fleet_cost(totals) - by_name.get("products", 0) / CALLS_PER_USD["data"])
            / days
            * DAYS_PER_MONTH
            / cars,
            2,
        ),
        "sleeper_calls_per_car_day": {
            kind: round(count / sleepers / days, 1) for kind, count in sleeper.items()
        }
        if sleepers
        else None,
    }


def _calls_before(
    stop: CallRecord,
    since: datetime,
    scope: Iterable[list[CallRecord]],
    oasis: list[tuple[datetime, int]],
) -> int:
    """Calls that ran from `since` up to and including `stop`, in their real order."""
    tesla = sum(
        1 for log in scope for call in log if since <= call.at and call.seq <= stop.seq
    )
    return tesla + sum(1 for at, seq in oasis if since <= at and seq < stop.seq)


def dr_summary(
    logs: list[list[CallRecord]],
    sim: FleetSim,
    day_events: list[Event],
    charging_at: dict[tuple[str, datetime], bool],
    oasis: list[tuple[datetime, int]],
    *,
    sequential_accounts: bool,
) -> dict[str, Any]:
    """Reaction times, stops per car and event, and energy/value not consumed.

    The fakes answer in no simulated time. `reaction_s_with_latency` adds CALL_LATENCY_S for
    every OASIS request and Tesla call that ran between the publication and the stop: those
    of the car's account when accounts work in parallel, or of all accounts when one loop
    serves them all.
    """
    commands = sorted(
        (call for log in logs for call in log if call.kind == "command"),
        key=lambda call: call.at,
    )
    reactions: list[float] = []
    with_latency: list[float] = []
    stops_per_car_event: list[int] = []
    missed = 0
    attributed: set[int] = set()
    for event in day_events:
        window_end = event.end_published + timedelta(minutes=10)
        for vin, track in sim.tracks.items():
            if track.plan.node != event.node:
                continue
            stops = [
                (i, call)
                for i, call in enumerate(commands)
                if call.vin == vin
                and call.name == "charge_stop"
                and event.published <= call.at < window_end
            ]
            attributed.update(i for i, _ in stops)
            effective = [call for _, call in stops if call.effective]
            if effective:
                stops_per_car_event.append(len(effective))
            if charging_at.get((vin, event.first)):
                if effective:
                    first = effective[0]
                    reactions.append((first.at - event.published).total_seconds())
                    scope = logs if sequential_accounts else [logs[track.plan.account]]
                    calls = _calls_before(first, event.published, scope, oasis)
                    with_latency.append(reactions[-1] + calls * CALL_LATENCY_S)
                else:
                    missed += 1
    stray = sum(
        1
        for i, call in enumerate(commands)
        if call.name == "charge_stop" and call.effective and i not in attributed
    )
    tracks = list(sim.tracks.values())
    return {
        "events": len(day_events),
        "reaction_s": {
            "samples": len(reactions),
            "p50": _round(statistics.median(reactions)) if reactions else None,
            "p95": _round(percentile(reactions, 95)),
            "max": _round(max(reactions, default=None)),
        },
        "reaction_s_with_latency": {
            "call_latency_s": CALL_LATENCY_S,
            "p50": _round(statistics.median(with_latency)) if with_latency else None,
            "p95": _round(percentile(with_latency, 95)),
            "max": _round(max(with_latency, default=None)),
        },
        "missed_car_events": missed,
        "paused_car_events": len(stops_per_car_event),
        "stops_per_car_event": {
            "mean": round(statistics.fmean(stops_per_car_event), 2)
            if stops_per_car_event
            else None,
            "max": max(stops_per_car_event, default=None),
        },
        "stops_outside_events": stray,
        "starts": sum(1 for c in commands if c.name == "charge_start" and c.effective),
        "kwh_not_consumed": round(sum(t.paused_kwh for t in tracks), 2),
        "usd_not_consumed": round(sum(t.paused_usd for t in tracks), 3),
        "left_paused": sum(1 for t in tracks if t.fake.charging_state == "Stopped"),
        "kwh_charged": round(sum(t.charged_kwh for t in tracks), 1),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def charging_snapshot(
    sim: FleetSim, moments: Iterable[tuple[str, datetime, datetime]]
) -> dict[tuple[str, datetime], bool]:
    """Which cars of a node are charging at each event's publication (keyed by event start)."""
    result: dict[tuple[str, datetime], bool] = {}
    for node, first, _published in moments:
        for vin, track in sim.tracks.items():
            if track.plan.node == node:
                result[vin, first] = track.fake.charging_state == "Charging"
    return result
