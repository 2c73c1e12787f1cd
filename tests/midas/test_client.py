"""The real MidasClient against the fake MIDAS on 127.0.0.1: every payload kind, every error."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import itertools
from zoneinfo import ZoneInfo

import pytest

from custom_components.tesladr.midas import (
    FLEX_ALERT_RIN,
    MOER_REGIONS,
    MidasClient,
    MidasConnectionError,
    MidasError,
    MidasNotFoundError,
    MidasRequestError,
    MidasResponseError,
    MidasRetiredRinError,
    MidasThrottledError,
    MidasUnavailableError,
    MidasV1ResponseError,
    QueryType,
    SignalType,
    search_rates,
)
from custom_components.tesladr.midas.client import _seconds
from tests.fake_midas import FakeMidas, Fault, row

PACIFIC = ZoneInfo("America/Los_Angeles")
# Noon Pacific (PDT): the realtime window runs from 07:00 UTC today to 07:00 UTC in 3 days.
NOW = datetime(2026, 7, 1, 19, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RATE_RIN = "USCA-PGPG-TOU4-0000"


@pytest.fixture(autouse=True)
def frozen_fake(fake_midas: FakeMidas) -> None:
    fake_midas.clock = lambda: NOW


def hourly(
    start: datetime, hours: int, price: float, name: str, unit: str = "$/kWh"
) -> list[dict[str, object]]:
    return [
        row(start + n * HOUR, start + (n + 1) * HOUR, price, name, unit)
        for n in range(hours)
    ]


def assert_contiguous(starts_and_ends: list[tuple[datetime, datetime]]) -> None:
    for (_, end), (start, _) in itertools.pairwise(starts_and_ends):
        assert end == start


async def test_flex_alert_realtime_window(
    client: MidasClient, fake_midas: FakeMidas
) -> None:
    """72 hourly rows from midnight Pacific; the hours an alert touches read 1."""
    fake_midas.add_alert(
        MIDNIGHT + 16 * HOUR, MIDNIGHT + 18 * HOUR + timedelta(minutes=30)
    )
    alert = await client.flex_alert()
    assert alert.rin == FLEX_ALERT_RIN
    assert alert.system_time == NOW
    assert len(alert.intervals) == 72
    assert alert.intervals[0].start == MIDNIGHT
    assert alert.intervals[-1].end == MIDNIGHT + 72 * HOUR
    assert_contiguous([(i.start, i.end) for i in alert.intervals])
    active = [i.start for i in alert.intervals if i.value == 1]
    assert active == [MIDNIGHT + n * HOUR for n in (16, 17, 18)]
    assert {i.name for i in alert.intervals if i.value == 1} == {"Active Flex Alert"}
    assert alert.units == {"Event"}
    (record,) = fake_midas.requests
    assert record.endpoint == "values"
    assert record.query == {"id": FLEX_ALERT_RIN, "querytype": "realtime"}
    assert client.requests_made == 1


async def test_alert_starting_and_ending(
    client: MidasClient, fake_midas: FakeMidas
) -> None:
    """Polls see no alert, then one announced for the evening, then its hours behind them."""
    now = NOW

    def clock() -> datetime:
        return now

    fake_midas.clock = clock
    start, end = MIDNIGHT + 16 * HOUR, MIDNIGHT + 18 * HOUR
    assert {i.value for i in (await client.flex_alert()).intervals} == {0.0}

    fake_midas.add_alert(start, end)  # CAISO calls the alert at noon
    announced = await client.flex_alert()
    assert announced.at(now) is not None and announced.at(now).value == 0  # type: ignore[union-attr]
    assert [i.value for i in announced.upcoming(start - HOUR, 4)] == [0, 1, 1, 0]

    now = start + timedelta(minutes=1)
    during = await client.flex_alert()
    assert during.at(now).value == 1  # type: ignore[union-attr]

    now = end + timedelta(minutes=1)
    after = await client.flex_alert()
    assert after.at(now).value == 0  # type: ignore[union-attr]
    # The day's past hours stay in the window: the alert is still there to account for.
    assert after.at(start).value == 1  # type: ignore[union-attr]
    assert len(fake_midas.requests_for("values", FLEX_ALERT_RIN)) == 4


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2026, 11, 1), 73), (date(2026, 3, 8), 71), (date(2026, 7, 1), 72)],
)
async def test_dst_days(
    client: MidasClient, fake_midas: FakeMidas, day: date, hours: int
) -> None:
    """A window starting on a DST day holds 73 or 71 hours, and 12 MOER rows each, unbroken."""
    fake_midas.clock = lambda: (
        datetime.combine(day, datetime.min.time(), PACIFIC).astimezone(UTC) + 10 * HOUR
    )
    alert = await client.flex_alert()
    moer = await client.moer("PGE")
    assert len(alert.intervals) == hours
    assert len(moer.intervals) == hours * 12
    assert_contiguous([(i.start, i.end) for i in alert.intervals])
    assert_contiguous([(i.start, i.end) for i in moer.intervals])
    assert alert.intervals[0].start.astimezone(PACIFIC).hour == 0
    assert alert.intervals[-1].end.astimezone(PACIFIC).date() == day + timedelta(days=3)


async def test_fall_back_hour_twice(client: MidasClient, fake_midas: FakeMidas) -> None:
    """01:00 Pacific comes twice on the fall-back day: an alert in the first is not in the second."""
    first_one_am = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)  # 01:00 PDT
    fake_midas.clock = lambda: first_one_am
    fake_midas.add_alert(first_one_am, first_one_am + HOUR)
    alert = await client.flex_alert()
    one_am = [
        i
        for i in alert.intervals
        if i.start.astimezone(PACIFIC).hour == 1 and i.start.day == 1
    ]
    assert [(i.start.hour, i.value) for i in one_am] == [(8, 1), (9, 0)]


async def test_moer_region(client: MidasClient, fake_midas: FakeMidas) -> None:
    """5-minute rows in g/kWh of the region asked for; the current interval and the next."""
    fake_midas.moer_fn = lambda region, start: (
        200.0 + (region == "SCE") * 100 + start.minute
    )
    moer = await client.moer("SCE")
    assert moer.rin == "USCA-SGIP-MOER-SCE"
    assert moer.units == {"g/kWh CO2"}
    assert len(moer.intervals) == 864
    now = NOW + timedelta(minutes=7)
    assert [(i.start, i.value) for i in moer.upcoming(now, 3)] == [
        (NOW + timedelta(minutes=5), 305.0),
        (NOW + timedelta(minutes=10), 310.0),
        (NOW + timedelta(minutes=15), 315.0),
    ]
    assert fake_midas.requests[0].query["id"] == "USCA-SGIP-MOER-SCE"
    with pytest.raises(ValueError, match="unknown MOER region"):
        await client.moer("XX")
    assert client.requests_made == 1


async def test_moer_alldata(client: MidasClient, fake_midas: FakeMidas) -> None:
    """alldata: 90 days of 5-minute rows ending with the realtime window."""
    moer = await client.moer("SDGE", QueryType.ALLDATA)
    assert fake_midas.requests[0].query["querytype"] == "alldata"
    assert moer.intervals[-1].end == MIDNIGHT + 72 * HOUR
    assert moer.intervals[0].start == MIDNIGHT + 72 * HOUR - timedelta(days=90)
    # April 5 to July 4 (Pacific) holds no DST change: 90 whole days.
    assert len(moer.intervals) == 90 * 288


async def test_rate_with_season_gap(client: MidasClient, fake_midas: FakeMidas) -> None:
    """A rate whose summer rows end a day before its winter rows begin: no price in the gap."""
    summer = hourly(MIDNIGHT, 24, 0.42, "summer peak")
    winter = hourly(MIDNIGHT + 48 * HOUR, 24, 0.31, "winter off peak")
    demand = hourly(MIDNIGHT, 24, 9.5, "demand", unit="$/kW")
    fake_midas.add_rate(RATE_RIN, summer + winter + demand, "E-TOU-C")
    rate = await client.values(RATE_RIN)
    assert rate.units == {"$/kWh", "$/kW"}
    assert rate.at(NOW, "$/kWh").value == 0.42  # type: ignore[union-attr]
    assert rate.at(NOW, "$/kW").value == 9.5  # type: ignore[union-attr]
    gap = MIDNIGHT + 30 * HOUR
    assert rate.at(gap, "$/kWh") is None
    assert [(i.start, i.name) for i in rate.upcoming(gap, 2, "$/kWh")] == [
        (MIDNIGHT + 48 * HOUR, "winter off peak"),
        (MIDNIGHT + 49 * HOUR, "winter off peak"),
    ]
    assert rate.at(MIDNIGHT - timedelta(seconds=1)) is None


async def test_rate_window_and_historical(
    client: MidasClient, fake_midas: FakeMidas
) -> None:
    """The realtime query serves only the window's rows; historical asks by path and Pacific dates."""
    fake_midas.add_rate(RATE_RIN, hourly(MIDNIGHT - 48 * HOUR, 24 * 6, 0.2, "flat"))
    assert len((await client.values(RATE_RIN)).intervals) == 72
    history = await client.historical(RATE_RIN, date(2026, 6, 29), date(2026, 6, 30))
    assert len(history.intervals) == 48
    assert history.intervals[0].start == MIDNIGHT - 48 * HOUR
    record = fake_midas.requests[-1]
    assert record.endpoint == "historical"
    assert record.path == f"/api/historicaldata/{RATE_RIN}"
    assert record.query == {"startdate": "2026-06-29", "enddate": "2026-06-30"}
    with pytest.raises(MidasRequestError) as err:
        await client.historical(RATE_RIN, date(2026, 1, 1), date(2026, 7, 30))
    assert err.value.status == 400
    assert "6 months" in err.value.detail


async def test_rate_lists_and_search(
    client: MidasClient, fake_midas: FakeMidas
) -> None:
    """Each signal type's list, unwrapped from its key; a search over the rates."""
    fake_midas.add_rate(RATE_RIN, [], "E-TOU-C")
    fake_midas.add_rate("USCA-PGPG-EV2A-0000", [], "EV2-A")
    rates = await client.rate_list()
    assert [listing.rin for listing in rates] == ["USCA-PGPG-EV2A-0000", RATE_RIN]
    assert rates[0].signal_type == "Electricity Rates"
    assert rates[0].last_updated == datetime(2026, 6, 22, 14, 56, 34, tzinfo=UTC)
    ghg = await client.rate_list(SignalType.GHG)
    assert {listing.rin[15:] for listing in ghg} == set(MOER_REGIONS)
    flex = await client.rate_list(SignalType.FLEX_ALERT)
    assert [listing.rin for listing in flex] == [FLEX_ALERT_RIN]
    everything = await client.rate_list(SignalType.ALL)
    assert len(everything) == 2 + 11 + 1
    assert [r.query["signaltype"] for r in fake_midas.requests_for("list")] == [
        "1",
        "2",
        "3",
        "0",
    ]
    assert [listing.rin for listing in search_rates(everything, "ev2")] == [
        "USCA-PGPG-EV2A-0000"
    ]


@pytest.mark.parametrize(
    ("fault", "error", "status"),
    [
        ("throttle", MidasThrottledError, None),
        ("unavailable", MidasUnavailableError, 503),
        (500, MidasUnavailableError, 500),
        ("malformed", MidasResponseError, None),
        ("html", MidasResponseError, None),
        ("v1", MidasV1ResponseError, None),
        (422, MidasRequestError, 422),
        (400, MidasRequestError, 400),
        (401, MidasResponseError, None),
    ],
)
async def test_value_errors(
    client: MidasClient,
    fake_midas: FakeMidas,
    fault: Fault,
    error: type[MidasError],
    status: int | None,
) -> None:
    """Each fault is its own error type, and the next request gets a clean answer again."""
    fake_midas.fail_next(fault)
    with pytest.raises(error) as raised:
        await client.flex_alert()
    assert type(raised.value) is error
    if status is not None:
        assert raised.value.status == status  # type: ignore[attr-defined]
    if isinstance(raised.value, MidasThrottledError):
        assert raised.value.retry_after == 30
    assert len((await client.flex_alert()).intervals) == 72


async def test_v1_answers(client: MidasClient, fake_midas: FakeMidas) -> None:
    """v1's bare RIN list, lowercase `value` and kg/kWh are each reported as a v1 answer."""
    fake_midas.fail_next("v1")
    with pytest.raises(MidasV1ResponseError, match="bare array"):
        await client.rate_list()
    fake_midas.fail_next("v1_units")
    with pytest.raises(MidasV1ResponseError, match="kg/kWh"):
        await client.moer("PGE")
    fake_midas.fail_next("v1")
    with pytest.raises(MidasV1ResponseError, match="`value`"):
        await client.moer("PGE")


async def test_unknown_and_retired_rins(client: MidasClient) -> None:
    """404 names the RIN; 410 names the v2 successor of a v1 RIN when there is one."""
    with pytest.raises(MidasNotFoundError) as missing:
        await client.values("USCA-XXXX-NONE-0000")
    assert type(missing.value) is MidasNotFoundError
    assert missing.value.rin == "USCA-XXXX-NONE-0000"
    with pytest.raises(MidasRetiredRinError, match="use USCA-SGIP-MOER-PGE") as retired:
        await client.values("USCA-SGIP-SGRT-PGE")
    assert retired.value.replacement == "USCA-SGIP-MOER-PGE"
    with pytest.raises(MidasRetiredRinError) as flex:
        await client.historical(
            "USCA-FLEX-FXHT-0000", date(2026, 1, 1), date(2026, 1, 2)
        )
    assert flex.value.replacement == FLEX_ALERT_RIN
    with pytest.raises(MidasRetiredRinError) as unknown_region:
        await client.values("USCA-SGIP-SGFC-XYZ")
    assert unknown_region.value.replacement is None
    assert "use" not in str(unknown_region.value)


async def test_list_status_without_a_rin(
    client: MidasClient, fake_midas: FakeMidas
) -> None:
    """A 404 for the RIN list is no unknown RIN: the answer itself is wrong."""
    fake_midas.reply_next(b'{"message": "no route"}', status=404)
    with pytest.raises(MidasResponseError, match="HTTP 404"):
        await client.rate_list()


async def test_timeout_and_refused(client: MidasClient, fake_midas: FakeMidas) -> None:
    """No answer in time, or no server at all, is a connection error (a kind of unavailable)."""
    fake_midas.delay = 3
    fake_midas.fail_next("slow")
    with pytest.raises(MidasConnectionError, match="timed out") as slow:
        await client.flex_alert()
    assert slow.value.status is None
    await fake_midas.stop()
    with pytest.raises(MidasUnavailableError) as refused:
        await client.flex_alert()
    assert type(refused.value) is MidasConnectionError


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30.0),
        (" 5 ", 5.0),
        (None, None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),
        ("²", None),
        ("-1", None),
    ],
)
def test_retry_after(header: str | None, seconds: float | None) -> None:
    """Retry-After's delta-seconds form is read; its date form and junk are left out."""
    assert _seconds(header) == seconds
