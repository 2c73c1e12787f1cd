"""The real MIDAS v2 payloads, and variations built from them, through the fake to the client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path
from typing import Any

import pytest

from custom_components.tesladr.midas import (
    FLEX_ALERT_RIN,
    MidasClient,
    MidasResponseError,
    MidasV1ResponseError,
    SignalType,
)
from tests.fake_midas import FakeMidas, dump, upload_to_rate

MOER_FILE = "v2_valuedata_moer_smud_appendix_f.json"
FLEX_FILE = "v2_valuedata_flex_alert_appendix_f.json"
LIST_FILE = "v2_rinlist_readme.json"
TOU_FILE = "test_tou_upload_support_docs.json"
TEST_RIN = "USCA-TSTS-TTOU-0000"


@pytest.fixture
def midas(reference: Path) -> Path:
    return reference / "midas"


def load(folder: Path, name: str) -> Any:
    return json.loads((folder / name).read_bytes())


async def test_moer_sample(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    """SMUD's two 5-minute rows, in g/kWh, with the answer's own time."""
    fake_midas.reply_next((midas / MOER_FILE).read_bytes())
    moer = await client.moer("SMUD")
    assert [(i.start, i.end, i.value) for i in moer.intervals] == [
        (
            datetime(2026, 4, 20, 7, 0, tzinfo=UTC),
            datetime(2026, 4, 20, 7, 5, tzinfo=UTC),
            333.8,
        ),
        (
            datetime(2026, 4, 20, 7, 5, tzinfo=UTC),
            datetime(2026, 4, 20, 7, 10, tzinfo=UTC),
            332.5,
        ),
    ]
    assert moer.units == {"g/kWh CO2"}
    assert moer.system_time == datetime(2026, 4, 20, 23, 15, 0, 544586, tzinfo=UTC)
    assert moer.name == "SGIP_BANC_SMUD Realtime GHG Emissions"
    assert fake_midas.requests[0].query == {
        "id": "USCA-SGIP-MOER-SMUD",
        "querytype": "realtime",
    }


async def test_flex_alert_sample_and_its_alert_ending(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    """The sample's second hour is an active alert; the same answer with it over reads 0."""
    fake_midas.reply_next((midas / FLEX_FILE).read_bytes())
    alert = await client.flex_alert()
    during = datetime(2026, 5, 7, 1, 30, tzinfo=UTC)
    assert [i.value for i in alert.intervals] == [0, 1]
    assert alert.at(during).name == "Active Flex Alert"  # type: ignore[union-attr]

    ended = load(midas, FLEX_FILE)
    ended["ValueInformation"][1] |= {"Value": 0, "ValueName": "No Active Flex Alert"}
    fake_midas.reply_next(dump(ended))
    assert (await client.flex_alert()).at(during).value == 0  # type: ignore[union-attr]


async def test_rin_list_sample(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    fake_midas.reply_next((midas / LIST_FILE).read_bytes())
    (listing,) = await client.rate_list(SignalType.RATES)
    assert (listing.rin, listing.description) == ("USCA-BNBN-EVT2-0000", "BEV-1 - CPP")
    assert listing.last_updated == datetime(2026, 5, 22, 14, 56, 34, tzinfo=UTC)


async def test_test_tou_rate_served_in_its_window(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    """The CEC's test TOU rate, served as a GET answer on its first day: 72 hours, peak 5-8 pm."""
    head, rows = upload_to_rate(load(midas, TOU_FILE)[0])
    fake_midas.add_rate(TEST_RIN, rows, head=head)
    fake_midas.clock = lambda: datetime(2023, 3, 1, 20, 0, tzinfo=UTC)  # noon PST
    rate = await client.values(TEST_RIN)
    assert len(rate.intervals) == 72
    assert rate.name == "CEC TEST24HTOU"
    peak = datetime(2023, 3, 2, 1, 30, tzinfo=UTC)  # 17:30 PST
    assert (rate.at(peak).name, rate.at(peak).value) == ("winter on peak", 0.1388)  # type: ignore[union-attr]
    assert [i.value for i in rate.upcoming(peak, 4, "$/kWh")] == [
        0.1388,
        0.1388,
        0.1388,
        0.1006,
    ]


async def test_test_tou_rate_with_a_season_gap(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    """The same rate with its second day missing: no price there, the third day's next."""
    head, rows = upload_to_rate(load(midas, TOU_FILE)[0])
    fake_midas.add_rate(TEST_RIN, rows[:24] + rows[48:], head=head)
    fake_midas.clock = lambda: datetime(2023, 3, 1, 20, 0, tzinfo=UTC)
    rate = await client.values(TEST_RIN)
    gap = datetime(2023, 3, 2, 20, 0, tzinfo=UTC)
    assert len(rate.intervals) == 48
    assert rate.at(gap) is None
    assert rate.upcoming(gap, 1)[0].start == datetime(2023, 3, 3, 8, 0, tzinfo=UTC)


async def test_v1_shaped_variations(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    """The samples reshaped as v1 answered: each is reported as a v1 answer, not parsed."""
    fake_midas.reply_next(dump(load(midas, LIST_FILE)["Rates"]))
    with pytest.raises(MidasV1ResponseError, match="bare array"):
        await client.rate_list()

    kg = load(midas, MOER_FILE)
    for values_row in kg["ValueInformation"]:
        values_row |= {"Unit": "kg/kWh CO2", "Value": values_row["Value"] / 1000}
    fake_midas.reply_next(dump(kg))
    with pytest.raises(MidasV1ResponseError, match="kg/kWh"):
        await client.moer("SMUD")

    lowercase = load(midas, FLEX_FILE)
    for values_row in lowercase["ValueInformation"]:
        values_row["value"] = values_row.pop("Value")
    fake_midas.reply_next(dump(lowercase))
    with pytest.raises(MidasV1ResponseError, match="`value`"):
        await client.flex_alert()


async def test_truncated_and_misdirected_samples(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    """A sample cut short is malformed; a sample for another RIN is no answer to ours."""
    body = (midas / MOER_FILE).read_bytes()
    fake_midas.reply_next(body[: len(body) // 2])
    with pytest.raises(MidasResponseError, match="not JSON"):
        await client.moer("SMUD")
    fake_midas.reply_next(body)
    with pytest.raises(MidasResponseError, match="the answer is for"):
        await client.moer("PGE")
    fake_midas.reply_next(body)
    with pytest.raises(MidasResponseError):
        await client.values(FLEX_ALERT_RIN)


async def test_dst_week_of_the_test_rate(
    client: MidasClient, fake_midas: FakeMidas, midas: Path
) -> None:
    """The test rate's hours moved onto the spring-forward day keep their UTC places: 71 hours."""
    head, rows = upload_to_rate(load(midas, TOU_FILE)[0])
    # 2023-03-12 is the 23-hour Pacific day; move the rows 11 days, onto it.
    shifted = []
    for values_row in rows:
        start = datetime.fromisoformat(
            f"{values_row['DateStart']}T{values_row['TimeStart']}+00:00"
        )
        moved = start + timedelta(days=11)
        shifted.append(
            values_row | {"DateStart": str(moved.date()), "DateEnd": str(moved.date())}
        )
    fake_midas.add_rate(TEST_RIN, shifted, head=head)
    fake_midas.clock = lambda: datetime(2023, 3, 12, 20, 0, tzinfo=UTC)
    rate = await client.values(TEST_RIN)
    # The realtime window opens at 08:00 UTC (PST midnight) and closes at 07:00 UTC 3 days on.
    assert rate.intervals[0].start == datetime(2023, 3, 12, 8, 0, tzinfo=UTC)
    assert rate.intervals[-1].end == datetime(2023, 3, 15, 7, 0, tzinfo=UTC)
    assert len(rate.intervals) == 71
