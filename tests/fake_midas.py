"""A fake CEC MIDAS v2 API on 127.0.0.1 for the real MidasClient to talk to.

It answers the public GETs the way MIDAS v2 documents them: the RIN list wrapped in a keyed
object, values of a RIN over the realtime window (3 Pacific days from midnight Pacific today,
so 71 or 73 hours across a DST change) or the alldata window (90 days ending with that one),
dates and times in UTC with inclusive ends, case-insensitive parameter names, 404 for an unknown
RIN and 410 for a retired v1 one. Flex Alert rows are hourly and gap-free, built from alert
windows (`add_alert`); MOER rows are 5-minute, from `moer_fn`; rates serve the rows given to
`add_rate`. `now` comes from an injectable clock, faults are queued with `fail_next`, raw bodies
(the reference payloads) with `reply_next`, and every request is recorded.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
import json
from typing import Any, Literal
from unittest.mock import patch
from zoneinfo import ZoneInfo

from aiohttp import web
import pytest

from custom_components.tesladr import midas_coordinator

PACIFIC = ZoneInfo("America/Los_Angeles")
FLEX_ALERT_RIN = "USCA-FLEX-ALRT-0000"
MOER_REGIONS = (
    "PGE",
    "SCE",
    "SDGE",
    "SMUD",
    "P2",
    "LADWP",
    "IID",
    "TID",
    "PACW",
    "NVENERGY",
    "WALC",
)
MOER_STEP = timedelta(minutes=5)
LIST_KEYS = {0: "All", 1: "Rates", 2: "GHGEmissions", 3: "FlexAlerts"}
SIGNAL_NAMES = {
    1: "Electricity Rates",
    2: "Greenhouse Gas Emissions",
    3: "California Independent System Operator Flex Alert",
}
RETIRED_FAMILIES = ("USCA-SGIP-SGRT-", "USCA-SGIP-SGFC-", "USCA-SGIP-SGHT-")
RETIRED_FLEX = ("USCA-FLEX-FXRT-0000", "USCA-FLEX-FXFC-0000", "USCA-FLEX-FXHT-0000")
HISTORY_LIMIT = timedelta(days=184)

type Fault = (
    Literal["throttle", "unavailable", "malformed", "html", "v1", "v1_units", "slow"]
    | int
)
type Endpoint = Literal["list", "values", "historical", "other"]


def pacific_midnight(day: date) -> datetime:
    """Midnight Pacific of a Pacific day, in UTC."""
    return datetime.combine(day, time(), PACIFIC).astimezone(UTC)


def realtime_window(now: datetime) -> tuple[datetime, datetime]:
    """MIDAS's realtime window: midnight Pacific today to midnight Pacific in 3 days."""
    today = now.astimezone(PACIFIC).date()
    return pacific_midnight(today), pacific_midnight(today + timedelta(days=3))


def alldata_window(now: datetime) -> tuple[datetime, datetime]:
    """MIDAS's alldata window: 90 days ending 23:59:59 Pacific the day after tomorrow."""
    today = now.astimezone(PACIFIC).date()
    end = today + timedelta(days=3)
    return pacific_midnight(end - timedelta(days=90)), pacific_midnight(end)


def row(
    start: datetime, end: datetime, value: float | None, name: str, unit: str
) -> dict[str, Any]:
    """One v2 `ValueInformation` row: UTC dates and times, the end inclusive to the second."""
    last = end - timedelta(seconds=1)
    return {
        "ValueName": name,
        "DateStart": start.date().isoformat(),
        "DateEnd": last.date().isoformat(),
        "DayStart": start.astimezone(PACIFIC).isoweekday(),
        "DayEnd": last.astimezone(PACIFIC).isoweekday(),
        "TimeStart": start.strftime("%H:%M:%S"),
        "TimeEnd": last.strftime("%H:%M:%S"),
        "Unit": unit,
        "Value": value,
    }


def row_start(values_row: dict[str, Any]) -> datetime:
    """The UTC start of a v2 row."""
    return datetime.combine(
        date.fromisoformat(values_row["DateStart"]),
        time.fromisoformat(values_row["TimeStart"]),
        UTC,
    )


def header(
    rin: str, name: str, rate_type: str, signal_type: str, description: str
) -> dict[str, Any]:
    """The descriptive fields of a values answer, as every v2 RIN has them."""
    return {
        "RateID": rin,
        "SystemTime_UTC": None,
        "RateName": name,
        "RateType": rate_type,
        "Sector": None,
        "API_Url": None,
        "RatePlan_Url": None,
        "EndUse": None,
        "AltRateName1": None,
        "AltRateName2": None,
        "SignupCloseDate": None,
        "SignalType": signal_type,
        "Description": description,
    }


def upload_to_rate(
    upload: dict[str, Any],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A rate in the upload shape (`RIN`) as a GET answer's header (`RateID`) and rows."""
    head = header(
        upload["RIN"],
        upload["RateName"],
        upload["RateType"],
        SIGNAL_NAMES[1],
        upload["RateName"],
    )
    return head, list(upload["ValueInformation"])


@dataclass
class RequestRecord:
    """One request the fake answered."""

    at: datetime
    endpoint: Endpoint
    rin: str | None
    query: dict[str, str]
    path: str


@dataclass
class Rate:
    """A rate the fake holds: its answer's header and its rows (served within the window)."""

    header: dict[str, Any]
    rows: list[dict[str, Any]]


@dataclass
class FakeMidas:
    """The fake server; start it with `await fake.start()` (the `fake_midas` fixture does)."""

    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # g/kWh of a region's 5-minute interval starting at a moment (None: no row).
    moer_fn: Callable[[str, datetime], float | None] = lambda _region, _start: 300.0
    alerts: list[tuple[datetime, datetime]] = field(default_factory=list)
    # MIDAS's alert rows are hourly; the demo shortens them to fit its timeline. `alert_fn`,
    # when set, says whether a row [start, end) is an alert row instead of `alerts`.
    alert_step: timedelta = timedelta(hours=1)
    alert_fn: Callable[[datetime, datetime], bool] | None = None
    rates: dict[str, Rate] = field(default_factory=dict)
    delay: float = 0.0
    # Retry-After of a "throttle" fault, as MIDAS would send it.
    retry_after: str = "30"
    requests: list[RequestRecord] = field(default_factory=list)
    _faults: deque[Fault] = field(default_factory=deque)
    replies: deque[tuple[bytes, str, int]] = field(default_factory=deque)
    _runner: web.AppRunner | None = None
    port: int = 0
    # Set by a "v1"/"v1_units" fault for the one request it answers.
    _v1: Literal["v1", "v1_units"] | None = None

    @property
    def url(self) -> str:
        """Base URL to give the client."""
        return f"http://127.0.0.1:{self.port}"

    def add_alert(self, start: datetime, end: datetime) -> None:
        """A Flex Alert active from `start` to `end`: the hours it touches read 1."""
        self.alerts.append((start, end))

    def add_rate(
        self,
        rin: str,
        rows: list[dict[str, Any]],
        description: str = "test rate",
        head: dict[str, Any] | None = None,
    ) -> None:
        """Hold a rate's rows, listed under electricity rates."""
        self.rates[rin] = Rate(
            head or header(rin, description, "TOU", SIGNAL_NAMES[1], description), rows
        )

    def reply_next(
        self, body: bytes, content_type: str = "application/json", status: int = 200
    ) -> None:
        """Answer the next request with this body, as it is."""
        self.replies.append((body, content_type, status))

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        """Answer the next `times` requests with a fault (an int is that HTTP status)."""
        self._faults.extend([fault] * times)

    def requests_for(
        self, endpoint: Endpoint, rin: str | None = None
    ) -> list[RequestRecord]:
        """Requests made to one endpoint (and RIN, when given)."""
        return [
            r
            for r in self.requests
            if r.endpoint == endpoint and (rin is None or r.rin == rin)
        ]

    def routes(self) -> list[web.RouteDef]:
        """The MIDAS API's routes, for this fake's server or another one (the demo's)."""
        return [
            web.get("/api/valuedata", self._valuedata),
            web.get("/api/historicaldata/{rin}", self._historical),
        ]

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    # -- answers -----------------------------------------------------------------------

    def listings(self, signal_type: int) -> list[dict[str, Any]]:
        """The RIN list of a signal type (0: all)."""
        entries: dict[int, list[tuple[str, str]]] = {
            1: [(rin, rate.header["Description"]) for rin, rate in self.rates.items()],
            2: [
                (f"USCA-SGIP-MOER-{r}", f"{r} Realtime GHG Emissions")
                for r in MOER_REGIONS
            ],
            3: [(FLEX_ALERT_RIN, "CAISO Flex Alert Status - Flex Alert")],
        }
        kinds = (1, 2, 3) if signal_type == 0 else (signal_type,)
        return [
            {
                "RateID": rin,
                "SignalType": SIGNAL_NAMES[kind],
                "Description": description,
                "LastUpdated": "2026-06-22T14:56:34+0000",
            }
            for kind in kinds
            for rin, description in entries[kind]
        ]

    def values(self, rin: str, start: datetime, end: datetime) -> dict[str, Any] | None:
        """A RIN's answer over [start, end), or None when the fake has no such RIN."""
        rows: list[dict[str, Any]]
        if rin == FLEX_ALERT_RIN:
            head = header(
                rin,
                "CAISO Flex Alert Status",
                "Flex Alert",
                SIGNAL_NAMES[3],
                "CAISO Flex Alert Status - Flex Alert",
            )
            rows = []
            hour, step = start, self.alert_step
            while hour < end:
                active = (
                    self.alert_fn(hour, hour + step)
                    if self.alert_fn is not None
                    else any(a < hour + step and hour < b for a, b in self.alerts)
                )
                name = "Active Flex Alert" if active else "No Active Flex Alert"
                rows.append(row(hour, hour + step, int(active), name, "Event"))
                hour += step
        elif rin.startswith("USCA-SGIP-MOER-") and rin[15:] in MOER_REGIONS:
            region = rin[15:]
            head = header(
                rin,
                f"SGIP_{region} Realtime GHG Emissions",
                "Greenhouse Gas emissions",
                SIGNAL_NAMES[2],
                "Realtime WattTime SGIP Green House Gas (GHG) Emission Signals",
            )
            rows = []
            moment = start
            while moment < end:
                value = self.moer_fn(region, moment)
                if value is not None:
                    rows.append(
                        row(
                            moment,
                            moment + MOER_STEP,
                            value,
                            "Realtime SGIP GHG Emission",
                            "g/kWh CO2",
                        )
                    )
                moment += MOER_STEP
        elif rin in self.rates:
            head = dict(self.rates[rin].header)
            rows = [r for r in self.rates[rin].rows if start <= row_start(r) < end]
        else:
            return None
        head["SystemTime_UTC"] = self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return {**head, "ValueInformation": rows}

    async def _valuedata(self, request: web.Request) -> web.Response:
        # MIDAS reads parameter names case-insensitively.
        query = {key.lower(): value for key, value in request.query.items()}
        rin = query.get("id")
        endpoint: Endpoint = (
            "list" if "signaltype" in query else "values" if rin else "other"
        )
        if early := await self._record(request, endpoint, rin, query):
            return early
        if endpoint == "list":
            return self._list(query["signaltype"])
        if rin is None:
            return _error(400, "expected SignalType, ID or LookupTable")
        if retired := _retired(rin):
            return retired
        query_type = query.get("querytype", "").lower()
        if query_type not in ("realtime", "alldata"):
            return _error(400, f"invalid QueryType {query.get('querytype')!r}")
        window = realtime_window if query_type == "realtime" else alldata_window
        return self._values(rin, *window(self.clock()))

    async def _historical(self, request: web.Request) -> web.Response:
        rin = request.match_info["rin"]
        query = {key.lower(): value for key, value in request.query.items()}
        if early := await self._record(request, "historical", rin, query):
            return early
        if retired := _retired(rin):
            return retired
        try:
            first = date.fromisoformat(query["startdate"])
            last = date.fromisoformat(query["enddate"])
        except KeyError, ValueError:
            return _error(400, "startdate and enddate are YYYY-MM-DD")
        start, end = pacific_midnight(first), pacific_midnight(last + timedelta(days=1))
        if end <= start or end - start > HISTORY_LIMIT:
            return _error(400, "at most 6 months a request")
        return self._values(rin, start, end)

    def _list(self, signal_type: str) -> web.Response:
        if signal_type not in ("0", "1", "2", "3"):
            return _error(400, f"invalid SignalType {signal_type!r}")
        kind = int(signal_type)
        if self._v1 is not None:
            return web.json_response(self.listings(kind))
        return web.json_response({LIST_KEYS[kind]: self.listings(kind)})

    def _values(self, rin: str, start: datetime, end: datetime) -> web.Response:
        answer = self.values(rin, start, end)
        if answer is None:
            return _error(404, f"RIN {rin} not found")
        if self._v1 is not None:
            for values_row in answer["ValueInformation"]:
                if values_row["Unit"] == "g/kWh CO2":
                    values_row["Unit"] = "kg/kWh CO2"
                    values_row["Value"] /= 1000
                if self._v1 == "v1":
                    values_row["value"] = values_row.pop("Value")
        return web.json_response(answer)

    async def _record(
        self,
        request: web.Request,
        endpoint: Endpoint,
        rin: str | None,
        query: dict[str, str],
    ) -> web.Response | None:
        """Record the request; the answer when a queued reply or fault takes its place."""
        self.requests.append(
            RequestRecord(self.clock(), endpoint, rin, query, request.path)
        )
        self._v1 = None
        if self.replies:
            body, content_type, status = self.replies.popleft()
            return web.Response(body=body, content_type=content_type, status=status)
        if not self._faults:
            return None
        fault = self._faults.popleft()
        match fault:
            case "slow":
                await asyncio.sleep(self.delay)
                return None
            case "v1" | "v1_units":
                self._v1 = fault
                return None
            case "throttle":
                return web.Response(
                    status=429,
                    text="Too Many Requests",
                    headers={"Retry-After": self.retry_after},
                )
            case "unavailable":
                return _error(503, "WattTime is unavailable")
            case "malformed":
                return web.Response(
                    body=b'{"RateID": "USCA-', content_type="application/json"
                )
            case "html":
                return web.Response(
                    body=b"<html><body>Request Rejected</body></html>",
                    content_type="text/html",
                )
            case int():
                return _error(fault, "fault")


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)


def _retired(rin: str) -> web.Response | None:
    """410 Gone for a v1 RIN, naming its successor as MIDAS does."""
    if rin in RETIRED_FLEX:
        return _error(
            410, f"{rin} is retired: use {FLEX_ALERT_RIN} with QueryType=realtime"
        )
    if rin.startswith(RETIRED_FAMILIES):
        return _error(410, f"{rin} is retired: use USCA-SGIP-MOER-{rin[15:]}")
    return None


def dump(document: Any) -> bytes:
    """A JSON body as MIDAS sends it."""
    return json.dumps(document).encode()


@contextmanager
def point_midas_at(url: str) -> Iterator[None]:
    """Send tesladr's MIDAS requests to `url` (a fake on 127.0.0.1) while the block runs."""
    with patch.object(midas_coordinator, "MIDAS_URL", url):
        yield


@pytest.fixture
async def fake_midas(socket_enabled: None) -> AsyncIterator[FakeMidas]:
    """A started fake MIDAS on 127.0.0.1 (sockets stay on loopback)."""
    fake = FakeMidas()
    await fake.start()
    with point_midas_at(fake.url):
        yield fake
    await fake.stop()
