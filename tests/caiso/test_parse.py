"""Parsing OASIS payloads: reference captures, DST days, duplicates, XML, and every bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools
from pathlib import Path

import pytest

from custom_components.tesladr.caiso import (
    Market,
    OasisRequestError,
    OasisResponseError,
    parse_payload,
)
from tests.fake_oasis import HEADER, csv_payload, error_zip, zip_members


def test_reference_rtm_rows_keep_only_lmp(reference: Path) -> None:
    """The real 5-minute capture has MCC/MCE/LMP rows: only the LMP one counts."""
    data = (
        reference / "caiso" / "PRC_INTVL_LMP_RTM_v3_TH_NP15_2025-07-18_3rows.csv"
    ).read_bytes()
    intervals = parse_payload(zip_members(("rtm.csv", data)), Market.RTM)
    assert len(intervals) == 1
    (interval,) = intervals
    assert interval.node == "TH_NP15_GEN-APND"
    assert interval.start == datetime(2025, 7, 18, 7, 0, tzinfo=UTC)
    assert interval.end == datetime(2025, 7, 18, 7, 5, tzinfo=UTC)
    assert interval.price == pytest.approx(50.48609)


def test_reference_day_ahead_all_hubs(reference: Path) -> None:
    """The real all-node day-ahead subset: 7 nodes × 24 hours, sorted, LMP only."""
    data = (
        reference / "caiso" / "PRC_LMP_DAM_20200101_ALL_APNODES_hubs_dlaps_subset.csv"
    ).read_bytes()
    intervals = parse_payload(zip_members(("dam.csv", data)), Market.DAM)
    assert len(intervals) == 7 * 24
    assert intervals == sorted(intervals, key=lambda i: (i.node, i.start))
    lmp_rows = [line for line in data.decode().splitlines() if ",LMP,LMP_PRC," in line]
    assert len(lmp_rows) == 7 * 24
    first = next(
        i for i in intervals if i.node == "DLAP_PGAE-APND" and i.start.hour == 2
    )
    assert first.price == pytest.approx(39.14277)


def test_reference_day_ahead_v1_sample(reference: Path) -> None:
    """A 2026 capture of the day-ahead report."""
    data = (
        reference
        / "caiso"
        / "PRC_LMP_DAM_v1_TH_SP15_2026-07-14_5rows_LMPonly_sorted.csv"
    ).read_bytes()
    intervals = parse_payload(zip_members(("dam.csv", data)), Market.DAM)
    assert [i.price for i in intervals] == pytest.approx(
        [55.5152, 48.61367, 46.41399, 43.25317, 43.97726]
    )


def test_reference_error_documents(reference: Path) -> None:
    """Error 1000 means no data yet; 1001 is a bad request that names the request."""
    caiso = reference / "caiso"
    assert (
        parse_payload(
            (caiso / "SYNTHETIC_ZIP_of_error_1000.zip").read_bytes(), Market.RTM
        )
        == []
    )
    with pytest.raises(OasisRequestError, match=r"1001.*queryname=X") as err:
        parse_payload(
            (caiso / "SYNTHETIC_ZIP_of_error_1001_INVALID_REQUEST.zip").read_bytes(),
            Market.RTM,
            "queryname=X",
        )
    assert err.value.code == 1001
    # An unzipped error document is understood too.
    assert (
        parse_payload((caiso / "oasis_error_1000_no_data.xml").read_bytes(), Market.RTM)
        == []
    )


def test_reference_throttle_page_is_not_a_payload(reference: Path) -> None:
    """The throttle HTML is a typed error to the parser (the client retries on it)."""
    with pytest.raises(OasisResponseError, match="not a zip"):
        parse_payload(
            (reference / "caiso" / "oasis_http429_throttle_body.html").read_bytes(),
            Market.RTM,
        )


def test_reference_xml_report_structure(reference: Path) -> None:
    """An OASISReport without LMP items parses to nothing rather than failing."""
    data = (reference / "caiso" / "pyiso_sld_forecast_OASISReport.xml").read_bytes()
    assert parse_payload(zip_members(("report.xml", data)), Market.RTM) == []


@pytest.mark.parametrize(
    ("day", "hours"), [((2026, 3, 8), 23), ((2026, 11, 1), 25), ((2026, 7, 1), 24)]
)
def test_dst_days(day: tuple[int, int, int], hours: int) -> None:
    """A Pacific operating day has 23 or 25 hours on DST changes; GMT columns get it right."""
    start = datetime(*day, 8, 0, tzinfo=UTC)  # midnight PST
    if day == (2026, 11, 1):
        start -= timedelta(hours=1)  # midnight PDT
    count = {(2026, 3, 8): 23, (2026, 11, 1): 25}.get(day, 24)
    if day == (2026, 7, 1):
        start -= timedelta(hours=1)
    rows = [
        ("TH_NP15_GEN-APND", start + timedelta(hours=h), 30.0 + h) for h in range(count)
    ]
    intervals = parse_payload(
        zip_members(("dam.csv", csv_payload(Market.DAM, rows))), Market.DAM
    )
    assert len(intervals) == hours
    assert all(b.start == a.end for a, b in itertools.pairwise(intervals))
    assert intervals[-1].price == 30.0 + hours - 1


def test_duplicates_collapse_later_wins_and_unsorted_rows_sort() -> None:
    """Re-priced intervals repeat: the later row wins, output sorted by node and time."""
    t = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    rows = [
        ("TH_SP15_GEN-APND", t + timedelta(minutes=5), 20.0),
        ("TH_NP15_GEN-APND", t, 10.0),
        ("TH_SP15_GEN-APND", t, 19.0),
        ("TH_NP15_GEN-APND", t, 11.0),
    ]
    intervals = parse_payload(
        zip_members(("rtm.csv", csv_payload(Market.RTM, rows))), Market.RTM
    )
    assert [(i.node[:7], i.start.minute, i.price) for i in intervals] == [
        ("TH_NP15", 0, 11.0),
        ("TH_SP15", 0, 19.0),
        ("TH_SP15", 5, 20.0),
    ]


def test_several_members_and_xml_member() -> None:
    """A zip may hold several CSVs, and XML members carry LMP_PRC items."""
    t = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    xml = (
        b'<?xml version="1.0"?><OASISReport xmlns="http://www.caiso.com/soa/OASISReport_v1.xsd">'
        b"<MessagePayload><RTO><REPORT_ITEM><REPORT_DATA><DATA_ITEM>LMP_PRC</DATA_ITEM>"
        b"<RESOURCE_NAME>DLAP_SCE-APND</RESOURCE_NAME>"
        b"<INTERVAL_START_GMT>2026-07-01T01:00:00-00:00</INTERVAL_START_GMT>"
        b"<INTERVAL_END_GMT>2026-07-01T01:15:00-00:00</INTERVAL_END_GMT><VALUE>77.5</VALUE>"
        b"</REPORT_DATA><REPORT_DATA><DATA_ITEM>LMP_CONG_PRC</DATA_ITEM>"
        b"<RESOURCE_NAME>DLAP_SCE-APND</RESOURCE_NAME>"
        b"<INTERVAL_START_GMT>2026-07-01T01:00:00-00:00</INTERVAL_START_GMT>"
        b"<INTERVAL_END_GMT>2026-07-01T01:15:00-00:00</INTERVAL_END_GMT><VALUE>1</VALUE>"
        b"</REPORT_DATA></REPORT_ITEM></RTO></MessagePayload></OASISReport>"
    )
    data = zip_members(
        ("a.csv", csv_payload(Market.RTPD, [("TH_NP15_GEN-APND", t, 40.0)])),
        ("b.csv", csv_payload(Market.RTPD, [("TH_ZP26_GEN-APND", t, 41.0)])),
        ("c.xml", xml),
    )
    intervals = parse_payload(data, Market.RTPD)
    assert {(i.node, i.price) for i in intervals} == {
        ("TH_NP15_GEN-APND", 40.0),
        ("TH_ZP26_GEN-APND", 41.0),
        ("DLAP_SCE-APND", 77.5),
    }


GOOD_ROW = "2026-07-01T01:00:00-00:00,2026-07-01T01:05:00-00:00,2026-07-01,18,N,N,N,RTM,LMP,LMP_PRC,N,ALL_APNODES,0,{price},1,1"


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        (b"", "empty response"),
        (b"<html><body>oops</body></html>", "not a zip"),
        (b"PK\x03\x04broken", "corrupt zip"),
        (zip_members(), "no members"),
        (zip_members(("a.csv", b"")), "empty"),
        (zip_members(("a.csv", b"\n\n")), "empty"),
        (zip_members(("a.csv", b"A,B,C\n1,2,3\n")), "lacks columns"),
        (
            zip_members(
                (
                    "a.csv",
                    (
                        HEADER.format(price="VALUE")
                        + "\n"
                        + GOOD_ROW.format(price="abc")
                    ).encode(),
                )
            ),
            "non-numeric",
        ),
        (
            zip_members(
                (
                    "a.csv",
                    (
                        HEADER.format(price="VALUE")
                        + "\n"
                        + GOOD_ROW.format(price="nan")
                    ).encode(),
                )
            ),
            "non-finite",
        ),
        (
            zip_members(("a.csv", (HEADER.format(price="VALUE") + "\n1,2,3").encode())),
            "short row",
        ),
        (
            zip_members(
                (
                    "a.csv",
                    (
                        HEADER.format(price="VALUE")
                        + "\n"
                        + GOOD_ROW.format(price="1").replace(
                            "2026-07-01T01:00:00-00:00", "yesterday"
                        )
                    ).encode(),
                )
            ),
            "bad timestamp",
        ),
        (
            zip_members(
                (
                    "a.csv",
                    (
                        HEADER.format(price="VALUE")
                        + "\n"
                        + GOOD_ROW.format(price="1").replace(
                            "-00:00,2026-07-01T01:05", ",2026-07-01T01:05"
                        )
                    ).encode(),
                )
            ),
            "without offset",
        ),
        (
            zip_members(
                (
                    "a.csv",
                    (
                        HEADER.format(price="VALUE")
                        + "\n"
                        + GOOD_ROW.format(price="1").replace("T01:05", "T00:55")
                    ).encode(),
                )
            ),
            "ends before",
        ),
        (
            zip_members(
                (
                    "a.csv",
                    (
                        HEADER.format(price="VALUE")
                        + "\n"
                        + GOOD_ROW.format(price="1").replace(",N,RTM", ",,RTM")
                    ).encode(),
                )
            ),
            "without a node",
        ),
        (zip_members(("a.csv", b"\xff\xfe\x00garbage,\xff\n")), "cannot read"),
        (zip_members(("a.xml", b"<broken")), "malformed XML"),
        (zip_members(("a.xml", b"<html><body/></html>")), "unexpected XML"),
        (
            zip_members(
                (
                    "a.xml",
                    b"<OASISReport><ERROR><ERR_CODE>x</ERR_CODE></ERROR></OASISReport>",
                )
            ),
            "without a code",
        ),
        (
            zip_members(
                (
                    "a.xml",
                    b"<OASISReport><REPORT_DATA><DATA_ITEM>LMP_PRC</DATA_ITEM></REPORT_DATA></OASISReport>",
                )
            ),
            "lacks",
        ),
    ],
)
def test_bad_payloads_raise_typed_errors(payload: bytes, match: str) -> None:
    """Every malformed input is an OasisResponseError naming what is wrong."""
    with pytest.raises(OasisResponseError, match=match):
        parse_payload(payload, Market.RTM)


def test_other_error_codes_are_bad_requests() -> None:
    """1004 (range over 31 days) and 1014 (beyond retention) are bugs to report."""
    for code in (1004, 1014):
        with pytest.raises(OasisRequestError) as err:
            parse_payload(error_zip(code, "too long"), Market.DAM, "the request")
        assert err.value.code == code
        assert "the request" in str(err.value)


def test_blank_lines_are_ignored() -> None:
    """Trailing blank lines are not rows."""
    t = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    data = csv_payload(Market.RTM, [("TH_NP15_GEN-APND", t, 12.0)]) + b"\n,,\n"
    assert len(parse_payload(zip_members(("a.csv", data)), Market.RTM)) == 1


@pytest.mark.parametrize(
    "stamp", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00-02:00"]
)
@pytest.mark.parametrize("member", ["csv", "xml"])
def test_timestamps_beyond_datetime_range_in_utc_are_typed(
    stamp: str, member: str
) -> None:
    """Valid ISO text whose UTC time overflows datetime is a bad value, not a crash."""
    if member == "csv":
        row = GOOD_ROW.format(price="1").replace("2026-07-01T01:00:00-00:00", stamp)
        body = (HEADER.format(price="VALUE") + "\n" + row).encode()
    else:
        body = (
            "<OASISReport><REPORT_DATA><DATA_ITEM>LMP_PRC</DATA_ITEM>"
            "<RESOURCE_NAME>N</RESOURCE_NAME>"
            f"<INTERVAL_START_GMT>{stamp}</INTERVAL_START_GMT>"
            "<INTERVAL_END_GMT>2026-07-01T01:05:00-00:00</INTERVAL_END_GMT>"
            "<VALUE>1</VALUE></REPORT_DATA></OASISReport>"
        ).encode()
    with pytest.raises(OasisResponseError, match="out of range"):
        parse_payload(zip_members((f"a.{member}", body)), Market.RTM)
