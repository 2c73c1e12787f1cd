"""Turn the replay runs' JSON lines (stdin) into a table and one JSON line (stdout).

Run: ./scripts/bench replay   (which pipes the replay tests through this)
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .replay_sim import CALLS_PER_USD, DAYS_PER_MONTH, MONTHLY_CREDIT_USD

COLUMNS = [
    "cars",
    "system",
    "reaction to stop, s (p50 / p95 / max)",
    "OASIS req. per interval (mean / max), min gap",
    "Tesla calls per car-day (data / command / wake)",
    "USD per car-month (no credit / 10 USD credit per account)",
    "stops per car and event (mean / max)",
    "not consumed (kWh / USD)",
    "run (wall / CPU s)",
]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    text = f"{value:g}" if isinstance(value, int) else f"{value:.1f}".rstrip("0")
    return text.rstrip(".") + unit


def cells(row: dict[str, Any]) -> list[str]:
    """One table row."""
    reaction = row["dr"]["reaction_s"]
    oasis = row["oasis"]
    calls = row["tesla"]["calls_per_car_day"]
    stops = row["dr"]["stops_per_car_event"]
    return [
        str(row["cars"]),
        row["system"],
        " / ".join(_fmt(reaction[k]) for k in ("p50", "p95", "max")),
        (
            f"{oasis['per_interval_mean']:.2f} / {oasis['per_interval_max']}, "
            f"{_fmt(oasis['min_gap_s'], ' s')}"
        ),
        " / ".join(_fmt(calls[k]) for k in ("data", "command", "wake")),
        (
            f"{row['tesla']['usd_per_car_month']:.2f} / "
            f"{row['tesla']['usd_per_car_month_after_credit']:.2f}"
        ),
        f"{_fmt(stops['mean'])} / {_fmt(stops['max'])}",
        f"{row['dr']['kwh_not_consumed']:.1f} / {row['dr']['usd_not_consumed']:.2f}",
        f"{row['run']['wall_s']:.0f} / {row['run']['cpu_s']:.0f}",
    ]


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown tables, one per day."""
    out = []
    for day in dict.fromkeys(row["day"] for row in rows):
        mine = [row for row in rows if row["day"] == day]
        out.append(f"\n{day}: {mine[0]['day_source']}")
        per_node = mine[0]["dr"]["events"] // mine[0]["nodes"]
        out.append(f"price events per node: {per_node}\n")
        out.append("| " + " | ".join(COLUMNS) + " |")
        out.append("|" + " --- |" * len(COLUMNS))
        out.extend(
            "| " + " | ".join(cells(row)) + " |"
            for row in sorted(mine, key=lambda r: (r["cars"], r["system"] != "tesladr"))
        )
    return "\n".join(out)


def main() -> None:
    """Read JSON lines, print the table and one JSON line with every run."""
    rows = []
    for line in sys.stdin:
        start = line.find('{"benchmark": "replay_run"')
        if start >= 0:
            rows.append(json.loads(line[start:]))
    if not rows:
        sys.exit("no replay runs in the input")
    print(table(rows))
    print(
        "\nFleet API prices: "
        + ", ".join(f"{kind} {per} per USD" for kind, per in CALLS_PER_USD.items())
        + f"; a month is {DAYS_PER_MONTH} days; the {MONTHLY_CREDIT_USD:g} USD monthly"
        " credit is applied once per account in the second figure.\n"
    )
    for row in rows:
        row.pop("log_first", None)
    print(json.dumps({"benchmark": "replay", "runs": rows}))


if __name__ == "__main__":
    main()
