"""The DR policy rule by rule, the formulas, and the ledger's accounting."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.tesladr.dr import (
    Action,
    CarDrState,
    CarSnapshot,
    Decision,
    DrSettings,
    Ledger,
    Outcome,
    Price,
    Reason,
    SkipBudgetExceeded,
    decide,
    decide_unload,
    next_state,
)

from .cars import CHARGING, PAUSED, STOPPED

NOW = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)


def price(value: float, age: timedelta = timedelta(0)) -> Price:
    """A price whose interval ended `age` ago."""
    end = NOW - age
    return Price(value, end - timedelta(minutes=5), end)


@pytest.mark.parametrize(
    ("aggressiveness", "start", "floor"),
    [
        (1, 149.0, 79.4),
        (20, 130.0, 68.0),
        (50, 100.0, 50.0),
        (90, 60.0, 26.0),
        (100, 50.0, 20.0),
    ],
)
def test_formulas(aggressiveness: int, start: float, floor: float) -> None:
    """T_on = T·(1.5 − A/100), resume below 0.95·T_on, floor 80 − 0.6·A."""
    settings = DrSettings(threshold=100, aggressiveness=aggressiveness)
    assert settings.start_threshold == pytest.approx(start)
    assert settings.resume_below == pytest.approx(start * 0.95)
    assert settings.battery_floor == pytest.approx(floor)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aggressiveness", 0),
        ("aggressiveness", 101),
        ("max_skips_per_24h", -1),
        ("max_skips_per_24h", 11),
        ("threshold", float("nan")),
    ],
)
def test_invalid_settings(field: str, value: float) -> None:
    """Out-of-range settings are refused with the setting's name."""
    with pytest.raises(ValueError, match=field):
        DrSettings(**{field: value})


def test_pause_above_start_threshold_only() -> None:
    """Exactly at T_on is not above it."""
    settings = DrSettings()
    assert decide(price(100.0), settings, CHARGING, CarDrState(), NOW) == Decision(
        Action.IGNORE, Reason.PRICE_BELOW_THRESHOLD
    )
    assert decide(price(100.01), settings, CHARGING, CarDrState(), NOW) == Decision(
        Action.PAUSE, Reason.PRICE_ABOVE_THRESHOLD
    )


@pytest.mark.parametrize(
    ("car", "state", "settings", "reason"),
    [
        (CHARGING, CarDrState(), DrSettings(enabled=False), Reason.OPTED_OUT),
        (CHARGING, CarDrState(overridden=True), DrSettings(), Reason.USER_OVERRIDE),
        (CHARGING, CarDrState(skipped=True), DrSettings(), Reason.SKIPPED),
        (
            replace(CHARGING, in_caiso=False),
            CarDrState(),
            DrSettings(),
            Reason.OUTSIDE_CAISO,
        ),
        (replace(CHARGING, online=False), CarDrState(), DrSettings(), Reason.ASLEEP),
        (
            replace(CHARGING, plugged_in=False),
            CarDrState(),
            DrSettings(),
            Reason.NOT_PLUGGED_IN,
        ),
        (
            replace(CHARGING, fast_charging=True),
            CarDrState(),
            DrSettings(),
            Reason.DC_FAST_CHARGING,
        ),
        (
            replace(CHARGING, charging=False),
            CarDrState(),
            DrSettings(),
            Reason.NOT_CHARGING,
        ),
        (
            replace(CHARGING, battery_level=49.9),
            CarDrState(),
            DrSettings(),
            Reason.BELOW_BATTERY_FLOOR,
        ),
        (
            replace(CHARGING, battery_level=None),
            CarDrState(),
            DrSettings(),
            Reason.BELOW_BATTERY_FLOOR,
        ),
    ],
)
def test_reasons_not_to_pause(
    car: CarSnapshot, state: CarDrState, settings: DrSettings, reason: Reason
) -> None:
    """Each guard keeps a car charging through a spike, with its reason."""
    assert decide(price(500), settings, car, state, NOW) == Decision(
        Action.IGNORE, reason
    )


def test_battery_exactly_at_floor_may_pause() -> None:
    """The floor itself is allowed."""
    car = replace(CHARGING, battery_level=50)
    assert (
        decide(price(500), DrSettings(), car, CarDrState(), NOW).action is Action.PAUSE
    )


def test_stale_or_missing_prices_never_pause() -> None:
    """No decision on prices older than 15 minutes."""
    stale = price(500, timedelta(minutes=15, seconds=1))
    assert (
        decide(stale, DrSettings(), CHARGING, CarDrState(), NOW).reason
        is Reason.PRICES_STALE
    )
    assert (
        decide(None, DrSettings(), CHARGING, CarDrState(), NOW).reason
        is Reason.NO_PRICE
    )
    fresh = price(500, timedelta(minutes=15))
    assert (
        decide(fresh, DrSettings(), CHARGING, CarDrState(), NOW).action is Action.PAUSE
    )


@pytest.mark.parametrize(
    ("value", "age", "car", "state", "settings", "expected"),
    [
        (
            96,
            timedelta(0),
            STOPPED,
            PAUSED,
            DrSettings(),
            Decision(Action.HOLD, Reason.WAITING_FOR_PRICE_DROP),
        ),
        (
            95,
            timedelta(0),
            STOPPED,
            PAUSED,
            DrSettings(),
            Decision(Action.HOLD, Reason.WAITING_FOR_PRICE_DROP),
        ),
        (
            94.99,
            timedelta(0),
            STOPPED,
            PAUSED,
            DrSettings(),
            Decision(Action.RESUME, Reason.PRICE_BELOW_RESUME),
        ),
        (
            300,
            timedelta(minutes=16),
            STOPPED,
            PAUSED,
            DrSettings(),
            Decision(Action.RESUME, Reason.PRICES_STALE),
        ),
        (
            300,
            timedelta(0),
            STOPPED,
            PAUSED,
            DrSettings(enabled=False),
            Decision(Action.RESUME, Reason.OPTED_OUT),
        ),
        (
            300,
            timedelta(0),
            STOPPED,
            replace(PAUSED, skipped=True),
            DrSettings(),
            Decision(Action.RESUME, Reason.SKIPPED),
        ),
        (
            300,
            timedelta(0),
            CHARGING,
            PAUSED,
            DrSettings(),
            Decision(Action.RELEASE, Reason.USER_OVERRIDE),
        ),
        (
            300,
            timedelta(0),
            replace(STOPPED, plugged_in=False),
            PAUSED,
            DrSettings(),
            Decision(Action.RELEASE, Reason.NOT_PLUGGED_IN),
        ),
        (
            300,
            timedelta(0),
            replace(STOPPED, online=False),
            PAUSED,
            DrSettings(),
            Decision(Action.HOLD, Reason.WAITING_FOR_PRICE_DROP),
        ),
    ],
)
def test_paused_car(
    value: float,
    age: timedelta,
    car: CarSnapshot,
    state: CarDrState,
    settings: DrSettings,
    expected: Decision,
) -> None:
    """Hysteresis, fail-safe, opt-out, skip, override and unplug while paused."""
    assert decide(price(value, age), settings, car, state, NOW) == expected


TELLS = replace(CHARGING, tells_overrides=True)


@pytest.mark.parametrize(
    ("value", "car", "expected"),
    [
        # The owner turned charging on: theirs for the rest of the event.
        (300, replace(TELLS, owner_override=True), Action.RELEASE),
        (300, replace(TELLS, owner_override=True, charging=False), Action.RELEASE),
        # It restarted by itself (schedule, re-plug): paused again.
        (300, TELLS, Action.PAUSE),
        # Below the band the event ends anyway; a stale read of the car changes nothing.
        (90, TELLS, Action.RESUME),
        (300, replace(TELLS, online=False), Action.HOLD),
        (300, replace(TELLS, charging=False), Action.HOLD),
        # Stopped as DR left it, but it charged since: somebody started and stopped it.
        (300, replace(TELLS, charging=False, charged_since_pause=True), Action.RELEASE),
        (300, replace(STOPPED, charged_since_pause=True), Action.RELEASE),
        (90, replace(STOPPED, charged_since_pause=True), Action.RELEASE),
    ],
)
def test_paused_car_of_a_source_that_tells_overrides(
    value: float, car: CarSnapshot, expected: Action
) -> None:
    """Only the owner's restart is an override where the source can tell who restarted.

    A car stopped as DR left it that has charged since was started by somebody, whatever
    the source: released, never resumed.
    """
    decision = decide(price(value), DrSettings(), car, PAUSED, NOW)
    assert decision.action is expected
    if expected is Action.PAUSE:
        assert decision.reason is Reason.CHARGING_RESTARTED
        assert next_state(PAUSED, decision, price(value), DrSettings(), NOW) == PAUSED


def test_missing_price_while_paused_resumes() -> None:
    """No price at all while paused is the same fail-safe."""
    decision = decide(None, DrSettings(), STOPPED, PAUSED, NOW)
    assert decision == Decision(Action.RESUME, Reason.PRICES_STALE)


def test_unload_resumes_only_paused_cars() -> None:
    """Unload starts what DR stopped and nothing else."""
    assert decide_unload(PAUSED) == Decision(Action.RESUME, Reason.UNLOADING)
    assert decide_unload(CarDrState()).action is Action.IGNORE


def test_override_and_skip_last_for_the_event() -> None:
    """An override holds until the price falls below the resume band."""
    settings = DrSettings()
    state = next_state(
        PAUSED,
        Decision(Action.RELEASE, Reason.USER_OVERRIDE),
        price(300),
        settings,
        NOW,
    )
    assert state == CarDrState(overridden=True)
    state = next_state(
        state, Decision(Action.IGNORE, Reason.USER_OVERRIDE), price(200), settings, NOW
    )
    assert state.overridden
    state = next_state(
        state,
        Decision(Action.IGNORE, Reason.PRICE_BELOW_THRESHOLD),
        price(90),
        settings,
        NOW,
    )
    assert state == CarDrState()
    skipped = next_state(
        replace(PAUSED, skipped=True),
        Decision(Action.RESUME, Reason.SKIPPED),
        price(300),
        settings,
        NOW,
    )
    assert skipped == CarDrState(skipped=True)
    unplugged = next_state(
        PAUSED,
        Decision(Action.RELEASE, Reason.NOT_PLUGGED_IN),
        price(300),
        settings,
        NOW,
    )
    assert unplugged == CarDrState()
    paused = next_state(
        CarDrState(),
        Decision(Action.PAUSE, Reason.PRICE_ABOVE_THRESHOLD),
        price(300),
        settings,
        NOW,
    )
    assert paused == PAUSED
    resumed = next_state(
        PAUSED,
        Decision(Action.RESUME, Reason.PRICE_BELOW_RESUME),
        price(90),
        settings,
        NOW,
    )
    assert resumed == CarDrState()
    held = next_state(
        PAUSED,
        Decision(Action.HOLD, Reason.WAITING_FOR_PRICE_DROP),
        None,
        settings,
        NOW,
    )
    assert held == PAUSED


def test_ledger_accounting_by_hand() -> None:
    """7 kW paused through three intervals at 250, 300 and 180 USD/MWh."""
    ledger = Ledger()
    start = NOW
    event = ledger.start("5YJ3E1EA7KF000001", "TH_NP15_GEN-APND", start, 7.0, None)
    for index, value in enumerate((250, 300, 180)):
        interval_start = start + timedelta(minutes=5 * index)
        event.account(
            Price(value, interval_start, interval_start + timedelta(minutes=5))
        )
        event.account(
            Price(value, interval_start, interval_start + timedelta(minutes=5))
        )
    ledger.end("5YJ3E1EA7KF000001", start + timedelta(minutes=15), Outcome.RESUMED)
    # 7 kW × 5/60 h = 0.58333 kWh per interval; USD = kWh × LMP / 1000.
    assert event.kwh == pytest.approx(1.75)
    assert event.usd == pytest.approx(7 * 5 / 60 * (250 + 300 + 180) / 1000)
    assert event.usd == pytest.approx(0.42583, abs=1e-5)
    assert ledger.totals("5YJ3E1EA7KF000001") == (
        pytest.approx(1.75),
        pytest.approx(event.usd),
    )


def test_ledger_caps_by_energy_to_limit_and_counts_partial_intervals() -> None:
    """Never more than the energy the car still needed; partial overlap counts partially."""
    ledger = Ledger()
    event = ledger.start(
        "VIN0001", "N", NOW + timedelta(minutes=2, seconds=30), 12.0, 0.8
    )
    event.account(
        Price(100, NOW, NOW + timedelta(minutes=5))
    )  # half the interval: 0.5 kWh
    assert event.kwh == pytest.approx(0.5)
    event.account(Price(100, NOW + timedelta(minutes=5), NOW + timedelta(minutes=10)))
    assert event.kwh == pytest.approx(0.8)
    event.account(Price(100, NOW - timedelta(minutes=5), NOW))  # before the pause
    assert event.kwh == pytest.approx(0.8)
    assert ledger.start("VIN0001", "N", NOW, 1, None) is event


def test_an_end_before_accounted_intervals_accounts_them_again() -> None:
    """An override dated back into intervals already counted in full counts them to it.

    Paused at NOW through three intervals at 200, 300 and 400, the owner restarted 7.5
    minutes in: the first interval counts whole, the second half, the third not at all.
    """
    ledger = Ledger()
    event = ledger.start("VIN0001", "N", NOW, 12.0, None)
    for index, value in enumerate((200, 300, 400)):
        start = NOW + timedelta(minutes=5 * index)
        event.account(Price(value, start, start + timedelta(minutes=5)))
    assert event.kwh == pytest.approx(3.0)
    ledger.end("VIN0001", NOW + timedelta(minutes=7, seconds=30), Outcome.OVERRIDDEN)
    assert event.kwh == pytest.approx(1.5)
    assert event.usd == pytest.approx(1.0 * 200 / 1000 + 0.5 * 300 / 1000)
    assert len(event.prices) == 2


def test_skip_budget_rolls_over_24_hours() -> None:
    """K skips per rolling 24 h; the error says when the next one is possible."""
    ledger = Ledger()
    ledger.skip("VIN", 2, NOW)
    ledger.skip("VIN", 2, NOW + timedelta(hours=1))
    with pytest.raises(SkipBudgetExceeded) as err:
        ledger.skip("VIN", 2, NOW + timedelta(hours=2))
    assert err.value.limit == 2
    assert err.value.next_available == NOW + timedelta(hours=24)
    assert ledger.skips_used("VIN", NOW + timedelta(hours=2)) == 2
    ledger.skip("VIN", 2, NOW + timedelta(hours=24, seconds=1))
    with pytest.raises(SkipBudgetExceeded) as none_allowed:
        ledger.skip("OTHER", 0, NOW)
    assert none_allowed.value.next_available is None


def test_ledger_round_trip_window_and_prune() -> None:
    """Events survive serialisation; counts and history windows."""
    ledger = Ledger()
    old = ledger.start("VIN", "N", NOW - timedelta(days=40), 7, 10)
    old.account(Price(150, old.started, old.started + timedelta(minutes=5)))
    ledger.end("VIN", NOW - timedelta(days=40) + timedelta(minutes=30), Outcome.RESUMED)
    event = ledger.start("VIN", "N", NOW, 7, None)
    event.account(Price(200, NOW, NOW + timedelta(minutes=5)))
    event.seen_paused_at, event.seen_paused_energy_kwh = NOW, 12.34
    ledger.skip("VIN", 2, NOW)
    restored = Ledger.from_dict(ledger.as_dict())
    assert restored.as_dict() == ledger.as_dict()
    assert restored.active("VIN") == event
    assert ledger.events_in_window("VIN", NOW + timedelta(hours=1)) == 1
    assert ledger.between(
        "VIN", NOW - timedelta(days=41), NOW - timedelta(days=39)
    ) == [old]
    before = ledger.totals("VIN")
    ledger.prune(NOW)
    assert ledger.events == [event]
    # Pruned events keep counting: the energy sensor is total_increasing.
    assert ledger.totals("VIN") == pytest.approx(before)
    assert before[0] == pytest.approx(7 * 10 / 60)
    assert Ledger.from_dict(ledger.as_dict()).totals("VIN") == pytest.approx(before)
    assert ledger.start("VIN2", "N", NOW, 7, None).event_id != event.event_id
    # Skips older than the window are dropped with the events.
    ledger.prune(NOW + timedelta(days=2))
    assert ledger.skips == {}
    assert Ledger.from_dict({"version": 999}).events == []
    assert ledger.end("NOBODY", NOW, Outcome.RESUMED) is None
