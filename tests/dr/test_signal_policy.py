"""The policy on grid signals: a Flex Alert or high emissions pauses a car as a high price does."""

from __future__ import annotations

from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.tesladr.dr import (
    Action,
    CarDrState,
    CarSnapshot,
    ChargeNeed,
    Decision,
    DrSettings,
    PauseHistory,
    Price,
    Reason,
    decide,
    next_state,
)
from custom_components.tesladr.dr.ready_by import may_pause, must_end_pause
from custom_components.tesladr.dr.signals import (
    GridReading,
    Signal,
    SignalSettings,
    signal_pause,
)

from .cars import CHARGING, PAUSED, STOPPED

NOW = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
ON = DrSettings(pause_on_flex_alert=True)


def price(value: float, age: timedelta = timedelta(0)) -> Price:
    """A price whose interval ended `age` ago."""
    end = NOW - age
    return Price(value, end - timedelta(minutes=5), end)


def test_settings_default_off_and_map_to_the_signal_rule() -> None:
    """Off unless the owner turns a rule on; 0 is off; the values reach dr/signals.py."""
    assert DrSettings().signal_settings == SignalSettings()
    rules = DrSettings(
        pause_on_flex_alert=True,
        emissions_above_g_per_kwh=400,
        dirtiest_share_percent=25,
    ).signal_settings
    assert rules == SignalSettings(True, 400.0, 0.25)
    # Stored settings from before the signals load with them off.
    older = asdict(DrSettings())
    for name in (
        "pause_on_flex_alert",
        "emissions_above_g_per_kwh",
        "dirtiest_share_percent",
    ):
        del older[name]
    assert DrSettings(**older).signal_settings == SignalSettings()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("emissions_above_g_per_kwh", -1),
        ("emissions_above_g_per_kwh", 2001),
        ("dirtiest_share_percent", -1),
        ("dirtiest_share_percent", 101),
    ],
)
def test_invalid_signal_settings(field: str, value: int) -> None:
    """Values no rule can use are refused, naming the setting."""
    with pytest.raises(ValueError, match=field):
        DrSettings(**{field: value})


@pytest.mark.parametrize(
    ("the_price", "signal", "expected"),
    [
        (price(20), Signal.FLEX_ALERT, Decision(Action.PAUSE, Reason.FLEX_ALERT)),
        (
            price(20),
            Signal.EMISSIONS_ABOVE_LEVEL,
            Decision(Action.PAUSE, Reason.HIGH_EMISSIONS),
        ),
        (
            None,
            Signal.EMISSIONS_DIRTIEST_SHARE,
            Decision(Action.PAUSE, Reason.HIGH_EMISSIONS),
        ),
        # The signal is recorded, not the price, when both ask.
        (price(500), Signal.FLEX_ALERT, Decision(Action.PAUSE, Reason.FLEX_ALERT)),
        (
            price(20, timedelta(hours=1)),
            Signal.FLEX_ALERT,
            Decision(Action.PAUSE, Reason.FLEX_ALERT),
        ),
        (price(20), None, Decision(Action.IGNORE, Reason.PRICE_BELOW_THRESHOLD)),
    ],
)
def test_a_signal_pauses_a_charging_car(
    the_price: Price | None, signal: Signal | None, expected: Decision
) -> None:
    """A signal asks for a pause whatever the price, and needs no fresh price."""
    assert decide(the_price, ON, CHARGING, CarDrState(), NOW, signal=signal) == expected


@pytest.mark.parametrize(
    ("car", "state", "settings", "history", "reason"),
    [
        (replace(CHARGING, battery_level=40), CarDrState(), ON, None, "floor"),
        (STOPPED, CarDrState(), ON, None, Reason.NOT_CHARGING),
        (CHARGING, CarDrState(overridden=True), ON, None, Reason.USER_OVERRIDE),
        (CHARGING, CarDrState(skipped=True), ON, None, Reason.SKIPPED),
        (CHARGING, CarDrState(), replace(ON, enabled=False), None, Reason.OPTED_OUT),
        (
            replace(
                CHARGING, charge_need=ChargeNeed(NOW + timedelta(hours=1), 30, 7, NOW)
            ),
            CarDrState(),
            ON,
            None,
            Reason.READY_BY,
        ),
        (
            CHARGING,
            CarDrState(),
            replace(ON, rearm_minutes=30),
            PauseHistory(last_resumed=NOW - timedelta(minutes=10)),
            Reason.REARMING,
        ),
        (
            CHARGING,
            CarDrState(),
            replace(ON, pauses_per_24h=2),
            PauseHistory(pauses_24h=2),
            Reason.PAUSE_BUDGET,
        ),
    ],
)
def test_a_signal_passes_the_checks_a_price_does(
    car: CarSnapshot,
    state: CarDrState,
    settings: DrSettings,
    history: PauseHistory | None,
    reason: Reason | str,
) -> None:
    """Floor, override, skip, ready-by, re-arm and the day's pause budget bind a signal too."""
    decision = decide(
        price(20), settings, car, state, NOW, history=history, signal=Signal.FLEX_ALERT
    )
    expected = Reason.BELOW_BATTERY_FLOOR if reason == "floor" else reason
    assert decision == Decision(Action.IGNORE, expected)


def test_budget_left_lets_a_signal_pause_without_escalation() -> None:
    """A signal spends one of the day's pauses while any is left, whatever the price."""
    decision = decide(
        price(-10),
        replace(ON, pauses_per_24h=2),
        CHARGING,
        CarDrState(),
        NOW,
        history=PauseHistory(pauses_24h=1),
        signal=Signal.FLEX_ALERT,
    )
    assert decision == Decision(Action.PAUSE, Reason.FLEX_ALERT)


@pytest.mark.parametrize(
    ("car", "the_price", "signal", "expected"),
    [
        (
            STOPPED,
            price(20),
            Signal.FLEX_ALERT,
            Decision(Action.HOLD, Reason.FLEX_ALERT),
        ),
        (
            STOPPED,
            None,
            Signal.EMISSIONS_ABOVE_LEVEL,
            Decision(Action.HOLD, Reason.HIGH_EMISSIONS),
        ),
        (
            STOPPED,
            price(20),
            None,
            Decision(Action.RESUME, Reason.PRICE_BELOW_RESUME),
        ),
        (
            STOPPED,
            price(500),
            None,
            Decision(Action.HOLD, Reason.WAITING_FOR_PRICE_DROP),
        ),
        (STOPPED, None, None, Decision(Action.RESUME, Reason.PRICES_STALE)),
        (
            replace(
                STOPPED, charge_need=ChargeNeed(NOW + timedelta(minutes=30), 30, 7, NOW)
            ),
            price(20),
            Signal.FLEX_ALERT,
            Decision(Action.RESUME, Reason.READY_BY),
        ),
        (
            CHARGING,
            price(20),
            Signal.FLEX_ALERT,
            Decision(Action.RELEASE, Reason.USER_OVERRIDE),
        ),
    ],
)
def test_a_paused_car_while_and_after_the_signal(
    car: CarSnapshot,
    the_price: Price | None,
    signal: Signal | None,
    expected: Decision,
) -> None:
    """Held while the signal lasts, resumed when it ends and the price is low."""
    assert decide(the_price, ON, car, PAUSED, NOW, signal=signal) == expected


def test_an_override_lasts_as_long_as_the_signal() -> None:
    """An owner's restart during an alert is not undone while the alert lasts."""
    low = price(20)
    released = Decision(Action.RELEASE, Reason.USER_OVERRIDE, Signal.FLEX_ALERT)
    state = next_state(PAUSED, released, low, ON, NOW)
    assert state == CarDrState(overridden=True)
    again = decide(low, ON, CHARGING, state, NOW, signal=Signal.FLEX_ALERT)
    assert again == Decision(Action.IGNORE, Reason.USER_OVERRIDE)
    assert again.signal is Signal.FLEX_ALERT
    state = next_state(state, again, low, ON, NOW)
    assert state.overridden
    # The alert ends: so does the event, and with it the override.
    ended = decide(low, ON, CHARGING, state, NOW)
    assert next_state(state, ended, low, ON, NOW) == CarDrState()


def test_whole_alert_through_the_signal_rule() -> None:
    """An alert hour read through dr/signals.py pauses, holds, and ends with a resume."""
    rules = ON.signal_settings
    state = CarDrState()
    actions = []
    for minute, alert in ((0, False), (5, True), (10, True), (15, False)):
        now = NOW + timedelta(minutes=minute)
        car = CHARGING if not state.paused_by_dr else STOPPED
        signal = signal_pause(rules, GridReading(flex_alert_active=alert))
        the_price = Price(20, now - timedelta(minutes=5), now)
        decision = decide(the_price, ON, car, state, now, signal=signal)
        actions.append(decision.action)
        state = next_state(state, decision, the_price, ON, now)
    assert actions == [Action.IGNORE, Action.PAUSE, Action.HOLD, Action.RESUME]
    assert state == CarDrState()


cars = st.builds(
    CarSnapshot,
    online=st.booleans(),
    plugged_in=st.booleans(),
    charging=st.booleans(),
    fast_charging=st.booleans(),
    battery_level=st.one_of(st.none(), st.floats(0, 100)),
    in_caiso=st.booleans(),
    charge_need=st.one_of(
        st.none(),
        st.builds(
            lambda hours, kwh: ChargeNeed(NOW + timedelta(hours=hours), kwh, 7.0, NOW),
            st.floats(-1, 12),
            st.floats(0, 60),
        ),
    ),
)


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(
    st.integers(1, 100),
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.floats(-150, 2000)),
            st.one_of(st.none(), st.sampled_from(Signal)),
            cars,
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_signals_never_pause_below_the_floor_past_ready_by_or_start_others(
    aggressiveness: int, sequence: list
) -> None:
    """A signal never pauses a car below the floor or past ready-by, never starts a car DR did not pause."""
    rules = DrSettings(aggressiveness=aggressiveness, pause_on_flex_alert=True)
    state = CarDrState()
    for value, signal, car in sequence:
        the_price = (
            None if value is None else Price(value, NOW - timedelta(minutes=5), NOW)
        )
        decision = decide(the_price, rules, car, state, NOW, signal=signal)
        if decision.action is Action.RESUME:
            assert state.paused_by_dr
        if decision.action is Action.PAUSE and not state.paused_by_dr:
            assert car.battery_level is not None
            assert car.battery_level >= rules.battery_floor
            if car.charge_need is not None:
                assert decision.reason is not Reason.READY_BY
                assert may_pause(car.charge_need, NOW)
        if (
            state.paused_by_dr
            and car.charge_need is not None
            and decision.action
            in (
                Action.HOLD,
                Action.PAUSE,
            )
        ):
            assert not must_end_pause(car.charge_need, NOW)
        state = next_state(state, decision, the_price, rules, NOW)
