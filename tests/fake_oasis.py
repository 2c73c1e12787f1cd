"""A fake CAISO OASIS SingleZip endpoint on 127.0.0.1 for the real OasisClient to talk to.

Prices come from a table (`set_price`) or a function (`price_fn`); intervals are served only once
published (`now >= end + publish_lag`, with `now` from an injectable clock so Home Assistant tests
drive it with freezer). Faults are queued with `fail_next`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import io
from typing import Literal
from unittest.mock import patch
import zipfile
from zoneinfo import ZoneInfo

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.tesladr import price_coordinator
from custom_components.tesladr.caiso import Market, RequestPacer
from custom_components.tesladr.price_feed import DATA_FEED, OasisFeed

PACIFIC = ZoneInfo("America/Los_Angeles")
THROTTLE_BODY = (
    b"<html><body><p>CAISO Acceptable Use Policy Violation. Please retry your request "
    b"after 5 seconds.</p></body></html>"
)
STEP = {
    Market.RTM: timedelta(minutes=5),
    Market.RTPD: timedelta(minutes=15),
    Market.DAM: timedelta(hours=1),
}
MARKET_BY_QUERY = {market.query_name: market for market in Market}
HEADER = (
    "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,NODE_ID_XML,NODE_ID,NODE,"
    "MARKET_RUN_ID,LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS,{price},OPR_INTERVAL,GROUP"
)
type Fault = (
    Literal[
        "throttle",
        "throttle_200",
        "html",
        "corrupt",
        "empty_member",
        "http_500",
        "slow",
    ]
    | int
)

ERROR_XML = """<?xml version="1.0" encoding="UTF-8"?>
<m:OASISReport xmlns:m="http://www.caiso.com/soa/OASISReport_v1.xsd">
<m:MessagePayload><m:RTO><m:name>CAISO</m:name>
<m:ERROR><m:ERR_CODE>{code}</m:ERR_CODE><m:ERR_DESC>{desc}</m:ERR_DESC></m:ERROR>
</m:RTO></m:MessagePayload></m:OASISReport>
"""


def zip_members(*members: tuple[str, bytes]) -> bytes:
    """Zip members the way OASIS packages a SingleZip answer."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def error_zip(code: int, desc: str = "error") -> bytes:
    """An OASIS error document in a zip."""
    return zip_members(
        (f"ERROR_{code}.xml", ERROR_XML.format(code=code, desc=desc).encode())
    )


def csv_payload(market: Market, rows: list[tuple[str, datetime, float]]) -> bytes:
    """A CSV member with an LMP row and an energy-component row per interval."""
    lines = [HEADER.format(price=market.price_column)]
    step = STEP[market]
    for node, start, price in rows:
        end = start + step
        s = start.strftime("%Y-%m-%dT%H:%M:%S-00:00")
        e = end.strftime("%Y-%m-%dT%H:%M:%S-00:00")
        for lmp_type, item, value in (
            ("MCE", "LMP_ENE_PRC", price - 1.0),
            ("LMP", "LMP_PRC", price),
        ):
            lines.append(
                f"{s},{e},{start.date()},{start.hour + 1:02d},{node},{node},{node},{market.value},"
                f"{lmp_type},{item},{node},ALL_APNODES,0,{value:.5f},1,1"
            )
    return ("\n".join(lines) + "\n").encode()


@dataclass
class RequestRecord:
    """One request the fake answered."""

    at: datetime
    market: Market | None
    nodes: list[str]
    start: datetime | None
    end: datetime | None
    query: dict[str, str]


@dataclass
class FakeOasis:
    """The fake server; start it with `await fake.start()` (the `fake_oasis` fixture does)."""

    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    publish_lag: timedelta = timedelta(seconds=0)
    price_fn: Callable[[Market, str, datetime], float | None] | None = None
    delay: float = 0.0
    prices: dict[tuple[Market, str, datetime], float] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)
    _faults: deque[Fault] = field(default_factory=deque)
    # Raw bodies (zips, HTML) answered to the next requests as they are: real captured payloads.
    replies: deque[tuple[bytes, str, int]] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    port: int = 0
    # Extra routes served beside SingleZip (the offline demo's control endpoints).
    routes: list[web.RouteDef] = field(default_factory=list)
    # Serve intervals on each report's own grid, as OASIS does, whatever the query's start
    # (off: intervals step from the query's start, as the existing tests were written for).
    align: bool = False

    @property
    def url(self) -> str:
        """Base URL to give the client."""
        return f"http://127.0.0.1:{self.port}/oasisapi/SingleZip"

    def set_price(
        self, node: str, start: datetime, price: float, market: Market = Market.RTM
    ) -> None:
        """Price one interval of one node."""
        self.prices[market, node, start] = price

    def reply_next(
        self,
        body: bytes,
        content_type: str = "application/x-zip-compressed",
        status: int = 200,
    ) -> None:
        """Answer the next request with this body, as it is."""
        self.replies.append((body, content_type, status))

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        """Answer the next `times` requests with a fault (an int is an OASIS error code)."""
        self._faults.extend([fault] * times)

    def requests_for(self, market: Market) -> list[RequestRecord]:
        """Requests made for one report."""
        return [record for record in self.requests if record.market is market]

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_get("/oasisapi/SingleZip", self._handle)
        app.router.add_routes(self.routes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    def _price(self, market: Market, node: str, start: datetime) -> float | None:
        if (market, node, start) in self.prices:
            return self.prices[market, node, start]
        return self.price_fn(market, node, start) if self.price_fn else None

    def _published(self, market: Market, start: datetime, now: datetime) -> bool:
        """Real-time intervals publish after they end; forecasts come ahead of time."""
        if market is Market.RTM:
            return now >= start + STEP[market] + self.publish_lag
        if market is Market.RTPD:
            return now >= start - STEP[market] + self.publish_lag
        # Day-ahead: a Pacific day's prices appear at 13:00 Pacific the day before.
        local_now = now.astimezone(PACIFIC)
        day = start.astimezone(PACIFIC).date()
        today = local_now.date()
        return day <= today or (
            day == today + timedelta(days=1) and local_now.hour >= 13
        )

    async def _handle(self, request: web.Request) -> web.Response:
        query = dict(request.query)
        market = MARKET_BY_QUERY.get(query.get("queryname", ""))
        try:
            start = datetime.strptime(
                query["startdatetime"], "%Y%m%dT%H:%M-0000"
            ).replace(tzinfo=UTC)
            end = datetime.strptime(query["enddatetime"], "%Y%m%dT%H:%M-0000").replace(
                tzinfo=UTC
            )
        except KeyError, ValueError:
            start = end = None
        nodes = [n for n in query.get("node", "").split(",") if n]
        self.requests.append(
            RequestRecord(self.clock(), market, nodes, start, end, query)
        )
        if self.replies:
            body, content_type, status = self.replies.popleft()
            return web.Response(body=body, content_type=content_type, status=status)
        if self._faults:
            fault = self._faults.popleft()
            if fault == "slow":
                await asyncio.sleep(self.delay)
            else:
                return self._fault(fault)
        if market is None or start is None or end is None or not nodes:
            return self._zip(
                error_zip(1001, "Invalid Parameters of the given report name")
            )
        rows: list[tuple[str, datetime, float]] = []
        step = STEP[market]
        now = self.clock()
        first = start
        if self.align:
            midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
            first = midnight + (start - midnight) // step * step
        for node in nodes:
            moment = first
            while moment < end:
                price = self._price(market, node, moment)
                if price is not None and self._published(market, moment, now):
                    rows.append((node, moment, price))
                moment += step
        if not rows:
            return self._zip(
                error_zip(1000, "No data returned for the specified selection")
            )
        return self._zip(
            zip_members((f"{market.query_name}.csv", csv_payload(market, rows)))
        )

    @staticmethod
    def _zip(body: bytes) -> web.Response:
        return web.Response(body=body, content_type="application/x-zip-compressed")

    def _fault(self, fault: Fault) -> web.Response:
        if isinstance(fault, int):
            return self._zip(error_zip(fault))
        match fault:
            case "throttle":
                return web.Response(
                    status=429, body=THROTTLE_BODY, content_type="text/html"
                )
            case "throttle_200":
                return web.Response(body=THROTTLE_BODY, content_type="text/html")
            case "html":
                return web.Response(
                    body=b"<html><body>Service Unavailable</body></html>",
                    content_type="text/html",
                )
            case "corrupt":
                return self._zip(
                    zip_members(("x.csv", b"a" * 200))[:60] + b"\x00garbage"
                )
            case "empty_member":
                return self._zip(zip_members(("PRC_INTVL_LMP.csv", b"")))
            case _:
                return web.Response(status=500, text="Internal Server Error")


@contextmanager
def point_tesladr_at(url: str) -> Iterator[None]:
    """Send tesladr's OASIS requests to `url` (a fake on 127.0.0.1) while the block runs.

    The one way tests, benchmarks and the offline demo (tests/demo_hass.py) reach a fake
    OASIS: tesladr reads the address each time it makes a client, as its price coordinator
    starts or its config flow checks OASIS.
    """
    with patch.object(price_coordinator, "OASIS_URL", url):
        yield


@pytest.fixture
async def fake_oasis(socket_enabled: None) -> AsyncIterator[FakeOasis]:
    """A started fake OASIS on 127.0.0.1 that tesladr asks (sockets stay on loopback)."""
    fake = FakeOasis()
    await fake.start()
    with point_tesladr_at(fake.url):
        yield fake
    await fake.stop()


@pytest.fixture
def frozen_pacer(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> RequestPacer:
    """The instance's pacer, whose waits move the frozen clock as a real wait moves time.

    With the production sleep a wait would pass in real time while HA's clock stands still,
    and the fake OASIS would record the paced request at the same instant as the one before.
    """

    async def sleep(seconds: float) -> None:
        freezer.tick(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    pacer = RequestPacer(clock=lambda: dt_util.utcnow().timestamp(), sleep=sleep)
    hass.data[DATA_FEED] = OasisFeed(pacer)
    return pacer
