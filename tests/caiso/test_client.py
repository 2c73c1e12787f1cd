"""The real OasisClient against the fake OASIS server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from custom_components.tesladr.caiso import (
    Market,
    OasisBudgetError,
    OasisClient,
    OasisConnectionError,
    OasisRequestError,
    OasisResponseError,
    OasisThrottledError,
    RequestPacer,
)
from custom_components.tesladr.caiso.client import oasis_time
from custom_components.tesladr.caiso.pacing import CLOCK_MARGIN_SECONDS, MIN_GAP_SECONDS
from tests.fake_oasis import FakeOasis

# What the pacer keeps between requests: CAISO's 5 s and the clock margin.
GAP = MIN_GAP_SECONDS + CLOCK_MARGIN_SECONDS

NP15 = "TH_NP15_GEN-APND"
SP15 = "TH_SP15_GEN-APND"
T0 = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)


class FakeTime:
    """A monotonic clock that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(
    session: aiohttp.ClientSession, fake_oasis: FakeOasis, fake_time: FakeTime
) -> OasisClient:
    fake_oasis.clock = lambda: T0 + timedelta(hours=1)
    pacer = RequestPacer(clock=fake_time.clock, sleep=fake_time.sleep)
    return OasisClient(session, base_url=fake_oasis.url, pacer=pacer, timeout=2)


async def test_many_nodes_one_request(
    client: OasisClient, fake_oasis: FakeOasis
) -> None:
    """Several nodes travel in one request and come back sorted."""
    for minute in range(0, 15, 5):
        fake_oasis.set_price(NP15, T0 + timedelta(minutes=minute), 40 + minute)
        fake_oasis.set_price(SP15, T0 + timedelta(minutes=minute), 60 + minute)
    intervals = await client.fetch(
        Market.RTM, [SP15, NP15, NP15], T0, T0 + timedelta(minutes=15)
    )
    assert client.requests_made == 1
    assert len(fake_oasis.requests) == 1
    record = fake_oasis.requests[0]
    assert record.nodes == [NP15, SP15]
    assert record.query["queryname"] == "PRC_INTVL_LMP"
    assert record.query["version"] == "3"
    assert record.query["market_run_id"] == "RTM"
    assert record.query["resultformat"] == "6"
    assert record.query["startdatetime"] == "20260701T01:00-0000"
    assert [(i.node, i.price) for i in intervals] == [
        (NP15, 40),
        (NP15, 45),
        (NP15, 50),
        (SP15, 60),
        (SP15, 65),
        (SP15, 70),
    ]


async def test_report_parameters(client: OasisClient, fake_oasis: FakeOasis) -> None:
    """15-minute and day-ahead reports use their own query, version and price column."""
    fake_oasis.set_price(NP15, T0, 33.0, Market.RTPD)
    fake_oasis.set_price(NP15, T0 - timedelta(hours=1), 22.0, Market.DAM)
    rtpd = await client.fetch(Market.RTPD, [NP15], T0, T0 + timedelta(minutes=15))
    dam = await client.fetch(Market.DAM, [NP15], T0 - timedelta(hours=1), T0)
    assert rtpd[0].price == 33.0 and rtpd[0].end - rtpd[0].start == timedelta(
        minutes=15
    )
    assert dam[0].price == 22.0 and dam[0].end - dam[0].start == timedelta(hours=1)
    assert [r.query["queryname"] for r in fake_oasis.requests] == [
        "PRC_RTPD_LMP",
        "PRC_LMP",
    ]
    assert [r.query["version"] for r in fake_oasis.requests] == ["3", "12"]


async def test_no_data_is_empty_not_error(client: OasisClient) -> None:
    """Error 1000 (nothing published yet) is an empty result."""
    assert await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5)) == []


async def test_bad_request_names_the_request(
    client: OasisClient, fake_oasis: FakeOasis
) -> None:
    """1001 is a bug: the error carries the request."""
    fake_oasis.fail_next(1001)
    with pytest.raises(OasisRequestError, match="queryname=PRC_INTVL_LMP") as err:
        await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5))
    assert err.value.code == 1001


@pytest.mark.parametrize("fault", ["throttle", "throttle_200"])
async def test_throttle_retries_then_succeeds(
    client: OasisClient, fake_oasis: FakeOasis, fake_time: FakeTime, fault: str
) -> None:
    """A throttled request is retried after the 5 s gap and succeeds."""
    fake_oasis.set_price(NP15, T0, 50.0)
    fake_oasis.fail_next(fault)  # type: ignore[arg-type]
    intervals = await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5))
    assert [i.price for i in intervals] == [50.0]
    assert client.requests_made == 2
    assert fake_time.sleeps == pytest.approx([GAP])


async def test_throttle_gives_up_after_bounded_retries(
    client: OasisClient, fake_oasis: FakeOasis, fake_time: FakeTime
) -> None:
    """Three throttled answers in a row → OasisThrottledError, never two requests within 5 s."""
    fake_oasis.fail_next("throttle", times=5)
    with pytest.raises(OasisThrottledError):
        await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5))
    assert client.requests_made == 3
    assert fake_time.sleeps == pytest.approx([GAP, GAP])


async def test_admit_is_asked_for_every_request_retries_included(
    client: OasisClient, fake_oasis: FakeOasis, fake_time: FakeTime
) -> None:
    """The caller's budget sees each HTTP request, at the paced time it goes out."""
    fake_oasis.set_price(NP15, T0, 50.0)
    fake_oasis.fail_next("throttle", times=2)
    asked: list[float] = []

    def admit() -> bool:
        asked.append(fake_time.now)
        return True

    await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5), admit=admit)
    assert asked == pytest.approx([1000.0, 1000.0 + GAP, 1000.0 + 2 * GAP])
    assert client.requests_made == len(fake_oasis.requests) == 3


async def test_refused_first_request_sends_nothing(
    client: OasisClient, fake_oasis: FakeOasis
) -> None:
    """A spent budget is its own error, and OASIS never hears of the request."""
    with pytest.raises(OasisBudgetError):
        await client.fetch(
            Market.RTM, [NP15], T0, T0 + timedelta(minutes=5), admit=lambda: False
        )
    assert client.requests_made == 0
    assert fake_oasis.requests == []


async def test_refused_throttle_retry_is_a_throttle_error(
    client: OasisClient, fake_oasis: FakeOasis
) -> None:
    """Throttled with no budget left to retry: throttled, after one request only."""
    fake_oasis.fail_next("throttle")
    budget = [1]

    def admit() -> bool:
        budget[0] -= 1
        return budget[0] >= 0

    with pytest.raises(OasisThrottledError, match="budget"):
        await client.fetch(
            Market.RTM, [NP15], T0, T0 + timedelta(minutes=5), admit=admit
        )
    assert len(fake_oasis.requests) == 1


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("html", OasisResponseError),
        ("corrupt", OasisResponseError),
        ("empty_member", OasisResponseError),
        ("http_500", OasisResponseError),
    ],
)
async def test_faults_are_typed(
    client: OasisClient, fake_oasis: FakeOasis, fault: str, error: type[Exception]
) -> None:
    """HTML pages, corrupt zips, empty members and 5xx become typed errors."""
    fake_oasis.fail_next(fault)  # type: ignore[arg-type]
    with pytest.raises(error):
        await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5))


async def test_slow_server_times_out(
    session: aiohttp.ClientSession, fake_oasis: FakeOasis
) -> None:
    """A reply slower than the timeout is a connection error."""
    fake_oasis.delay = 1.0
    fake_oasis.fail_next("slow")
    client = OasisClient(
        session, base_url=fake_oasis.url, pacer=RequestPacer(min_gap=0), timeout=0.2
    )
    with pytest.raises(OasisConnectionError, match="timed out"):
        await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5))


async def test_unreachable_server(
    session: aiohttp.ClientSession, fake_oasis: FakeOasis
) -> None:
    """Nothing listening → OasisConnectionError."""
    url = fake_oasis.url
    await fake_oasis.stop()
    client = OasisClient(
        session, base_url=url, pacer=RequestPacer(min_gap=0), timeout=2
    )
    with pytest.raises(OasisConnectionError):
        await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5))


async def test_late_publication(client: OasisClient, fake_oasis: FakeOasis) -> None:
    """An interval is served only once published."""
    fake_oasis.set_price(NP15, T0, 50.0)
    fake_oasis.clock = lambda: T0 + timedelta(minutes=5, seconds=10)
    fake_oasis.publish_lag = timedelta(seconds=30)
    assert await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5)) == []
    fake_oasis.clock = lambda: T0 + timedelta(minutes=5, seconds=31)
    assert (
        len(await client.fetch(Market.RTM, [NP15], T0, T0 + timedelta(minutes=5))) == 1
    )


def test_oasis_time_is_utc() -> None:
    """Times go out in UTC whatever zone they come in."""
    pacific = datetime(2026, 7, 1, 9, 5, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("America/Los_Angeles")
    )
    assert oasis_time(pacific) == "20260701T09:05-0000"
