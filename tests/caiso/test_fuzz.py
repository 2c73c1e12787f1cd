"""Property: no mutated payload makes the parser raise anything but its own typed errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import re

from hypothesis import HealthCheck, given, settings, strategies as st

from custom_components.tesladr.caiso import Market, OasisError, parse_payload
from tests.fake_oasis import csv_payload, error_zip, zip_members

T0 = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
CSV = csv_payload(
    Market.RTM,
    [("TH_NP15_GEN-APND", T0 + timedelta(minutes=5 * i), 40.0 + i) for i in range(4)],
)
XML = (
    b'<?xml version="1.0"?><OASISReport><MessagePayload><RTO><REPORT_ITEM><REPORT_DATA>'
    b"<DATA_ITEM>LMP_PRC</DATA_ITEM><RESOURCE_NAME>N</RESOURCE_NAME>"
    b"<INTERVAL_START_GMT>2026-07-01T01:00:00-00:00</INTERVAL_START_GMT>"
    b"<INTERVAL_END_GMT>2026-07-01T01:05:00-00:00</INTERVAL_END_GMT><VALUE>5</VALUE>"
    b"</REPORT_DATA></REPORT_ITEM></RTO></MessagePayload></OASISReport>"
)
SEEDS = [CSV, XML, error_zip(1000), error_zip(1001)]
# Mutating the member text before zipping reaches the CSV/XML logic past the zip CRC.
EXAMPLES = 10_000
TIMESTAMP = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-00:00")
# Byte flips almost never produce a valid ISO date at the edge of datetime's range, where
# converting a UTC offset overflows; draw such timestamps directly.
EXTREME_DATETIMES = st.one_of(
    st.datetimes(),
    st.datetimes(max_value=datetime(1, 1, 2)),
    st.datetimes(min_value=datetime(9999, 12, 30)),
)
OFFSETS = st.integers(-(24 * 60 - 1), 24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, bool]:
    seed = draw(st.sampled_from(SEEDS))
    data = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "dup", "comma"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[position : position + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(max_size=12))
        elif kind == "dup":
            data[position:position] = data[
                position : position + draw(st.integers(1, 200))
            ]
        else:
            data[position:position] = b","
    wrap = draw(st.booleans()) and seed in (CSV, XML)
    return bytes(data), wrap


@st.composite
def timestamp(draw: st.DrawFn) -> bytes:
    moment = draw(EXTREME_DATETIMES).replace(tzinfo=draw(OFFSETS))
    spec = draw(st.sampled_from(["minutes", "seconds", "microseconds"]))
    return moment.isoformat(timespec=spec).encode()


@st.composite
def retimed(draw: st.DrawFn) -> tuple[bytes, bool]:
    """A valid payload whose timestamps are partly replaced by drawn, often extreme, ones."""
    seed = draw(st.sampled_from([CSV, XML]))
    parts = TIMESTAMP.split(seed)
    found = TIMESTAMP.findall(seed)
    out = bytearray(parts[0])
    for original, rest in zip(found, parts[1:], strict=True):
        out += draw(timestamp()) if draw(st.booleans()) else original
        out += rest
    return bytes(out), draw(st.booleans()) and seed is CSV


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.one_of(mutated(), retimed()), st.sampled_from(list(Market)))
def test_parser_raises_only_typed_errors(
    payload: tuple[bytes, bool], market: Market
) -> None:
    """Ten thousand mutated or re-timed payloads: results or OasisError, nothing else."""
    data, wrap = payload
    if wrap:
        data = zip_members(("member.csv", data))
    try:
        result = parse_payload(data, market)
    except OasisError:
        return
    assert all(interval.end > interval.start for interval in result)
    assert result == sorted(result, key=lambda i: (i.node, i.start))
