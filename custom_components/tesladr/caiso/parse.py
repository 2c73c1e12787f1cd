"""Parse OASIS SingleZip payloads (CSV or XML members) into sorted LMP intervals.

Columns differ between reports, so CSV is read by header name. Only `LMP` rows count (the other
rows are its components), only the `*_GMT` columns are used (so DST days with 23 or 25 hours need
no special case), repeated rows collapse with the later one winning (OASIS re-prices intervals),
and every malformed input becomes an `OasisError`.
"""

from __future__ import annotations

from collections.abc import Iterable
import csv
from datetime import UTC, datetime
import io
import math
from xml.etree import ElementTree as ET
import zipfile
import zlib

from .errors import OasisRequestError, OasisResponseError
from .models import Market, PriceInterval

NO_DATA = 1000
_NODE_COLUMNS = ("NODE", "PNODE_RESMRID", "NODE_ID")
_XML_LMP_ITEM = "LMP_PRC"

type _Key = tuple[str, datetime]
# What zipfile and its decompressors raise on damaged or unsupported archives
# (UnicodeDecodeError is a ValueError).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)


def parse_payload(
    data: bytes, market: Market, request: str = ""
) -> list[PriceInterval]:
    """Parse a SingleZip response body; `request` only names the request in errors."""
    if not data:
        raise OasisResponseError("empty response body")
    if data.lstrip()[:5] == b"<?xml":
        # Some error documents arrive unzipped.
        intervals: dict[_Key, PriceInterval] = {}
        _parse_xml(data, request, intervals)
        return _sorted(intervals)
    if not data.startswith(b"PK"):
        raise OasisResponseError(f"response is not a zip archive: {data[:60]!r}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except _ZIP_ERRORS as err:
        raise OasisResponseError(f"corrupt zip archive: {err}") from err
    if not members:
        raise OasisResponseError("zip archive has no members")
    intervals = {}
    with archive:
        for member in members:
            _parse_member(archive, member, market, request, intervals)
    return _sorted(intervals)


def _sorted(intervals: dict[_Key, PriceInterval]) -> list[PriceInterval]:
    return [intervals[key] for key in sorted(intervals)]


def _parse_member(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    market: Market,
    request: str,
    intervals: dict[_Key, PriceInterval],
) -> None:
    try:
        _read_member(archive, member, market, request, intervals)
    except (*_ZIP_ERRORS, csv.Error) as err:
        raise OasisResponseError(
            f"cannot read zip member {member.filename}: {err}"
        ) from err


def _read_member(
    archive: zipfile.ZipFile,
    member: zipfile.ZipInfo,
    market: Market,
    request: str,
    intervals: dict[_Key, PriceInterval],
) -> None:
    with archive.open(member) as stream:
        head = stream.read(64)
        if head.lstrip().startswith(b"<"):
            _parse_xml(head + stream.read(), request, intervals)
            return
    if not head.strip():
        raise OasisResponseError(f"zip member {member.filename} is empty")
    # Reopen rather than buffer: a whole-grid day is tens of megabytes.
    with archive.open(member) as stream:
        text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        _parse_csv(text, market, member.filename, intervals)


def _parse_csv(
    text: Iterable[str],
    market: Market,
    name: str,
    intervals: dict[_Key, PriceInterval],
) -> None:
    reader = csv.reader(text)
    header = next(reader, None)
    if not header:
        raise OasisResponseError(f"zip member {name} has no header")
    columns = {column.strip(): index for index, column in enumerate(header)}
    node_column = next((c for c in _NODE_COLUMNS if c in columns), None)
    required = ("INTERVALSTARTTIME_GMT", "INTERVALENDTIME_GMT", "LMP_TYPE")
    missing = [c for c in (*required, market.price_column) if c not in columns]
    if node_column is None or missing:
        raise OasisResponseError(
            f"zip member {name} lacks columns {missing or ['NODE']}: {header[:20]}"
        )
    i_start = columns["INTERVALSTARTTIME_GMT"]
    i_end = columns["INTERVALENDTIME_GMT"]
    i_type = columns["LMP_TYPE"]
    i_price = columns[market.price_column]
    i_node = columns[node_column]
    width = max(i_start, i_end, i_type, i_price, i_node)
    times: dict[str, datetime] = {}
    for row in reader:
        if len(row) <= width:
            if not any(field.strip() for field in row):
                continue
            raise OasisResponseError(f"short row in {name}: {row[:8]}")
        if row[i_type] != "LMP":
            continue
        start = times.get(row[i_start]) or times.setdefault(
            row[i_start], _timestamp(row[i_start])
        )
        end = times.get(row[i_end]) or times.setdefault(
            row[i_end], _timestamp(row[i_end])
        )
        _add(intervals, row[i_node], start, end, row[i_price])


def _add(
    intervals: dict[_Key, PriceInterval],
    node: str,
    start: datetime,
    end: datetime,
    price_text: str,
) -> None:
    try:
        price = float(price_text)
    except ValueError:
        raise OasisResponseError(f"non-numeric price {price_text!r}") from None
    if not math.isfinite(price):
        raise OasisResponseError(f"non-finite price {price_text!r}")
    if end <= start:
        raise OasisResponseError(f"interval ends before it starts: {start} {end}")
    if not node:
        raise OasisResponseError("row without a node name")
    intervals[node, start] = PriceInterval(node, start, end, price)


def _timestamp(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise OasisResponseError(f"bad timestamp {text!r}") from None
    if value.tzinfo is None:
        raise OasisResponseError(f"timestamp without offset {text!r}")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # Valid text near year 1 or 9999 whose UTC time falls outside datetime's range.
        raise OasisResponseError(f"timestamp out of range {text!r}") from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _parse_xml(data: bytes, request: str, intervals: dict[_Key, PriceInterval]) -> None:
    try:
        root = ET.fromstring(data)  # noqa: S314 - expat limits entity expansion
    except ET.ParseError as err:
        raise OasisResponseError(f"malformed XML: {err}") from err
    if _local(root.tag) != "OASISReport":
        raise OasisResponseError(f"unexpected XML document <{_local(root.tag)}>")
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "ERROR":
            _raise_error(element, request)
        elif tag == "REPORT_DATA":
            fields = {
                _local(child.tag): (child.text or "").strip() for child in element
            }
            if fields.get("DATA_ITEM") != _XML_LMP_ITEM:
                continue
            try:
                node = fields["RESOURCE_NAME"]
                start = _timestamp(fields["INTERVAL_START_GMT"])
                end = _timestamp(fields["INTERVAL_END_GMT"])
                value = fields["VALUE"]
            except KeyError as err:
                raise OasisResponseError(f"REPORT_DATA lacks {err}") from None
            _add(intervals, node, start, end, value)


def _raise_error(element: ET.Element, request: str) -> None:
    fields = {_local(child.tag): (child.text or "").strip() for child in element}
    try:
        code = int(fields.get("ERR_CODE", ""))
    except ValueError:
        raise OasisResponseError(f"OASIS error without a code: {fields}") from None
    if code == NO_DATA:
        return
    raise OasisRequestError(code, fields.get("ERR_DESC", ""), request)
