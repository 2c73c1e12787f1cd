"""One car under DR: its record (settings, state, what DR last decided) and the view entities read."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, tzinfo
from typing import Any

from .actuator import CommandAttempts
from .caiso.nodes import Utility
from .const import LOGGER
from .dr import (
    CarDrState,
    CarSnapshot,
    ChargeNeed,
    Decision,
    DrEvent,
    DrSettings,
    Ledger,
    Outcome,
    Price,
    Reason,
)
from .dr.departures import DepartureSource
from .dr.ledger import cause_of
from .dr.ready_by import (
    energy_from_time_to_full,
    energy_to_target_below_limit,
    next_departure,
)
from .dr.signals import Signal
from .dr.values import ValueTotals
from .pricing import NodeChoice, location
from .vehicles import ChargeState, VehicleState

DECISION_HISTORY = 20
OUTCOMES = {
    Reason.PRICE_BELOW_RESUME: Outcome.RESUMED,
    Reason.PRICES_STALE: Outcome.RESUMED_STALE,
    Reason.OPTED_OUT: Outcome.OPTED_OUT,
    Reason.SKIPPED: Outcome.SKIPPED,
    Reason.UNLOADING: Outcome.UNLOADED,
    Reason.USER_OVERRIDE: Outcome.OVERRIDDEN,
    Reason.NOT_PLUGGED_IN: Outcome.UNPLUGGED,
    Reason.READY_BY: Outcome.READY_BY,
}
STATUS_OPTIONS = [
    "monitoring",
    "paused",
    "overridden",
    "skipped",
    "opted_out",
    "command_failed",
]


@dataclass(frozen=True, slots=True)
class CarView:
    """What a car's DR entities show, as of the coordinator's last update."""

    settings: DrSettings
    state: CarDrState
    status: str
    reason: Reason | None
    command_error: str | None
    # The node DR followed at its last evaluation, and the car's node now (how it was chosen:
    # the pricing-node sensor).
    followed: NodeChoice | None
    choice: NodeChoice
    price: Price | None
    kwh_not_consumed: float
    usd_not_consumed: float
    net_usd: float
    events_24h: int
    # Weekday -> the departure DR keeps that day and where it comes from (the owner's setting
    # or the car's own schedule); no entry: no departure that day.
    departures: Mapping[int, tuple[time, DepartureSource]] = field(default_factory=dict)
    # CO2 avoided (kg) and the owner's retail bill avoided (USD), gross and net.
    co2: ValueTotals = ValueTotals()
    retail: ValueTotals = ValueTotals()


@dataclass(slots=True)
class CarDr:
    """Everything DR keeps for one car."""

    car_id: str
    settings: DrSettings = field(default_factory=DrSettings)
    state: CarDrState = field(default_factory=CarDrState)
    choice: NodeChoice | None = None
    decision: Decision | None = None
    price: Price | None = None
    attempts: CommandAttempts = field(default_factory=CommandAttempts)
    # The car's last known location: a source that loses it for a while (the integration
    # reloading, a car asleep) must not move the car to the home location's node.
    place: tuple[float, float] | None = None
    refreshed_for: tuple[datetime, Signal | None] | None = None
    # The interval of the last read ahead of a crossing, and when it was made.
    read_ahead_for: datetime | None = None
    read_ahead_at: datetime | None = None
    # The price interval whose energy the car last drew back after a pause.
    drawn_for: datetime | None = None
    history: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=DECISION_HISTORY)
    )

    @property
    def node(self) -> str | None:
        """The pricing node DR follows for the car."""
        return self.choice.node if self.choice else None

    @property
    def utility(self) -> Utility | None:
        """The utility whose area the car is in, when known."""
        return self.choice.utility if self.choice else None

    @property
    def command_error(self) -> str | None:
        """Why the last command failed, while that matters."""
        return self.attempts.error

    @property
    def status(self) -> str:
        """One word for the status sensor."""
        if self.state.paused_by_dr:
            return "paused"
        if not self.settings.enabled:
            return "opted_out"
        if self.state.overridden:
            return "overridden"
        if self.state.skipped:
            return "skipped"
        if self.attempts.error is not None:
            return "command_failed"
        return "monitoring"

    def place_of(self, read: ChargeState | None) -> tuple[float, float] | None:
        """Where the car is: as read, else where it was last seen."""
        return location(read) or self.place

    def see(self, read: ChargeState | None) -> None:
        """Keep where the car was read, for when its source loses the location."""
        self.place = self.place_of(read)

    def shown(self) -> tuple[object, ...]:
        """What DR shows of the car that an evaluation may change."""
        return (self.status, self.decision, self.price, self.command_error, self.choice)

    def view(
        self,
        choice: NodeChoice,
        ledger: Ledger,
        now: datetime,
        read: ChargeState | None = None,
    ) -> CarView:
        """What the car's entities show now, with the car's schedule as last read."""
        kwh, usd = ledger.totals(self.car_id)
        return CarView(
            settings=self.settings,
            state=self.state,
            status=self.status,
            reason=self.decision.reason if self.decision is not None else None,
            command_error=self.command_error,
            followed=self.choice,
            choice=choice,
            price=self.price,
            kwh_not_consumed=kwh,
            usd_not_consumed=usd,
            net_usd=ledger.net_usd(self.car_id),
            events_24h=ledger.events_in_window(self.car_id, now),
            departures=self.settings.departures(
                read.departure_schedule if read is not None else None
            ),
            co2=ledger.co2_totals(self.car_id),
            retail=ledger.retail_totals(self.car_id),
        )

    def pause_event(self, ledger: Ledger) -> DrEvent | None:
        """The ledger event of the car's pause, while DR holds it paused."""
        return ledger.active(self.car_id) if self.state.paused_by_dr else None

    def open_event(
        self,
        ledger: Ledger,
        started: datetime,
        power_kw: float,
        needed_kwh: float | None,
    ) -> None:
        """The ledger event of a pause DR made, at the car's node and utility."""
        utility = self.utility
        ledger.start(
            self.car_id,
            self.node or "",
            started,
            power_kw,
            needed_kwh,
            utility=(utility.name, utility.dlap) if utility else None,
            cause=cause_of(self.decision),
        )

    def record(self, decision: Decision, now: datetime) -> None:
        """Keep the decision, and a line of history when it changed."""
        if decision != self.decision:
            LOGGER.debug(
                "DR %s for car at %s: %s (%s)",
                decision.action,
                self.node,
                decision.reason,
                self.price.value if self.price else None,
            )
            self.history.append(
                {
                    "time": now.isoformat(),
                    "action": str(decision.action),
                    "reason": str(decision.reason),
                    "price": self.price.value if self.price else None,
                }
            )
        self.decision = decision

    def diagnostics(self) -> dict[str, Any]:
        """DR state and the last decisions (no car id: diagnostics are shared)."""
        return {
            "status": self.status,
            "node": self.node,
            "utility": self.utility.name if self.utility else None,
            "settings": asdict(self.settings),
            "state": asdict(self.state),
            "command_error": self.command_error,
            "decisions": list(self.history),
        }


def charge_need(
    read: ChargeState,
    settings: DrSettings,
    event: DrEvent | None,
    now: datetime,
    zone: tzinfo,
) -> ChargeNeed | None:
    """What the ready-by guarantee needs of the car; None when no departure is coming.

    The departure is the owner's for its weekday, else the car's own schedule. A car paused by DR draws nothing and says nothing of its rate or time to full: the
    pause's ledger event keeps both from the moment of the stop (the battery has not moved).
    """
    week = settings.departures(read.departure_schedule)
    departure = next_departure(now, {day: at for day, (at, _) in week.items()}, zone)
    if departure is None:
        return None
    power: float | None
    to_limit: float | None
    if read.charging and read.charger_power_kw:
        power = read.charger_power_kw
        to_limit = energy_from_time_to_full(read.time_to_full_h, power)
    elif event is not None:
        power, to_limit = event.power_kw, event.energy_needed_kwh
    else:
        power = to_limit = None
    return ChargeNeed(
        departure=departure,
        energy_needed_kwh=energy_to_target_below_limit(
            read.battery_level, settings.target_level, read.charge_limit_soc, to_limit
        ),
        power_kw=power,
        read_at=None if read.stale else read.updated_at,
    )


def snapshot(
    car: ChargeState,
    in_caiso: bool,
    paused_at: datetime | None,
    tells: bool,
    charged_since_pause: bool = False,
    *,
    need: ChargeNeed | None = None,
) -> CarSnapshot:
    """What the policy needs of a car; stale data never counts as online."""
    return CarSnapshot(
        online=car.state is VehicleState.ONLINE and not car.stale,
        plugged_in=bool(car.plugged_in),
        charging=car.charging,
        fast_charging=bool(car.fast_charger),
        battery_level=car.battery_level,
        in_caiso=in_caiso,
        tells_overrides=tells,
        owner_override=(
            tells
            and paused_at is not None
            and car.owner_started_at is not None
            and car.owner_started_at > paused_at
        ),
        charged_since_pause=charged_since_pause,
        charge_need=need,
    )
