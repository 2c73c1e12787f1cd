"""The DR manager of a Tesla account entry: binds the pure policy to the coordinators.

On every new price interval (and every car update) it asks `dr.decide` what to do with each
managed car, sends stop or start through the charge-control protocol, and keeps which cars it
paused, their settings and the ledger in a Store, so a restart neither forgets a paused car nor
stops it twice. Commands are believed only after the car was read back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .caiso import DEFAULT_NODE, MAX_DISTANCE_KM, NODES, nearest_node
from .caiso.nodes import distance_km
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
    Reason,
    SkipBudgetExceeded,
    decide,
    decide_unload,
    next_state,
)
from .price_coordinator import (
    CaisoPriceCoordinator,
    async_acquire_price_coordinator,
    async_release_price_coordinator,
)
from .vehicle_coordinator import TeslaVehicleCoordinator
from .vehicles import (
    ChargeControl,
    ChargeState,
    CommandResult,
    VehicleError,
    VehicleState,
)

STORAGE_VERSION = 1
EVENT_DR = f"{DOMAIN}_dr_event"
# Right after start-up a node may not have been fetched yet; don't read that as "stale".
NO_PRICE_GRACE = timedelta(minutes=2)
# A stop the car refused is tried once more (at the next price interval), then left alone.
MAX_STOP_ATTEMPTS = 2
# A failed resume is retried, but not so often that wake-ups (billed) pile up.
RESUME_RETRY = timedelta(minutes=5)
# Events keep collecting the value of intervals they overlap until those are published.
ACCOUNT_TAIL = timedelta(minutes=20)
TICK = timedelta(minutes=1)
RENOTIFY = timedelta(minutes=15)
DECISION_HISTORY = 20
# Start refusals that mean there is nothing left to resume.
NOTHING_TO_RESUME = {"is_charging", "complete", "disconnected"}
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
    """Everything the manager keeps for one car."""

    settings: DrSettings = field(default_factory=DrSettings)
    state: CarDrState = field(default_factory=CarDrState)
    node: str = DEFAULT_NODE
    decision: Decision | None = None
    price: Price | None = None
    command_error: str | None = None
    stop_attempts: int = 0
    stop_tried_for: datetime | None = None
    next_resume_try: datetime | None = None
    refreshed_for: datetime | None = None
    history: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=DECISION_HISTORY)
    )

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
        if self.command_error is not None:
            return "command_failed"
        return "monitoring"


def storage_key(entry_id: str) -> str:
    """Where an account's DR settings, state and ledger are kept."""
    return f"{DOMAIN}.dr.{entry_id}"


def snapshot(car: ChargeState, in_caiso: bool) -> CarSnapshot:
    """What the policy needs of a car; stale data never counts as online."""
    return CarSnapshot(
        online=car.state is VehicleState.ONLINE and not car.stale,
        plugged_in=bool(car.plugged_in),
        charging=car.charging,
        fast_charging=bool(car.fast_charger),
        battery_level=car.battery_level,
        in_caiso=in_caiso,
    )


class DrManager:
    """Demand response for the cars of one account entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        vehicles: TeslaVehicleCoordinator,
        control: ChargeControl,
    ) -> None:
        """Bind to the account's coordinator and backend; call async_setup next."""
        self.hass = hass
        self.entry = entry
        self.vehicles = vehicles
        self.control = control
        self.cars: dict[str, CarDr] = {}
        self.ledger = Ledger()
        self.prices: CaisoPriceCoordinator | None = None
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id)
        )
        self._lock = asyncio.Lock()
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._unsubs: list[CALLBACK_TYPE] = []
        self._listeners: list[CALLBACK_TYPE] = []
        self._started = dt_util.utcnow()
        self._notified = self._started
        self._nodes: set[str] = set()

    # Life cycle

    async def async_setup(self) -> None:
        """Restore what was persisted, join the price feed and reconcile with the cars."""
        stored = await self._store.async_load() or {}
        self.ledger = Ledger.from_dict(stored.get("ledger", {}))
        for vin, data in stored.get("cars", {}).items():
            try:
                settings = DrSettings(**data["settings"])
            except TypeError, ValueError:
                LOGGER.warning(
                    "Stored DR settings of a car were invalid; using defaults"
                )
                settings = DrSettings()
            self.cars[vin] = CarDr(settings=settings, state=CarDrState(**data["state"]))
        self._started = dt_util.utcnow()
        self._nodes = self._car_nodes()
        self.prices = await async_acquire_price_coordinator(
            self.hass, self.entry.entry_id, self._nodes, require_data=False
        )
        self._unsubs = [
            self.prices.async_add_listener(self.async_schedule),
            self.vehicles.async_add_listener(self.async_schedule),
            async_track_time_interval(self.hass, self._async_tick, TICK),
        ]
        # Reconcile: a paused car that is charging now was restarted by its owner.
        await self.async_evaluate()

    async def async_unload(self) -> None:
        """Resume every car DR paused, then leave the price feed."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []
        async with self._lock:
            for vin, car in self.cars.items():
                decision = decide_unload(car.state)
                if decision.action is Action.RESUME:
                    # Last chance for this entry: a retry that was waiting goes now.
                    car.next_resume_try = None
                    await self._resume(vin, car, decision, dt_util.utcnow())
            await self._async_save()
        async_release_price_coordinator(self.hass, self.entry.entry_id)

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Entities listen for DR changes."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    @callback
    def async_schedule(self) -> None:
        """Evaluate soon; several triggers while one evaluation runs make one more."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = self.entry.async_create_task(
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

    def managed_vins(self) -> list[str]:
        """Cars of the account that DR looks after."""
        # The vehicle coordinator reads only the cars the options manage.
        return list(self.vehicles.data or {})

    def car(self, vin: str) -> CarDr:
        """The car's DR record (created with default settings)."""
        return self.cars.setdefault(vin, CarDr())

    def _place(self, car: ChargeState) -> tuple[float, float]:
        if car.latitude is not None and car.longitude is not None:
            return car.latitude, car.longitude
        return self.hass.config.latitude, self.hass.config.longitude

    def resolve_node(self, vin: str) -> tuple[str, bool]:
        """The car's pricing node, and whether the car is within reach of it."""
        settings = self.car(vin).settings
        latitude, longitude = self._place(self.vehicles.data[vin])
        if settings.node in NODES:
            node = NODES[settings.node]
            reach = distance_km(latitude, longitude, node.latitude, node.longitude)
            return node.name, reach <= MAX_DISTANCE_KM
        if (nearest := nearest_node(latitude, longitude)) is not None:
            return nearest.name, True
        return DEFAULT_NODE, False

    def _car_nodes(self) -> set[str]:
        return {self.resolve_node(vin)[0] for vin in self.managed_vins()}

    def price(self, node: str) -> Price | None:
        """The node's newest 5-minute price."""
        if self.prices is None or (latest := self.prices.data.latest(node)) is None:
            return None
        return Price(latest.price, latest.start, latest.end)

    # Evaluation

    async def async_evaluate(self) -> None:
        """Decide and act for every managed car."""
        async with self._lock:
            now = dt_util.utcnow()
            nodes = self._car_nodes()
            if self.prices is not None and nodes != self._nodes:
                fetched = self.prices.nodes
                self._nodes = nodes
                self.prices.async_set_nodes(self.entry.entry_id, nodes)
                if not nodes <= fetched:
                    self.prices.async_refresh_paced()
            # Cars are independent: an account's cars are stopped side by side, not in turn.
            results = await asyncio.gather(
                *(self._evaluate_car(vin, now) for vin in self.managed_vins())
            )
            # The coordinator keeps reading the cars DR holds paused, to see an owner restart one.
            self.vehicles.watched = {
                vin for vin, car in self.cars.items() if car.state.paused_by_dr
            }
            accounted = self._account(now)
            if accounted or any(persist for persist, _ in results):
                await self._async_save()
            visible = accounted or any(shown for _, shown in results)
        if visible or now - self._notified >= RENOTIFY:
            # Entity writes are the bulk of the work with many cars: only on change, plus a
            # periodic one for the rolling 24 h event count.
            self._notified = now
            self._notify()

    def _view(self, car: CarDr) -> tuple[object, ...]:
        return (car.status, car.decision, car.price, car.command_error, car.node)

    async def _evaluate_car(self, vin: str, now: datetime) -> tuple[bool, bool]:
        """Decide and act for one car; return (state to persist, something to show)."""
        car = self.car(vin)
        shown = self._view(car)
        before = car.state
        await self._decide_and_act(vin, car, now)
        return car.state != before, self._view(car) != shown

    async def _decide_and_act(self, vin: str, car: CarDr, now: datetime) -> None:
        car.node, in_caiso = self.resolve_node(vin)
        price = self.price(car.node)
        if price is None and now - self._started < NO_PRICE_GRACE:
            return

        def decide_now() -> Decision:
            known = snapshot(self.vehicles.data[vin], in_caiso)
            return decide(price, car.settings, known, car.state, now)

        decision = decide_now()
        if (
            decision.reason in STATE_DEPENDENT
            and price is not None
            and car.refreshed_for != price.start
            and self.vehicles.data[vin].state is VehicleState.ONLINE
        ):
            # The price just crossed this car's threshold: look at the car before acting.
            car.refreshed_for = price.start
            await self.vehicles.async_refresh_vins({vin})
            decision = decide_now()
        car.price = price
        self._record(car, decision, now)
        match decision.action:
            case Action.PAUSE:
                await self._pause(vin, car, decision, price, now)
            case Action.RESUME:
                await self._resume(vin, car, decision, now)
            case Action.RELEASE:
                self.ledger.end(vin, now, OUTCOMES[decision.reason])
                car.state = next_state(car.state, decision, price, car.settings, now)
                if decision.reason is Reason.USER_OVERRIDE:
                    self._fire("overridden", vin, car, decision.reason)
                else:
                    self._fire("ended", vin, car, decision.reason)
            case Action.HOLD | Action.IGNORE:
                car.state = next_state(car.state, decision, price, car.settings, now)
                if decision.reason in (
                    Reason.PRICE_BELOW_THRESHOLD,
                    Reason.PRICES_STALE,
                ):
                    # The event is over for this car: a later one gets fresh attempts.
                    car.stop_attempts = 0
                    car.command_error = None

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
        vin: str,
        car: CarDr,
        decision: Decision,
        price: Price | None,
        now: datetime,
    ) -> None:
        if car.stop_attempts >= MAX_STOP_ATTEMPTS:
            return
        if price is not None and car.stop_tried_for == price.start:
            return  # a refused stop is retried at the next interval, not at once
        state = self.vehicles.data[vin]
        power = state.charger_power_kw or 0.0
        needed = (
            state.time_to_full_h * power
            if state.time_to_full_h and state.charger_power_kw
            else None
        )
        car.stop_tried_for = price.start if price is not None else None
        result = await self._command(self.control.stop_charging, vin)
        if not result.ok:
            car.stop_attempts += 1
            car.command_error = result.reason or "unknown"
            LOGGER.warning(
                "Could not pause charging of %s (attempt %d of %d): %s",
                state.name,
                car.stop_attempts,
                MAX_STOP_ATTEMPTS,
                car.command_error,
            )
            return
        car.stop_attempts = 0
        car.command_error = None
        car.state = next_state(car.state, decision, price, car.settings, now)
        self.ledger.start(vin, car.node, now, power, needed)
        LOGGER.info("Paused charging of %s: %s", state.name, decision.reason)
        self._fire("started", vin, car, decision.reason)

    async def _resume(
        self, vin: str, car: CarDr, decision: Decision, now: datetime
    ) -> None:
        if car.next_resume_try is not None and now < car.next_resume_try:
            return
        result = await self._command(self.control.start_charging, vin)
        if not result.ok and result.reason not in NOTHING_TO_RESUME:
            car.command_error = result.reason or "unknown"
            car.next_resume_try = now + RESUME_RETRY
            LOGGER.warning(
                "Could not resume charging of %s, retrying in %s: %s",
                self._name(vin),
                RESUME_RETRY,
                car.command_error,
            )
            return
        car.command_error = None
        car.next_resume_try = None
        car.state = next_state(car.state, decision, car.price, car.settings, now)
        self.ledger.end(vin, now, OUTCOMES[decision.reason])
        LOGGER.info("Resumed charging of %s: %s", self._name(vin), decision.reason)
        self._fire("ended", vin, car, decision.reason)

    async def _command(self, command: Callable[[str], Any], vin: str) -> CommandResult:
        try:
            result: CommandResult = await command(vin)
        except VehicleError as err:
            return CommandResult(ok=False, reason=str(err) or type(err).__name__)
        finally:
            self.vehicles.async_persist_tokens()
        if result.state is not None:
            self.vehicles.async_set_car(result.state)
        return result

    def _account(self, now: datetime) -> bool:
        """Add newly published intervals to open and just-closed events."""
        if self.prices is None:
            return False
        changed = False
        for event in self.ledger.events:
            if event.ended is not None and now - event.ended > ACCOUNT_TAIL:
                continue
            for interval in self.prices.data.realtime.get(event.node, []):
                if (
                    interval.end <= event.started
                    or interval.start.isoformat() in event.prices
                ):
                    continue
                event.account(Price(interval.price, interval.start, interval.end))
                changed = True
        return changed

    def _name(self, vin: str) -> str:
        car = (self.vehicles.data or {}).get(vin)
        return car.name if car is not None else "a car no longer on the account"

    @callback
    def _fire(self, kind: str, vin: str, car: CarDr, reason: Reason | str) -> None:
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, vin), self.entry.entry_id
        )
        self.hass.bus.async_fire(
            EVENT_DR,
            {
                "type": kind,
                "device_id": device.id if device else None,
                "car": self._name(vin),
                "node": car.node,
                "price": car.price.value if car.price else None,
                "reason": str(reason),
            },
        )

    async def _async_save(self) -> None:
        self.ledger.prune(dt_util.utcnow())
        await self._store.async_save(
            {
                "cars": {
                    vin: {"settings": asdict(car.settings), "state": asdict(car.state)}
                    for vin, car in self.cars.items()
                },
                "ledger": self.ledger.as_dict(),
            }
        )

    # What entities and services ask for

    async def async_update_settings(self, vin: str, **changes: Any) -> None:
        """Change a car's settings, persist them and act on them at once."""
        car = self.car(vin)
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
        self._notify()

    async def async_skip(self, vin: str) -> None:
        """Skip the car's current event, within its rolling 24 h budget."""
        now = dt_util.utcnow()
        car = self.car(vin)
        node, _ = self.resolve_node(vin)
        price = self.price(node)
        in_event = car.state.paused_by_dr or (
            price is not None and price.value > car.settings.start_threshold
        )
        if not in_event or car.state.skipped:
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="no_event_to_skip"
            )
        try:
            self.ledger.skip(vin, car.settings.max_skips_per_24h, now)
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
        self._fire("skipped", vin, car, Reason.SKIPPED)
        await self._async_save()
        await self.async_evaluate()

    def events_between(
        self, vin: str, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """The car's ledger entries overlapping a period (for the get_events service)."""
        return [
            _public(event) | {"prices": list(event.prices.values())}
            for event in self.ledger.between(vin, start, end)
        ]

    def diagnostics(self) -> dict[str, Any]:
        """DR state and the last decisions per car (keys are positions, not VINs)."""
        return {
            "cars": [
                {
                    "status": car.status,
                    "node": car.node,
                    "settings": asdict(car.settings),
                    "state": asdict(car.state),
                    "command_error": car.command_error,
                    "decisions": list(car.history),
                }
                for car in self.cars.values()
            ],
            "events": [_public(event) for event in self.ledger.events],
        }


def _public(event: DrEvent) -> dict[str, Any]:
    """An event as services and diagnostics show it: no VIN, no per-interval price keys."""
    return {k: v for k, v in event.as_dict().items() if k not in ("vin", "prices")}
