"""Turn the replay runs' JSON lines (stdin) into a table and one JSON line (stdout).

Run: ./scripts/bench replay   (which pipes the replay tests through this)
"""

from __future__ import annotations

import json
import sys
from typing import Any

from .replay_sim import CALLS_PER_USD, DAYS_PER_MONTH, MONTHLY_CREDIT_USD


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.1f}".removesuffix(".0") + unit


def _three(
    values: dict[str, Any], keys: tuple[str, ...] = ("p50", "p95", "max")
) -> str:
    return " / ".join(_fmt(values[key]) for key in keys)


def _per_paused(row: dict[str, Any], kind: str) -> float:
    total = float(row["tesla"]["calls_per_car_day"][kind]) * row["cars"]
    return total / row["dr"]["paused_car_events"]


ROWS: list[tuple[str, Any]] = [
    ("reaction to stop, s: p50 / p95 / max", lambda r: _three(r["dr"]["reaction_s"])),
    (
        "… if each call takes 1 s",
        lambda r: _three(r["dr"]["reaction_s_with_latency"]),
    ),
    (
        "OASIS requests per interval: mean / max",
        lambda r: (
            f"{r['oasis']['per_interval_mean']:.2f} / {r['oasis']['per_interval_max']}"
        ),
    ),
    ("min gap between OASIS requests", lambda r: _fmt(r["oasis"]["min_gap_s"], " s")),
    (
        "Tesla calls per car-day: data / command / wake",
        lambda r: _three(r["tesla"]["calls_per_car_day"], ("data", "command", "wake")),
    ),
    (
        "… of a car asleep all day",
        lambda r: (
            _three(r["tesla"]["sleeper_calls_per_car_day"], ("data", "command", "wake"))
            if r["tesla"]["sleeper_calls_per_car_day"]
            else "–"
        ),
    ),
    (
        "Fleet API USD per car-month: no credit / credit",
        lambda r: (
            f"{r['tesla']['usd_per_car_month']:.2f} / "
            f"{r['tesla']['usd_per_car_month_after_credit']:.2f}"
        ),
    ),
    (
        "… if the product list were free",
        lambda r: f"{r['tesla']['usd_per_car_month_free_list']:.2f}",
    ),
    (
        # All of the day's calls over the events in which a car was paused.
        "data calls / commands per paused car and event",
        lambda r: (
            f"{_per_paused(r, 'data'):.1f} / {_per_paused(r, 'command'):.1f}"
            if r["dr"].get("paused_car_events")
            else "–"
        ),
    ),
    (
        "stops per car and event: mean / max",
        lambda r: _three(r["dr"]["stops_per_car_event"], ("mean", "max")),
    ),
    (
        "not consumed: kWh / USD",
        lambda r: (
            f"{r['dr']['kwh_not_consumed']:.1f} / {r['dr']['usd_not_consumed']:.2f}"
        ),
    ),
    ("cars left paused at the end", lambda r: str(r["dr"]["left_paused"])),
    (
        "run: wall / CPU s",
        lambda r: f"{r['run']['wall_s']:.0f} / {r['run']['cpu_s']:.0f}",
    ),
]


def lag_table(rows: list[dict[str, Any]]) -> str:
    """One line per lag setting: tesladr beside the baseline."""
    by_lag: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    for row in rows:
        by_lag.setdefault((row["lag"], row["cars"]), {})[row["system"]] = row
    out = [
        (
            "\nOASIS publication lag matrix (generated day; reaction with zero latency; "
            "OASIS after the first hour)\n"
        ),
        (
            "| lag, s | cars | reaction p50 / p95 / max, s: tesladr | baseline "
            "| OASIS per interval mean / max: tesladr | baseline "
            "| min gap, s: tesladr | baseline |"
        ),
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]

    def cells(row: dict[str, Any] | None) -> tuple[str, str, str]:
        if row is None:
            return "–", "–", "–"
        oasis = row.get("oasis_after_first_hour", row["oasis"])
        return (
            _three(row["dr"]["reaction_s"]),
            f"{oasis['per_interval_mean']:.2f} / {oasis['per_interval_max']}",
            _fmt(row["oasis"]["min_gap_s"]),
        )

    for (lag, cars), systems in by_lag.items():
        ours, theirs = cells(systems.get("tesladr")), cells(systems.get("baseline"))
        out.append(
            f"| {lag} | {cars} | {ours[0]} | {theirs[0]} | {ours[1]} | {theirs[1]} "
            f"| {ours[2]} | {theirs[2]} |"
        )
    return "\n".join(out)


def table(rows: list[dict[str, Any]]) -> str:
    """Markdown tables, one per day: a column per fleet size and system."""
    out = []
    lagged = [row for row in rows if row.get("lag")]
    rows = [row for row in rows if not row.get("lag")]
    for key in dict.fromkeys((row["day"], row["polling_keeps_awake"]) for row in rows):
        mine = sorted(
            (row for row in rows if (row["day"], row["polling_keeps_awake"]) == key),
            key=lambda r: (r["cars"], r["system"] != "tesladr"),
        )
        per_node = mine[0]["dr"]["events"] // mine[0]["nodes"]
        awake = "keeps" if mine[0]["polling_keeps_awake"] else "does not keep"
        out.append(
            f"\n{key[0]}: {mine[0]['day_source']}; {per_node} events per node; "
            f"polling vehicle_data {awake} a parked car awake\n"
        )
        heads = [
            f"{r['cars']} car{'s' if r['cars'] > 1 else ''}, {r['accounts']} acc.: "
            f"{r['system']}"
            for r in mine
        ]
        out.append("| | " + " | ".join(heads) + " |")
        out.append("| --- |" + " --- |" * len(mine))
        out.extend(
            f"| {label} | " + " | ".join(cell(r) for r in mine) + " |"
            for label, cell in ROWS
        )
    if lagged:
        out.append(lag_table(lagged))
    return "\n".join(out)


ROUTE_NAMES = {
    "tesla_fleet": "Tesla Fleet",
    "teslemetry": "Teslemetry",
    "tessie": "Tessie",
    "tesla_custom": "Tesla Custom",
    "generic": "charger switch",
}


def _per_event(route: dict[str, Any], name: str) -> str:
    return _fmt(route["service_calls_per_event"].get(name, 0.0))


def routes_table(row: dict[str, Any]) -> str:
    """One column per linked route: what tesladr asked of the car's own integration."""
    routes = row["routes"]
    poll = row["poll_s"]

    def requests(route: dict[str, Any]) -> str:
        found = route["cloud_requests"]
        return ", ".join(f"{k} {n}" for k, n in found.items()) if found else "–"

    def commands(route: dict[str, Any]) -> str:
        found = route["cloud_commands"]
        return ", ".join(f"{k} {n}" for k, n in found.items()) if found else "–"

    lines: list[tuple[str, Any]] = [
        (
            "poll interval of the integration",
            lambda r, k: f"{poll[k]} s" if poll[k] else "push",
        ),
        ("events", lambda r, k: str(r["events"])),
        (
            "tesladr's Tesla API calls for the car",
            lambda r, k: str(row["tesladr_tesla_requests_for_linked_cars"]),
        ),
        (
            "switch service calls per event",
            lambda r, k: _fmt(r["switch_calls_per_event"]),
        ),
        (
            "… turn_off / turn_on",
            lambda r, k: (
                f"{_per_event(r, 'switch.turn_off')} / {_per_event(r, 'switch.turn_on')}"
            ),
        ),
        (
            "update_entity calls per event",
            lambda r, k: _per_event(r, "homeassistant.update_entity"),
        ),
        ("wakes (button.press) per event", lambda r, k: _per_event(r, "button.press")),
        (
            "service calls outside events",
            lambda r, k: str(r["service_calls_outside_events"]),
        ),
        (
            "reaction to turn_off, s: p50 / p95 / max",
            lambda r, k: _three(r["reaction_to_turn_off_s"]),
        ),
        (
            "reaction to signal stopped, s: p50 / p95 / max",
            lambda r, k: _three(r["reaction_to_signal_stopped_s"]),
        ),
        ("commands the fake cloud received", lambda r, k: commands(r)),
        (
            "requests the fake cloud received (the owner's bill)",
            lambda r, k: requests(r),
        ),
        ("not consumed, kWh", lambda r, k: f"{r['kwh_not_consumed']:.1f}"),
    ]
    out = [
        (
            f"\nLinked routes ({row['day']}, {row['window_pacific']} Pacific; one car per "
            f"route, beside one account car; run {row['run']['wall_s']:.0f} s wall)\n"
        ),
        "| | " + " | ".join(ROUTE_NAMES.get(k, k) for k in routes) + " |",
        "| --- |" + " --- |" * len(routes),
    ]
    out.extend(
        f"| {label} | " + " | ".join(cell(r, k) for k, r in routes.items()) + " |"
        for label, cell in lines
    )
    return "\n".join(out)


def main() -> None:
    """Read JSON lines, print the tables and one JSON line with every run."""
    rows = []
    route_rows = []
    for line in sys.stdin:
        start = line.find('{"benchmark": "replay_run"')
        if start >= 0:
            rows.append(json.loads(line[start:]))
        start = line.find('{"benchmark": "replay_routes"')
        if start >= 0:
            route_rows.append(json.loads(line[start:]))
    if not rows and not route_rows:
        sys.exit("no replay runs in the input")
    if rows:
        print(table(rows))
    for row in route_rows:
        print(routes_table(row))
    if rows:
        print(
            "\nFleet API prices: "
            + ", ".join(f"{kind} {per} per USD" for kind, per in CALLS_PER_USD.items())
            + f"; a month is {DAYS_PER_MONTH} days; the {MONTHLY_CREDIT_USD:g} USD monthly"
            " credit is applied once per account in the second figure.\n"
        )
    for row in [*rows, *route_rows]:
        row.pop("log_first", None)
    print(json.dumps({"benchmark": "replay", "runs": rows, "route_runs": route_rows}))


if __name__ == "__main__":
    main()
