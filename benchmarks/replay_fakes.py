"""The test suite's fakes, extended for the replay benchmark without changing their behaviour.

The replay needs to know *when* things happened on the simulated clock: when each 5-minute
interval was published, and when each Tesla call arrived and whether a command changed the car.
Subclassing keeps the shared fakes untouched for the tests and the demo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import itertools

from aiohttp import web

from custom_components.tesladr.caiso import Market
from tests.fake_oasis import MARKET_BY_QUERY, STEP, FakeOasis
from tests.fake_tesla import FakeTesla

# Calls that keep a parked car awake; the product list and the summary read do not.
OASIS_TIME = "%Y%m%dT%H:%M-0000"
# One order for the calls of every fake: calls at the same simulated instant keep the order
# in which they really ran, for estimating what real latency would add.
SEQUENCE = itertools.count()
AWAKE_CALLS = frozenset({"vehicle_data", "wake_up", "charge_stop", "charge_start"})


@dataclass
class LaggedFakeOasis(FakeOasis):
    """A fake OASIS whose 5-minute intervals each publish after their own lag."""

    lag_fn: Callable[[datetime], timedelta] | None = None
    order: list[int] = field(default_factory=list)  # SEQUENCE number of each request

    def published_at(self, start: datetime) -> datetime:
        """When the 5-minute interval starting at `start` becomes visible."""
        lag = self.lag_fn(start) if self.lag_fn else self.publish_lag
        return start + STEP[Market.RTM] + lag

    def _published(self, market: Market, start: datetime, now: datetime) -> bool:
        if market is Market.RTM and self.lag_fn is not None:
            return now >= self.published_at(start)
        return super()._published(market, start, now)

    async def _handle(self, request: web.Request) -> web.Response:
        """Serve the intervals that start inside the window, wherever the window starts.

        The shared fake walks the grid from the given start, so a window starting at
        06:02 would find no interval; a client on an unaligned timer asks exactly that.
        """
        self.order.append(next(SEQUENCE))
        query = request.query
        market = MARKET_BY_QUERY.get(query.get("queryname", ""))
        try:
            start = datetime.strptime(query["startdatetime"], OASIS_TIME)
        except KeyError, ValueError:
            return await super()._handle(request)
        if market is not None:
            step = int(STEP[market].total_seconds())
            seconds = int(start.replace(tzinfo=UTC).timestamp())
            aligned = datetime.fromtimestamp(-(-seconds // step) * step, UTC)
            if aligned != start.replace(tzinfo=UTC):
                request = request.clone(
                    rel_url=request.rel_url.update_query(
                        startdatetime=aligned.strftime(OASIS_TIME)
                    )
                )
        return await super()._handle(request)


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One Tesla API call as the fake saw it."""

    at: datetime
    vin: str  # or "account" for the product list
    kind: str  # data, command, wake (what Fleet API bills)
    name: str  # products, vehicle_data, summary, wake_up, charge_stop, charge_start
    effective: bool = False  # a command that changed the car's charging state
    seq: int = field(default_factory=lambda: next(SEQUENCE))


@dataclass
class LoggedFakeTesla(FakeTesla):
    """A fake Tesla account that logs every call with the simulated time."""

    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    log: list[CallRecord] = field(default_factory=list)
    last_call: dict[str, dict[str, datetime]] = field(default_factory=dict)

    async def _guard(
        self, request: web.Request, vin: str, kind: str
    ) -> web.Response | None:
        name = _call_name(request)
        if name not in ("charge_stop", "charge_start"):
            self._note(CallRecord(self.clock(), vin, kind, name))
        return await super()._guard(request, vin, kind)

    async def _command(self, request: web.Request) -> web.Response:
        car = self._car(request)
        before = car.charging_state
        response = await super()._command(request)
        self._note(
            CallRecord(
                self.clock(),
                car.vin,
                "command",
                request.match_info["command"],
                effective=car.charging_state != before,
            )
        )
        return response

    def _note(self, record: CallRecord) -> None:
        self.log.append(record)
        self.last_call.setdefault(record.vin, {})[record.name] = record.at


def _call_name(request: web.Request) -> str:
    if command := request.match_info.get("command"):
        return command
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    last = path.rsplit("/", 1)[-1]
    return "summary" if last == "{car_id}" else last
