"""The offline demo's fake CAISO OASIS and fake Tesla, as one long-running process.

`./scripts/develop` runs `python -m tests.demo_servers`; `tests/test_demo.py` runs it on free
ports. It reuses the test suite's fakes (tests/fake_oasis.py, tests/fake_tesla.py) and adds:

- a price day that is low (about 40 USD/MWh) except for a short spike: the interval published
  at the spike's boundary is high, then prices fall back, and the spike repeats every
  `repeat` minutes so a demo left running keeps showing events;
- one "Model 3", plugged in at home and charging at 7 kW from 60 %, whose battery rises while
  it charges, with Tesla's scheduled departure on, twelve hours after the servers start;
- control endpoints (below) for the demo's set-up and its test;
- the fake's rotating Tesla tokens kept in a state file, so the account entry Home Assistant
  stored on an earlier run still logs in;
- the fake CEC MIDAS (tests/fake_midas.py) on the fake OASIS's port (`/api/valuedata`), its
  grid signals placed relative to the servers' start (rounded down to 5 minutes) and repeated
  every hour, so a demo started at any hour shows them within minutes: a Flex Alert from 10 to
  20 minutes in, a dirty-grid interval (820 g CO2/kWh) from 40 to 50 minutes in (the price
  spikes, every 30 minutes from about a minute after set-up, fall between them); and the
  time-of-use rate DEMO_RIN (0.55 USD/kWh 16:00-21:00 Pacific, 0.31 otherwise) over the two
  weeks from the day the servers start. Its alert rows are 5 minutes long, MIDAS's an hour,
  so that the demo's alert fits between two spikes.

Control endpoints (JSON):
- OASIS `POST /demo/schedule {"lead_seconds": 60}` publishes the next spike at the first
  5-minute boundary at least that far ahead; `{"lead_seconds": null}` turns spikes off.
- OASIS `POST /demo/price {"price": 250, "node": "TH_NP15_GEN-APND"}` re-prices the newest
  published 5-minute interval (every node when `node` is left out), as OASIS does for real.
- OASIS `POST /demo/grid {"alert_in_seconds": 0, "dirty_in_seconds": null}` moves the Flex
  Alert (or the dirty interval) to start at the 5-minute interval that far ahead, repeating
  hourly from there; null turns it off. Home Assistant sees the change at its next MIDAS read
  (every 5 minutes, or at once when the prices entry is reloaded).
- OASIS `GET /demo/status` shows the schedule; Tesla `GET /demo/account` the login to use.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import json
import logging
import math
from pathlib import Path
import signal
from typing import Any

from aiohttp import web

from custom_components.tesladr.caiso import NODES, Market
from tests.fake_midas import FakeMidas, pacific_midnight, row
from tests.fake_oasis import PACIFIC, STEP, FakeOasis
from tests.fake_tesla import FakeCar, FakeTesla

_LOGGER = logging.getLogger("tesladr.demo")

FIVE_MINUTES = STEP[Market.RTM]
EMAIL = "demo@example.com"
VIN = "5YJ3E1EA7KF000001"
CAR_NAME = "Model 3"
DEPARTURE_AHEAD = timedelta(hours=12)
# A Model 3 Long Range's usable pack, to turn energy added into battery percent.
PACK_KWH = 75.0
BASE_PRICE = 40.0
SPIKE_PRICE = 230.0
# The two intervals before a spike climb towards it, as evening ramps do.
RAMP = (62.0, 85.0)
AFTER_SPIKE = 48.0
# Nodes are not all priced alike; the offsets only keep the node sensors apart.
NODE_OFFSET = {name: 1.5 * index for index, name in enumerate(NODES)}


# The demo's grid signals (tests/fake_midas.py on the fake OASIS's port), relative to the
# servers' start and repeating hourly (see the module docstring); a time-of-use rate for the
# owner's RIN.
DEMO_RIN = "USCA-PGPG-DEMO-0000"
GRID_CYCLE = timedelta(hours=1)
SIGNAL_LENGTH = timedelta(minutes=10)
ALERT_AFTER = timedelta(minutes=10)
DIRTY_AFTER = timedelta(minutes=40)
DIRTY_MOER = 820.0
PEAK_HOURS = range(16, 21)
DEMO_DAYS = range(-1, 15)


@dataclass
class DemoGrid:
    """When the demo's Flex Alert and dirty interval are: offsets into an hourly cycle."""

    origin: datetime  # a cycle's start, on a 5-minute boundary
    alert: timedelta | None = ALERT_AFTER  # None: off
    dirty: timedelta | None = DIRTY_AFTER

    def _within(self, after: timedelta | None, moment: datetime) -> bool:
        if after is None:
            return False
        return (moment - self.origin - after) % GRID_CYCLE < SIGNAL_LENGTH

    def alert_active(self, start: datetime, _end: datetime) -> bool:
        """Whether the alert row starting at `start` (5 minutes long) is an alert."""
        return self._within(self.alert, start)

    def emissions(self, _region: str, start: datetime) -> float:
        """G CO2/kWh: clean at midday (solar), dearer in the evening, the dirty interval."""
        if self._within(self.dirty, start):
            return DIRTY_MOER
        local = start.astimezone(PACIFIC)
        hour = local.hour + local.minute / 60
        midday = math.exp(-(((hour - 12.5) / 2.5) ** 2))
        evening = math.exp(-(((hour - 20) / 2.0) ** 2))
        return round(300.0 - 140.0 * midday + 120.0 * evening, 1)

    def move(self, now: datetime, signal: str, lead: timedelta | None) -> None:
        """Start a signal at the 5-minute interval `lead` ahead of now (None: turn it off)."""
        after = (
            None
            if lead is None
            else (floor_interval(now + lead) - self.origin) % GRID_CYCLE
        )
        setattr(self, signal, after)

    def next_start(self, after: timedelta | None, now: datetime) -> datetime | None:
        """When a signal next starts (its current interval's start while it is on)."""
        if after is None:
            return None
        into = (now - self.origin - after) % GRID_CYCLE
        current = floor_interval(now - into)
        return current if into < SIGNAL_LENGTH else current + GRID_CYCLE


def demo_midas(clock: Callable[[], datetime]) -> tuple[FakeMidas, DemoGrid]:
    """The fake MIDAS of the demo's two weeks from today, and its grid timeline."""
    grid = DemoGrid(floor_interval(clock()))
    midas = FakeMidas(
        clock=clock,
        moer_fn=grid.emissions,
        alert_step=FIVE_MINUTES,
        alert_fn=grid.alert_active,
    )
    today = clock().astimezone(PACIFIC).date()
    rows = []
    for offset in DEMO_DAYS:
        midnight = pacific_midnight(today + timedelta(days=offset))
        for hour in range(24):
            peak = hour in PEAK_HOURS
            start = midnight + timedelta(hours=hour)
            rows.append(
                row(
                    start,
                    start + timedelta(hours=1),
                    0.55 if peak else 0.31,
                    "Peak" if peak else "Off-Peak",
                    "$/kWh",
                )
            )
    midas.add_rate(DEMO_RIN, rows, "E-TOU-C (demo)")
    return midas, grid


def floor_interval(moment: datetime, step: timedelta = FIVE_MINUTES) -> datetime:
    """Start of the interval of length `step` (dividing a day) containing `moment`."""
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + (moment - midnight) // step * step


@dataclass
class DemoPrices:
    """The demo's price day as a function of (market, node, interval start)."""

    spike_start: datetime | None = None  # start of the first high 5-minute interval
    spike_intervals: int = 1
    repeat: timedelta | None = timedelta(minutes=30)

    def schedule(self, now: datetime, lead: timedelta | None) -> datetime | None:
        """Publish the next spike at the first boundary at least `lead` ahead; None: no spikes.

        Returns when the first high interval is published (its end).
        """
        if lead is None:
            self.spike_start = None
            return None
        published = floor_interval(
            now + lead + FIVE_MINUTES - timedelta(microseconds=1)
        )
        self.spike_start = published - FIVE_MINUTES
        return published

    def next_publication(self, now: datetime) -> datetime | None:
        """When the next (or current) spike's first high interval is published."""
        if self.spike_start is None:
            return None
        published = self.spike_start + FIVE_MINUTES
        if self.repeat is not None and now > published:
            cycles = math.ceil((now - published) / self.repeat)
            published += cycles * self.repeat
        return published

    def realtime(self, start: datetime) -> float:
        """5-minute price of an interval, before node offsets."""
        wobble = 3.0 * math.sin(start.timestamp() / 1500.0)
        if self.spike_start is None:
            return round(BASE_PRICE + wobble, 2)
        index = (start - self.spike_start) // FIVE_MINUTES
        if self.repeat is not None and index >= -len(RAMP):
            cycle = self.repeat // FIVE_MINUTES
            # Index relative to the nearest spike, ramps included: -2 .. cycle - 3.
            index = (index + 2) % cycle - 2
        if index in {-2, -1}:
            return RAMP[index + 2]
        if 0 <= index < self.spike_intervals:
            return SPIKE_PRICE + 15.0 * index
        if index == self.spike_intervals:
            return AFTER_SPIKE
        return round(BASE_PRICE + wobble, 2)

    def price(self, market: Market, node: str, start: datetime) -> float | None:
        """Price of any report; None for nodes the demo does not know."""
        if node not in NODE_OFFSET:
            return None
        offset = NODE_OFFSET[node]
        if market is Market.RTM:
            return self.realtime(start) + offset
        if market is Market.RTPD:
            thirds = [self.realtime(start + i * FIVE_MINUTES) for i in range(3)]
            return round(sum(thirds) / 3, 2) + offset
        # Day-ahead: a plain duck curve, cheap at midday and dear in the evening.
        hour = start.astimezone(PACIFIC).hour
        evening = math.exp(-(((hour - 19) / 2.2) ** 2))
        midday = math.exp(-(((hour - 12) / 2.5) ** 2))
        return round(45.0 + 70.0 * evening - 25.0 * midday, 2) + offset


@dataclass
class DemoState:
    """The demo's fakes and the state they keep between runs."""

    oasis: FakeOasis
    tesla: FakeTesla
    prices: DemoPrices
    car: FakeCar
    state_file: Path | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    midas: FakeMidas | None = None
    grid: DemoGrid | None = None
    battery: float = 60.0

    def save_tokens(self) -> None:
        """Keep the rotated tokens: Home Assistant's entry holds the newest pair."""
        if self.state_file is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "refresh_token": self.tesla.refresh_token,
                    "access_token": self.tesla.access_token,
                    "token_refreshes": self.tesla.token_refreshes,
                }
            )
        )
        tmp.replace(self.state_file)

    def load_tokens(self) -> None:
        """Take up the tokens an earlier run handed out."""
        if self.state_file is None or not self.state_file.is_file():
            return
        try:
            saved = json.loads(self.state_file.read_text())
            self.tesla.refresh_token = str(saved["refresh_token"])
            self.tesla.access_token = str(saved["access_token"])
            self.tesla.token_refreshes = int(saved["token_refreshes"])
        except (ValueError, KeyError, TypeError) as err:
            _LOGGER.warning("Ignoring unreadable %s: %s", self.state_file, err)

    def charge(self, seconds: float) -> None:
        """Advance the car's charge by `seconds` of charging."""
        car = self.car
        if car.charging_state != "Charging":
            return
        kwh = car.charger_power * seconds / 3600.0
        car.energy_added = round(car.energy_added + kwh, 2)
        self.battery = min(self.battery + 100.0 * kwh / PACK_KWH, 100.0)
        car.battery_level = int(self.battery)
        if car.battery_level >= car.charge_limit_soc:
            car.charging_state = "Complete"

    # Control endpoints.

    async def handle_schedule(self, request: web.Request) -> web.Response:
        """POST /demo/schedule."""
        body = await _json_body(request)
        lead = body.get("lead_seconds", 60)
        if lead is not None and not isinstance(lead, int | float):
            raise web.HTTPBadRequest(text="lead_seconds must be a number or null")
        published = self.prices.schedule(
            self.clock(), None if lead is None else timedelta(seconds=lead)
        )
        _LOGGER.info(
            "Price spike %s",
            f"published at {_local(published)}" if published else "turned off",
        )
        return web.json_response(self._status())

    async def handle_price(self, request: web.Request) -> web.Response:
        """POST /demo/price."""
        body = await _json_body(request)
        price = body.get("price")
        node = body.get("node")
        if not isinstance(price, int | float) or (
            node is not None and node not in NODE_OFFSET
        ):
            raise web.HTTPBadRequest(text="need a numeric price and a known node")
        # The newest published interval: the fake publishes an interval once it ends.
        start = floor_interval(self.clock() - self.oasis.publish_lag) - FIVE_MINUTES
        for name in [node] if node else NODE_OFFSET:
            self.oasis.set_price(name, start, float(price))
        _LOGGER.info("Re-priced %s to %s USD/MWh", _local(start), price)
        return web.json_response({"start": start.isoformat(), "price": price})

    async def handle_grid(self, request: web.Request) -> web.Response:
        """POST /demo/grid."""
        assert self.grid is not None
        body = await _json_body(request)
        for name in ("alert", "dirty"):
            key = f"{name}_in_seconds"
            if key not in body:
                continue
            lead = body[key]
            if lead is not None and not isinstance(lead, int | float):
                raise web.HTTPBadRequest(text=f"{key} must be a number or null")
            self.grid.move(
                self.clock(), name, None if lead is None else timedelta(seconds=lead)
            )
        status = self._status()
        _LOGGER.info(
            "Flex Alert from %s, dirty grid from %s",
            status["next_alert"],
            status["next_dirty"],
        )
        return web.json_response(status)

    async def handle_status(self, _request: web.Request) -> web.Response:
        """GET /demo/status."""
        return web.json_response(self._status())

    async def handle_account(self, _request: web.Request) -> web.Response:
        """GET /demo/account: what the account entry should be created with."""
        return web.json_response(
            {
                "email": EMAIL,
                "refresh_token": self.tesla.refresh_token,
                "url": self.tesla.url,
                "vin": self.car.vin,
            }
        )

    def _status(self) -> dict[str, Any]:
        published = self.prices.next_publication(self.clock())
        return {
            "spike_start": self.prices.spike_start.isoformat()
            if self.prices.spike_start
            else None,
            "next_spike_published": published.isoformat() if published else None,
            "repeat_minutes": self.prices.repeat.total_seconds() / 60
            if self.prices.repeat
            else None,
        } | self._grid_status()

    def _grid_status(self) -> dict[str, str | None]:
        grid, now = self.grid, self.clock()
        if grid is None:
            return {}
        alert, dirty = (
            grid.next_start(grid.alert, now),
            grid.next_start(grid.dirty, now),
        )
        return {
            "next_alert": alert.isoformat() if alert else None,
            "next_dirty": dirty.isoformat() if dirty else None,
        }


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as err:
        raise web.HTTPBadRequest(text="body must be JSON") from err
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def _local(moment: datetime | None) -> str:
    return moment.astimezone(PACIFIC).strftime("%H:%M:%S %Z") if moment else "-"


def departure_minutes(started: datetime) -> int:
    """Minutes after Pacific midnight of the demo car's departure: DEPARTURE_AHEAD on, by 5."""
    local = (started + DEPARTURE_AHEAD).astimezone(PACIFIC)
    return (local.hour * 60 + local.minute) // 5 * 5


def build(
    oasis_port: int = 0,
    tesla_port: int = 0,
    state_file: Path | None = None,
    repeat: timedelta | None = timedelta(minutes=30),
    spike_intervals: int = 1,
) -> DemoState:
    """The demo's fakes, not yet started."""
    prices = DemoPrices(repeat=repeat, spike_intervals=spike_intervals)
    oasis = FakeOasis(price_fn=prices.price, port=oasis_port, align=True)
    tesla = FakeTesla(port=tesla_port)
    car = tesla.add_car(VIN, CAR_NAME, charger_power=7.0, battery_level=60)
    # Tesla's own scheduled departure, half a day after the servers start: the departure
    # entities show it as the car's schedule, and its ready-by window (the hours of charging
    # before it) comes only to a demo left running that long.
    car.scheduled_charging_mode = "DepartBy"
    car.scheduled_departure_time_minutes = departure_minutes(datetime.now(UTC))
    demo = DemoState(oasis, tesla, prices, car, state_file)
    demo.midas, demo.grid = demo_midas(demo.clock)
    demo.load_tokens()
    tesla.on_tokens = demo.save_tokens
    oasis.routes = [
        web.post("/demo/schedule", demo.handle_schedule),
        web.post("/demo/price", demo.handle_price),
        web.post("/demo/grid", demo.handle_grid),
        web.get("/demo/status", demo.handle_status),
        *demo.midas.routes(),
    ]
    tesla.routes = [web.get("/demo/account", demo.handle_account)]
    return demo


async def run(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    demo = build(
        args.oasis_port,
        args.tesla_port,
        args.state_file,
        timedelta(minutes=args.repeat_minutes) if args.repeat_minutes else None,
        args.spike_intervals,
    )
    await demo.oasis.start()
    await demo.tesla.start()
    if args.spike_lead is not None:
        demo.prices.schedule(demo.clock(), timedelta(seconds=args.spike_lead))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # One line a supervisor can wait for.
    print(
        f"demo servers ready: oasis {demo.oasis.url} tesla {demo.tesla.url}", flush=True
    )
    tick = 15.0
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick)
            demo.charge(tick)
    finally:
        await demo.tesla.stop()
        await demo.oasis.stop()


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oasis-port", type=int, default=8124)
    parser.add_argument("--tesla-port", type=int, default=8125)
    parser.add_argument(
        "--state-file", type=Path, help="where the fake keeps Tesla tokens between runs"
    )
    parser.add_argument(
        "--spike-lead",
        type=float,
        help="schedule the first spike this many seconds ahead (else POST /demo/schedule)",
    )
    parser.add_argument(
        "--repeat-minutes",
        type=int,
        default=30,
        help="spike again every this many minutes, 0 for once (a multiple of 5)",
    )
    parser.add_argument("--spike-intervals", type=int, default=1)
    args = parser.parse_args()
    if args.repeat_minutes % 5:
        parser.error("--repeat-minutes must be a multiple of 5")
    logging.basicConfig(level=logging.INFO, format="demo servers: %(message)s")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
