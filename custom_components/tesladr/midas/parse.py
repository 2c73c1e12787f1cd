"""Parse MIDAS v2 JSON answers into typed models; every malformed input becomes a MidasError.

Rows are placed by their UTC `DateStart`/`TimeStart`/`DateEnd`/`TimeEnd` alone, so DST days
(23 or 25 Pacific hours) need no special case. `DayStart`/`DayEnd` are ignored: the published
Flex Alert sample numbers them by the UTC date's weekday, not the Pacific one's. Repeated rows
(same unit and start) collapse with the later one winning, and a row without a value is a gap.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
import json
import math
from typing import Any

from .errors import MidasResponseError, MidasV1ResponseError
from .models import LIST_KEYS, RateListing, RateValues, ValueInterval
from .rins import FLEX_ALERT_RIN, MOER_PREFIX

MOER_UNIT = "g/kWh CO2"
V1_MOER_UNIT = "kg/kWh CO2"
# MIDAS writes an interval's end inclusive, to the second: 07:00:00-07:04:59 is 5 minutes.
END_RESOLUTION = timedelta(seconds=1)


def load_json(data: bytes) -> Any:
    """The decoded JSON of an answer body."""
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MidasResponseError(f"not JSON: {err}: {data[:80]!r}") from None


def parse_rate_list(data: bytes) -> list[RateListing]:
    """The RIN list (`GET /api/valuedata?SignalType=n`), one listing per RIN, sorted."""
    document = load_json(data)
    if isinstance(document, list):
        raise MidasV1ResponseError("the RIN list is a bare array: a MIDAS v1 answer")
    if not isinstance(document, dict) or not LIST_KEYS & document.keys():
        raise MidasResponseError(f"no RIN list in the answer: {str(document)[:80]}")
    listings: dict[str, RateListing] = {}
    for key in sorted(LIST_KEYS & document.keys()):
        entries = document[key]
        if not isinstance(entries, list):
            raise MidasResponseError(f"{key} is not a list")
        for entry in entries:
            listing = _listing(entry)
            listings[listing.rin] = listing
    return [listings[rin] for rin in sorted(listings)]


def _listing(entry: object) -> RateListing:
    if not isinstance(entry, dict):
        raise MidasResponseError(f"RIN list entry is not an object: {entry!r}")
    rin = entry.get("RateID")
    if not isinstance(rin, str) or not rin:
        raise MidasResponseError(f"RIN list entry without a RateID: {entry}")
    return RateListing(
        rin=rin,
        signal_type=_text(entry.get("SignalType")),
        description=_text(entry.get("Description")),
        last_updated=_metadata_time(entry.get("LastUpdated")),
    )


def parse_values(data: bytes, rin: str) -> RateValues:
    """A RIN's values (`valuedata?ID=` or `historicaldata/`), checked against what was asked.

    MOER answers must be in g/kWh CO2 and Flex Alert answers 0 or 1, so that a unit change
    like v1's kg/kWh cannot pass as a clean grid.
    """
    document = load_json(data)
    if not isinstance(document, dict):
        raise MidasResponseError(
            f"values answer is not an object: {str(document)[:80]}"
        )
    answered = document.get("RateID")
    if answered != rin:
        raise MidasResponseError(f"asked for {rin}, the answer is for {answered!r}")
    rows = document.get("ValueInformation")
    if not isinstance(rows, list):
        raise MidasResponseError(f"{rin}: ValueInformation is not a list")
    intervals: dict[tuple[datetime, str], ValueInterval] = {}
    for row in rows:
        interval = _interval(row, rin)
        if interval is not None:
            intervals[interval.start, interval.unit] = interval
    values = RateValues(
        rin=rin,
        name=_text(document.get("RateName")),
        rate_type=_text(document.get("RateType")),
        signal_type=_text(document.get("SignalType")),
        description=_text(document.get("Description")),
        system_time=_metadata_time(document.get("SystemTime_UTC")),
        intervals=tuple(intervals[key] for key in sorted(intervals)),
    )
    _check_signal(values)
    return values


def _interval(row: object, rin: str) -> ValueInterval | None:
    if not isinstance(row, dict):
        raise MidasResponseError(f"{rin}: row is not an object: {row!r}")
    if "Value" not in row:
        if "value" in row:
            raise MidasV1ResponseError(f"{rin}: rows carry `value`: a MIDAS v1 answer")
        raise MidasResponseError(f"{rin}: row without a Value: {row}")
    value = row["Value"]
    if value is None:
        return None
    # bool is an int to Python, never a MIDAS number.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MidasResponseError(f"{rin}: non-numeric Value {value!r}")
    if not math.isfinite(value):
        raise MidasResponseError(f"{rin}: non-finite Value {value!r}")
    start = _moment(row, "DateStart", "TimeStart", rin)
    try:
        end = _moment(row, "DateEnd", "TimeEnd", rin) + END_RESOLUTION
    except OverflowError:
        raise MidasResponseError(f"{rin}: row ends after year 9999: {row}") from None
    if end <= start:
        raise MidasResponseError(f"{rin}: row ends before it starts: {row}")
    unit = row.get("Unit")
    if not isinstance(unit, str):
        raise MidasResponseError(f"{rin}: row without a Unit: {row}")
    return ValueInterval(start, end, float(value), _text(row.get("ValueName")), unit)


def _moment(row: dict[str, Any], date_key: str, time_key: str, rin: str) -> datetime:
    day, clock = row.get(date_key), row.get(time_key)
    if not isinstance(day, str) or not isinstance(clock, str):
        raise MidasResponseError(f"{rin}: row without {date_key}/{time_key}: {row}")
    try:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), UTC)
    except ValueError:
        raise MidasResponseError(
            f"{rin}: bad {date_key}/{time_key} {day!r} {clock!r}"
        ) from None


def _check_signal(values: RateValues) -> None:
    if values.rin.startswith(MOER_PREFIX):
        if V1_MOER_UNIT in values.units:
            raise MidasV1ResponseError(f"{values.rin}: kg/kWh CO2, a MIDAS v1 unit")
        if values.units - {MOER_UNIT}:
            raise MidasResponseError(
                f"{values.rin}: unexpected units {sorted(values.units)}"
            )
    elif values.rin == FLEX_ALERT_RIN:
        odd = {i.value for i in values.intervals} - {0.0, 1.0}
        if odd:
            raise MidasResponseError(f"{values.rin}: Flex Alert values {sorted(odd)}")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _metadata_time(value: object) -> datetime | None:
    """A descriptive timestamp: unreadable ones are dropped, they place no interval."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        # MIDAS v2 states its times in UTC even where it leaves the offset out.
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
