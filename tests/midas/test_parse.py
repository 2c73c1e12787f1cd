"""Parsing MIDAS answers: tables of good and bad inputs, without the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.tesladr.midas import (
    FLEX_ALERT_RIN,
    MidasResponseError,
    MidasV1ResponseError,
    parse_rate_list,
    parse_values,
)
from tests.fake_midas import header, row

MOER = "USCA-SGIP-MOER-PGE"
RATE = "USCA-PGPG-TOU4-0000"
T0 = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
STEP = timedelta(minutes=5)


def answer(rin: str, rows: list[Any], **fields: Any) -> bytes:
    return json.dumps(
        {
            **header(rin, "name", "TOU", "Electricity Rates", "desc"),
            "ValueInformation": rows,
            **fields,
        }
    ).encode()


def moer_row(start: datetime, value: Any = 300.0, **changes: Any) -> dict[str, Any]:
    return {
        **row(start, start + STEP, value, "Realtime SGIP GHG Emission", "g/kWh CO2"),
        **changes,
    }


GOOD = moer_row(T0)


@pytest.mark.parametrize(
    ("body", "error", "message"),
    [
        (b"", MidasResponseError, "not JSON"),
        (b"\xff\xfe", MidasResponseError, "not JSON"),
        (b'{"RateID": ', MidasResponseError, "not JSON"),
        (b"[]", MidasResponseError, "not an object"),
        (answer("USCA-SGIP-MOER-SCE", [GOOD]), MidasResponseError, "the answer is for"),
        (json.dumps({"RateID": MOER}).encode(), MidasResponseError, "not a list"),
        (answer(MOER, ["row"]), MidasResponseError, "row is not an object"),
        (
            answer(MOER, [{k: v for k, v in GOOD.items() if k != "Value"}]),
            MidasResponseError,
            "without a Value",
        ),
        (
            answer(
                MOER,
                [{**{k: v for k, v in GOOD.items() if k != "Value"}, "value": 0.3}],
            ),
            MidasV1ResponseError,
            "`value`",
        ),
        (answer(MOER, [moer_row(T0, "300")]), MidasResponseError, "non-numeric"),
        (answer(MOER, [moer_row(T0, True)]), MidasResponseError, "non-numeric"),
        (answer(MOER, [moer_row(T0, float("nan"))]), MidasResponseError, "non-finite"),
        (answer(MOER, [moer_row(T0, float("inf"))]), MidasResponseError, "non-finite"),
        (
            answer(MOER, [moer_row(T0, DateStart=None)]),
            MidasResponseError,
            "without DateStart",
        ),
        (
            answer(MOER, [moer_row(T0, TimeEnd=7)]),
            MidasResponseError,
            "without DateEnd",
        ),
        (
            answer(MOER, [moer_row(T0, DateStart="2026-13-01")]),
            MidasResponseError,
            "bad DateStart",
        ),
        (
            answer(MOER, [moer_row(T0, TimeStart="7 am")]),
            MidasResponseError,
            "bad DateStart",
        ),
        (
            answer(MOER, [moer_row(T0, TimeEnd="06:59:59")]),
            MidasResponseError,
            "ends before it starts",
        ),
        (
            answer(MOER, [moer_row(T0, DateEnd="9999-12-31", TimeEnd="23:59:59")]),
            MidasResponseError,
            "after year 9999",
        ),
        (answer(MOER, [moer_row(T0, Unit=None)]), MidasResponseError, "without a Unit"),
        (
            answer(MOER, [moer_row(T0, Unit="lb/MWh CO2")]),
            MidasResponseError,
            "unexpected units",
        ),
        (
            answer(MOER, [moer_row(T0, 0.3, Unit="kg/kWh CO2")]),
            MidasV1ResponseError,
            "kg/kWh",
        ),
        (
            answer(FLEX_ALERT_RIN, [moer_row(T0, 2, Unit="Event")]),
            MidasResponseError,
            "Flex Alert values",
        ),
    ],
)
def test_bad_values(body: bytes, error: type[Exception], message: str) -> None:
    """Every malformed answer is a MidasResponseError (v1 shapes a MidasV1ResponseError)."""
    rin = FLEX_ALERT_RIN if FLEX_ALERT_RIN.encode() in body else MOER
    with pytest.raises(error, match=message):
        parse_values(body, rin)


def test_rows_sorted_deduplicated_and_gaps() -> None:
    """Rows come back sorted; a repeated row's later copy wins; a null Value is a gap."""
    rows = [
        moer_row(T0 + STEP, 2.0),
        moer_row(T0, 1.0),
        moer_row(T0 + STEP, 3.0),
        moer_row(T0 + 2 * STEP, None),
    ]
    values = parse_values(answer(MOER, rows), MOER)
    assert [(i.start, i.end, i.value) for i in values.intervals] == [
        (T0, T0 + STEP, 1.0),
        (T0 + STEP, T0 + 2 * STEP, 3.0),
    ]
    assert values.at(T0 + 2 * STEP) is None


def test_inclusive_end_across_midnight() -> None:
    """An hour ending 23:59:59 ends at midnight of the next UTC date."""
    late = datetime(2026, 7, 1, 23, 0, tzinfo=UTC)
    hour = row(late, late + timedelta(hours=1), 0.25, "peak", "$/kWh")
    assert hour["TimeEnd"] == "23:59:59"
    (interval,) = parse_values(answer(RATE, [hour]), RATE).intervals
    assert interval.end == datetime(2026, 7, 2, tzinfo=UTC)
    assert (interval.name, interval.unit, interval.value) == ("peak", "$/kWh", 0.25)


@pytest.mark.parametrize(
    ("system_time", "expected"),
    [
        (
            "2026-04-20T23:15:00.544586Z",
            datetime(2026, 4, 20, 23, 15, 0, 544586, tzinfo=UTC),
        ),
        ("2026-04-20T16:15:00-07:00", datetime(2026, 4, 20, 23, 15, tzinfo=UTC)),
        ("2026-04-20T23:15:00", datetime(2026, 4, 20, 23, 15, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
        (12, None),
    ],
)
def test_metadata_times(system_time: Any, expected: datetime | None) -> None:
    """SystemTime_UTC in any ISO form; unreadable ones are dropped, they place no row."""
    values = parse_values(answer(RATE, [], SystemTime_UTC=system_time), RATE)
    assert values.system_time == expected


def test_descriptive_fields() -> None:
    """Name, type and description come through; missing ones are empty text."""
    values = parse_values(answer(RATE, [], RateName=None), RATE)
    assert (values.name, values.rate_type, values.signal_type, values.description) == (
        "",
        "TOU",
        "Electricity Rates",
        "desc",
    )
    assert values.units == frozenset()
    assert values.upcoming(T0, 3) == []


def listing(
    rin: Any, description: Any = "BEV-1 - CPP", **fields: Any
) -> dict[str, Any]:
    return {
        "RateID": rin,
        "SignalType": "Electricity Rates",
        "Description": description,
        "LastUpdated": "2026-05-22T14:56:34+0000",
        **fields,
    }


def test_rate_list_keys_merge_and_sort() -> None:
    """Every known key counts (v2 names it per signal type); RINs listed twice come once."""
    body = json.dumps(
        {
            "All": [listing("USCA-BNBN-EVT2-0000"), listing(FLEX_ALERT_RIN, None)],
            "Rates": [listing("USCA-BNBN-EVT2-0000", "newer")],
            "Other": "ignored",
        }
    ).encode()
    listings = parse_rate_list(body)
    assert [(item.rin, item.description) for item in listings] == [
        ("USCA-BNBN-EVT2-0000", "newer"),
        (FLEX_ALERT_RIN, ""),
    ]
    assert listings[0].last_updated == datetime(2026, 5, 22, 14, 56, 34, tzinfo=UTC)


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ([listing("USCA-BNBN-EVT2-0000")], MidasV1ResponseError, "bare array"),
        ("text", MidasResponseError, "no RIN list"),
        ({"Items": []}, MidasResponseError, "no RIN list"),
        ({"Rates": {"RateID": "x"}}, MidasResponseError, "is not a list"),
        ({"Rates": ["USCA-BNBN-EVT2-0000"]}, MidasResponseError, "not an object"),
        ({"Rates": [listing(None)]}, MidasResponseError, "without a RateID"),
        ({"Rates": [listing("")]}, MidasResponseError, "without a RateID"),
    ],
)
def test_bad_rate_lists(document: Any, error: type[Exception], message: str) -> None:
    """A bare list is v1's; anything else without a usable list is a bad answer."""
    with pytest.raises(error, match=message):
        parse_rate_list(json.dumps(document).encode())
