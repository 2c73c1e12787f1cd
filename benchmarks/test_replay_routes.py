"""Replay the generated day's evening with one car on each linked route, beside an account car.

Run: ./scripts/bench replay   (or `./scripts/bench replay -k routes`)

One Home Assistant holds the real core tesla_fleet, teslemetry and tessie integrations and the
tesla_custom stand-in, each with one car faked at its library (the drivers of tests/sources),
a template charger over input helpers (the generic route), and tesladr: the prices entry, one
account entry whose one car lives on tesladr's own fake Tesla server, and one linked entry per
route. Time steps from timer to timer as in test_replay, so every integration reads its car on
its own poll interval (Tesla Fleet 10 min, Teslemetry 60 s, Tessie 10 s; the tesla_custom
stand-in is given that integration's default 660 s). Only 16:00-20:30 Pacific is simulated:
every event of the day falls inside it, and the full day would mostly time Tessie's 10 s poll
(REPLAY_ROUTES_END=17.5, in Pacific hours, ends it earlier when trying something out).
"""

from __future__ import annotations

from collections import ChainMap, Counter
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import json
import math
import os
import statistics
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, EVENT_CALL_SERVICE, EVENT_STATE_CHANGED
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from tesla_fleet_api.const import Method

from custom_components.tesladr.sources import (
    SOURCE_GENERIC,
    Role,
    async_find_car_entities,
    entity_id_of,
    read_charge_state,
)
from tests.sources.cars import FakeClouds, HelperCharger, LinkedCar
from tests.sources.routes import (
    linked_entry,
    linked_fleet_car,
    linked_tesla_custom_car,
    linked_teslemetry_car,
    linked_tessie_car,
    patched_clouds,
    template_charger,
)

from .replay_fakes import LaggedFakeOasis, LoggedFakeTesla
from .replay_sim import BATTERY_KWH, FleetSim, PriceDay, events, fleet, percentile
from .test_replay import START_OFFSET, _start_tesladr, measured, run_day, settle

WINDOW = (16, float(os.environ.get("REPLAY_ROUTES_END", "20.5")))  # Pacific hours
ROUTES = ("tesla_fleet", "teslemetry", "tessie", "tesla_custom", SOURCE_GENERIC)
# tesla_custom's default scan interval (its options can change it).
TESLA_CUSTOM_INTERVAL = timedelta(seconds=660)
CHARGE_KW = 7.0
ARRIVE_SOC = 50.0
LIMIT = 90
# Plug-in times (Pacific minutes after 16:00), one per route, like the account fleet's spread.
ARRIVE_AFTER_MIN = {route: 30 + 4 * k for k, route in enumerate(ROUTES)}


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The fake servers' keep-alive timers outlive a run; they are harmless."""
    return True


class CountingClouds(FakeClouds):
    """The drivers' fake clouds, counting each request by API and path."""

    def __init__(self) -> None:
        """No requests yet."""
        super().__init__()
        self.requests: Counter[str] = Counter()

    async def request(
        self,
        api: Any,
        method: Method,
        path: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Count, then answer as the car of this API."""
        kind = type(api).__name__
        name = path.rsplit("/", 1)[-1]
        # api/1/vehicles/{vin} is the car's summary.
        self.requests[f"{kind} {'summary' if len(name) == 17 else name}"] += 1
        return await super().request(api, method, path, params, json)


@dataclass
class RouteCar:
    """One linked car's evening: plugged in at `arrive`, charging at 7 kW up to 90 %."""

    route: str
    arrive: datetime
    car: LinkedCar | None = None  # None: the template charger
    charger: HelperCharger | None = None
    soc: float = ARRIVE_SOC
    plugged: bool = False
    charged_kwh: float = 0.0
    paused_kwh: float = 0.0


class RouteSim:
    """Moves the linked cars through their evening (see FleetSim for the account car).

    A driver's change reaches Home Assistant at its integration's next poll; the template
    charger's helpers change at once, as a real charger's entities would.
    """

    def __init__(self, hass: HomeAssistant, cars: list[RouteCar], now: datetime):
        """Every car on its way home (online, unplugged) at `now`."""
        self.hass = hass
        self.cars = cars
        self.now = now

    def _drawing(self, car: RouteCar) -> bool:
        if car.car is not None:
            return bool(car.car.charge["charging_state"] == "Charging")
        relay = self.hass.states.get("input_boolean.relay")
        return (
            car.plugged
            and car.soc < LIMIT
            and relay is not None
            and relay.state == "on"
        )

    def _paused(self, car: RouteCar) -> bool:
        if car.car is not None:
            return bool(car.car.charge["charging_state"] == "Stopped")
        return car.plugged and car.soc < LIMIT and not self._drawing(car)

    def advance(self, now: datetime) -> None:
        """Integrate up to `now`, then plug in, fill up, as due."""
        if now <= self.now:
            return
        hours = (now - self.now).total_seconds() / 3600
        for car in self.cars:
            if self._drawing(car):
                kwh = CHARGE_KW * hours
                car.charged_kwh += kwh
                car.soc = min(LIMIT, car.soc + kwh / BATTERY_KWH * 100)
            elif self._paused(car):
                car.paused_kwh += CHARGE_KW * hours
            if not car.plugged and now >= car.arrive:
                car.plugged = True
                self._plug_in(car)
            elif car.plugged and car.soc >= LIMIT - 1e-9:
                self._complete(car)
            else:
                self._battery(car)
        self.now = now

    def _plug_in(self, car: RouteCar) -> None:
        if car.car is not None:
            car.car.set_battery(math.floor(car.soc))
            car.car.set_charging(CHARGE_KW)
        else:
            self._set("input_boolean", "turn_on", "plug")
            self._set("input_number", "set_value", "watts", CHARGE_KW * 1000)

    def _complete(self, car: RouteCar) -> None:
        if car.car is not None:
            if car.car.charge["charging_state"] != "Complete":
                car.car.set_battery(LIMIT)
                car.car.set_complete()
        elif (power := self.hass.states.get("input_number.watts")) and float(
            power.state
        ):
            self._set("input_number", "set_value", "watts", 0)

    def _battery(self, car: RouteCar) -> None:
        level = math.floor(car.soc)
        if car.car is not None:
            car.car.set_battery(level)
            car.car.charge["charge_energy_added"] = round(car.charged_kwh, 2)
        elif (soc := self.hass.states.get("input_number.soc")) and float(
            soc.state
        ) != level:
            self._set("input_number", "set_value", "soc", level)

    def _set(self, domain: str, service: str, name: str, value: float = 0) -> None:
        """The charger's helpers, as HelperCharger sets them, from the synchronous step."""
        data: dict[str, Any] = {ATTR_ENTITY_ID: f"{domain}.{name}"}
        if service == "set_value":
            data["value"] = value
        self.hass.async_create_task(
            self.hass.services.async_call(domain, service, data, blocking=True),
            eager_start=False,
        )

    def next_change(self) -> datetime:
        """The next minute (plug-ins and the battery's percent steps are that coarse)."""
        return self.now.replace(second=0, microsecond=0) + timedelta(minutes=1)


class BothSims:
    """The account car's FleetSim and the linked cars' RouteSim on one clock."""

    def __init__(self, *sims: Any) -> None:
        """Step these together."""
        self.sims = sims

    def advance(self, now: datetime) -> None:
        """Advance each."""
        for sim in self.sims:
            sim.advance(now)

    def next_change(self) -> datetime:
        """The earliest change of any."""
        return min(sim.next_change() for sim in self.sims)


@dataclass
class RouteLog:
    """What tesladr asked of one route's entities, and when its charging signal changed."""

    entry: MockConfigEntry
    entities: dict[Role, str]
    services: list[tuple[datetime, str]] = field(
        default_factory=list
    )  # (at, domain.service)
    stopped_at: list[datetime] = field(default_factory=list)
    charging: bool | None = None


def _linked_entry(
    route: str, unique_id: str, device_id: str | None, entities: dict[Role, str]
) -> MockConfigEntry:
    return linked_entry(
        route,
        unique_id,
        device_id,
        entities,
        title=f"Linked {route}",
        entry_id=f"linked_{route}",
    )


async def _link(
    hass: HomeAssistant, route: str, car: LinkedCar | None, charger: dict[Role, str]
) -> RouteLog:
    if car is not None:
        source, entities = async_find_car_entities(hass, car.device_id)
        if source != route:
            pytest.fail(f"{route} car found as {source}")
        entry = _linked_entry(route, car.device_id, car.device_id, entities)
    else:
        entities = charger
        entry = _linked_entry(route, charger[Role.SWITCH], None, charger)
    entry.add_to_hass(hass)
    if not await hass.config_entries.async_setup(entry.entry_id):
        pytest.fail(f"linked {route} did not set up")
    return RouteLog(entry, entities)


def _follow(hass: HomeAssistant, logs: dict[str, RouteLog]) -> Callable[[], None]:
    """Record service calls on each route's entities and its charging signal's changes."""

    def route_of(entity_id: str) -> str | None:
        for route, log in logs.items():
            if any(
                entity_id_of(hass, rid) == entity_id for rid in log.entities.values()
            ):
                return route
        return None

    @callback
    def on_call(event: Event[Any]) -> None:
        domain = event.data["domain"]
        if domain not in ("switch", "homeassistant", "button"):
            return
        targets = event.data.get("service_data", {}).get(ATTR_ENTITY_ID, [])
        if isinstance(targets, str):
            targets = [targets]
        routes = {route for target in targets if (route := route_of(target))}
        for route in routes:
            logs[route].services.append(
                (dt_util.utcnow(), f"{domain}.{event.data['service']}")
            )

    @callback
    def on_state(event: Event[Any]) -> None:
        for route, log in logs.items():
            car = read_charge_state(hass, route, log.entities, route, route)
            if log.charging and not car.charging:
                log.stopped_at.append(dt_util.utcnow())
            log.charging = car.charging

    unsubs = [
        hass.bus.async_listen(EVENT_CALL_SERVICE, on_call),
        hass.bus.async_listen(EVENT_STATE_CHANGED, on_state),
    ]
    return lambda: [unsub() for unsub in unsubs]  # type: ignore[func-returns-value]


def _stat(values: list[float]) -> dict[str, float | None]:
    return {
        "samples": len(values),
        "p50": round(statistics.median(values), 1) if values else None,
        "max": round(max(values), 1) if values else None,
        "p95": round(p, 1) if (p := percentile(values, 95)) is not None else None,
    }


def _route_row(  # noqa: PLR0917 - one route's pieces, named at the one call
    route: str,
    log: RouteLog,
    node: str,
    day_events: list[Any],
    car: RouteCar,
    clouds: CountingClouds,
    driver: LinkedCar | None,
) -> dict[str, Any]:
    mine = [e for e in day_events if e.node == node]
    per_event: list[Counter[str]] = []
    to_call: list[float] = []
    to_stopped: list[float] = []
    inside = 0
    for event in mine:
        end = event.end_published + timedelta(minutes=10)
        calls = [(at, name) for at, name in log.services if event.published <= at < end]
        inside += len(calls)
        per_event.append(Counter(name for _, name in calls))
        offs = [at for at, name in calls if name == "switch.turn_off"]
        if offs:
            to_call.append((offs[0] - event.published).total_seconds())
            stops = [at for at in log.stopped_at if at >= offs[0]]
            if stops and stops[0] < end:
                to_stopped.append((stops[0] - event.published).total_seconds())
    names = sorted({name for counter in per_event for name in counter})
    kind = {
        "tesla_fleet": "TeslaFleetApi",
        "teslemetry": "Teslemetry",
        "tessie": "Tessie",
    }.get(route)
    return {
        "node": node,
        "events": len(mine),
        "service_calls_per_event": {
            name: round(statistics.fmean(c[name] for c in per_event), 2)
            for name in names
        },
        "switch_calls_per_event": round(
            statistics.fmean(
                sum(n for name, n in c.items() if name.startswith("switch."))
                for c in per_event
            ),
            2,
        )
        if per_event
        else None,
        "service_calls_outside_events": len(log.services) - inside,
        "service_calls": dict(Counter(name for _, name in log.services)),
        "reaction_to_turn_off_s": _stat(to_call),
        "reaction_to_signal_stopped_s": _stat(to_stopped),
        "cloud_commands": dict(Counter(driver.commands)) if driver else None,
        "cloud_requests": {
            key.split(" ", 1)[1]: n
            for key, n in sorted(clouds.requests.items())
            if kind and key.startswith(f"{kind} ")
        }
        if kind
        else None,
        "kwh_charged": round(car.charged_kwh, 1),
        "kwh_not_consumed": round(car.paused_kwh, 1),
    }


async def replay_routes(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> dict[str, Any]:
    """Run the evening and return its JSON row."""
    from .replay_sim import generated_day

    day = generated_day()
    start = day.start + timedelta(hours=WINDOW[0]) + START_OFFSET
    end = day.start + timedelta(hours=WINDOW[1])
    freezer.move_to(start)
    oasis = LaggedFakeOasis(
        clock=dt_util.utcnow,
        lag_fn=PriceDay.lag,
        price_fn=lambda _market, node, moment: day.price(node, moment),
    )
    (plan,) = fleet(1)
    tesla = LoggedFakeTesla(clock=dt_util.utcnow)
    tesla.add_car(plan.vin, plan.name)
    await oasis.start()
    await tesla.start()
    account_sim = FleetSim(
        day, [plan], dict(tesla.cars), ChainMap(tesla.last_call), start
    )
    day_events = events(day, oasis.published_at)
    clouds = CountingClouds()
    entries: list[MockConfigEntry] = []
    logs: dict[str, RouteLog] = {}
    async with AsyncExitStack() as stack:
        # Home Assistant's own services (update_entity), as every real instance has them.
        if not await async_setup_component(hass, "homeassistant", {}):
            pytest.fail("homeassistant did not set up")
        stack.enter_context(patched_clouds(clouds))
        drivers: dict[str, LinkedCar] = {}
        for route, setup in (
            ("tesla_fleet", lambda: linked_fleet_car(hass, clouds)),
            ("teslemetry", lambda: linked_teslemetry_car(hass, clouds)),
            ("tessie", lambda: linked_tessie_car(hass, clouds)),
            ("tesla_custom", lambda: linked_tesla_custom_car(hass)),
        ):
            drivers[route] = await stack.enter_async_context(setup())
        drivers["tesla_custom"].coordinator().update_interval = TESLA_CUSTOM_INTERVAL
        roles = await template_charger(hass)
        charger = HelperCharger(hass, roles)
        await charger.async_set_plugged(False)
        # On the way home: online, unplugged, half full.
        for driver in drivers.values():
            driver.set_unplugged()
            driver.set_battery(ARRIVE_SOC)
            driver.charge["charge_limit_soc"] = LIMIT
            await driver.async_poll()
        await charger.async_set_battery(ARRIVE_SOC)
        cars = [
            RouteCar(
                route,
                day.start + timedelta(hours=WINDOW[0], minutes=ARRIVE_AFTER_MIN[route]),
                car=drivers.get(route),
                charger=None if route in drivers else charger,
            )
            for route in ROUTES
        ]
        entries = await _start_tesladr(hass, oasis, [tesla], day)
        for route in ROUTES:
            logs[route] = await _link(hass, route, drivers.get(route), roles)
        unfollow = _follow(hass, logs)
        sim = BothSims(account_sim, RouteSim(hass, cars, start))
        try:
            _, stepping = await run_day(hass, freezer, sim, end, [])  # type: ignore[arg-type]
        finally:
            unfollow()
            # tesladr first, then the source integrations while their patches still hold.
            for entry in [
                *entries,
                *(log.entry for log in logs.values()),
                *(driver.entry for driver in drivers.values()),
            ]:
                await hass.config_entries.async_unload(entry.entry_id)
            await settle(hass)
    await tesla.stop()
    await oasis.stop()
    linked_vins = {driver.vin for driver in drivers.values()}
    return {
        "benchmark": "replay_routes",
        "day": day.name,
        "window_pacific": "-".join(
            f"{int(hour):02d}:{round(hour % 1 * 60):02d}" for hour in WINDOW
        ),
        "poll_s": {
            "tesla_fleet": 600,
            "teslemetry": 60,
            "tessie": 10,
            "tesla_custom": int(TESLA_CUSTOM_INTERVAL.total_seconds()),
            SOURCE_GENERIC: 0,
        },
        "routes": {
            route: _route_row(
                route,
                logs[route],
                _node(route),
                day_events,
                car,
                clouds,
                drivers.get(route),
            )
            for route, car in zip(ROUTES, cars, strict=True)
        },
        "tesladr_tesla_requests_for_linked_cars": sum(
            1 for call in tesla.log if call.vin in linked_vins
        ),
        "tesladr_tesla_requests_account_car": Counter(
            call.name for call in tesla.log if call.vin not in linked_vins
        ),
        "run": stepping,
    }


def _node(route: str) -> str:
    """Where each car charges: the drivers' fixture car in Palo Alto, the charger in LA."""
    from .replay_sim import NP15, SP15

    return SP15 if route == SOURCE_GENERIC else NP15


async def test_replay_routes(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    mock_bluetooth: None,
) -> None:
    """Print one JSON line: per route, service calls per event, Tesla calls, reaction."""
    row = await measured(hass, replay_routes(hass, freezer))
    print(json.dumps(row, default=str))
    if row["tesladr_tesla_requests_for_linked_cars"]:
        pytest.fail("tesladr made Tesla API calls of its own for linked cars")
