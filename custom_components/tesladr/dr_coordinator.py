"""The DR coordinator of one config entry: binds the pure policy to a car source and prices.

On every new price interval (and every car update) it asks `dr.decide` what to do with each car
of its source, sends stop or start through the source, and keeps which cars it paused, their
settings and the ledger in a Store, so a restart neither forgets a paused car nor stops it
twice. Where a car comes from (an account's teslajsonpy coordinator, or entities of another
integration) is the source's business: this class never knows. DR entities listen to it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .caiso.nodes import Utility
from .car_source import CarSource
from .commands import (
    NOTHING_TO_STOP,
    UNCONFIRMED,
    CommandAttempts,
    async_try_start,
    async_try_stop,
    start_due,
    stop_due,
)
from .const import DOMAIN, LOGGER
from .dr import (
    Action,
    CarDrState,
    CarSnapshot,
    Decision,
    DrEvent,
    DrSettings,
    Ledger,
    Outcome,
    Price,
    ReadNeed,
    Reason,
    SkipBudgetExceeded,
    decide,
    decide_unload,
    next_state,
    read_need,
    with_skipped,
)
from .dr_store import DrStore, StopInFlight, left_paused_issue_id
from .price_coordinator import (
    INTERVAL,
    LOOKBACK,
    CaisoPriceCoordinator,
    async_acquire_price_coordinator,
    async_release_price_coordinator,
)
from .price_feed import async_declare_nodes
from .pricing import NodeChoice, location, resolve_node
from .vehicles import ChargeState, CommandResult, VehicleState

EVENT_DR = f"{DOMAIN}_dr_event"
# Right after start-up a node may not have been fetched yet; don't read that as "stale".
NO_PRICE_GRACE = timedelta(minutes=2)
# Events keep collecting the value of intervals they overlap until those are published: as
# long as the price feed's request still reaches back to them, so an OASIS outage that ended
# the event on stale prices does not leave its last intervals out.
ACCOUNT_TAIL = LOOKBACK + timedelta(minutes=10)
TICK = timedelta(minutes=1)
# Home Assistant stopping: how long a command on its way may take to answer before the state
# is written without it. Home Assistant gives all shutdown jobs 20 s together; an answer that
# misses the final write leaves a command in flight for the next start to settle.
STOP_WAIT_SECONDS = 15
RENOTIFY = timedelta(minutes=15)
# Further reasons to read a car of a source that reads only when asked (CarSource).
READ_ON_DEMAND = {Reason.ASLEEP, Reason.WAITING_FOR_PRICE_DROP}
DECISION_HISTORY = 20
# A car read ahead of a crossing (ReadNeed.APPROACH) for the interval before it is acted on
# without a read of its own while that read is at most this old: one interval and a margin
# for the publication lag moving.
READ_AHEAD_FRESH = timedelta(minutes=6)
# A car answers a stop within seconds; its energy count moves 0.01 kWh in 5 s at 7 kW.
STOP_TOOK_WITHIN = timedelta(minutes=1)
# The resolution of a car's energy count, and how far a read's time may be off the moment
# the car measured (see `_stopped_as_sent`).
COUNT_STEP_KWH = 0.01
READ_TIMING = timedelta(seconds=10)
# More than the count's rounding: a stopped car's count moved by this much charged since.
ENERGY_MOVED = 0.05
# Reasons for which a price above the threshold is worth a fresh read of the car.
STATE_DEPENDENT = {
    Reason.PRICE_ABOVE_THRESHOLD,
    Reason.NOT_CHARGING,
    Reason.NOT_PLUGGED_IN,
    Reason.DC_FAST_CHARGING,
    Reason.BELOW_BATTERY_FLOOR,
}
OUTCOMES = {
    Reason.PRICE_BELOW_RESUME: Outcome.RESUMED,
    Reason.PRICES_STALE: Outcome.RESUMED_STALE,
    Reason.OPTED_OUT: Outcome.OPTED_OUT,
    Reason.SKIPPED: Outcome.SKIPPED,
    Reason.UNLOADING: Outcome.UNLOADED,
    Reason.USER_OVERRIDE: Outcome.OVERRIDDEN,
    Reason.NOT_PLUGGED_IN: Outcome.UNPLUGGED,
}

STATUS_OPTIONS = [
    "monitoring",
    "paused",
    "overridden",
    "skipped",
    "opted_out",
    "command_failed",
]


@dataclass(slots=True)
class CarDr:
    """Everything DR keeps for one car."""

    settings: DrSettings = field(default_factory=DrSettings)
    state: CarDrState = field(default_factory=CarDrState)
    choice: NodeChoice | None = None
    decision: Decision | None = None
    price: Price | None = None
    attempts: CommandAttempts = field(default_factory=CommandAttempts)
    # The car's last known location: a source that loses it for a while (the integration
    # reloading, a car asleep) must not move the car to the home location's node.
    place: tuple[float, float] | None = None
    refreshed_for: datetime | None = None
    # The interval of the last read ahead of a crossing, and when it was made.
    read_ahead_for: datetime | None = None
    read_ahead_at: datetime | None = None
    history: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=DECISION_HISTORY)
    )

    @property
    def node(self) -> str | None:
        """The pricing node DR follows for the car."""
        return self.choice.node if self.choice else None

    @property
    def utility(self) -> Utility | None:
        """The utility whose area the car is in, when known."""
        return self.choice.utility if self.choice else None

    @property
    def command_error(self) -> str | None:
        """Why the last command failed, while that matters."""
        return self.attempts.error

    @property
    def status(self) -> str:
        """One word for the status sensor."""
        if self.state.paused_by_dr:
            return "paused"
        if not self.settings.enabled:
            return "opted_out"
        if self.state.overridden:
            return "overridden"
        if self.state.skipped:
            return "skipped"
        if self.attempts.error is not None:
            return "command_failed"
        return "monitoring"


def snapshot(
    car: ChargeState,
    in_caiso: bool,
    paused_at: datetime | None,
    tells: bool,
    charged_since_pause: bool = False,
) -> CarSnapshot:
    """What the policy needs of a car; stale data never counts as online."""
    return CarSnapshot(
        online=car.state is VehicleState.ONLINE and not car.stale,
        plugged_in=bool(car.plugged_in),
        charging=car.charging,
        fast_charging=bool(car.fast_charger),
        battery_level=car.battery_level,
        in_caiso=in_caiso,
        tells_overrides=tells,
        owner_override=(
            tells
            and paused_at is not None
            and car.owner_started_at is not None
            and car.owner_started_at > paused_at
        ),
        charged_since_pause=charged_since_pause,
    )


def charged_since_pause(event: DrEvent | None, car: ChargeState) -> bool:
    """Whether a car read stopped has charged since it was last seen paused.

    Its energy count moved (or went down: a new session): somebody started it between two
    reads and it stopped again.
    """
    if (
        event is None
        or event.seen_paused_energy_kwh is None
        or car.charge_energy_added_kwh is None
        or car.charging
        or car.stale
    ):
        return False
    return (
        abs(car.charge_energy_added_kwh - event.seen_paused_energy_kwh) > ENERGY_MOVED
    )


class DrCoordinator(DataUpdateCoordinator[None]):
    """Demand response for the cars of one config entry."""

    config_entry: ConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, source: CarSource
    ) -> None:
        """Bind to the entry's car source; call async_setup next."""
        super().__init__(
            hass, LOGGER, config_entry=entry, name=f"tesladr DR {entry.title}"
        )
        self.source = source
        self.cars: dict[str, CarDr] = {}
        self.ledger = Ledger()
        self.prices: CaisoPriceCoordinator | None = None
        self._store = DrStore(hass, entry.entry_id, entry.unique_id)
        self._lock = asyncio.Lock()
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self._started = dt_util.utcnow()
        self._notified = self._started
        self._nodes: set[str] = set()
        self._unloaded = False
        self._stopping = False
        self._restored_starts: set[str] = set()

    # Life cycle

    async def async_setup(self) -> None:
        """Restore what was persisted, join the price feed and reconcile with the cars."""
        stored, self.ledger = await self._store.async_load()
        if self._store.adopted and self.config_entry.unique_id:
            LOGGER.info(
                "%s takes over the cars its removed entry left paused",
                self.config_entry.title,
            )
            ir.async_delete_issue(
                self.hass, DOMAIN, left_paused_issue_id(self.config_entry.unique_id)
            )
        for car_id, (settings, state) in stored.items():
            self.cars[car_id] = CarDr(settings=settings, state=state)
        # Starts the stopped instance left unanswered; one unconfirmed now is not among them.
        self._restored_starts = set(self._store.starts_in_flight)
        self._started = dt_util.utcnow()
        self._nodes = self._car_nodes()
        self.prices = await async_acquire_price_coordinator(
            self.hass, self.config_entry.entry_id, self._nodes, require_data=False
        )
        self._unsubs = [
            self.prices.async_add_listener(self.async_schedule),
            self.source.async_add_listener(self.async_schedule),
            async_track_time_interval(self.hass, self._async_tick, TICK),
            self.hass.async_add_shutdown_job(HassJob(self._async_stop)),
        ]
        # Reconcile: a paused car that is charging now was restarted by its owner.
        await self.async_evaluate()

    async def async_unload(self) -> None:
        """Resume every car DR paused, side by side, then leave the price feed."""
        self._unloaded = True
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        async with self._lock:
            now = dt_util.utcnow()
            await asyncio.gather(
                *(
                    self._resume(car_id, car, decision, now, now_or_never=True)
                    for car_id, car in self.cars.items()
                    if (decision := decide_unload(car.state)).action is Action.RESUME
                )
            )
            await self._async_save()
        async_release_price_coordinator(self.hass, self.config_entry.entry_id)

    async def _async_stop(self) -> None:
        # Home Assistant does not wait for the tasks running when it stops: a command's answer
        # arriving after its final write would be lost. Send nothing more, let the evaluation
        # under way get its answers, and write them now.
        self._stopping = True
        try:
            async with asyncio.timeout(STOP_WAIT_SECONDS), self._lock:
                await self._async_save()
        except TimeoutError:
            LOGGER.info(
                "%s: a command was still unanswered when Home Assistant stopped; it is"
                " checked with the car at the next start",
                self.config_entry.title,
            )

    async def async_remove(self) -> None:
        """Forget the entry's DR settings, state and ledger."""
        await self._store.async_remove()

    async def _async_update_data(self) -> None:
        # `homeassistant.update_entity` on a DR entity: evaluate now.
        await self.async_evaluate()

    @callback
    def async_schedule(self) -> None:
        """Evaluate soon; several triggers while one evaluation runs make one more."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = self.config_entry.async_create_task(
                self.hass, self._async_run(), "tesladr demand response"
            )

    async def _async_run(self) -> None:
        while self._dirty:
            self._dirty = False
            await self.async_evaluate()

    @callback
    def _async_tick(self, _now: datetime) -> None:
        # The stale-price fail-safe must not depend on the price feed calling us.
        self.async_schedule()

    # Cars, nodes and prices

    def managed_cars(self) -> list[str]:
        """Cars of the source that DR looks after."""
        return list(self.source.cars)

    def car(self, car_id: str) -> CarDr:
        """The car's DR record (created with default settings)."""
        return self.cars.setdefault(car_id, CarDr())

    def resolve(self, car_id: str) -> NodeChoice:
        """The car's pricing node, utility and whether it is within reach of the node."""
        car = self.car(car_id)
        car.place = location(self.source.cars.get(car_id)) or car.place
        return resolve_node(self.hass, car.settings.node, car.place)

    def resolve_node(self, car_id: str) -> tuple[str, bool]:
        """The car's pricing node, and whether the car is within reach of it."""
        choice = self.resolve(car_id)
        return choice.node, choice.in_caiso

    def _car_nodes(self) -> set[str]:
        return {self.resolve(car_id).node for car_id in self.managed_cars()}

    def price(self, node: str) -> Price | None:
        """The node's newest 5-minute price."""
        if self.prices is None or (latest := self.prices.data.latest(node)) is None:
            return None
        return Price(latest.price, latest.start, latest.end)

    def expected(self, node: str, after: datetime) -> float | None:
        """The forecast price of the node's next 5-minute interval.

        The 15-minute market's; the day-ahead market's only when tesladr has no 15-minute
        prices for the node at all (their request failed). Only the next interval: a read
        ahead pays only when the very next price crosses. The day-ahead price is not read
        beside the 15-minute market: an hour above the threshold there says nothing of which
        interval crosses, and reading at each interval of such hours cost more than the
        crossings' reads it saved (see dr.reads).
        """
        if self.prices is None:
            return None
        data = self.prices.data
        market = data.fifteen_minute.get(node) or data.day_ahead.get(node, [])
        end = after + INTERVAL
        return max(
            (
                interval.price
                for interval in market
                if interval.start < end and interval.end > after
            ),
            default=None,
        )

    def read_need(self, car: CarDr, price: Price | None) -> ReadNeed:
        """How closely the car must be read for the decisions to come (see dr.reads)."""
        return read_need(
            car.settings,
            car.state,
            price.value if price else None,
            self.expected(car.node, price.end) if price and car.node else None,
        )

    def car_for_device(self, device_id: str) -> str | None:
        """The car whose device this is, among this entry's cars."""
        return next(
            (
                car_id
                for car_id in self.managed_cars()
                if self.source.device_id(car_id) == device_id
            ),
            None,
        )

    # Evaluation

    async def async_evaluate(self) -> None:
        """Decide and act for every car."""
        if self._unloaded or self._stopping:
            return  # scheduled just before the entry went away or Home Assistant stopped
        async with self._lock:
            now = dt_util.utcnow()
            gone = self._forget_gone_cars(now)
            nodes = self._car_nodes()
            if nodes != self._nodes:
                self._nodes = nodes
                async_declare_nodes(self.hass, self.config_entry.entry_id, nodes)
            # Cars are independent: an entry's cars are stopped side by side, not in turn.
            results = await asyncio.gather(
                *(self._evaluate_car(car_id, now) for car_id in self.managed_cars())
            )
            self.source.async_set_read_needs(self._read_needs())
            accounted = self._account(now)
            if gone or any(persist for persist, _ in results):
                await self._async_save()
            elif accounted:
                self._async_delay_save()
            visible = gone or accounted or any(shown for _, shown in results)
        if visible or now - self._notified >= RENOTIFY:
            # Entity writes are the bulk of the work with many cars: only on change, plus a
            # periodic one for the rolling 24 h event count.
            self._notified = now
            self.async_update_listeners()

    def _read_needs(self) -> dict[str, ReadNeed]:
        """How closely the source must read each car for the decisions to come."""
        needs: dict[str, ReadNeed] = {}
        for car_id in self.managed_cars():
            car = self.car(car_id)
            if car.choice is None:
                car.choice = self.resolve(car_id)
            needs[car_id] = self.read_need(car, self.price(car.choice.node))
        return needs

    def _forget_gone_cars(self, now: datetime) -> bool:
        """Drop the DR state of cars the source no longer has (they left the account)."""
        gone = [car_id for car_id in self.cars if car_id not in self.source.cars]
        for car_id in gone:
            self.ledger.end(car_id, now, Outcome.REMOVED)
            del self.cars[car_id]
        return bool(gone)

    def _view(self, car: CarDr) -> tuple[object, ...]:
        return (car.status, car.decision, car.price, car.command_error, car.choice)

    async def _evaluate_car(self, car_id: str, now: datetime) -> tuple[bool, bool]:
        """Decide and act for one car; return (state to persist, something to show)."""
        car = self.car(car_id)
        shown = self._view(car)
        before = car.state
        await self._decide_and_act(car_id, car, now)
        return car.state != before, self._view(car) != shown

    def _paused_at(self, car_id: str) -> datetime | None:
        event = self.ledger.active(car_id)
        return event.started if event is not None else None

    def _pause_event(self, car_id: str, car: CarDr) -> DrEvent | None:
        """The ledger event of the car's pause, while DR holds it paused."""
        return self.ledger.active(car_id) if car.state.paused_by_dr else None

    async def _decide_and_act(self, car_id: str, car: CarDr, now: datetime) -> None:
        car.choice = self.resolve(car_id)
        read = self.source.cars[car_id]
        if car_id in self._store.stops_in_flight:
            self._settle_stop_in_flight(car_id, car, read)
        if car_id in self._restored_starts:
            self._settle_start_in_flight(car_id, car, read, now)
        event = self._pause_event(car_id, car)
        charged = charged_since_pause(event, read)
        if event is not None and not charged and not read.charging and read.updated_at:
            event.seen_paused_at = read.updated_at
            event.seen_paused_energy_kwh = read.charge_energy_added_kwh
        price = self.price(car.choice.node)
        if price is None and now - self._started < NO_PRICE_GRACE:
            return

        def decide_now() -> Decision:
            known = snapshot(
                self.source.cars[car_id],
                car.choice is not None and car.choice.in_caiso,
                self._paused_at(car_id),
                self.source.tells_overrides,
                charged_since_pause(
                    self._pause_event(car_id, car), self.source.cars[car_id]
                ),
            )
            return decide(price, car.settings, known, car.state, now)

        decision = decide_now()
        crossing = (
            decision.reason in STATE_DEPENDENT
            and self.source.cars[car_id].state is VehicleState.ONLINE
        ) or (
            self.source.reads_on_demand
            and decision.reason in STATE_DEPENDENT | READ_ON_DEMAND
        )
        ahead = (
            self.source.reads_on_demand
            and not crossing
            and self.read_need(car, price) is ReadNeed.APPROACH
        )
        if (
            price is not None
            and car.refreshed_for != price.start
            and (crossing or ahead)
        ):
            car.refreshed_for = price.start
            # The price just crossed this car's threshold, or is about to: look at the car
            # before acting, unless it was read for the interval before. Then DR acts on
            # that read, and a car it did not show charging is read at the next interval,
            # as any car of an event.
            if ahead or not self._read_ahead(car, price, self.source.cars[car_id], now):
                await self.source.async_refresh_cars({car_id})
                if ahead:
                    car.read_ahead_for, car.read_ahead_at = price.start, now
                # The read may have moved the car to another node.
                car.choice = self.resolve(car_id)
                if (moved := self.price(car.choice.node)) is not None:
                    price = moved
                decision = decide_now()
        car.price = price
        self._record(car, decision, now)
        match decision.action:
            case Action.PAUSE:
                await self._pause(car_id, car, decision, price, now)
            case Action.RESUME:
                if price is not None:
                    # The start is this interval's business with the car, and is not read
                    # back: a read ahead of the next crossing waits for the next interval.
                    car.refreshed_for = price.start
                await self._resume(car_id, car, decision, now)
            case Action.RELEASE:
                ended = now
                if decision.reason is Reason.USER_OVERRIDE:
                    ended = self._override_at(car_id, now)
                self.ledger.end(car_id, ended, OUTCOMES[decision.reason])
                car.state = next_state(car.state, decision, price, car.settings, now)
                if decision.reason is Reason.USER_OVERRIDE:
                    self._fire("overridden", car_id, car, decision.reason)
                else:
                    self._fire("ended", car_id, car, decision.reason)
            case Action.HOLD | Action.IGNORE:
                car.state = next_state(car.state, decision, price, car.settings, now)
                if decision.reason in (
                    Reason.PRICE_BELOW_THRESHOLD,
                    Reason.PRICES_STALE,
                ):
                    # The event is over for this car: a later one gets fresh attempts.
                    car.attempts.reset()

    @staticmethod
    def _read_ahead(car: CarDr, price: Price, read: ChargeState, now: datetime) -> bool:
        """Whether the car was read ahead for the interval just before this price's.

        A car shown online must have been read then (a read that failed leaves older data);
        one shown asleep was looked up in the product list, which says all there is.
        """
        fresh = (
            car.read_ahead_for == price.start - INTERVAL
            and car.read_ahead_at is not None
            and now - car.read_ahead_at <= READ_AHEAD_FRESH
        )
        if not fresh or read.state is not VehicleState.ONLINE:
            return fresh
        return (
            not read.stale
            and read.updated_at is not None
            and now - read.updated_at <= READ_AHEAD_FRESH
        )

    def _settle_stop_in_flight(
        self, car_id: str, car: CarDr, read: ChargeState
    ) -> None:
        """A stop was unanswered when Home Assistant stopped: the car tells whether it took.

        Stopped and plugged in, with no more energy added than up to the stop: it went
        through, and the pause is DR's from when it was sent. Anything else: it did not, and
        a car stopped later (by its owner, in the meantime) is not DR's to start. A car not
        read yet is asked again later.
        """
        if read.stale or read.charging_state is None:
            return
        stop = self._store.stops_in_flight.pop(car_id)
        self._async_delay_save()
        if car.state.paused_by_dr or read.charging_state != "Stopped":
            return
        if not _stop_took(stop, read):
            LOGGER.debug(
                "%s charged on after the stop: it is not DR's pause", read.name
            )
            return
        car.state = replace(car.state, paused_by_dr=True)
        self._open_event(car_id, car, stop.sent_at, stop.power_kw, stop.needed_kwh)
        LOGGER.info("Paused charging of %s before the restart", read.name)
        self._fire("started", car_id, car, Reason.PRICE_ABOVE_THRESHOLD)

    def _settle_start_in_flight(
        self, car_id: str, car: CarDr, read: ChargeState, now: datetime
    ) -> None:
        """A start was unanswered when Home Assistant stopped: the car tells whether it took.

        Charging, or stopped with an energy count that moved since it was seen paused (its
        owner stopped it since): it took, and the event ended when it was sent. Still as DR
        left it: it did not, and the car is resumed as any paused car. A car not read yet is
        asked again later.
        """
        if read.stale or read.charging_state is None:
            return
        self._restored_starts.discard(car_id)
        sent_at, reason = self._store.starts_in_flight.pop(car_id)
        self._async_delay_save()
        event = self.ledger.active(car_id)
        if not car.state.paused_by_dr or event is None:
            return
        moved = (
            read.charge_energy_added_kwh is not None
            and event.seen_paused_energy_kwh is not None
            and read.charge_energy_added_kwh != event.seen_paused_energy_kwh
        )
        if not read.charging and not moved:
            return
        decision = Decision(Action.RESUME, reason)
        car.state = next_state(car.state, decision, car.price, car.settings, now)
        self.ledger.end(car_id, sent_at, OUTCOMES[decision.reason])
        LOGGER.info("Resumed charging of %s before the restart", read.name)
        self._fire("ended", car_id, car, decision.reason)

    def _open_event(
        self,
        car_id: str,
        car: CarDr,
        started: datetime,
        power_kw: float,
        needed_kwh: float | None,
    ) -> None:
        """The ledger event of a pause DR made, at the car's node and utility."""
        utility = car.utility
        self.ledger.start(
            car_id,
            car.node or "",
            started,
            power_kw,
            needed_kwh,
            utility=(utility.name, utility.dlap) if utility else None,
        )

    def _override_at(self, car_id: str, now: datetime) -> datetime:
        """When the owner restarted charging, for the ledger.

        A source that tells overrides changed its state at that moment. A source that cannot
        tell is read every poll while the car is paused: the restart came between the read
        that saw the car paused and the one that saw it charging. The energy the car added in
        between, at its power, dates it; where the car reports neither, halfway is the
        estimate that counts neither the whole gap nor none of it. A car that has stopped
        again by the read charged up to some moment before it: halfway again.
        """
        event = self.ledger.active(car_id)
        read = self.source.cars[car_id]
        seen = min(read.updated_at or now, now)
        if event is None:
            return now
        if self.source.tells_overrides:
            # The source reported the restart as it happened: its state changed then.
            started = read.owner_started_at
            if (
                not read.charging
                and started is not None
                and event.started < started < seen
            ):
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
            latest = max(last_paused, seen - timedelta(hours=drawn / power))
            if read.charging:
                return latest
            return last_paused + (latest - last_paused) / 2
        return last_paused + (seen - last_paused) / 2

    def _record(self, car: CarDr, decision: Decision, now: datetime) -> None:
        if decision != car.decision:
            LOGGER.debug(
                "DR %s for car at %s: %s (%s)",
                decision.action,
                car.node,
                decision.reason,
                car.price.value if car.price else None,
            )
            car.history.append(
                {
                    "time": now.isoformat(),
                    "action": str(decision.action),
                    "reason": str(decision.reason),
                    "price": car.price.value if car.price else None,
                }
            )
        car.decision = decision

    async def _pause(
        self,
        car_id: str,
        car: CarDr,
        decision: Decision,
        price: Price | None,
        now: datetime,
    ) -> None:
        state = self.source.cars[car_id]
        power = state.charger_power_kw or 0.0
        needed = (
            state.time_to_full_h * power
            if state.time_to_full_h and state.charger_power_kw
            else None
        )
        interval = price.start if price is not None else None
        if not stop_due(car.attempts, interval):
            return
        in_flight = self._store.stops_in_flight
        stop = in_flight[car_id] = StopInFlight(
            now, power, needed, state.charge_energy_added_kwh, state.updated_at
        )
        await self._async_save()
        try:
            result = await async_try_stop(
                car.attempts, lambda: self.source.async_stop(car_id), interval
            )
        finally:
            in_flight.pop(car_id, None)
        if result is None or not result.ok or car.state.paused_by_dr:
            # No new pause to save: the stop's mark must go from the disk all the same.
            self._async_delay_save()
        if result is None:
            return
        if not result.ok and result.reason in NOTHING_TO_STOP:
            if not _stopped_as_sent(stop, result.state):
                # It stopped since it was read: no pause, no event; the read-back shows it.
                LOGGER.debug("%s was no longer charging when paused", state.name)
                return
            # An earlier try of this stop went through, its answer lost (a timeout or a 5xx,
            # then the library's retry): the pause is DR's.
            LOGGER.debug("%s stopped as the stop was sent", state.name)
            result = replace(result, ok=True)
        if not result.ok:
            LOGGER.warning(
                "Could not pause charging of %s (attempt %d): %s",
                state.name,
                car.attempts.stop_attempts,
                car.attempts.error,
            )
            return
        if car.state.paused_by_dr:
            # It restarted by itself during the event: the same event goes on, from the
            # count it stops at now.
            if (event := self.ledger.active(car_id)) is not None:
                event.seen_paused_at = event.seen_paused_energy_kwh = None
            LOGGER.info("Paused charging of %s again: %s", state.name, decision.reason)
            return
        car.state = next_state(car.state, decision, price, car.settings, now)
        # When the stop went through: the evaluation's other reads may have come first.
        self._open_event(car_id, car, max(now, dt_util.utcnow()), power, needed)
        LOGGER.info("Paused charging of %s: %s", state.name, decision.reason)
        self._fire("started", car_id, car, decision.reason)

    async def _resume(
        self,
        car_id: str,
        car: CarDr,
        decision: Decision,
        now: datetime,
        *,
        now_or_never: bool = False,
    ) -> None:
        starts = self._store.starts_in_flight
        if start_due(car.attempts, now, now_or_never) and car_id not in starts:
            # Saved before it goes out, as a stop is (see `_settle_start_in_flight`).
            starts[car_id] = (dt_util.utcnow(), decision.reason)
            await self._async_save()
        result: CommandResult | None = await async_try_start(
            car.attempts,
            lambda: self.source.async_start(car_id),
            now,
            now_or_never=now_or_never,
        )
        if result is None:
            return
        # Sent now: the stopped instance's start, if any, is this one's business.
        self._restored_starts.discard(car_id)
        if result.reason != UNCONFIRMED:
            # Answered: no longer in flight. One still unconfirmed stays so.
            starts.pop(car_id, None)
        if not result.ok and result.reason == UNCONFIRMED:
            LOGGER.debug("Start of %s sent, not seen yet", self._name(car_id))
            return
        if not result.ok:
            retry = car.attempts.next_resume_try
            LOGGER.warning(
                "Could not resume charging of %s%s: %s",
                self._name(car_id),
                "" if now_or_never or retry is None else f", retrying in {retry - now}",
                car.attempts.error,
            )
            return
        car.state = next_state(car.state, decision, car.price, car.settings, now)
        # A start confirmed later ends the event when it was sent, not when it was seen.
        self.ledger.end(car_id, result.sent_at or now, OUTCOMES[decision.reason])
        LOGGER.info("Resumed charging of %s: %s", self._name(car_id), decision.reason)
        self._fire("ended", car_id, car, decision.reason)

    def _account(self, now: datetime) -> bool:
        """Add newly published intervals to open and just-closed events."""
        if self.prices is None:
            return False
        changed = False
        filled: dict[str, list[Price]] = {}
        for event in self.ledger.events:
            if event.ended is not None and now - event.ended > ACCOUNT_TAIL:
                continue
            if (prices := filled.get(event.node)) is None:
                prices = filled[event.node] = with_skipped(
                    [
                        Price(interval.price, interval.start, interval.end)
                        for interval in self.prices.data.realtime.get(event.node, [])
                    ]
                )
            for price in prices:
                if (
                    price.end <= event.started
                    or price.start.isoformat() in event.prices
                ):
                    continue
                event.account(price)
                changed = True
        return changed

    def _name(self, car_id: str) -> str:
        car = self.source.cars.get(car_id)
        return car.name if car is not None else "a car no longer on the account"

    @callback
    def _fire(self, kind: str, car_id: str, car: CarDr, reason: Reason | str) -> None:
        self.hass.bus.async_fire(
            EVENT_DR,
            {
                "type": kind,
                "device_id": self.source.device_id(car_id),
                "car": self._name(car_id),
                "node": car.node,
                "utility": car.utility.name if car.utility else None,
                "dlap": car.utility.dlap if car.utility else None,
                "price": car.price.value if car.price else None,
                "reason": str(reason),
            },
        )

    def _stored(self) -> dict[str, tuple[DrSettings, CarDrState]]:
        return {car_id: (car.settings, car.state) for car_id, car in self.cars.items()}

    async def _async_save(self) -> None:
        self.ledger.prune(dt_util.utcnow())
        await self._store.async_save(self._stored(), self.ledger)

    @callback
    def _async_delay_save(self) -> None:
        self._store.async_delay_save(self._stored(), self.ledger)

    # What entities and services ask for

    async def async_update_settings(self, car_id: str, **changes: Any) -> None:
        """Change a car's settings, persist them and act on them at once."""
        car = self.car(car_id)
        try:
            car.settings = replace(car.settings, **changes)
        except ValueError as err:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="invalid_setting",
                translation_placeholders={"setting": str(err)},
            ) from err
        await self._async_save()
        self.async_schedule()
        self.async_update_listeners()

    async def async_skip(self, car_id: str) -> None:
        """Skip the car's current event, within its rolling 24 h budget."""
        now = dt_util.utcnow()
        car = self.car(car_id)
        price = self.price(self.resolve(car_id).node)
        in_event = car.state.paused_by_dr or (
            price is not None and price.value > car.settings.start_threshold
        )
        if not in_event or car.state.skipped:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_event_to_skip"
            )
        try:
            self.ledger.skip(car_id, car.settings.max_skips_per_24h, now)
        except SkipBudgetExceeded as err:
            when = err.next_available
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="skip_budget_exceeded",
                translation_placeholders={
                    "limit": str(err.limit),
                    "next": dt_util.as_local(when).strftime("%H:%M") if when else "-",
                },
            ) from err
        car.state = replace(car.state, skipped=True)
        self._fire("skipped", car_id, car, Reason.SKIPPED)
        await self._async_save()
        await self.async_evaluate()

    def events_between(
        self, car_id: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The car's ledger entries overlapping a period (for the get_events service)."""
        return [
            _public(event) | {"prices": list(event.prices.values())}
            for event in self.ledger.between(car_id, start, end)
        ]

    def diagnostics(self) -> dict[str, Any]:
        """DR state and the last decisions per car (keys are positions, not car ids)."""
        return {
            "cars": [
                {
                    "status": car.status,
                    "node": car.node,
                    "utility": car.utility.name if car.utility else None,
                    "settings": asdict(car.settings),
                    "state": asdict(car.state),
                    "command_error": car.command_error,
                    "decisions": list(car.history),
                }
                for car in self.cars.values()
            ],
            "events": [_public(event) for event in self.ledger.events],
        }


def _stopped_at(stop: StopInFlight, read: ChargeState) -> datetime | None:
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
    return stop.read_at + timedelta(hours=drawn / stop.power_kw)


def _stop_took(stop: StopInFlight, read: ChargeState) -> bool:
    """Whether the car stopped as the stop arrived (or no count says otherwise)."""
    stopped_at = _stopped_at(stop, read)
    return stopped_at is None or stopped_at <= stop.sent_at + STOP_TOOK_WITHIN


def _stopped_as_sent(stop: StopInFlight, read: ChargeState | None) -> bool:
    """Whether a car that answered a stop with "not charging" stopped as it was sent.

    About when the stop was sent, an earlier try of it went through; well before, the car
    stopped by itself or its owner stopped it. The count moves in steps of 0.01 kWh. Without
    a count it cannot be told, and the car is not taken for DR's.
    """
    if (
        read is None
        or read.stale
        or read.charging_state != "Stopped"
        or (stopped_at := _stopped_at(stop, read)) is None
    ):
        return False
    step = timedelta(hours=COUNT_STEP_KWH / stop.power_kw) + READ_TIMING
    return stop.sent_at - step <= stopped_at <= stop.sent_at + STOP_TOOK_WITHIN


def _public(event: DrEvent) -> dict[str, Any]:
    """An event as services and diagnostics show it: no VIN, no per-interval price keys."""
    return {k: v for k, v in event.as_dict().items() if k not in ("vin", "prices")}
