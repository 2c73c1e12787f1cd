"""Real captured OASIS payloads, served over the wire by the fake OASIS to the real client."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from custom_components.tesladr.caiso import (
    Market,
    OasisClient,
    OasisRequestError,
    OasisThrottledError,
)
from tests.fake_oasis import FakeOasis, zip_members

from .test_client import FakeTime, client, fake_time, session  # noqa: F401 - fixtures

T0 = datetime(2020, 1, 2, tzinfo=UTC)


async def test_real_payloads_parse_through_the_client(
    client: OasisClient,  # noqa: F811
    fake_oasis: FakeOasis,
    reference: Path,
) -> None:
    """A real RTM sample, a real day-ahead day and a real error, each zipped as OASIS does."""
    caiso = reference / "caiso"
    rtm = caiso / "PRC_INTVL_LMP_RTM_v3_TH_NP15_2025-07-18_3rows.csv"
    fake_oasis.reply_next(zip_members((rtm.name, rtm.read_bytes())))
    intervals = await client.fetch(Market.RTM, ["TH_NP15_GEN-APND"], T0, T0)
    assert intervals
    assert {i.node for i in intervals} == {"TH_NP15_GEN-APND"}
    assert all(i.end > i.start for i in intervals)

    dam = caiso / "PRC_LMP_DAM_20200101_ALL_APNODES_hubs_dlaps_subset.csv"
    fake_oasis.reply_next(zip_members((dam.name, dam.read_bytes())))
    day = await client.fetch(Market.DAM, ["TH_NP15_GEN-APND"], T0, T0)
    assert len({i.node for i in day}) >= 7
    starts = [(i.node, i.start) for i in day]
    assert starts == sorted(starts)

    fake_oasis.reply_next((caiso / "SYNTHETIC_ZIP_of_error_1000.zip").read_bytes())
    assert await client.fetch(Market.RTM, ["TH_NP15_GEN-APND"], T0, T0) == []
    fake_oasis.reply_next(
        (caiso / "SYNTHETIC_ZIP_of_error_1001_INVALID_REQUEST.zip").read_bytes()
    )
    with pytest.raises(OasisRequestError):
        await client.fetch(Market.RTM, ["TH_NP15_GEN-APND"], T0, T0)


async def test_real_throttle_page_backs_off_and_gives_up(
    client: OasisClient,  # noqa: F811
    fake_oasis: FakeOasis,
    fake_time: FakeTime,  # noqa: F811
    reference: Path,
) -> None:
    """The captured 429 page, with either status, is a throttle: paced retries, then an error."""
    page = (reference / "caiso" / "oasis_http429_throttle_body.html").read_bytes()
    for status in (429, 200, 429):
        fake_oasis.reply_next(page, "text/html", status)
    with pytest.raises(OasisThrottledError):
        await client.fetch(Market.RTM, ["TH_NP15_GEN-APND"], T0, T0)
    assert len(fake_oasis.requests) == 3  # the first try and two paced retries
    assert fake_time.sleeps
    assert all(gap >= 5 for gap in fake_time.sleeps)
