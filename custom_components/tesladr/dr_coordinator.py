"""The DR coordinator of one config entry: binds the pure policy to a car source and prices.

On every new price interval (and every car update and MIDAS read) it asks `dr.decide` what to
do with each car of its source, has the actuator send stop or start, and keeps which cars it
paused, their settings and the ledger in a Store, so a restart neither forgets a paused car
nor stops it twice. Where a car comes from (an account's teslajsonpy coordinator, or entities
of another integration) is the source's business: this class never knows. Its `data` is what
DR entities show of each car (`CarView`), built afresh at each update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HassJob, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.debounce import Debouncer
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from .actuator import Actuator
from .car_source import CarSource
from .const import DOMAIN, LOGGER
from .dr import (
    Action,
    CarDrState,
    DrEvent,
    DrSettings,
    Ledger,
    Outcome,
    Price,
    ReadNeed,
    Reason,
    SkipBudgetExceeded,
    decide_unload,
    read_need,
)
from .dr_actions import EVENT_DR, CarActions
from .dr_car import STATUS_OPTIONS, CarDr, CarView
from .dr_grid import account_grid
from .dr_store import DrStore, left_paused_issue_id
from .midas_coordinator import SIGNAL_MIDAS_UPDATED
from .price_coordinator import (
    INTERVAL,
    LOOKBACK,
    CaisoPriceCoordinator,
    async_acquire_price_coordinator,
    async_release_price_coordinator,
)
from .price_feed import async_declare_nodes
from .pricing import NodeChoice, location, resolve_node

__all__ = ["EVENT_DR", "STATUS_OPTIONS", "CarDr", "CarView", "DrCoordinator"]

# Events keep collecting the value of intervals they overlap until those are published: as
# long as the price feed's request still reaches back to them, so an OASIS outage that ended
# the event on stale prices does not leave its last intervals out.
ACCOUNT_TAIL = LOOKBACK + timedelta(minutes=10)
# The stale-price fail-safe must not depend on the price feed calling: DR evaluates at least
# this often.
TICK = timedelta(minutes=1)
# Home Assistant stopping: how long a command on its way may take to answer before the state
# is written without it. Home Assistant gives all shutdown jobs 20 s together; an answer that
# misses the final write leaves a command in flight for the next start to settle.
STOP_WAIT_SECONDS = 15


class DrCoordinator(DataUpdateCoordinator[Mapping[str, CarView]]):
    """Demand response for the cars of one config entry."""

    config_entry: ConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, source: CarSource
    ) -> None:
        """Bind to the entry's car source; call async_setup next."""
        # Prices and cars trigger an evaluation at once; one running takes them all in.
        self._triggers: Debouncer[Any] = Debouncer(
            hass, LOGGER, cooldown=0, immediate=True
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"tesladr DR {entry.title}",
            update_interval=TICK,
            request_refresh_debouncer=self._triggers,
            always_update=False,
        )
        self.source = source
        self.cars: dict[str, CarDr] = {}
        self.ledger = Ledger()
        self.prices: CaisoPriceCoordinator | None = None
        self._store = DrStore(hass, entry.entry_id, entry.unique_id)
        self.actuator = Actuator(source, self.async_save, self.async_save_soon)
        self._actions = CarActions(self)
        self._lock = asyncio.Lock()
        self._dirty = False
        self._evaluating = False
        self._unsubs: list[Callable[[], None]] = []
        # When this instance started: prices may not have been fetched yet.
        self.started = dt_util.utcnow()
        self._nodes: set[str] = set()
        self._unloaded = False
        self._stopping = False

    # Life cycle

    async def async_setup(self) -> None:
        """Restore what was persisted, join the price feed and reconcile with the cars."""
        stored, self.ledger, self.actuator.in_flight = await self._store.async_load()
        if self._store.adopted and self.config_entry.unique_id:
            LOGGER.info(
                "%s takes over the cars its removed entry left paused",
                self.config_entry.title,
            )
            ir.async_delete_issue(
                self.hass, DOMAIN, left_paused_issue_id(self.config_entry.unique_id)
            )
        for car_id, (settings, state) in stored.items():
            self.cars[car_id] = CarDr(car_id, settings=settings, state=state)
        self.started = dt_util.utcnow()
        self._nodes = self._locate_cars()
        self.prices = await async_acquire_price_coordinator(
            self.hass, self.config_entry.entry_id, self._nodes, require_data=False
        )
        self._unsubs = [
            self.prices.async_add_listener(self.async_schedule),
            self.source.async_add_listener(self.async_schedule),
            # A Flex Alert or a dirty interval MIDAS starts reporting pauses cars at once,
            # not at the next minute's tick.
            async_dispatcher_connect(
                self.hass, SIGNAL_MIDAS_UPDATED, self.async_schedule
            ),
            # The base class ticks only while something listens; DR's fail-safe must tick
            # with every DR entity disabled too, so DR listens to itself.
            self.async_add_listener(_tick_only),
            self.hass.async_add_shutdown_job(HassJob(self._async_stop)),
        ]
        # Reconcile: a paused car that is charging now was restarted by its owner.
        await self.async_config_entry_first_refresh()

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
                    self._actions.async_resume(car, decision, now, now_or_never=True)
                    for car in self.cars.values()
                    if (decision := decide_unload(car.state)).action is Action.RESUME
                )
            )
            await self.async_save()
        async_release_price_coordinator(self.hass, self.config_entry.entry_id)

    async def _async_stop(self) -> None:
        # Home Assistant does not wait for the tasks running when it stops: a command's answer
        # arriving after its final write would be lost. Send nothing more, let the evaluation
        # under way get its answers, and write them now.
        self._stopping = True
        try:
            async with asyncio.timeout(STOP_WAIT_SECONDS), self._lock:
                await self.async_save()
        except TimeoutError:
            LOGGER.info(
                "%s: a command was still unanswered when Home Assistant stopped; it is"
                " checked with the car at the next start",
                self.config_entry.title,
            )

    @callback
    def async_schedule(self) -> None:
        """Evaluate soon; several triggers while one evaluation runs make one more."""
        self._dirty = True
        if not self._evaluating:
            # An update under way takes the trigger in (see `_async_update_data`): the
            # debouncer would hold it until its timer, which runs one call at a time.
            self._triggers.async_schedule_call()

    @override
    async def _async_update_data(self) -> Mapping[str, CarView]:
        # Every trigger, the fail-safe tick and `homeassistant.update_entity` come here.
        self._evaluating = True
        try:
            self._dirty = True
            while self._dirty:
                self._dirty = False
                await self._async_evaluate()
        finally:
            self._evaluating = False
        return self._views()

    def _views(self) -> Mapping[str, CarView]:
        """What the entities show of each car the source has, as of now."""
        now = dt_util.utcnow()
        return MappingProxyType(
            {car_id: self._view(car_id, now) for car_id in self.managed_cars()}
        )

    def _view(self, car_id: str, now: datetime) -> CarView:
        car = self.cars.get(car_id) or CarDr(car_id)
        return car.view(
            self.resolve(car_id), self.ledger, now, self.source.cars.get(car_id)
        )

    def view(self, car_id: str) -> CarView:
        """What the car's entities show (a car the source has just added: its defaults)."""
        if self.data is not None and (view := self.data.get(car_id)) is not None:
            return view
        return self._view(car_id, dt_util.utcnow())

    # Cars, nodes and prices

    def managed_cars(self) -> list[str]:
        """Cars of the source that DR looks after."""
        return list(self.source.cars)

    def car(self, car_id: str) -> CarDr:
        """The car's DR record (created with default settings)."""
        return self.cars.setdefault(car_id, CarDr(car_id))

    def resolve(self, car_id: str) -> NodeChoice:
        """The car's pricing node, utility and whether it is within reach of the node."""
        read = self.source.cars.get(car_id)
        car = self.cars.get(car_id)
        place = car.place_of(read) if car is not None else location(read)
        settings = car.settings if car is not None else DrSettings()
        return resolve_node(self.hass, settings.node, place)

    def resolve_node(self, car_id: str) -> tuple[str, bool]:
        """The car's pricing node, and whether the car is within reach of it."""
        choice = self.resolve(car_id)
        return choice.node, choice.in_caiso

    def _locate_cars(self) -> set[str]:
        """Keep where each car was read; the nodes the cars need."""
        for car_id in self.managed_cars():
            self.car(car_id).see(self.source.cars.get(car_id))
        return {self.resolve(car_id).node for car_id in self.managed_cars()}

    def _declare_nodes(self, nodes: set[str]) -> None:
        """Tell the price feed which nodes this entry's cars are priced at."""
        if nodes == self._nodes:
            return
        self._nodes = nodes
        async_declare_nodes(self.hass, self.config_entry.entry_id, nodes)

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

    async def _async_evaluate(self) -> None:
        """Decide and act for every car."""
        if self._unloaded or self._stopping:
            return  # scheduled just before the entry went away or Home Assistant stopped
        async with self._lock:
            now = dt_util.utcnow()
            gone = self._forget_gone_cars(now)
            self._declare_nodes(self._locate_cars())
            # Cars are independent: an entry's cars are stopped side by side, not in turn.
            changed = await asyncio.gather(
                *(
                    self._evaluate_car(self.car(car_id), now)
                    for car_id in self.managed_cars()
                )
            )
            self.source.async_set_read_needs(self._read_needs())
            accounted = self.prices is not None and self.ledger.account_published(
                _published(self.prices), now, ACCOUNT_TAIL
            )
            accounted = account_grid(self.hass, self.ledger, now) or accounted
            if gone or any(changed):
                await self.async_save()
            elif accounted:
                self.async_save_soon()

    def _read_needs(self) -> dict[str, ReadNeed]:
        """How closely the source must read each car for the decisions to come."""
        needs: dict[str, ReadNeed] = {}
        for car_id in self.managed_cars():
            car = self.car(car_id)
            if car.choice is None:
                car.see(self.source.cars.get(car_id))
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

    async def _evaluate_car(self, car: CarDr, now: datetime) -> bool:
        """Decide and act for one car; return whether its state is to persist."""
        before = car.state
        await self._actions.async_decide_and_act(car, now)
        return car.state != before

    def _stored(self) -> dict[str, tuple[DrSettings, CarDrState]]:
        return {car_id: (car.settings, car.state) for car_id, car in self.cars.items()}

    async def async_save(self) -> None:
        """Write the Store now: which cars DR paused must survive a crash right after."""
        self.ledger.prune(dt_util.utcnow())
        await self._store.async_save(
            self._stored(), self.ledger, self.actuator.in_flight
        )

    @callback
    def async_save_soon(self) -> None:
        """Write the Store soon (and at shutdown): for what a crash may lose."""
        self._store.async_delay_save(
            self._stored(), self.ledger, self.actuator.in_flight
        )

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
        await self.async_save()
        self.async_set_updated_data(self._views())
        self.async_schedule()

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
        self._actions.fire("skipped", car, Reason.SKIPPED)
        await self.async_save()
        await self.async_refresh()

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
            "cars": [car.diagnostics() for car in self.cars.values()],
            "events": [_public(event) for event in self.ledger.events],
        }


def _published(prices: CaisoPriceCoordinator) -> Callable[[str], list[Price]]:
    """A node's published 5-minute prices, for the ledger."""
    return lambda node: [
        Price(interval.price, interval.start, interval.end)
        for interval in prices.data.realtime.get(node, [])
    ]


@callback
def _tick_only() -> None:
    """A listener that keeps the base class's interval running; it shows nothing."""


def _public(event: DrEvent) -> dict[str, Any]:
    """An event as services and diagnostics show it: no VIN, no per-interval keys."""
    per_interval = ("vin", "prices", "co2", "retail", "draws")
    public = {k: v for k, v in event.as_dict().items() if k not in per_interval}
    return public | {
        "net_usd": event.net_usd,
        "owed_kwh": event.owed_kwh,
        "kg_co2": event.kg_co2,
        "net_kg_co2": event.net_kg_co2,
        "retail_usd": event.retail_usd,
        "net_retail_usd": event.net_retail_usd,
    }
