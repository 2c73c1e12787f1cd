"""The fault week: real tesladr through a seeded schedule of OASIS, Tesla and Home Assistant faults.

Run: ./scripts/bench faults [--seed N] [--days D]   (default: seeds 1-5, seven days each)
The replay's generated day (benchmarks.replay_sim) repeats for every local day of the week
(a DST day among them is 23 or 25 hours long), with ten cars on two accounts (seven charge in
the evening, two sleep plugged in, one is unplugged) and one linked car on a generic-route
charger (benchmarks.fault_linked).
Time moves as in the replay (benchmarks.test_replay): from one timer, car change or scheduled
fault to the next. Every step checks the invariants of benchmarks.fault_week; each seed prints
one JSON line, and a fault-free run of the same week prints one more for comparison.
`benchmarks.fault_week` turns them into the table. Run by hand, pass `-p no:logging` as
scripts/bench does: pytest's log capture keeps every record, and the memory check would count
what their tracebacks hold.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Coroutine
from contextlib import ExitStack
import copy
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
import gc
import itertools
import json
import logging
import os
import re
import tracemalloc
from typing import Any

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_EMAIL, EVENT_HOMEASSISTANT_FINAL_WRITE
from homeassistant.core import STOPPING_STAGE_SHUTDOWN_TIMEOUT, Context, HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import psutil
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.const import (
    CONF_FLEX_ALERT,
    CONF_MOER_REGION,
    CONF_NODES,
    CONF_POLLING_POLICY,
    CONF_REFRESH_TOKEN,
    CONF_THRESHOLD,
    CONF_VEHICLES,
    DEFAULT_POLLING_POLICY,
    DOMAIN,
    MOER_OFF,
)
from custom_components.tesladr.dr import Ledger, Price, with_skipped
from custom_components.tesladr.dr_store import storage_key
from custom_components.tesladr.price_coordinator import DATA_PRICES
from custom_components.tesladr.price_feed import DATA_FEED
from custom_components.tesladr.sources import Role
from tests.fake_oasis import RequestRecord, point_tesladr_at
from tests.fake_tesla import FLEET_FORBIDDEN, UNAVAILABLE

from .fault_linked import LinkedCar, async_setup_charger, charger_entry
from .fault_week import (
    INTERVAL,
    KIND_BY_NAME,
    LATER_KINDS,
    PACIFIC,
    RECORD_GRACE,
    WEEK_START,
    Fault,
    Recovery,
    Violations,
    ledger_violation,
    memory_grows,
    oasis_violations,
    paused_too_long,
    schedule,
    summary,
)
from .replay_fakes import LaggedFakeOasis, LoggedFakeTesla
from .replay_sim import (
    DAY,
    RESUME_BELOW,
    THRESHOLD,
    CarTrack,
    FleetSim,
    PriceDay,
    PriceWeek,
    charging_snapshot,
    dr_summary,
    events,
    fleet,
    generated_week,
)
from .test_replay import (
    START_OFFSET,
    _account_data,
    counted_logs,
    fleet_of,
    next_timer,
    settle,
    start_fakes,
)

CARS = 10
# Memory at each midnight, after a full collection: live objects (all, and those of types
# tesladr or Home Assistant define) are cheap and exact; resident memory is shown only (the
# allocator keeps freed arenas); traced bytes (all, and those allocated in tesladr's or Home
# Assistant's code) need tracemalloc.
# The checked measures count what tesladr holds. The harness keeps a record of every request
# and call (the fakes' logs), and Home Assistant's template state cache fills up to its size
# over days: both grow by design and are shown, not checked. So is the ledger, which keeps
# 30 days of events: its events (and each one's CO2 and retail valuations) are left out of
# the count.
CHECKED_MEMORY = ("tesladr_objects", "tesladr_traced_kib")
PRODUCT_MODULES = ("custom_components.tesladr",)
BY_DESIGN = (
    "custom_components.tesladr.dr.event.DrEvent",
    "custom_components.tesladr.dr.values.RateValue",
)
PRODUCT_FILES = [tracemalloc.Filter(True, "*/custom_components/tesladr/*")]
PROGRESS = os.environ.get("FAULT_PROGRESS") == "1"
# Longer than the OASIS client's 30 s timeout.
SLOW_ANSWER_S = 45.0
# Real seconds a step lets the loop run while a slow answer is held back.
SLOW_SPIN_S = 0.05
# And at most this long, until the request tesladr sent last has reached the fake: one that
# arrived after the clock moved on would be recorded late, out of its interval.
TRANSIT_SPIN_S = 2.0
OASIS_FAULT = {
    "oasis_429": "throttle",
    "oasis_throttle_page": "throttle_200",
    "oasis_corrupt_zip": "corrupt",
    "oasis_error_1000": 1000,
    "oasis_error_1001": 1001,
    "oasis_empty_body": "empty_member",
    "oasis_html": "html",
}
# A fault that needs a car in a given state (paused by DR, charging) waits this long for one.
WAIT_FOR_TARGET = timedelta(minutes=60)
# A fault armed for the next command or pause waits this long for one (the events span three
# hours of the evening).
ARMED_FOR = timedelta(hours=3)
# The owner answers a reauth request this long after it appears.
REAUTH_AFTER = timedelta(minutes=10)
# ERROR lines that tell the owner what to do (the repair or reauth flow they lead to).
ACTIONABLE = ("log in again", "please report")
UNAVAILABLE_LINE = re.compile(
    r"^Error fetching Tesla \S+ data: Tesla could not be reached"
)


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The fake servers' keep-alive timers outlive a run; they are harmless."""
    return True


# Restarts make new OASIS clients: the fake's address holds until the run ends.
OASIS_ADDRESS = ExitStack()


async def connect_oasis(hass: HomeAssistant, oasis: LaggedFakeOasis) -> None:
    """Point tesladr's OASIS client at the fake (the one place the run does so)."""
    OASIS_ADDRESS.enter_context(point_tesladr_at(oasis.url))
    if not await async_setup_component(hass, DOMAIN, {}):
        pytest.fail("tesladr did not set up")


# --- the fakes, with windows of faults -----------------------------------------------------


@dataclass
class FaultyOasis(LaggedFakeOasis):
    """The replay's OASIS, with outages, slow answers, holes and re-priced intervals."""

    down_until: datetime | None = None
    slow_until: datetime | None = None
    halted: bool = False  # Home Assistant is stopping: what it sends is not counted
    while_stopped: int = 0
    sleeping: int = 0  # slow answers being held back now
    holes: set[datetime] = field(default_factory=set)
    repriced: dict[datetime, tuple[datetime, float]] = field(default_factory=dict)

    def _price(self, market: Market, node: str, start: datetime) -> float | None:
        if market is Market.RTM:
            if start in self.holes:
                return None
            if start in self.repriced:
                after, price = self.repriced[start]
                if self.clock() >= after:
                    return price
        return super()._price(market, node, start)

    def arrived(self, hass: HomeAssistant) -> bool:
        """Whether the request tesladr's feed sent last has reached this fake."""
        feed = hass.data.get(DATA_FEED)
        sent = feed.last_sent_at if feed is not None else None
        return (
            sent is None
            or self.halted
            or any(record.at >= sent for record in self.requests[-3:])
        )

    def served(self, node: str, start: datetime) -> float | None:
        """The 5-minute price OASIS serves now for an interval, once published."""
        if self.clock() < self.published_at(start):
            return None
        return self._price(Market.RTM, node, start)

    async def _handle(self, request: web.Request) -> web.Response:
        now = self.clock()
        if self.halted:
            self.while_stopped += 1
            return web.Response(status=503, text="Home Assistant is stopped")
        if self.down_until is not None and now < self.down_until:
            self.requests.append(
                RequestRecord(now, None, [], None, None, dict(request.query))
            )
            return web.Response(
                status=503,
                body=b"<html><body>Service Unavailable</body></html>",
                content_type="text/html",
            )
        if self.slow_until is not None and now < self.slow_until:
            # Recorded as it arrives (the answer is what is slow), completed once answered.
            arrived = len(self.requests)
            self.requests.append(
                RequestRecord(now, None, [], None, None, dict(request.query))
            )
            self.sleeping += 1
            try:
                await asyncio.sleep(SLOW_ANSWER_S)
            finally:
                self.sleeping -= 1
            answered = len(self.requests)
            # The base class records the request first thing, before any await.
            response = await super()._handle(request)
            self.requests[arrived] = replace(self.requests.pop(answered), at=now)
            return response
        return await super()._handle(request)


@dataclass
class FaultyTesla(LoggedFakeTesla):
    """The replay's Tesla account, with outages, command faults and a command hook."""

    down_until: datetime | None = None
    halted: bool = False  # Home Assistant is stopping: nothing it sends arrives
    command_faults: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    expire_on_command: bool = False
    on_command: Callable[[str, str, str], None] | None = None  # vin, name, state before
    on_effective: Callable[[str, str], None] | None = None  # vin, name
    # "applied" or "lost": the next command is carried out (or not) and Home Assistant
    # stops before its answer arrives. `on_hold` starts that stop; None: it cannot now.
    hold_next: str | None = None
    on_hold: Callable[[str, str], asyncio.Event | None] | None = None  # vin, name
    # Cars whose held command's answer waits for Home Assistant to stop: the library's
    # retries of it wait as well, so that no answer arrives before the stop.
    holding: dict[str, asyncio.Event] = field(default_factory=dict)

    def unreachable(self, now: datetime) -> bool:
        """Calls fail now, or a fault waits for the next one."""
        return (
            self.halted
            or (self.down_until is not None and now < self.down_until)
            or bool(self._faults or self.command_faults or self.command_refusals)
            or self.expire_on_command
            or not self.access_token.startswith("access-")
        )

    async def _guard(
        self, request: web.Request, vin: str, kind: str
    ) -> web.Response | None:
        if self.halted or (
            self.down_until is not None and self.clock() < self.down_until
        ):
            self.calls[vin, kind] += 1
            return self._json({"response": None, "error": "upstream down"}, 503)
        return await super()._guard(request, vin, kind)

    async def _command(self, request: web.Request) -> web.Response:
        car = self._car(request)
        name = request.match_info["command"]
        if self.on_command is not None and not self.halted:
            self.on_command(car.vin, name, car.charging_state)
        if (held := self.holding.get(car.vin)) is not None and not held.is_set():
            await held.wait()
            return self._json({"response": None, "error": "upstream down"}, 503)
        if (
            self.hold_next is not None
            and self.on_hold is not None
            and not self.halted
            and (stopped := self.on_hold(car.vin, name)) is not None
        ):
            applied, self.hold_next = self.hold_next == "applied", None
            self.holding[car.vin] = stopped
            before = car.charging_state
            if applied:
                await super()._command(request)
                if car.charging_state != before and self.on_effective is not None:
                    self.on_effective(car.vin, name)
            # The answer waits until Home Assistant has stopped; what it does with it then
            # is a stopping instance's (nothing it sends or writes counts).
            await stopped.wait()
            return self._json({"response": None, "error": "upstream down"}, 503)
        if self.expire_on_command:
            # The access token expires as the command arrives: the command gets a 401.
            self.expire_on_command = False
            self.access_token = f"expired-{self.token_refreshes}"
        elif (
            self.command_faults
            and request.headers.get("Authorization") == f"Bearer {self.access_token}"
        ):
            status, body = self.command_faults.popleft()
            self.calls[car.vin, "command"] += 1
            return self._json(body, status)
        before = car.charging_state
        response = await super()._command(request)
        if car.charging_state != before and self.on_effective is not None:
            self.on_effective(car.vin, name)
        return response


class WeekSim(FleetSim):
    """The replay's fleet, where an owner may stop a car and a car may drop off the network."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As FleetSim."""
        super().__init__(*args, **kwargs)
        self.owner_stopped: set[str] = set()
        self.offline_until: dict[str, datetime] = {}
        # vin → interval start → kWh not drawn in it: where a ledger that is off is off.
        self.paused_by_interval: dict[str, Counter[datetime]] = defaultdict(Counter)

    def _accrue(self, track: CarTrack, start: datetime, end: datetime) -> None:
        # A car its owner stopped is not energy DR kept from the grid.
        if track.fake.charging_state == "Stopped":
            if track.plan.vin in self.owner_stopped:
                return
            moment = start
            while moment < end:
                interval = _floor(moment)
                piece_end = min(end, interval + INTERVAL)
                hours = (piece_end - moment).total_seconds() / 3600
                self.paused_by_interval[track.plan.vin][interval] += (
                    track.plan.power_kw * hours
                )
                moment = piece_end
        super()._accrue(track, start, end)

    def advance(self, now: datetime) -> None:
        """As FleetSim, then keep unreachable cars offline."""
        super().advance(now)
        for vin, until in list(self.offline_until.items()):
            car = self.tracks[vin].fake
            if now >= until:
                del self.offline_until[vin]
                car.state = "online"
                self.tracks[vin].awake_since = now
            else:
                car.state = "offline"
        self.owner_stopped = {
            vin
            for vin in self.owner_stopped
            if self.tracks[vin].fake.charging_state == "Stopped"
        }


# --- logs ----------------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """ERROR lines of the run; those while Home Assistant is stopping are not the owner's."""

    def __init__(self) -> None:
        """From ERROR up."""
        super().__init__(logging.ERROR)
        self.muted = False
        # name, message, whether it carried an exception. Not the record: its traceback
        # would keep the frames (and the coordinators in them) alive for the memory check.
        self.records: list[tuple[str, str, bool]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep one line."""
        # The fakes' own server side is not Home Assistant.
        if self.muted or record.name.startswith("aiohttp"):
            return
        if not record.exc_info and any(
            hint in record.getMessage() for hint in ACTIONABLE
        ):
            return
        self.records.append((record.name, record.getMessage(), bool(record.exc_info)))


# --- the run -------------------------------------------------------------------------------


@dataclass
class Pending:
    """A fault whose recovery is being timed."""

    fault: Fault
    cleared: Callable[[datetime], bool]
    cleared_at: datetime | None = None
    price_s: float | None = None
    dr_s: float | None = None


@dataclass
class Week:
    """Home Assistant, tesladr, the fakes and the fleet of one run, and what it saw."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    storage: dict[str, Any]
    day: PriceWeek
    oasis: FaultyOasis
    teslas: list[FaultyTesla]
    sim: WeekSim
    entries: list[MockConfigEntry] = field(default_factory=list)
    violations: Violations = field(default_factory=Violations)
    recovery: Recovery = field(default_factory=Recovery)
    injected: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    log: ErrorLog = field(default_factory=ErrorLog)
    dr_paused: dict[str, datetime] = field(default_factory=dict)  # vin → pause seen
    flagged: set[tuple[str, str]] = field(default_factory=set)
    ended: dict[str, tuple[datetime, datetime | None]] = field(default_factory=dict)
    reachable_since: dict[str, datetime] = field(default_factory=dict)
    newest_end: dict[str, datetime] = field(default_factory=dict)
    event_on: dict[str, bool] = field(default_factory=dict)
    overridden: set[str] = field(default_factory=set)
    retired: dict[str, tuple[float, float]] = field(default_factory=dict)
    retired_ledgers: list[Ledger] = field(default_factory=list)
    waiting: list[Fault] = field(default_factory=list)
    timed: list[Pending] = field(default_factory=list)
    later: list[tuple[datetime, Callable[[], Any]]] = field(default_factory=list)
    ha_up: bool = True
    ha_busy: asyncio.Task[None] | None = None
    reauth_seen: dict[str, datetime] = field(default_factory=dict)
    pauses: int = 0
    readds: int = 0
    restarts: list[datetime] = field(default_factory=list)
    over_budget_across_restarts: int = 0
    unavailable_lines: Counter[str] = field(default_factory=Counter)
    applied: list[str] = field(default_factory=list)
    threshold_flip: bool = False
    with_linked: bool = True
    linked: LinkedCar | None = None
    linked_entries: list[MockConfigEntry] = field(default_factory=list)
    unfollow: Callable[[], Any] | None = None
    in_flight: list[str] = field(default_factory=list)  # commands Home Assistant lost
    # account → its armed ha_restart_in_flight
    held: dict[int, Fault] = field(default_factory=dict)
    override_armed: Fault | None = None

    # Entries

    @property
    def prices_entry(self) -> MockConfigEntry:
        """The CAISO prices entry."""
        return self.entries[0]

    def account_entry(self, account: int) -> MockConfigEntry | None:
        """The account's entry while it exists."""
        email = f"owner{account:02d}@example.com"
        return next((e for e in self.entries[1:] if e.data[CONF_EMAIL] == email), None)

    def ledger(self, account: int) -> Ledger | None:
        """The DR ledger of an account, while its entry is loaded."""
        entry = self.account_entry(account)
        if entry is None or not self.ha_up:
            return None
        runtime = getattr(entry, "runtime_data", None)
        dr = getattr(runtime, "dr", None)
        return (
            dr.ledger
            if dr is not None and entry.state is ConfigEntryState.LOADED
            else None
        )

    def ledger_kwh(self, vin: str | None = None) -> float:
        """The ledgers' kWh not drawn: loaded entries', as stored of others, removed ones'."""
        total = sum(kwh for car, (kwh, _) in self.retired.items() if vin in (None, car))
        for account in range(len(self.teslas)):
            if (ledger := self._any_ledger(account)) is not None:
                total += sum(
                    ledger.totals(plan.vin)[0]
                    for plan in self._plans(account)
                    if vin in (None, plan.vin)
                )
        linked = self.linked
        if linked is not None and vin in (None, linked.vin):
            if (ledger := self.any_linked_ledger()) is not None:
                total += ledger.totals(linked.car_id)[0]
        return total

    def ledger_by_interval(self, vin: str) -> Counter[datetime]:
        """The kWh the ledgers give each interval a car was paused in (uncapped)."""
        loaded = (self._any_ledger(account) for account in range(len(self.teslas)))
        ledgers = [
            *self.retired_ledgers,
            *(ledger for ledger in loaded if ledger is not None),
        ]
        kwh: Counter[datetime] = Counter()
        for ledger in ledgers:
            for event in ledger.events:
                if event.vin != vin:
                    continue
                for key in event.prices:
                    start = datetime.fromisoformat(key)
                    begin = max(start, event.started)
                    end = min(start + INTERVAL, event.ended or start + INTERVAL)
                    if end > begin:
                        hours = (end - begin).total_seconds() / 3600
                        kwh[start] += event.power_kw * hours
        return kwh

    def intervals_off(self, vin: str, most: int = 6) -> list[str]:
        """The intervals where a car's ledger and its own record differ most."""
        car = self.sim.paused_by_interval.get(vin, Counter())
        ledger = self.ledger_by_interval(vin)
        off = [
            (abs(ledger[t] - car[t]), t, ledger[t], car[t])
            for t in set(car) | set(ledger)
            if abs(ledger[t] - car[t]) > 0.01
        ]
        off.sort(reverse=True)
        return [f"{t:%d %H:%M}Z {lk:.2f}/{ck:.2f}" for _, t, lk, ck in off[:most]]

    def linked_ledger(self) -> Ledger | None:
        """The linked car's DR ledger, while its entry is loaded."""
        if not self.linked_entries or not self.ha_up:
            return None
        entry = self.linked_entries[0]
        dr = getattr(getattr(entry, "runtime_data", None), "dr", None)
        return (
            dr.ledger
            if dr is not None and entry.state is ConfigEntryState.LOADED
            else None
        )

    def any_linked_ledger(self) -> Ledger | None:
        """The linked car's ledger: loaded, else as stored."""
        if (ledger := self.linked_ledger()) is not None:
            return ledger
        if not self.linked_entries:
            return None
        key = storage_key(self.linked_entries[0].entry_id)
        stored = self.storage.get(key, {}).get("data", {})
        return Ledger.from_dict(stored.get("ledger") or {})

    def checked_cars(self) -> list[tuple[str, str, str, str, Ledger | None]]:
        """Every car the invariants hold for: key, ledger id, node, state, its ledger."""
        cars = [
            (
                vin,
                vin,
                track.plan.node,
                track.fake.charging_state,
                self.ledger(track.plan.account),
            )
            for vin, track in self.sim.tracks.items()
        ]
        if (linked := self.linked) is not None:
            cars.append(
                (
                    linked.vin,
                    linked.car_id,
                    linked.node,
                    linked.charging_state,
                    self.linked_ledger(),
                )
            )
        return cars

    def _any_ledger(self, account: int) -> Ledger | None:
        if (ledger := self.ledger(account)) is not None:
            return ledger
        if (entry := self.account_entry(account)) is None:
            return None
        stored = self.storage.get(storage_key(entry.entry_id), {}).get("data", {})
        return Ledger.from_dict(stored.get("ledger") or {})

    def _plans(self, account: int) -> list[Any]:
        return [t.plan for t in self.sim.tracks.values() if t.plan.account == account]

    async def start(self) -> None:
        """The prices entry and one account entry per fake account."""
        await connect_oasis(self.hass, self.oasis)
        prices = MockConfigEntry(
            domain=DOMAIN,
            title="CAISO prices",
            unique_id="caiso_prices",
            data={"entry_type": "prices"},
            options={CONF_NODES: self.day.nodes, CONF_THRESHOLD: THRESHOLD},
            entry_id="prices01",
        )
        self.entries = [prices]
        for k, _fake in enumerate(self.teslas):
            self.entries.append(self._new_account(k))
        for entry in self.entries:
            entry.add_to_hass(self.hass)
            if not await self.hass.config_entries.async_setup(entry.entry_id):
                pytest.fail(f"entry {entry.entry_id} did not set up")
        for fake in self.teslas:
            fake.on_command = self._on_command
            fake.on_effective = self._on_effective
            fake.on_hold = self._on_hold
        if self.with_linked:
            await self._start_linked()

    async def _start_linked(self) -> None:
        """The generic-route charger and its linked entry."""
        # Home Assistant's own services (update_entity), as every real instance has them.
        if not await async_setup_component(self.hass, "homeassistant", {}):
            pytest.fail("homeassistant did not set up")
        roles = await async_setup_charger(self.hass)
        entry = charger_entry(roles)
        owner = await self.hass.auth.async_create_user("Owner")
        self.linked = LinkedCar(
            self.hass, roles[Role.SWITCH], dt_util.utcnow(), Context(user_id=owner.id)
        )
        self.unfollow = self.linked.follow(self._on_linked_call, self._on_linked_paused)
        entry.add_to_hass(self.hass)
        if not await self.hass.config_entries.async_setup(entry.entry_id):
            pytest.fail("the linked entry did not set up")
        self.linked_entries = [entry]

    def _new_account(self, k: int) -> MockConfigEntry:
        email = f"owner{k:02d}@example.com"
        suffix = f"r{self.readds}" if self.readds else ""
        return MockConfigEntry(
            domain=DOMAIN,
            title=email,
            unique_id=email,
            data=_account_data(self.teslas[k], email),
            entry_id=f"account{k:02d}{suffix}",
        )

    # What the fakes see

    def _on_command(self, vin: str, name: str, before: str) -> None:
        if name == "charge_start" and before == "Stopped" and vin not in self.dr_paused:
            self.violations.add(
                "started_a_car_dr_did_not_pause",
                f"{dt_util.utcnow().isoformat()} {vin}",
            )

    def _on_effective(self, vin: str, name: str) -> None:
        if name == "charge_stop":
            self.dr_paused[vin] = dt_util.utcnow()
            self.pauses += 1

    def _on_linked_call(self, service: str, before: str) -> None:
        if self.linked is not None:
            self._on_command(
                self.linked.vin,
                "charge_start" if service == "turn_on" else f"switch.{service}",
                before,
            )

    def _on_linked_paused(self) -> None:
        if self.linked is not None:
            self._on_effective(self.linked.vin, "charge_stop")
        if (fault := self.override_armed) is not None:
            self.override_armed = None
            after = timedelta(minutes=1 + fault.target % 4)
            self.later.append(
                (dt_util.utcnow() + after, lambda: self._linked_override(fault))
            )

    def _on_hold(self, vin: str, name: str) -> asyncio.Event | None:
        """A held command arrived: stop Home Assistant now, unless a HA fault is running."""
        if self.ha_busy is not None and not self.ha_busy.done():
            return None
        stopped = asyncio.Event()
        self.in_flight.append(
            f"{dt_util.utcnow().strftime('%d %H:%M:%S')}Z {vin} {name}"
        )
        fault = self.held.pop(self.sim.tracks[vin].plan.account)
        self.in_flight[-1] += f" {fault.detail}"
        self._background(lambda: self.restart(fault.duration, stopped=stopped))
        return stopped

    # Steps

    async def step(self, now: datetime) -> None:
        """Apply what is due, then check every invariant."""
        self.sim.advance(now)
        if self.linked is not None:
            await self.linked.advance(now, self.day.price)
        for due, action in [item for item in self.later if item[0] <= now]:
            self.later.remove((due, action))
            await action()
        for fault in [f for f in self.waiting if f.at <= now]:
            self.waiting.remove(fault)
            await self.apply(fault, now)
        now = dt_util.utcnow()
        self.sim.advance(now)
        if self.linked is not None:
            await self.linked.advance(now, self.day.price)
        self._reauth(now)
        self._observe(now)
        self._check(now)
        self._time_recovery(now)

    def _reauth(self, now: datetime) -> None:
        """The owner answers a reauth request a while later with the account's good token."""
        for flow in self.hass.config_entries.flow.async_progress_by_handler(DOMAIN):
            context = flow["context"]
            if context.get("source") != SOURCE_REAUTH:
                continue
            seen = self.reauth_seen.setdefault(flow["flow_id"], now)
            if now - seen < REAUTH_AFTER or seen == datetime.min.replace(tzinfo=UTC):
                continue
            self.reauth_seen[flow["flow_id"]] = datetime.min.replace(tzinfo=UTC)
            entry = self.hass.config_entries.async_get_entry(context["entry_id"])
            if entry is None:
                continue
            fake = self.teslas[self._account_of(entry)]  # type: ignore[arg-type]
            self.hass.async_create_task(
                self._answer_reauth(flow["flow_id"], fake.refresh_token),
                eager_start=False,
            )

    async def _answer_reauth(self, flow_id: str, token: str) -> None:
        result = await self.hass.config_entries.flow.async_configure(
            flow_id, {CONF_REFRESH_TOKEN: token}
        )
        if result["type"] == "form":
            # Refused (Tesla busy, rate-limited): the owner tries again a while later.
            self.reauth_seen[flow_id] = dt_util.utcnow()
        elif result["type"] != "abort":
            pytest.fail(f"reauth answered {result}")

    def quiet(self) -> bool:
        """No Home Assistant fault, slow OASIS answer or held command under way."""
        return (
            (self.ha_busy is None or self.ha_busy.done())
            and not self.oasis.sleeping
            and not self.held
        )

    def next_due(self) -> datetime | None:
        """The next scheduled fault or follow-up."""
        moments = [f.at for f in self.waiting] + [due for due, _ in self.later]
        return min(moments, default=None)

    def _observe(self, now: datetime) -> None:
        for k, fake in enumerate(self.teslas):
            blocked = fake.unreachable(now) or not self.ha_up
            blocked |= self.ledger(k) is None
            for plan in self._plans(k):
                if blocked or plan.vin in self.sim.offline_until:
                    self.reachable_since[plan.vin] = now
        if (linked := self.linked) is not None and (
            not self.ha_up or not linked.reachable or self.linked_ledger() is None
        ):
            self.reachable_since[linked.vin] = now
        for account in range(len(self.teslas)):
            entry = self.account_entry(account)
            dr = getattr(getattr(entry, "runtime_data", None), "dr", None)
            if dr is None or dr.prices is None or not self.ha_up:
                continue
            for node in self.day.nodes:
                if (latest := dr.prices.data.latest(node)) is not None:
                    if latest.end > self.newest_end.get(node, latest.end - INTERVAL):
                        self.newest_end[node] = latest.end
        for node in self.day.nodes:
            price = self._truth(node, now)[1]
            if price is None or price < RESUME_BELOW:
                self.event_on[node] = False
            elif price > THRESHOLD:
                self.event_on[node] = True
            if not self.event_on.get(node):
                self.overridden -= {
                    t.plan.vin for t in self.sim.tracks.values() if t.plan.node == node
                }
                if self.linked is not None and self.linked.node == node:
                    self.overridden.discard(self.linked.vin)

    def _truth(self, node: str, now: datetime) -> tuple[datetime | None, float | None]:
        """End and price of the newest interval OASIS serves now."""
        start = now.replace(second=0, microsecond=0)
        start -= timedelta(minutes=start.minute % 5)
        for _ in range(24):
            start -= INTERVAL
            if (price := self.oasis.served(node, start)) is not None:
                return start + INTERVAL, price
        return None, None

    def _check(self, now: datetime) -> None:
        for vin, car_id, node, charging_state, ledger in self.checked_cars():
            if vin in self.dr_paused:
                if charging_state != "Stopped":
                    paused_at = self.dr_paused.pop(vin)
                    active = ledger.active(car_id) if ledger is not None else None
                    self.ended[vin] = (now, active.started if active else paused_at)
                    self.flagged -= {(vin, "stale"), (vin, "unrecorded")}
                    continue
                since = max(self.reachable_since.get(vin, now), self.dr_paused[vin])
                if (vin, "stale") not in self.flagged and paused_too_long(
                    now, self.newest_end.get(node), since
                ):
                    self.flagged.add((vin, "stale"))
                    self.violations.add(
                        "paused_on_stale_prices",
                        f"{now.isoformat()} {vin} newest price ended "
                        f"{self.newest_end.get(node)}",
                    )
                if (
                    ledger is not None
                    and ledger.active(car_id) is None
                    and now - since > RECORD_GRACE
                    and (vin, "unrecorded") not in self.flagged
                ):
                    self.flagged.add((vin, "unrecorded"))
                    self.violations.add(
                        "pause_not_recorded", f"{now.isoformat()} {vin}"
                    )
            if vin in self.ended and ledger is not None:
                when, started = self.ended[vin]
                active = ledger.active(car_id)
                if active is None or active.started != started:
                    del self.ended[vin]
                elif now - when > RECORD_GRACE:
                    del self.ended[vin]
                    self.violations.add(
                        "pause_end_not_recorded", f"{when.isoformat()} {vin}"
                    )

    def dr_correct(self) -> bool:
        """Every car paused exactly when the newest served price says it should be."""
        for vin, track in self.sim.tracks.items():
            car = track.fake
            capable = (
                track.segment == "home"
                and car.charging_state in ("Charging", "Stopped")
                and vin not in self.sim.owner_stopped
                and vin not in self.overridden
            )
            should = capable and self.event_on.get(track.plan.node, False)
            paused = car.charging_state == "Stopped" and vin in self.dr_paused
            if should != paused:
                return False
        if (linked := self.linked) is not None:
            capable = (
                linked.charging_state in ("Charging", "Stopped")
                and not linked.owner_stopped
                and linked.vin not in self.overridden
            )
            should = capable and self.event_on.get(linked.node, False)
            paused = linked.charging_state == "Stopped" and linked.vin in self.dr_paused
            if should != paused:
                return False
        return True

    def prices_current(self, now: datetime) -> bool:
        """Tesladr holds the newest interval OASIS serves, at every node."""
        for node in self.day.nodes:
            end = self._truth(node, now)[0]
            if end is not None and self.newest_end.get(node, end - INTERVAL) < end:
                return False
        return True

    def _time_recovery(self, now: datetime) -> None:
        price_ok = dr_ok = None
        for pending in list(self.timed):
            if pending.cleared_at is None:
                if not pending.cleared(now):
                    continue
                pending.cleared_at = now
            if price_ok is None:
                price_ok, dr_ok = self.prices_current(now), self.dr_correct()
            seconds = (now - pending.cleared_at).total_seconds()
            if pending.price_s is None and price_ok:
                pending.price_s = seconds
            if pending.dr_s is None and dr_ok:
                pending.dr_s = seconds
            if pending.price_s is not None and pending.dr_s is not None:
                self.timed.remove(pending)
                self.recovery.add(pending.fault.kind, pending.price_s, pending.dr_s)

    def complete_retired(self) -> None:
        """Account the intervals OASIS published after each removal to the removed ledgers.

        Removing an entry deletes its ledger, so no ledger of tesladr's can see the
        intervals of its last minutes that OASIS had not published yet. The events, their
        starts, ends and power are the product's; the product's own accounting (`account`,
        `with_skipped`) is run on them here, as it would have run had the entry stayed.
        """
        for ledger in self.retired_ledgers:
            for event in ledger.events:
                if event.ended is None:
                    continue
                before = event.kwh, event.usd
                published = []
                start = _floor(event.started)
                while start < event.ended:
                    if (value := self.oasis.served(event.node, start)) is not None:
                        published.append(Price(value, start, start + INTERVAL))
                    start += INTERVAL
                for price in with_skipped(published):
                    event.account(price)
                added = {event.vin: (event.kwh - before[0], event.usd - before[1])}
                self._retire(added, 1)

    def finish(self) -> None:
        """Close the run: faults not recovered, the ledger, the OASIS budget, the log."""
        for pending in self.timed:
            self.recovery.add(pending.fault.kind, pending.price_s, pending.dr_s)
        self.complete_retired()
        paused = {vin: t.paused_kwh for vin, t in self.sim.tracks.items()}
        if (linked := self.linked) is not None:
            paused[linked.vin] = linked.paused_kwh
            # Its own route estimates the energy its own way: checked alone as well.
            if ledger_violation(self.ledger_kwh(linked.vin), linked.paused_kwh):
                self.violations.add(
                    "ledger_off_by_more_than_1pct",
                    f"linked car: ledger {self.ledger_kwh(linked.vin):.2f} kWh, "
                    f"car {linked.paused_kwh:.2f} kWh",
                )
        cars_kwh = sum(paused.values())
        ledger_kwh = self.ledger_kwh()
        if ledger_violation(ledger_kwh, cars_kwh):
            per_car = {
                vin[-3:]: (round(self.ledger_kwh(vin), 2), round(kwh, 2))
                for vin, kwh in paused.items()
                if abs(self.ledger_kwh(vin) - kwh) > 0.05
            }
            # Where each car is off most: interval, ledger kWh / car kWh.
            where = {
                vin[-3:]: self.intervals_off(vin)
                for vin in paused
                if vin in self.sim.tracks and vin[-3:] in per_car
            }
            self.violations.add(
                "ledger_off_by_more_than_1pct",
                f"ledger {ledger_kwh:.2f} kWh, cars {cars_kwh:.2f} kWh; "
                f"car: (ledger, car) {per_car}; intervals {where}",
            )
        self.over_budget_across_restarts = oasis_violations(
            [r.at for r in self.oasis.requests],
            self.violations,
            self.restarts,
            # Which market, and how many nodes: a report says which request was one too many.
            [
                f"{r.market.name if r.market else '?'}/{len(r.nodes)}"
                for r in self.oasis.requests
            ],
        )
        for name, message, exception in self.log.records:
            if UNAVAILABLE_LINE.match(message) and not exception:
                # Home Assistant's coordinator logs an outage once, and its end at INFO
                # (the quality scale's log-when-unavailable); shown, not counted.
                self.unavailable_lines[message[:120]] += 1
                continue
            kind = "unhandled_exception" if exception else "error_log_line"
            self.violations.add(kind, f"{name}: {message[:200]}")

    # Faults

    async def apply(self, fault: Fault, now: datetime) -> None:
        """Inject one fault (or wait for a car it needs, or for the last HA fault to end)."""
        if fault.side == "linked" and self.linked is None:
            self.skipped[fault.kind] += 1
            return
        handler = getattr(self, f"_fault_{fault.kind}", None)
        if handler is None:
            handler = self._fault_oasis_one_shot
        busy = self.ha_busy is not None and not self.ha_busy.done()
        # One Home Assistant fault at a time: an owner does not reload mid-restart.
        cleared = None if fault.side == "ha" and busy else await handler(fault, now)
        if cleared is None:
            if now - fault.at < WAIT_FOR_TARGET:
                self.waiting.append(
                    Fault(
                        now + timedelta(minutes=1),
                        fault.kind,
                        fault.duration,
                        fault.times,
                        fault.target,
                        fault.detail,
                    )
                )
            else:
                self.skipped[fault.kind] += 1
            return
        self.injected[fault.kind] += 1
        self.applied.append(f"{now.strftime('%d %H:%M:%S')}Z {fault.as_text()}")
        self.timed.append(Pending(fault, cleared))

    def _tesla(self, fault: Fault) -> FaultyTesla:
        return self.teslas[fault.target % len(self.teslas)]

    def _car(self, fault: Fault, ok: Callable[[str, CarTrack], bool]) -> str | None:
        fitting = sorted(vin for vin, t in self.sim.tracks.items() if ok(vin, t))
        return fitting[fault.target % len(fitting)] if fitting else None

    def _until(self, fault: Fault) -> Callable[[datetime], bool]:
        end = dt_util.utcnow() + fault.duration
        return lambda now: now >= end

    async def _fault_oasis_one_shot(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        self.oasis.fail_next(OASIS_FAULT[fault.kind], fault.times)  # type: ignore[arg-type]
        return lambda _now: not self.oasis._faults  # noqa: SLF001

    async def _fault_oasis_down(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool]:
        self.oasis.down_until = now + fault.duration
        return self._until(fault)

    async def _fault_oasis_slow(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool]:
        self.oasis.slow_until = now + fault.duration
        return self._until(fault)

    async def _fault_oasis_missing_interval(
        self, _fault: Fault, now: datetime
    ) -> Callable[[datetime], bool]:
        start = _floor(now)
        self.oasis.holes.add(start)
        published = self.oasis.published_at(start)
        return lambda at: at >= published

    async def _fault_oasis_repriced_interval(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool]:
        start = _floor(now) - INTERVAL
        old = self.day.price(self.day.nodes[0], start) or 0.0
        # A revision that may cross the threshold either way.
        new = round(old + (fault.target % 7 - 3) * 40.0, 2)
        after = max(now, self.oasis.published_at(start)) + timedelta(minutes=2)
        self.oasis.repriced[start] = (after, new)
        return lambda at: at >= after

    async def _fault_tesla_token_expired(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        fake = self._tesla(fault)
        fake.access_token = f"expired-{fake.token_refreshes}"
        return lambda now: not fake.unreachable(now)

    async def _fault_tesla_token_race(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        fake = self._tesla(fault)
        fake.expire_on_command = True
        return lambda now: not fake.unreachable(now)

    async def _fault_tesla_403(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        fake = self._tesla(fault)
        fake.fail_next(403, FLEET_FORBIDDEN, fault.times)
        return lambda now: not fake.unreachable(now)

    async def _fault_tesla_429(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        fake = self._tesla(fault)
        fake.fail_next(
            429, {"response": None, "error": "Too Many Requests"}, fault.times
        )
        return lambda now: not fake.unreachable(now)

    async def _fault_tesla_5xx(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        fake = self._tesla(fault)
        fake.fail_next(int(fault.detail), None, fault.times)
        return lambda now: not fake.unreachable(now)

    async def _fault_tesla_408_command(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        fake = self._tesla(fault)
        fake.command_faults.append((408, UNAVAILABLE))
        return lambda now: not fake.unreachable(now)

    async def _fault_tesla_refusal(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        fake = self._tesla(fault)
        fake.command_refusals.append(fault.detail)
        return lambda now: not fake.unreachable(now)

    async def _fault_tesla_down(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool]:
        self._tesla(fault).down_until = now + fault.duration
        return self._until(fault)

    async def _fault_car_offline(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool]:
        vin = sorted(self.sim.tracks)[fault.target % len(self.sim.tracks)]
        self.sim.offline_until[vin] = now + fault.duration
        self.sim.tracks[vin].fake.state = "offline"
        return self._until(fault)

    async def _fault_owner_stop(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool] | None:
        vin = self._car(
            fault,
            lambda v, t: (
                t.fake.charging_state == "Charging" and v not in self.dr_paused
            ),
        )
        if vin is None:
            return None
        car = self.sim.tracks[vin].fake
        car.charging_state = "Stopped"
        self.sim.owner_stopped.add(vin)

        async def restart() -> None:
            if vin in self.sim.owner_stopped:
                self.sim.owner_stopped.discard(vin)
                car.charging_state = "Charging"

        self.later.append((now + fault.duration, restart))
        return self._until(fault)

    async def _fault_owner_override(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool] | None:
        vin = self._car(
            fault,
            lambda v, t: t.fake.charging_state == "Stopped" and v in self.dr_paused,
        )
        if vin is None:
            return None
        self.sim.tracks[vin].fake.charging_state = "Charging"
        self.overridden.add(vin)
        return lambda _now: True

    async def _fault_ha_restart_in_flight(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool] | None:
        account = fault.target % len(self.teslas)
        fake = self.teslas[account]
        if account in self.held:
            return None
        fake.hold_next = fault.detail
        self.held[account] = fault

        async def withdraw() -> None:
            # No command came while it waited: the fault did not happen.
            if self.held.get(account) is fault:
                del self.held[account]
                fake.hold_next = None
                self.injected[fault.kind] -= 1
                self.skipped[fault.kind] += 1

        self.later.append((now + ARMED_FOR, withdraw))
        return lambda _now: (
            self.held.get(account) is not fault
            and (self.ha_busy is None or self.ha_busy.done())
        )

    async def _fault_linked_unavailable(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool] | None:
        if (linked := self.linked) is None or not linked.reachable:
            return None
        await linked.drop_off(now + fault.duration)
        return self._until(fault)

    async def _fault_linked_owner_stop(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool] | None:
        linked = self.linked
        if (
            linked is None
            or not linked.reachable
            or not self.ha_up
            or linked.charging_state != "Charging"
            or linked.vin in self.dr_paused
        ):
            return None
        await linked.owner_switch(on=False)

        async def back_on() -> None:
            # The owner switches it back on in Home Assistant once the charger answers again.
            if not linked.reachable or not self.ha_up:
                self.later.append((dt_util.utcnow() + timedelta(minutes=1), back_on))
            elif linked.relay_on is False and not linked.dr_opened:
                await linked.owner_switch(on=True)

        self.later.append((now + fault.duration, back_on))
        return self._until(fault)

    async def _fault_linked_override(
        self, fault: Fault, now: datetime
    ) -> Callable[[datetime], bool] | None:
        # DR pauses the charger for minutes at a time: the owner's override is armed for
        # the next pause and comes 1-4 minutes into it.
        if self.linked is None or self.override_armed is not None:
            return None
        self.override_armed = fault

        async def withdraw() -> None:
            if self.override_armed is fault:
                self.override_armed = None
                self.injected[fault.kind] -= 1
                self.skipped[fault.kind] += 1

        self.later.append((now + ARMED_FOR, withdraw))
        return lambda _now: self.override_armed is not fault

    async def _linked_override(self, fault: Fault) -> None:
        linked = self.linked
        if not self.ha_up:
            # The owner turns the switch on in Home Assistant, which is not there while it
            # restarts: a little later.
            self.later.append(
                (
                    dt_util.utcnow() + timedelta(minutes=1),
                    lambda: self._linked_override(fault),
                )
            )
            return
        if (
            linked is not None
            and linked.reachable
            and linked.charging_state == "Stopped"
            and linked.vin in self.dr_paused
        ):
            self.applied.append(
                f"{dt_util.utcnow().strftime('%d %H:%M:%S')}Z linked override fired"
            )
            await linked.owner_switch(on=True)
            self.overridden.add(linked.vin)

    def _background(
        self, work: Callable[[], Coroutine[Any, Any, None]]
    ) -> Callable[[datetime], bool]:
        """Run a Home Assistant fault beside the clock (its set-ups wait on timers)."""

        task = self.hass.async_create_task(work(), eager_start=False)
        self.ha_busy = task
        return lambda _now: task.done()

    async def _fault_ha_restart(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool]:
        return self._background(lambda: self.restart(fault.duration))

    async def _fault_entry_reload(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool] | None:
        if (entry := self._target_entry(fault)) is None:
            return None

        async def reload() -> None:
            if entry.state is ConfigEntryState.LOADED:
                await self.hass.config_entries.async_reload(entry.entry_id)

        return self._background(reload)

    async def _fault_options_change(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool] | None:
        if (entry := self._target_entry(fault)) is None:
            return None
        return self._background(lambda: self._change_options(entry))

    async def _change_options(self, entry: MockConfigEntry) -> None:
        if entry.state is not ConfigEntryState.LOADED:
            return
        flow = await self.hass.config_entries.options.async_init(entry.entry_id)
        if entry is self.prices_entry:
            self.threshold_flip = not self.threshold_flip
            answer: dict[str, Any] = {
                CONF_NODES: self.day.nodes,
                CONF_THRESHOLD: THRESHOLD + (10 if self.threshold_flip else 0),
                # The grid signals stay off: the week fakes no MIDAS.
                CONF_MOER_REGION: MOER_OFF,
                CONF_FLEX_ALERT: False,
            }
        else:
            options = entry.options
            answer = {
                CONF_POLLING_POLICY: options.get(
                    CONF_POLLING_POLICY, DEFAULT_POLLING_POLICY
                ),
                CONF_VEHICLES: options.get(
                    CONF_VEHICLES, [p.vin for p in self._plans(self._account_of(entry))]
                ),
            }
        result = await self.hass.config_entries.options.async_configure(
            flow["flow_id"], answer
        )
        if result["type"] != "create_entry":
            pytest.fail(f"options flow of {entry.entry_id} answered {result}")

    async def _fault_account_readd(
        self, fault: Fault, _now: datetime
    ) -> Callable[[datetime], bool] | None:
        account = fault.target % len(self.teslas)
        if self.account_entry(account) is None:
            return None

        async def remove_and_readd() -> None:
            entry = self.account_entry(account)
            if entry is None or entry.state is not ConfigEntryState.LOADED:
                return
            ledger = entry.runtime_data.dr.ledger
            removed_at = dt_util.utcnow()
            await self.hass.config_entries.async_remove(entry.entry_id)
            retired = {
                plan.vin: ledger.totals(plan.vin) for plan in self._plans(account)
            }
            self._retire(retired, 1)
            self.retired_ledgers.append(ledger)
            self.entries.remove(entry)
            # The owner adds the account again a while later (the lock is held: no restart
            # or reload lands in between, as the owner's own steps would not either).
            await asyncio.sleep(fault.duration.total_seconds())
            self.readds += 1
            new = self._new_account(account)
            self.entries.append(new)
            new.add_to_hass(self.hass)
            await self.hass.config_entries.async_setup(new.entry_id)
            if new.state is ConfigEntryState.LOADED and any(
                event.started < removed_at
                for event in new.runtime_data.dr.ledger.events
            ):
                # It took over the removed entry's ledger (a car was left paused): those
                # events are counted there now, not as retired.
                self._retire(retired, -1)
                self.retired_ledgers.remove(ledger)

        return self._background(remove_and_readd)

    def _retire(self, totals: dict[str, tuple[float, float]], sign: int) -> None:
        for vin, (kwh, usd) in totals.items():
            before = self.retired.get(vin, (0.0, 0.0))
            self.retired[vin] = (before[0] + sign * kwh, before[1] + sign * usd)

    def _account_of(self, entry: MockConfigEntry) -> int:
        return int(entry.data[CONF_EMAIL][5:7])

    def _target_entry(self, fault: Fault) -> MockConfigEntry | None:
        if fault.detail == "prices":
            entry: MockConfigEntry | None = self.prices_entry
        else:
            entry = self.account_entry(fault.target % len(self.teslas))
        return (
            entry
            if entry is not None and entry.state is ConfigEntryState.LOADED
            else None
        )

    async def restart(
        self, downtime: timedelta, *, stopped: asyncio.Event | None = None
    ) -> None:
        """Stop Home Assistant as a restart does, keeping the Store, and start it again.

        Home Assistant does not unload config entries when it stops: what DR holds paused
        stays paused, and the final write flushes the stores. Here the entries are unloaded
        to end their timers, but nothing they send reaches the cars (the linked charger's
        relay is put back as it was) and what they write is replaced by what the final
        write left on disk. `stopped` is set once nothing sent reaches a car any more.
        """
        hass = self.hass
        before = self.ledger_kwh()
        self.ha_up = False
        # The price feed's timers end first: what it would ask while stopping is not this
        # run's to count.
        if (prices := hass.data.get(DATA_PRICES)) is not None:
            prices.async_stop()
        # Home Assistant's first stage: the shutdown jobs, awaited for up to 20 s, the
        # network still up. It does not wait for the other tasks running: from here on
        # nothing sent reaches OASIS or a car, and what arrives later misses the final write.
        jobs = [
            task
            for job in hass._shutdown_jobs  # noqa: SLF001
            if (task := hass.async_run_hass_job(job.job, *job.args)) is not None
        ]
        if jobs:
            await asyncio.wait(jobs, timeout=STOPPING_STAGE_SHUTDOWN_TIMEOUT)
        self.log.muted = True
        self.oasis.halted = True
        for fake in self.teslas:
            fake.halted = True
        if (linked := self.linked) is not None:
            linked.frozen_relay = linked.relay_on
            linked.halted = True
        hass.bus.async_fire(EVENT_HOMEASSISTANT_FINAL_WRITE)
        for _ in range(20):
            await asyncio.sleep(0)
        disk = {
            key: copy.deepcopy(value)
            for key, value in self.storage.items()
            if key.startswith(DOMAIN)
        }
        if stopped is not None:
            stopped.set()
        loaded = [
            e
            for e in [*self.entries, *self.linked_entries]
            if e.state is ConfigEntryState.LOADED
        ]
        for entry in reversed(loaded):
            await hass.config_entries.async_unload(entry.entry_id)
        if linked is not None and linked.frozen_relay is not None:
            relay, linked.frozen_relay = linked.frozen_relay, None
            await linked.restore_relay(relay)
            linked.halted = False
        for key in [k for k in self.storage if k.startswith(DOMAIN)]:
            del self.storage[key]
        self.storage.update(disk)
        hass.data.pop(DATA_FEED, None)
        hass.data.pop(DATA_PRICES, None)
        self.log.muted = False
        await asyncio.sleep(downtime.total_seconds())
        # Nothing of the stopped instance reaches OASIS or a car while it is down.
        for fake in self.teslas:
            fake.halted = False
        self.oasis.halted = False
        self.restarts.append(dt_util.utcnow())
        for entry in loaded:
            await hass.config_entries.async_setup(entry.entry_id)
        self.ha_up = True
        after = self.ledger_kwh()
        if after < before - 1e-6:
            self.violations.add(
                "ledger_lost_on_restart",
                f"{dt_util.utcnow().isoformat()} {before:.3f} -> {after:.3f} kWh",
            )


def _floor(moment: datetime) -> datetime:
    return moment.replace(
        minute=moment.minute - moment.minute % 5, second=0, microsecond=0
    )


async def run_week(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    storage: dict[str, Any],
    seed: int | None,
    days: int,
    *,
    trace_memory: bool,
    cars: int = CARS,
    first_day: date = WEEK_START,
    linked: bool = True,
    leave_out: Collection[str] = (),
) -> dict[str, Any]:
    """One seed's week (None: without faults) from a local date on; its JSON row."""
    day = generated_week(first_day, days)
    midnights_due = [*day.midnights[1:]]
    start = day.start + START_OFFSET
    end = day.end + START_OFFSET
    freezer.move_to(start)
    oasis = FaultyOasis(
        clock=dt_util.utcnow,
        lag_fn=PriceDay.lag,
        price_fn=lambda _market, node, moment: day.price(node, moment),
    )
    plans = fleet(cars)
    teslas = await start_fakes(
        oasis,
        plans,
        lambda k: FaultyTesla(
            clock=dt_util.utcnow, account_id=f"5a6f1c3e-2b7d-4e8f-9a0b-{k:012d}"
        ),
    )
    sim = WeekSim(day, plans, *fleet_of(teslas), start)
    week = Week(hass, freezer, storage, day, oasis, teslas, sim, with_linked=linked)
    week.waiting = [
        fault
        for fault in (schedule(seed, day.start, days) if seed is not None else [])
        if fault.kind not in leave_out
    ]
    day_events = [e for one in day.days for e in events(one, oasis.published_at)]
    marks = sorted(
        ((e.node, e.first, e.published) for e in day_events), key=lambda m: m[2]
    )
    charging_at: dict[tuple[str, datetime], bool] = {}
    midnights: dict[str, list[int]] = {
        "objects": [],
        "tesladr_objects": [],
        "home_assistant_objects": [],
        "rss_kib": [],
    }
    by_type: list[Counter[str]] = []
    measured_late: list[int] = []  # seconds after each midnight
    if trace_memory:
        midnights["traced_kib"] = []
        midnights["tesladr_traced_kib"] = []
    next_midnight = midnights_due.pop(0)
    root = logging.getLogger()
    root.addHandler(week.log)
    if os.environ.get("FAULT_DEBUG") == "1":
        for name in ("custom_components.tesladr", "teslajsonpy"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    began = os.times()
    debug = hass.loop.get_debug()
    hass.loop.set_debug(False)
    if trace_memory:
        tracemalloc.start()
    steps = gave_up = 0
    entries_at_end: dict[str, str] = {}
    linked_kwh = 0.0
    linked_events: list[str] = []
    try:
        await week.start()
        while True:
            now = dt_util.utcnow()
            await week.step(now)
            while marks and marks[0][2] <= now:
                charging_at.update(charging_snapshot(sim, [marks.pop(0)]))
            if oasis.sleeping:
                # A slow answer keeps its request's task waiting on the socket, not on a
                # timer: let the loop run a little real time (other requests reach the
                # fakes), then move time on to the answer or the timeout.
                began_spin = os.times().elapsed
                while (spun := os.times().elapsed - began_spin) < SLOW_SPIN_S or (  # noqa: ASYNC110
                    spun < TRANSIT_SPIN_S and not oasis.arrived(hass)
                ):
                    await asyncio.sleep(0)
            else:
                gave_up += await settle(hass)
            if now >= next_midnight and (week.quiet() or now >= end):
                # Measured once nothing is in flight: a restart or a held answer under way
                # keeps the objects of the instance it replaces alive until it ends.
                measure_memory(midnights, by_type, traced=trace_memory)
                measured_late.append(round((now - next_midnight).total_seconds()))
                next_midnight = midnights_due.pop(0) if midnights_due else end + DAY
            if now >= end:
                break
            candidates = [end, sim.next_change()]
            if next_midnight > now:
                candidates.append(next_midnight)
            if marks:
                candidates.append(marks[0][2])
            if (due := week.next_due()) is not None:
                candidates.append(due)
            if (timer := next_timer(hass, now)) is not None:
                candidates.append(timer)
            freezer.tick(max(min(candidates) - now, timedelta(microseconds=1)))
            steps += 1
            if PROGRESS and steps % 2000 == 0:
                print(f"step {steps} at {now.astimezone(PACIFIC)}", flush=True)
        ledger_kwh = week.ledger_kwh()
        linked_kwh = week.ledger_kwh(week.linked.vin) if week.linked else 0.0
        final = week.any_linked_ledger()
        linked_events = [
            f"{_hm(e.started)}-{_hm(e.ended)} {e.kwh:.2f} {e.outcome}"
            for e in (final.events if final is not None else [])
        ]
        entries_at_end = {
            e.entry_id: e.state.value for e in [*week.entries, *week.linked_entries]
        }
        week.finish()
        for measure in CHECKED_MEMORY:
            if memory_grows(series := midnights.get(measure, [])):
                week.violations.add("memory_growth", f"{measure} at midnights {series}")
    finally:
        if trace_memory:
            tracemalloc.stop()
        hass.loop.set_debug(debug)
        root.removeHandler(week.log)
        if week.unfollow is not None:
            week.unfollow()
        for entry in reversed([*week.entries, *week.linked_entries]):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await settle(hass)
        for fake in teslas:
            await fake.stop()
        await oasis.stop()
        OASIS_ADDRESS.close()
    done = os.times()
    logs = [fake.log for fake in teslas]
    dr = dr_summary(
        logs,
        sim,
        day_events,
        charging_at,
        list(
            zip((r.at for r in oasis.requests if r.market), oasis.order, strict=False)
        ),
        sequential_accounts=False,
    )
    outcome = {
        "events": dr["events"],
        "missed_car_events": dr["missed_car_events"],
        "pauses": week.pauses,
        "starts": dr["starts"],
        "kwh_not_consumed": dr["kwh_not_consumed"],
        "ledger_kwh": round(ledger_kwh, 2),
        "usd_not_consumed": dr["usd_not_consumed"],
        "reaction_p50_s": dr["reaction_s"]["p50"],
        "reaction_max_s": dr["reaction_s"]["max"],
        "left_paused": dr["left_paused"],
    }
    return summary(
        seed=seed if seed is not None else -1,
        days=days,
        injected=week.injected,
        skipped=week.skipped,
        violations=week.violations,
        recovery=week.recovery,
        dr=outcome,
        fault_free=None,
        extra={
            "fault_free": seed is None,
            "linked_car": None
            if week.linked is None
            else {
                "kwh_not_drawn": round(week.linked.paused_kwh, 2),
                "ledger_kwh": round(linked_kwh, 2),
                "kwh_charged": round(week.linked.charged_kwh, 1),
                "switch_calls": dict(Counter(c[1] for c in week.linked.tesladr_calls)),
                "switch_calls_while_stopping": week.linked.calls_while_stopping,
                "not_drawn": [
                    f"{_hm(a)}-{_hm(b)} {kwh:.2f}" for a, b, kwh in week.linked.spans
                ],
                "ledger": linked_events,
            },
            "commands_lost_in_restarts": week.in_flight,
            "first_day": first_day.isoformat(),
            "day_hours": [
                (b - a) / timedelta(hours=1)
                for a, b in itertools.pairwise(day.midnights)
            ],
            "fault_log": week.applied,
            "memory_at_midnight": midnights,
            "memory_measured_s_after_midnight": measured_late,
            "objects_grown_by_type": memory_growth_by_type(by_type),
            "tesladr_objects_grown_by_type": memory_growth_by_type(
                by_type, PRODUCT_MODULES
            ),
            "steps": steps,
            "settle_gave_up": gave_up,
            "entries_at_end": entries_at_end,
            "oasis_requests": len(oasis.requests),
            "oasis_sent_while_stopping": oasis.while_stopped,
            "oasis_over_3_only_across_restarts": week.over_budget_across_restarts,
            "unavailable_logged": dict(week.unavailable_lines),
            "wall_s": round(done.elapsed - began.elapsed, 1),
            "cpu_s": round(done.user + done.system - began.user - began.system, 1),
        },
    )


def measure_memory(
    midnights: dict[str, list[int]], by_type: list[Counter[str]], *, traced: bool
) -> None:
    """Live objects, resident memory and (when traced) traced memory after a full collection."""
    gc.collect()
    objects = gc.get_objects()
    midnights["objects"].append(len(objects))
    types = Counter(_type_name(o) for o in objects)
    del objects
    by_type.append(types)
    midnights["tesladr_objects"].append(
        sum(
            n
            for name, n in types.items()
            if name.startswith(PRODUCT_MODULES) and name not in BY_DESIGN
        )
    )
    midnights["home_assistant_objects"].append(
        sum(n for name, n in types.items() if name.startswith("homeassistant."))
    )
    midnights["rss_kib"].append(psutil.Process().memory_info().rss // 1024)
    if traced:
        midnights["traced_kib"].append(tracemalloc.get_traced_memory()[0] // 1024)
        ours = tracemalloc.take_snapshot().filter_traces(PRODUCT_FILES)
        midnights["tesladr_traced_kib"].append(
            sum(stat.size for stat in ours.statistics("filename")) // 1024
        )


def _hm(moment: datetime | None) -> str:
    return moment.strftime("%d %H:%M:%S") if moment is not None else "…"


def _type_name(thing: object) -> str:
    kind = type(thing)
    return f"{kind.__module__}.{kind.__qualname__}"


def memory_growth_by_type(
    by_type: list[Counter[str]], prefix: tuple[str, ...] = ("",)
) -> dict[str, int]:
    """The types whose live objects grew most from the second midnight to the last."""
    if len(by_type) < 3:
        return {}
    grown = Counter(
        {name: n for name, n in by_type[-1].items() if name.startswith(prefix)}
    )
    grown.subtract(
        {name: n for name, n in by_type[1].items() if name.startswith(prefix)}
    )
    return {name: n for name, n in grown.most_common(12) if n > 0}


def leave_out(text: str) -> set[str]:
    """Fault kinds named in a comma list; `later` names every kind of LATER_KINDS."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    if "later" in names:
        names = (names - {"later"}) | {kind.name for kind in LATER_KINDS}
    if unknown := names - set(KIND_BY_NAME):
        pytest.fail(f"no such fault kinds: {sorted(unknown)}")
    return names


def _seeds() -> list[int | None]:
    seeds = [int(s) for s in os.environ.get("FAULT_SEEDS", "1,2,3,4,5").split(",") if s]
    # Another job of the same run may have the fault-free week (scripts/bench splits seeds).
    return seeds if os.environ.get("FAULT_FREE") == "0" else [None, *seeds]


@pytest.mark.parametrize(
    "seed", _seeds(), ids=lambda s: "fault-free" if s is None else f"seed{s}"
)
async def test_fault_week(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    seed: int | None,
) -> None:
    """Print one JSON line per seed (and one for the fault-free week)."""
    days = int(os.environ.get("FAULT_DAYS", "7"))
    with counted_logs() as counter:
        row = await run_week(
            hass,
            freezer,
            hass_storage,
            seed,
            days,
            trace_memory=os.environ.get("FAULT_TRACE_MEMORY") == "1",
            first_day=date.fromisoformat(
                os.environ.get("FAULT_START") or WEEK_START.isoformat()
            ),
            linked=os.environ.get("FAULT_LINKED", "1") != "0",
            leave_out=leave_out(os.environ.get("FAULT_LEAVE_OUT", "")),
        )
    row["log_lines"] = dict(counter.counts)
    row["log_first"] = counter.first
    print(json.dumps(row))
