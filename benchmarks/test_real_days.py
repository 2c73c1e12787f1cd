"""Named real CAISO days through a full Home Assistant, beside the pure pass of the same day.

Run: ./scripts/bench real-days   (also part of ./scripts/bench replay)

Each day of benchmarks/real_days.DAYS runs Home Assistant in the test harness on the replay's
simulated clock (benchmarks/test_replay.py's run_day): the real tesladr entries (a prices
entry, an account entry), the real OASIS client against the fake OASIS serving the day's
recorded 5-minute prices (the recording only: no 15-minute or day-ahead prices, which the
reference does not hold), and two cars through the real teslajsonpy against the fake Tesla:

- the always-charging car, as real_years' (7 kW, battery held at 60 %, no departure): the
  churn worst case, its pauses are the day's pauses per car-day;
- the evening car: home at 17:30 at 1.4 kW needing 16 kWh, ready by departure on with the
  departure at 07:00 and the target left at its default (the car's charge limit, 80 %); the
  run ends at that departure, the next morning.

Both follow the day's DLAP (the owner's pricing-node choice). DR settings are the defaults
(T = 100, A = 50, minimum pause 60 minutes, 5 pauses per 24 h). Each 5-minute price is
published 60 s after its interval ends, as the pure pass acts on it. Skipped when the
reference data is absent. One JSON line per day; `python -m benchmarks.real_days` makes the
table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
import json
import random
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.dr import DrEvent, Outcome
from tests.fake_tesla import FakeCar

from .real_days import (
    ALWAYS_KW,
    ALWAYS_LIMIT,
    ALWAYS_SOC,
    DAYS,
    DEPARTURE,
    DEPARTURE_H,
    EVENING_KW,
    NEED_KWH,
    PLUG_IN_H,
    TARGET,
    NamedDay,
    always_numbers,
    local,
    pure,
    recording,
    share_one_interval,
    stops,
)
from .replay_fakes import CallRecord, LaggedFakeOasis, LoggedFakeTesla
from .replay_sim import (
    BATTERY_KWH,
    CarPlan,
    FleetSim,
    PriceDay,
    oasis_summary,
    parse_lag,
)
from .test_replay import START_OFFSET, _start_tesladr, measured, run_day, settle

LAG = parse_lag("60")
# Pauses the full replay may differ from the pure pass by, per car and day: Home Assistant
# acts on a price when it fetches it (its learned schedule, a few seconds after the
# publication; in the first hour, before it has learned the lag, up to a few minutes), the
# pure pass exactly 60 s after the interval; and the ready-by car's need comes from the car's
# whole-percent battery and time to full, not the exact kWh. Either can move a decision by an
# interval near the minimum pause's end or the guarantee's edge.
PAUSE_TOLERANCE = 1
# Where each DLAP's cars live (the pricing node is the owner's choice, the DLAP).
HOMES = {"DLAP_SDGE-APND": (32.7157, -117.1611), "DLAP_PGAE-APND": (37.8044, -122.2712)}


@pytest.fixture
def expected_lingering_timers() -> bool:
    """The fake servers' keep-alive timers outlive a run; they are harmless."""
    return True


@dataclass
class SimCar(FakeCar):
    """A fake car whose time to full follows its battery (the shared fake says 2.5 h)."""

    soc: float = 0.0

    def vehicle_data(self) -> dict[str, Any]:
        """The vehicle_data body, with the time to full of the simulated battery."""
        data = super().vehicle_data()
        if self.charging_state == "Charging" and self.charger_power > 0:
            left = max(0.0, self.charge_limit_soc - self.soc) / 100 * BATTERY_KWH
            data["charge_state"]["time_to_full_charge"] = left / self.charger_power
        return data


@dataclass(frozen=True, slots=True)
class DlapPlan(CarPlan):
    """A car priced at a DLAP (the owner's choice) instead of the nearest hub."""

    dlap: str = ""

    @property
    def node(self) -> str:
        """The DLAP."""
        return self.dlap


@dataclass(frozen=True, slots=True)
class RecordedDay(PriceDay):
    """The replay's window of a recorded year; any other interval from the recording."""

    recorded: dict[datetime, float] = None  # type: ignore[assignment]

    def price(self, node: str, start: datetime) -> float | None:
        """The recorded LMP (the recording, not the same time of day)."""
        return self.recorded.get(start) if node in self.prices else None


class HeldSim(FleetSim):
    """The fleet simulation with the always-charging car's battery held where it is."""

    held: str = ""

    def advance(self, now: datetime) -> None:
        """Integrate, then hold the always-charging car's battery; tell each car its soc."""
        super().advance(now)
        for vin, track in self.tracks.items():
            if vin == self.held:
                track.soc = ALWAYS_SOC
                track.fake.battery_level = ALWAYS_SOC
            if isinstance(track.fake, SimCar):
                track.fake.soc = track.soc


def plans(named: NamedDay) -> tuple[DlapPlan, DlapPlan]:
    """The always-charging car and the evening car, at the day's DLAP."""
    lat, lon = HOMES[named.node]
    common = {"account": 0, "latitude": lat, "longitude": lon, "dlap": named.node}
    always = DlapPlan(
        index=0,
        role="sleeper",
        power_kw=ALWAYS_KW,
        arrive_soc=ALWAYS_SOC,
        limit=ALWAYS_LIMIT,
        leave_min=0,
        arrive_min=0,
        **common,  # type: ignore[arg-type]
    )
    evening = DlapPlan(
        index=1,
        role="evening",
        power_kw=EVENING_KW,
        arrive_soc=TARGET - NEED_KWH / BATTERY_KWH * 100,
        limit=TARGET,
        leave_min=round(DEPARTURE_H * 60),
        arrive_min=round(PLUG_IN_H * 60),
        **common,  # type: ignore[arg-type]
    )
    return always, evening


def commands_per_event(log: list[CallRecord], vin: str) -> tuple[int, int]:
    """The most stop and start commands one pause of the car took (a pause: stop to start)."""
    groups: list[list[int]] = []
    for call in sorted(log, key=lambda c: c.seq):
        if call.vin != vin or call.kind != "command":
            continue
        stop = call.name == "charge_stop"
        if stop and (not groups or groups[-1][1]):
            groups.append([0, 0])
        if groups:
            groups[-1][0 if stop else 1] += 1
    return max((g[0] for g in groups), default=0), max(
        (g[1] for g in groups), default=0
    )


def evening_numbers(events: list[DrEvent], short_kwh: float) -> dict[str, Any]:
    """The evening car's pauses and whether it left short."""
    lengths = [
        (e.ended - e.started).total_seconds() for e in events if e.ended is not None
    ]
    return {
        "pauses": len(events),
        "one_interval_share": share_one_interval(lengths),
        "ready_by_resumes": sum(1 for e in events if e.outcome is Outcome.READY_BY),
        "short_kwh": round(short_kwh, 2),
        "ready_by_miss": short_kwh > 1e-3,
        "gross_usd": round(sum(e.usd for e in events), 2),
        "net_value_usd": round(sum(e.net_usd for e in events), 2),
        "stops": stops(events),
    }


async def replay_day(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, named: NamedDay
) -> dict[str, Any]:
    """Run one named day and return its JSON row."""
    year = recording(named.node, named.year)
    if year is None:
        pytest.skip("real CAISO reference data absent")
    begin, end = local(named.day, 0), local(named.day, 24 + DEPARTURE_H)
    recorded = {
        datetime.fromtimestamp(at, dt_util.UTC): value
        for at, value in zip(year.starts, year.values, strict=True)
    }
    day = RecordedDay(
        name=named.name,
        source=f"recorded CAISO RTM 5-minute LMPs, {named.node} {named.day}",
        start=begin,
        prices={
            named.node: {
                at: value for at, value in recorded.items() if begin <= at < end
            }
        },
        recorded=recorded,
    )
    start = begin + START_OFFSET
    # Home Assistant's update coordinators refresh at a random fraction of a second; seeded,
    # a day replays the same way each run (the ready-by car's stops sit on an edge).
    random.seed(named.name)
    freezer.move_to(start)
    oasis = LaggedFakeOasis(
        clock=dt_util.utcnow,
        lag_fn=LAG.lag,
        # The recording holds only the 5-minute market.
        price_fn=lambda market, node, moment: (
            day.price(node, moment) if market is Market.RTM else None
        ),
    )
    always, evening = plans(named)
    tesla = LoggedFakeTesla(clock=dt_util.utcnow)
    for plan in (always, evening):
        tesla.cars[plan.vin] = SimCar(
            vin=plan.vin, car_id=len(tesla.cars) + 1, name=plan.name
        )
    await oasis.start()
    await tesla.start()
    sim = HeldSim(day, [always, evening], dict(tesla.cars), tesla.last_call, start)
    sim.held = always.vin
    # Plugged in and charging from the start (the simulation starts a car at home full).
    sim.tracks[always.vin].soc = ALWAYS_SOC
    held = sim.tracks[always.vin].fake
    held.state, held.charging_state = "online", "Charging"
    held.battery_level = ALWAYS_SOC
    sim.advance(start + timedelta(microseconds=1))
    entries = []
    events: dict[str, list[DrEvent]] = {}
    try:
        entries = await _start_tesladr(hass, oasis, [tesla], day)
        dr = entries[1].runtime_data.dr
        await dr.async_update_settings(always.vin, node=named.node)
        await dr.async_update_settings(
            evening.vin, node=named.node, departure=DEPARTURE
        )
        _charging, stepping = await run_day(hass, freezer, sim, end, [])
        events = {
            vin: [e for e in dr.ledger.events if e.vin == vin]
            for vin in (always.vin, evening.vin)
        }
    finally:
        for entry in reversed(entries):
            await hass.config_entries.async_unload(entry.entry_id)
        await settle(hass)
        await tesla.stop()
        await oasis.stop()
    if not oasis.requests_for(Market.RTM):
        pytest.fail("no 5-minute prices were asked for")
    short = max(0.0, TARGET - sim.tracks[evening.vin].soc) / 100 * BATTERY_KWH
    commands = [c for c in tesla.log if c.kind == "command"]
    stops, starts = zip(
        *(commands_per_event(tesla.log, vin) for vin in (always.vin, evening.vin)),
        strict=True,
    )
    effective = Counter(c.name for c in commands if c.effective)
    row: dict[str, Any] = {
        "benchmark": "real_day",
        "name": named.name,
        "node": named.node,
        "date": named.day.isoformat(),
        "why": named.why,
        "setting": "defaults (min pause 60, 5 per 24 h); evening car ready by 07:00",
        "events": sum(len(v) for v in events.values()),
        "pauses": effective["charge_stop"],
        "starts": effective["charge_start"],
        # A pause made as Home Assistant starts (on the day before's last price) is the day's.
        "always": always_numbers(events[always.vin], named.day, since=start)
        # The fake car's own count, over the whole window (the next morning's pauses too).
        | {"fake_kwh_not_drawn_window": round(sim.tracks[always.vin].paused_kwh, 2)},
        "evening": evening_numbers(events[evening.vin], short),
        "commands_per_event": {"max_stops": max(stops), "max_starts": max(starts)},
        "oasis": oasis_summary([r.at for r in oasis.requests], start, end),
        "oasis_markets": dict(
            Counter(r.market.value if r.market else "?" for r in oasis.requests)
        ),
        "run": stepping | {"simulated_h": round((end - start) / timedelta(hours=1), 1)},
    }
    row["pauses_per_car_day"] = row["always"]["pauses"]
    row["one_interval_share"] = row["always"]["one_interval_share"]
    row["net_value_usd"] = row["always"]["net_value_usd"]
    row["gross_usd"] = row["always"]["gross_usd"]
    row["kwh_not_drawn"] = row["always"]["kwh_not_drawn"]
    row["ready_by_miss"] = row["evening"]["ready_by_miss"]
    return row | (pure(named) or {})


@pytest.mark.parametrize("named", DAYS, ids=[d.name for d in DAYS])
async def test_real_day(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    socket_enabled: None,
    named: NamedDay,
) -> None:
    """Print one JSON line for one named real day."""
    row = await measured(hass, replay_day(hass, freezer, named))
    print(json.dumps(row))
    if "pure_day" not in row:
        return
    checks = {
        "always-charging car: pauses as the pure pass's, within the tolerance": abs(
            row["always"]["pauses"] - row["pure_day"]["pauses"]
        )
        <= PAUSE_TOLERANCE,
        "evening car: pauses as the pure pass's, within the tolerance": abs(
            row["evening"]["pauses"] - row["pure_day"]["evening"]["pauses"]
        )
        <= PAUSE_TOLERANCE,
        "evening car ready by departure": not row["ready_by_miss"],
        "one stop and one start per car and event": row["commands_per_event"]
        == {"max_stops": min(1, row["pauses"]), "max_starts": min(1, row["pauses"])},
    }
    if failed := [check for check, met in checks.items() if not met]:
        pytest.fail(f"{named.name}: " + "; ".join(failed))
