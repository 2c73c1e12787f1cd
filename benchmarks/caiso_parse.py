"""Parse time and peak memory of the OASIS parser, beside a naive csv.DictReader baseline.

Run: ./scripts/bench caiso-parse
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
import io
import json
from pathlib import Path
import time
import tracemalloc
from typing import Any
import zipfile

from custom_components.tesladr.caiso import Market, parse_payload

REFERENCE_NODES = (
    Path(__file__).resolve().parents[2]
    / "shared/reference/caiso/apnode_names_from_PRC_LMP_DAM_20200101.txt"
)
HUBS = [
    "TH_NP15_GEN-APND",
    "TH_SP15_GEN-APND",
    "TH_ZP26_GEN-APND",
    "DLAP_PGAE-APND",
    "DLAP_SCE-APND",
    "DLAP_SDGE-APND",
    "DLAP_VEA-APND",
]
HEADER = (
    "INTERVALSTARTTIME_GMT,INTERVALENDTIME_GMT,OPR_DT,OPR_HR,OPR_INTERVAL,NODE_ID_XML,NODE_ID,"
    "NODE,MARKET_RUN_ID,LMP_TYPE,XML_DATA_ITEM,PNODE_RESMRID,GRP_TYPE,POS,{price},GROUP"
)
TYPES = (
    ("LMP", "LMP_PRC"),
    ("MCC", "LMP_CONG_PRC"),
    ("MCE", "LMP_ENE_PRC"),
    ("MCL", "LMP_LOSS_PRC"),
)


def all_nodes() -> list[str]:
    """The real node list of one day when the reference folder is there, else synthetic."""
    if REFERENCE_NODES.is_file():
        return sorted(set(REFERENCE_NODES.read_text().split()))
    return [f"NODE_{i:04d}_GEN-APND" for i in range(1700)]


def build(market: Market, nodes: list[str], hours: int, step: timedelta) -> bytes:
    """A zipped CSV like OASIS sends, four LMP component rows per node and interval."""
    start = datetime(2026, 7, 1, 7, tzinfo=UTC)
    lines = [HEADER.format(price=market.price_column)]
    moments = [start + step * i for i in range(int(timedelta(hours=hours) / step))]
    for node in nodes:
        for index, moment in enumerate(moments):
            s = moment.strftime("%Y-%m-%dT%H:%M:%S-00:00")
            e = (moment + step).strftime("%Y-%m-%dT%H:%M:%S-00:00")
            for lmp_type, item in TYPES:
                value = 30 + (index % 24) + len(node) % 7 + len(lmp_type)
                lines.append(
                    f"{s},{e},2026-07-01,{index + 1},0,{node},{node},{node},{market.value},"
                    f"{lmp_type},{item},{node},ALL_APNODES,0,{value}.12345,{index}"
                )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{market.query_name}.csv", "\n".join(lines) + "\n")
    return buffer.getvalue()


def member_size(data: bytes) -> int:
    """Uncompressed size of the CSV in a zip."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return archive.infolist()[0].file_size


def naive(data: bytes, market: Market) -> list[tuple[str, datetime, float]]:
    """What a first attempt looks like: read the member whole, DictReader, parse every row."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        start = datetime.fromisoformat(row["INTERVALSTARTTIME_GMT"])
        price = float(row[market.price_column])
        if row["LMP_TYPE"] == "LMP":
            rows.append((row["NODE"], start, price))
    return sorted(rows)


def measure(name: str, fn: Any, repeat: int) -> dict[str, float]:
    """Best wall time of `repeat` runs, and peak traced memory of one."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {f"{name}_s": round(best, 4), f"{name}_peak_mib": round(peak / 2**20, 2)}


def main() -> None:
    """Print one JSON line per measurement."""
    hour = build(Market.RTM, HUBS, 1, timedelta(minutes=5))
    day_nodes = all_nodes()
    day = build(Market.DAM, day_nodes, 24, timedelta(hours=1))
    for label, data, market, repeat in (
        ("rtm_1h_7_nodes", hour, Market.RTM, 50),
        ("dam_all_nodes_day", day, Market.DAM, 3),
    ):
        ours = parse_payload(data, market)
        baseline = naive(data, market)
        if len(ours) != len(baseline):
            raise SystemExit(
                f"{label}: parsers disagree ({len(ours)} vs {len(baseline)})"
            )
        print(
            json.dumps(
                {
                    "benchmark": label,
                    "csv_mb": round(member_size(data) / 1e6, 2),
                    "intervals": len(ours),
                    **measure(
                        "tesladr", lambda d=data, m=market: parse_payload(d, m), repeat
                    ),
                    **measure(
                        "naive_baseline", lambda d=data, m=market: naive(d, m), repeat
                    ),
                }
            )
        )


if __name__ == "__main__":
    main()
