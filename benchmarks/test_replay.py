"""Replay one price day with 1, 10 and 50 cars: tesladr beside the naive baseline.

Run: ./scripts/bench replay   (or `./scripts/bench replay --lag 90-180 --lag 0`)
Besides the fleet sizes (at the day's own 10-60 s spread of publication lags), the default
run replays the generated day with one car under a matrix of OASIS publication lags
(`replay_sim.DEFAULT_LAGS`); `--lag` replaces that matrix, `--lag-cars` its fleet sizes.
Each run is Home Assistant in the test harness on a simulated clock, with the fake OASIS and
one fake Tesla server per account on 127.0.0.1. Time moves from one scheduled event to the
next (a timer of Home Assistant or of the baseline, a car changing by itself, a price being
published), so nothing is polled in real time and every timer fires on its exact second.
Each run prints one JSON line; `benchmarks.replay_report` turns them into the table.
"""

from __future__ import annotations

import asyncio
from asyncio.futures import _set_result_unless_cancelled  # type: ignore[attr-defined]
from collections import ChainMap, Counter
from collections.abc import Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
import logging
import math
import os
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_EMAIL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from homeassistant.util.async_ import get_scheduled_timer_handles
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.const import (
    CONF_API_PROXY_URL,
    CONF_AUTH_DOMAIN,
    CONF_CLIENT_ID,
    CONF_ENTRY_TYPE,
    CONF_NODES,
    CONF_POLLING_POLICY,
    CONF_REFRESH_TOKEN,
    CONF_THRESHOLD,
    DOMAIN,
    ENTRY_TYPE_ACCOUNT,
    ENTRY_TYPE_PRICES,
)
from tests.fake_oasis import point_tesladr_at
from tests.fake_tesla import FakeCar

from .naive_baseline import NaiveAccount, NaiveBaseline
from .replay_fakes import LaggedFakeOasis, LoggedFakeTesla
from .replay_sim import (
    DAY,
    DEFAULT_LAGS,
    KEEP_AWAKE,
    KEEP_AWAKE_UNLESS_POLLED,
    THRESHOLD,
    CarPlan,
    FleetSim,
    LagSpec,
    PriceDay,
    charging_snapshot,
    dr_summary,
    events,
    fleet,
    oasis_summary,
    parse_lag,
    price_days,
    tesla_summary,
)

DAYS = price_days()
CARS = (1, 10, 50)
# Home Assistant starts at an arbitrary second, not on an interval boundary.
START_OFFSET = timedelta(minutes=2, seconds=17)
# REPLAY_POLLING_KEEPS_AWAKE=0 lets parked cars sleep even while vehicle_data is polled.
POLLING_KEEPS_AWAKE = os.environ.get("REPLAY_POLLING_KEEPS_AWAKE", "1") != "0"
# Real seconds a step may wait for Home Assistant's tasks before time moves on anyway.
SETTLE_LIMIT_S = 2.0


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The fake servers' keep-alive timers outlive a run; they are harmless."""
    return True


class LogCounter(logging.Handler):
    """Counts warnings and errors by logger, keeping the first message of each."""

    def __init__(self) -> None:
        """Count from WARNING up."""
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()
        self.first: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        """Count one record."""
        key = f"{record.levelname} {record.name}"
        self.counts[key] += 1
        self.first.setdefault(key, record.getMessage()[:160])


def _parked(waiter: Any, timers: set[Any], depth: int = 0) -> bool:
    """Whether an awaitable is, at the bottom of its await chain, a sleep on a timer."""
    if depth > 40:
        return False
    if isinstance(waiter, asyncio.Task):
        if waiter.done():
            return True
        inner = waiter._fut_waiter  # type: ignore[attr-defined]  # noqa: SLF001
        return inner is not None and _parked(inner, timers, depth + 1)
    if waiter in timers:
        return True
    children = getattr(waiter, "_children", None)  # asyncio.gather
    return children is not None and all(
        child.done() or _parked(child, timers, depth + 1) for child in children
    )


async def settle(hass: HomeAssistant) -> bool:
    """Let Home Assistant work at the current instant until every task is done or asleep.

    Returns True when it gave up after SETTLE_LIMIT_S real seconds (a task waiting on
    something that is neither I/O nor a timer).
    """
    started = os.times().elapsed
    while True:
        for _ in range(3):
            await asyncio.sleep(0)
        pending = [
            task
            for task in (*hass._tasks, *hass._background_tasks)  # noqa: SLF001
            if not task.done()
        ]
        if not pending:
            return False
        timers = {
            handle._args[0]  # noqa: SLF001
            for handle in get_scheduled_timer_handles(hass.loop)
            if not handle.cancelled()
            and handle._callback  # type: ignore[attr-defined]  # noqa: SLF001
            is _set_result_unless_cancelled
        }
        if all(_parked(task, timers) for task in pending):
            return False
        if os.times().elapsed - started > SETTLE_LIMIT_S:
            return True


def next_timer(hass: HomeAssistant, now: datetime) -> datetime | None:
    """When the earliest pending timer of the event loop is due, on the simulated clock."""
    loop_now = hass.loop.time()
    due = [
        handle.when()
        for handle in get_scheduled_timer_handles(hass.loop)
        if not handle.cancelled()
    ]
    if not due:
        return None
    # One microsecond more than due: the loop's float clock must reach the handle's time.
    seconds = max(0.0, min(due) - loop_now)
    return now + timedelta(microseconds=math.ceil(seconds * 1e6) + 1)


async def run_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    sim: FleetSim,
    end: datetime,
    marks: list[tuple[str, datetime, datetime]],
) -> tuple[dict[tuple[str, datetime], bool], dict[str, int]]:
    """Move simulated time to `end`; snapshot which cars charge at each event's publication."""
    todo = sorted(marks, key=lambda mark: mark[2])
    charging_at: dict[tuple[str, datetime], bool] = {}
    steps = gave_up = 0
    while True:
        now = dt_util.utcnow()
        sim.advance(now)
        while todo and todo[0][2] <= now:
            charging_at.update(charging_snapshot(sim, [todo.pop(0)]))
        gave_up += await settle(hass)
        if now >= end:
            break
        candidates = [end, sim.next_change()]
        if todo:
            candidates.append(todo[0][2])
        if (timer := next_timer(hass, now)) is not None:
            candidates.append(timer)
        freezer.tick(max(min(candidates) - now, timedelta(microseconds=1)))
        steps += 1
    return charging_at, {"steps": steps, "settle_gave_up": gave_up}


def _account_data(fake: LoggedFakeTesla, email: str) -> dict[str, str]:
    return {
        CONF_ENTRY_TYPE: ENTRY_TYPE_ACCOUNT,
        CONF_EMAIL: email,
        CONF_REFRESH_TOKEN: fake.refresh_token,
        CONF_AUTH_DOMAIN: fake.url,
        CONF_API_PROXY_URL: fake.url,
        CONF_CLIENT_ID: "tesladr-replay",
    }


async def _start_tesladr(
    hass: HomeAssistant,
    oasis: LaggedFakeOasis,
    teslas: Sequence[LoggedFakeTesla],
    day: PriceDay,
    options: dict[str, str] | None = None,
) -> list[MockConfigEntry]:
    """The prices entry and one account entry per fake account, as a user sets them up."""
    if not await async_setup_component(hass, DOMAIN, {}):
        pytest.fail("tesladr did not set up")
    entries = [
        MockConfigEntry(
            domain=DOMAIN,
            title="CAISO prices",
            unique_id="caiso_prices",
            data={CONF_ENTRY_TYPE: ENTRY_TYPE_PRICES},
            options={CONF_NODES: day.nodes, CONF_THRESHOLD: THRESHOLD},
            entry_id="prices01",
        )
    ]
    for k, fake in enumerate(teslas):
        email = f"owner{k:02d}@example.com"
        entries.append(
            MockConfigEntry(
                domain=DOMAIN,
                title=email,
                unique_id=email,
                data=_account_data(fake, email),
                options=options or {},
                entry_id=f"account{k:02d}",
            )
        )
    # The price coordinator takes the OASIS address as the first entry sets up.
    with point_tesladr_at(oasis.url):
        for entry in entries:
            entry.add_to_hass(hass)
            if not await hass.config_entries.async_setup(entry.entry_id):
                pytest.fail(f"entry {entry.entry_id} did not set up")
    return entries


async def start_fakes[T: LoggedFakeTesla](
    oasis: LaggedFakeOasis, plans: list[CarPlan], make_tesla: Callable[[int], T]
) -> list[T]:
    """One fake Tesla server per account of the fleet, its cars added; all servers started."""
    teslas = [make_tesla(k) for k in range(max(plan.account for plan in plans) + 1)]
    for plan in plans:
        teslas[plan.account].add_car(plan.vin, plan.name)
    await oasis.start()
    for fake in teslas:
        await fake.start()
    return teslas


def fleet_of(
    teslas: Sequence[LoggedFakeTesla],
) -> tuple[dict[str, FakeCar], ChainMap[str, dict[str, datetime]]]:
    """The fake cars by VIN and their last calls, as the fleet simulation takes them."""
    return (
        {vin: car for fake in teslas for vin, car in fake.cars.items()},
        ChainMap[str, dict[str, datetime]](*(fake.last_call for fake in teslas)),
    )


@dataclass(frozen=True, slots=True)
class Case:
    """One run: a day, a fleet size, the system that controls the fleet, a lag setting."""

    day: PriceDay
    cars: int
    system: str  # tesladr or baseline
    lag: LagSpec | None = None  # None: the day's own spread (replay_sim.LAG_RANGE_S)

    @property
    def id(self) -> str:
        """The test id, for -k filters."""
        lag = f"-lag{self.lag.text}" if self.lag else ""
        return f"{self.day.name}-{self.cars}-{self.system}{lag}"


SYSTEMS = ("tesladr", "baseline")
# tesladr under the "fresh dashboard" polling policy (every car read at every poll), for the
# fleets small enough to show beside the default without lengthening the run much.
DASHBOARD = "dashboard"
DASHBOARD_CARS = (1, 10)


def cases(lags: list[str] | None, lag_cars: list[int]) -> list[Case]:
    """The fleet-size runs and the lag matrix, or only the lags given on the command line."""
    generated = DAYS[0]
    matrix = [
        Case(generated, cars, system, parse_lag(text))
        for text in (lags or DEFAULT_LAGS)
        for cars in lag_cars
        for system in SYSTEMS
    ]
    if lags:
        return matrix
    return [
        Case(day, cars, system)
        for day in DAYS
        for cars in CARS
        for system in SYSTEMS + ((DASHBOARD,) if cars in DASHBOARD_CARS else ())
    ] + matrix


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the replay from `--lag` and `--lag-cars` (see benchmarks/conftest.py)."""
    if "case" not in metafunc.fixturenames:
        return
    lags = metafunc.config.getoption("lag")
    lag_cars = [int(n) for n in metafunc.config.getoption("lag_cars").split(",")]
    found = cases(lags, lag_cars)
    metafunc.parametrize("case", found, ids=[case.id for case in found])


@contextmanager
def counted_logs() -> Iterator[LogCounter]:
    """Count warnings and errors of the run; quiet everything below WARNING."""
    counter = LogCounter()
    root = logging.getLogger()
    # The loop's slow-callback warnings only measure jumps of the frozen clock.
    loop_logger = logging.getLogger("asyncio")
    levels = root.level, loop_logger.level
    root.setLevel(logging.WARNING)
    loop_logger.setLevel(logging.ERROR)
    root.addHandler(counter)
    try:
        yield counter
    finally:
        root.removeHandler(counter)
        root.setLevel(levels[0])
        loop_logger.setLevel(levels[1])


async def _start_baseline(
    hass: HomeAssistant,
    oasis: LaggedFakeOasis,
    teslas: Sequence[LoggedFakeTesla],
    plans: list[CarPlan],
) -> asyncio.Task[None]:
    baseline = NaiveBaseline(
        hass,
        oasis.url,
        [
            NaiveAccount(
                fake.url,
                f"owner{k:02d}@example.com",
                fake.refresh_token,
                [plan for plan in plans if plan.account == k],
            )
            for k, fake in enumerate(teslas)
        ],
    )
    await baseline.start()
    return hass.async_create_background_task(baseline.run(), "naive baseline")


def _ledger(entries: list[MockConfigEntry], plans: list[CarPlan]) -> dict[str, float]:
    """The ledger tesladr keeps, to compare with what the fake cars did not draw."""
    totals = [
        entry.runtime_data.dr.ledger.totals(plan.vin)
        for entry in entries[1:]
        for plan in plans
        if entry.entry_id == f"account{plan.account:02d}"
    ]
    return {
        "ledger_kwh": round(sum(kwh for kwh, _ in totals), 2),
        "ledger_usd": round(sum(usd for _, usd in totals), 3),
    }


async def replay(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, case: Case
) -> dict[str, Any]:
    """Run one case and return its JSON row."""
    day = case.day
    start = day.start + START_OFFSET
    end = start + DAY
    freezer.move_to(start)
    oasis = LaggedFakeOasis(
        clock=dt_util.utcnow,
        lag_fn=case.lag.lag if case.lag else PriceDay.lag,
        price_fn=lambda _market, node, moment: day.price(node, moment),
    )
    plans = fleet(case.cars)
    teslas = await start_fakes(
        oasis, plans, lambda _account: LoggedFakeTesla(clock=dt_util.utcnow)
    )
    sim = FleetSim(
        day,
        plans,
        *fleet_of(teslas),
        start,
        keep_awake=KEEP_AWAKE if POLLING_KEEPS_AWAKE else KEEP_AWAKE_UNLESS_POLLED,
    )
    day_events = events(day, oasis.published_at)
    entries: list[MockConfigEntry] = []
    ledger: dict[str, float] = {}
    baseline: asyncio.Task[None] | None = None
    try:
        if case.system == "tesladr":
            entries = await _start_tesladr(hass, oasis, teslas, day)
        elif case.system == DASHBOARD:
            entries = await _start_tesladr(
                hass, oasis, teslas, day, {CONF_POLLING_POLICY: "normal"}
            )
        else:
            baseline = await _start_baseline(hass, oasis, teslas, plans)
        charging_at, stepping = await run_day(
            hass,
            freezer,
            sim,
            end,
            [(e.node, e.first, e.published) for e in day_events],
        )
        if entries:
            ledger = _ledger(entries, plans)
    finally:
        if baseline is not None:
            baseline.cancel()
        for entry in reversed(entries):
            await hass.config_entries.async_unload(entry.entry_id)
        await settle(hass)
        for fake in teslas:
            await fake.stop()
        await oasis.stop()
    if not oasis.requests_for(Market.RTM):
        pytest.fail("no 5-minute prices were asked for")
    logs = [fake.log for fake in teslas]
    return {
        "benchmark": "replay_run",
        "day": day.name,
        "day_source": day.source,
        "system": case.system,
        "cars": case.cars,
        "accounts": len(teslas),
        "nodes": len(day.nodes),
        "polling_keeps_awake": POLLING_KEEPS_AWAKE,
        "lag": case.lag.text if case.lag else None,
        "oasis": oasis_summary([r.at for r in oasis.requests], start, end),
        # The targets hold after the first hour, once the lag is learned.
        "oasis_after_first_hour": oasis_summary(
            [r.at for r in oasis.requests], start + timedelta(hours=1), end
        ),
        "oasis_markets": dict(
            Counter(r.market.value if r.market else "?" for r in oasis.requests)
        ),
        "tesla": tesla_summary(logs, plans, start, end),
        "dr": dr_summary(
            logs,
            sim,
            day_events,
            charging_at,
            list(zip((r.at for r in oasis.requests), oasis.order, strict=True)),
            sequential_accounts=case.system == "baseline",
        )
        | ledger,
        "run": stepping,
    }


async def measured(
    hass: HomeAssistant, run: Coroutine[Any, Any, dict[str, Any]]
) -> dict[str, Any]:
    """Run one replay and add its log lines and its wall and CPU time to its row."""
    began = os.times()
    # The harness runs the loop in debug mode, which records a stack for every callback and
    # future: a quarter of the CPU time of a run, and nothing a user's Home Assistant pays.
    debug = hass.loop.get_debug()
    hass.loop.set_debug(False)
    try:
        with counted_logs() as counter:
            row = await run
    finally:
        hass.loop.set_debug(debug)
    done = os.times()
    row["log_lines"] = dict(counter.counts)
    row["log_first"] = counter.first
    row["run"] |= {
        "wall_s": round(done.elapsed - began.elapsed, 1),
        "cpu_s": round(done.user + done.system - began.user - began.system, 1),
    }
    return row


async def test_replay(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    case: Case,
) -> None:
    """Print one JSON line for one system, one day and one fleet size."""
    row = await measured(hass, replay(hass, freezer, case))
    print(json.dumps(row))
