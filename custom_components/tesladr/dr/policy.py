"""The DR policy: a pure function of price, settings, car state, DR state and time.

Contract (see the README's worked example):
- start threshold T_on = T × (1.5 − A/100); resume below T_on × 0.95 (hysteresis);
- battery floor F = 80 − 0.6·A percent: never pause a car below it;
- pause only a car that is online, plugged in, AC-charging and inside CAISO;
- resume when the price falls below the band, prices are older than 15 minutes, the car is
  opted out or skipped, or the entry goes away; resume only cars DR paused;
- a car charging again while DR holds it paused is the user's override: release it, untouched,
  for the rest of the event. Where the car's source tells who restarted it, only the owner's
  restart is an override; a car that restarted by itself (schedule, re-plug) is paused again;
- ready by departure (dr/ready_by.py), when the caller gives the car's charge need: never
  pause a car whose time to departure leaves no room, and end DR's pause when it runs out;
- churn control (dr/churn.py), when the caller gives the car's pause history: hold a pause
  through dips for its minimum length, wait after a resume, and spend a per-24 h budget of
  pauses on dearer prices. Without these inputs the policy is what it always was.
- grid signals (dr/signals.py), when the caller gives the one asking for a pause now: a Flex
  Alert or high marginal emissions pauses the car as a high price does, behind the same
  checks (floor, ready-by, re-arm, the day's pause budget), and keeps it paused while the
  signal lasts; the event ends when the signal has ended and the price is below the band.
  A signal holds a car even on stale prices: it does not need them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from enum import StrEnum
import math

from .churn import (
    RECOMMENDED_MIN_PAUSE_MINUTES,
    RECOMMENDED_PAUSES_PER_24H,
    PauseHistory,
    budget_price,
    hold_through,
    rearming,
)
from .departures import DEPARTURE_DAYS, DepartureSource, weekly_departures
from .ready_by import ChargeNeed, may_pause, must_end_pause
from .signals import Signal, SignalSettings

STALE_AFTER = timedelta(minutes=15)
RESUME_FACTOR = 0.95
MAX_SKIPS = 10
# Churn settings beyond these are no longer churn control but opting out.
MAX_CHURN_MINUTES = 24 * 60
MAX_PAUSES_PER_24H = 48
# Above any marginal emissions rate a California grid reaches (MOER peaks near 1000 g/kWh).
MAX_EMISSIONS_G_PER_KWH = 2000


@dataclass(frozen=True, slots=True)
class DrSettings:
    """Per-car settings; invalid values raise ValueError naming the setting."""

    enabled: bool = True
    threshold: float = 100.0
    aggressiveness: int = 50
    max_skips_per_24h: int = 2
    node: str | None = None  # None: the node nearest the car
    # Churn control (dr/churn.py); 0 turns each knob off. The defaults are the rule measured
    # best on three real CAISO years (docs/churn.md).
    min_pause_minutes: int = RECOMMENDED_MIN_PAUSE_MINUTES
    rearm_minutes: int = 0
    pauses_per_24h: int = RECOMMENDED_PAUSES_PER_24H
    # Grid signals (dr/signals.py); off by default, 0 turns each emissions rule off.
    pause_on_flex_alert: bool = False
    emissions_above_g_per_kwh: int = 0
    dirtiest_share_percent: int = 0
    # Ready by departure (dr/ready_by.py): the owner's daily departure, "HH:MM" in Home
    # Assistant's time zone (a string: the settings are stored as JSON), None for none; and
    # the charge to reach by then, None for the car's own charge limit.
    departure: str | None = None
    target_level: int | None = None
    # Off: no guarantee, whatever the departures. The days the owner leaves (dr/departures.py),
    # and a departure of its own per weekday, Monday first ("HH:MM", None: the daily one). With
    # no departure set here, the car's own schedule is the default.
    ready_by: bool = True
    departure_days: str = "every_day"
    weekday_departures: tuple[str | None, ...] = (None,) * 7

    def __post_init__(self) -> None:
        """Reject settings the contract does not define."""
        if not math.isfinite(self.threshold):
            raise ValueError("threshold")
        if not 1 <= self.aggressiveness <= 100:
            raise ValueError("aggressiveness")
        if not 0 <= self.max_skips_per_24h <= MAX_SKIPS:
            raise ValueError("max_skips_per_24h")
        for name in ("min_pause_minutes", "rearm_minutes"):
            if not 0 <= getattr(self, name) <= MAX_CHURN_MINUTES:
                raise ValueError(name)
        if not 0 <= self.pauses_per_24h <= MAX_PAUSES_PER_24H:
            raise ValueError("pauses_per_24h")
        if not 0 <= self.emissions_above_g_per_kwh <= MAX_EMISSIONS_G_PER_KWH:
            raise ValueError("emissions_above_g_per_kwh")
        if not 0 <= self.dirtiest_share_percent <= 100:
            raise ValueError("dirtiest_share_percent")
        if self.departure is not None and departure_time(self.departure) is None:
            raise ValueError("departure")
        if self.target_level is not None and not 1 <= self.target_level <= 100:
            raise ValueError("target_level")
        if self.departure_days not in DEPARTURE_DAYS:
            raise ValueError("departure_days")
        # Stored as JSON, the weekly times come back as a list.
        weekly = self.weekday_departures
        if (
            not isinstance(weekly, tuple | list)
            or len(weekly) != 7
            or any(
                at is not None
                and (not isinstance(at, str) or departure_time(at) is None)
                for at in weekly
            )
        ):
            raise ValueError("weekday_departures")
        object.__setattr__(self, "weekday_departures", tuple(weekly))

    def departures(
        self, car: tuple[time | None, ...] | None
    ) -> dict[int, tuple[time, DepartureSource]]:
        """The departure of each weekday that has one (the car's schedule as the default)."""
        if not self.ready_by:
            return {}
        return weekly_departures(
            daily=departure_time(self.departure) if self.departure else None,
            by_weekday=[
                departure_time(at) if at else None for at in self.weekday_departures
            ],
            days=DEPARTURE_DAYS[self.departure_days],
            car=car,
        )

    @property
    def signal_settings(self) -> SignalSettings:
        """The car's grid-signal rules, as dr/signals.py reads them."""
        return SignalSettings(
            pause_on_flex_alert=self.pause_on_flex_alert,
            moer_level=self.emissions_above_g_per_kwh or None,
            dirtiest_share=self.dirtiest_share_percent / 100 or None,
        )

    @property
    def start_threshold(self) -> float:
        """T_on: the price above which DR pauses the car, USD/MWh."""
        return self.threshold * (1.5 - self.aggressiveness / 100)

    @property
    def resume_below(self) -> float:
        """Prices under this end the event; the gap to T_on stops flapping."""
        return self.start_threshold * RESUME_FACTOR

    @property
    def battery_floor(self) -> float:
        """Battery percentage under which DR never pauses the car."""
        return 80 - 0.6 * self.aggressiveness


def departure_time(text: str) -> time | None:
    """The wall-clock time of a stored departure ("HH:MM"), None when it is not one."""
    try:
        return time.fromisoformat(text)
    except TypeError, ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Price:
    """The newest price of the car's node, USD/MWh, with its interval."""

    value: float
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class CarSnapshot:
    """What DR needs to know of a car; read without waking it."""

    online: bool
    plugged_in: bool
    charging: bool
    fast_charging: bool
    battery_level: float | None
    in_caiso: bool
    # A source that tells who started charging (Home Assistant's Context) reports the owner's
    # restart; elsewhere any restart while paused is taken for the owner's.
    tells_overrides: bool = False
    owner_override: bool = False
    # Paused by DR, stopped now, and its energy count moved since: it charged in between, so
    # somebody started it (and it stopped again): the pause is no longer DR's.
    charged_since_pause: bool = False
    # What the ready-by guarantee needs; None: no departure set, no guarantee.
    charge_need: ChargeNeed | None = None


@dataclass(frozen=True, slots=True)
class CarDrState:
    """DR's memory of one car; persisted across restarts."""

    paused_by_dr: bool = False
    overridden: bool = False
    skipped: bool = False


class Action(StrEnum):
    """What the caller does with the car."""

    PAUSE = "pause"  # send stop
    RESUME = "resume"  # send start
    RELEASE = "release"  # forget our pause without a command (the user took over)
    HOLD = "hold"  # keep it paused
    IGNORE = "ignore"  # nothing to do


class Reason(StrEnum):
    """Why; shown by the status sensor and logged."""

    PRICE_ABOVE_THRESHOLD = "price_above_threshold"
    PRICE_BELOW_THRESHOLD = "price_below_threshold"
    PRICE_BELOW_RESUME = "price_below_resume"
    WAITING_FOR_PRICE_DROP = "waiting_for_price_drop"
    PRICES_STALE = "prices_stale"
    NO_PRICE = "no_price"
    OPTED_OUT = "opted_out"
    SKIPPED = "skipped"
    USER_OVERRIDE = "user_override"
    OUTSIDE_CAISO = "outside_caiso"
    ASLEEP = "asleep"
    NOT_PLUGGED_IN = "not_plugged_in"
    DC_FAST_CHARGING = "dc_fast_charging"
    NOT_CHARGING = "not_charging"
    BELOW_BATTERY_FLOOR = "below_battery_floor"
    UNLOADING = "unloading"
    CHARGING_RESTARTED = "charging_restarted"
    READY_BY = "ready_by"  # the time left to departure is needed for charging
    HOLDING_THROUGH_DIP = "holding_through_dip"  # inside the pause's minimum length
    REARMING = "rearming"  # DR resumed the car moments ago
    PAUSE_BUDGET = "pause_budget"  # the price is not worth one of the day's few pauses
    FLEX_ALERT = "flex_alert"  # a Flex Alert is active
    HIGH_EMISSIONS = "high_emissions"  # the grid's marginal emissions are high


def signal_reason(signal: Signal) -> Reason:
    """The reason a grid signal gives its pause."""
    if signal is Signal.FLEX_ALERT:
        return Reason.FLEX_ALERT
    return Reason.HIGH_EMISSIONS


@dataclass(frozen=True, slots=True)
class Decision:
    """An action and its reason, with the grid signal asking for a pause when it was made."""

    action: Action
    reason: Reason
    # Carried to next_state: an event a signal asks for lasts as long as the signal.
    signal: Signal | None = field(default=None, compare=False)


def _price_problem(price: Price | None, now: datetime) -> Reason | None:
    if price is None:
        return Reason.NO_PRICE
    if now - price.end > STALE_AFTER:
        return Reason.PRICES_STALE
    return None


def decide(
    price: Price | None,
    settings: DrSettings,
    car: CarSnapshot,
    state: CarDrState,
    now: datetime,
    *,
    history: PauseHistory | None = None,
    signal: Signal | None = None,
) -> Decision:
    """What to do with one car now.

    `history`: the car's recent pauses, for churn control; None leaves churn control off.
    `signal`: the grid signal asking this car for a pause now (dr/signals.signal_pause of the
    car's own settings), or None.
    """
    decision = _decide(
        price, settings, car, state, now=now, history=history, signal=signal
    )
    return decision if signal is None else replace(decision, signal=signal)


def _decide(
    price: Price | None,
    settings: DrSettings,
    car: CarSnapshot,
    state: CarDrState,
    *,
    now: datetime,
    history: PauseHistory | None,
    signal: Signal | None,
) -> Decision:
    problem = _price_problem(price, now)
    if state.paused_by_dr:
        return _decide_paused(
            price,
            problem,
            settings,
            car,
            state,
            now=now,
            history=history,
            signal=signal,
        )
    if not settings.enabled:
        return Decision(Action.IGNORE, Reason.OPTED_OUT)
    if signal is None:
        if problem is not None or price is None:
            return Decision(Action.IGNORE, problem or Reason.NO_PRICE)
        if price.value <= settings.start_threshold:
            return Decision(Action.IGNORE, Reason.PRICE_BELOW_THRESHOLD)
    for blocked, reason in (
        (state.overridden, Reason.USER_OVERRIDE),
        (state.skipped, Reason.SKIPPED),
        (not car.in_caiso, Reason.OUTSIDE_CAISO),
        (not car.online, Reason.ASLEEP),
        (not car.plugged_in, Reason.NOT_PLUGGED_IN),
        (car.fast_charging, Reason.DC_FAST_CHARGING),
        (not car.charging, Reason.NOT_CHARGING),
        (
            car.battery_level is None or car.battery_level < settings.battery_floor,
            Reason.BELOW_BATTERY_FLOOR,
        ),
    ):
        if blocked:
            return Decision(Action.IGNORE, reason)
    if car.charge_need is not None and not may_pause(car.charge_need, now):
        return Decision(Action.IGNORE, Reason.READY_BY)
    if rearming(settings.rearm_minutes, history, now):
        return Decision(Action.IGNORE, Reason.REARMING)
    budget = budget_price(settings.start_threshold, settings.pauses_per_24h, history)
    if signal is not None:
        # A signal is no price to escalate against: it spends a pause while any is left.
        if math.isinf(budget):
            return Decision(Action.IGNORE, Reason.PAUSE_BUDGET)
        return Decision(Action.PAUSE, signal_reason(signal))
    if price is None or price.value <= budget:
        return Decision(Action.IGNORE, Reason.PAUSE_BUDGET)
    return Decision(Action.PAUSE, Reason.PRICE_ABOVE_THRESHOLD)


def _decide_paused(
    price: Price | None,
    problem: Reason | None,
    settings: DrSettings,
    car: CarSnapshot,
    state: CarDrState,
    *,
    now: datetime,
    history: PauseHistory | None,
    signal: Signal | None,
) -> Decision:
    if car.charged_since_pause:
        # Not started again: whoever stopped it last wants it stopped.
        return Decision(Action.RELEASE, Reason.USER_OVERRIDE)
    if not settings.enabled:
        return Decision(Action.RESUME, Reason.OPTED_OUT)
    if state.skipped:
        return Decision(Action.RESUME, Reason.SKIPPED)
    if signal is None and (problem is not None or price is None):
        # Fail safe: never keep a car paused on prices we cannot see.
        return Decision(Action.RESUME, Reason.PRICES_STALE)
    if car.owner_override or (not car.tells_overrides and car.online and car.charging):
        return Decision(Action.RELEASE, Reason.USER_OVERRIDE)
    if car.online and not car.plugged_in:
        return Decision(Action.RELEASE, Reason.NOT_PLUGGED_IN)
    if car.charge_need is not None and must_end_pause(car.charge_need, now):
        return Decision(Action.RESUME, Reason.READY_BY)
    dip = signal is None and price is not None and price.value < settings.resume_below
    if dip and not hold_through(settings.min_pause_minutes, history, now):
        return Decision(Action.RESUME, Reason.PRICE_BELOW_RESUME)
    if car.online and car.charging:
        # Nobody restarted it (the source would say so): scheduled charging or a re-plug.
        return Decision(Action.PAUSE, Reason.CHARGING_RESTARTED)
    if dip:
        return Decision(Action.HOLD, Reason.HOLDING_THROUGH_DIP)
    if signal is not None:
        return Decision(Action.HOLD, signal_reason(signal))
    return Decision(Action.HOLD, Reason.WAITING_FOR_PRICE_DROP)


def decide_unload(state: CarDrState) -> Decision:
    """On unload or removal: resume every car DR paused."""
    if state.paused_by_dr:
        return Decision(Action.RESUME, Reason.UNLOADING)
    return Decision(Action.IGNORE, Reason.UNLOADING)


def next_state(
    state: CarDrState,
    decision: Decision,
    price: Price | None,
    settings: DrSettings,
    now: datetime,
) -> CarDrState:
    """The DR state after the caller carried out a decision.

    Overrides and skips last for the event: they are forgotten once the price is back below
    the resume band or prices are stale, which is when the event ends; an event a grid signal
    asks for (the decision's `signal`) lasts as long as the signal.
    """
    match decision.action:
        case Action.PAUSE:
            return replace(state, paused_by_dr=True)
        case Action.RESUME:
            state = replace(state, paused_by_dr=False)
        case Action.RELEASE:
            return replace(
                state,
                paused_by_dr=False,
                overridden=decision.reason is Reason.USER_OVERRIDE or state.overridden,
            )
        case Action.HOLD | Action.IGNORE:
            pass
    event_over = decision.signal is None and (
        _price_problem(price, now) is not None
        or (price is not None and price.value < settings.resume_below)
    )
    if event_over and not state.paused_by_dr:
        return CarDrState()
    return state
