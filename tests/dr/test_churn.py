"""Churn control: the knobs one by one, and in the policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from custom_components.tesladr.dr import (
    Action,
    CarDrState,
    DrSettings,
    Ledger,
    Outcome,
    Price,
    Reason,
    decide,
    next_state,
)
from custom_components.tesladr.dr.churn import (
    ESCALATION,
    RECOMMENDED_MIN_PAUSE_MINUTES,
    RECOMMENDED_PAUSES_PER_24H,
    PauseHistory,
    budget_price,
    hold_through,
    rearming,
)

from .cars import CHARGING, PAUSED, STOPPED

NOW = datetime(2018, 7, 25, 0, 0, tzinfo=UTC)


def price(value: float, age: timedelta = timedelta(minutes=1)) -> Price:
    """A price whose interval ended `age` ago."""
    return Price(value, NOW - age - timedelta(minutes=5), NOW - age)


def ago(minutes: float) -> datetime:
    """A moment so many minutes before NOW."""
    return NOW - timedelta(minutes=minutes)


def test_hold_through_only_inside_the_minimum_pause() -> None:
    """A pause younger than its minimum holds; an older one, or none, does not."""
    assert hold_through(30, PauseHistory(paused_since=ago(29)), NOW)
    assert not hold_through(30, PauseHistory(paused_since=ago(30)), NOW)
    assert not hold_through(0, PauseHistory(paused_since=ago(0)), NOW)
    assert not hold_through(30, PauseHistory(), NOW)
    assert not hold_through(30, None, NOW)


def test_rearming_only_just_after_a_resume() -> None:
    """After a resume DR waits `rearm_minutes` before it may stop the car again."""
    assert rearming(15, PauseHistory(last_resumed=ago(14)), NOW)
    assert not rearming(15, PauseHistory(last_resumed=ago(15)), NOW)
    assert not rearming(15, PauseHistory(), NOW)
    assert not rearming(15, None, NOW)


@pytest.mark.parametrize(
    ("start", "budget", "taken", "bar"),
    [
        (100.0, 0, 5, 100.0),  # no budget: the threshold
        (100.0, 4, 0, 100.0),
        (100.0, 4, 1, 100.0 * ESCALATION),
        (100.0, 4, 3, 100.0 * ESCALATION**3),
        (100.0, 4, 4, float("inf")),  # spent
        (0.0, 4, 2, 10.0 * (ESCALATION**2 - 1)),  # a zero threshold still rises
        (-50.0, 4, 1, -50.0 + 50.0 * (ESCALATION - 1)),
    ],
)
def test_budget_price(start: float, budget: int, taken: int, bar: float) -> None:
    """Each pause of the 24 h window raises the bar; a spent budget allows none."""
    history = PauseHistory(pauses_24h=taken)
    assert budget_price(start, budget, history) == pytest.approx(bar)


def test_budget_price_without_history_is_the_threshold() -> None:
    """A caller without the car's history gets today's rule."""
    assert budget_price(100.0, 4, None) == 100.0


def test_settings_reject_churn_values_outside_the_contract() -> None:
    """Negative or absurd churn settings raise, naming the setting."""
    for name, value in (
        ("min_pause_minutes", -1),
        ("min_pause_minutes", 24 * 60 + 1),
        ("rearm_minutes", -1),
        ("pauses_per_24h", -1),
        ("pauses_per_24h", 49),
    ):
        with pytest.raises(ValueError, match=name):
            DrSettings(**{name: value})  # type: ignore[arg-type]


def test_policy_holds_a_young_pause_through_a_dip() -> None:
    """Below the resume band inside the minimum pause: hold; after it: resume."""
    settings = DrSettings(min_pause_minutes=30)
    young = PauseHistory(paused_since=ago(10))
    decision = decide(price(40), settings, STOPPED, PAUSED, NOW, history=young)
    assert (decision.action, decision.reason) == (
        Action.HOLD,
        Reason.HOLDING_THROUGH_DIP,
    )
    # Held below the band, the state stays paused (the event is not over for this car).
    assert next_state(PAUSED, decision, price(40), settings, NOW) == PAUSED
    old = PauseHistory(paused_since=ago(30))
    assert decide(price(40), settings, STOPPED, PAUSED, NOW, history=old).action is (
        Action.RESUME
    )
    # Without a history the knob is off: today's resume.
    assert decide(price(40), settings, STOPPED, PAUSED, NOW).action is Action.RESUME


def test_fail_safes_end_a_young_pause() -> None:
    """Stale prices, opt-out and the owner's restart end a pause whatever its age."""
    settings = DrSettings(min_pause_minutes=60)
    young = PauseHistory(paused_since=ago(5))
    stale = price(40, timedelta(minutes=16))
    assert decide(stale, settings, STOPPED, PAUSED, NOW, history=young).reason is (
        Reason.PRICES_STALE
    )
    off = replace(settings, enabled=False)
    assert decide(price(40), off, STOPPED, PAUSED, NOW, history=young).reason is (
        Reason.OPTED_OUT
    )
    assert decide(price(40), settings, CHARGING, PAUSED, NOW, history=young).reason is (
        Reason.USER_OVERRIDE
    )


def test_policy_waits_after_a_resume() -> None:
    """A spike right after DR resumed the car does not stop it again."""
    settings = DrSettings(rearm_minutes=30)
    fresh = PauseHistory(last_resumed=ago(5))
    decision = decide(price(500), settings, CHARGING, CarDrState(), NOW, history=fresh)
    assert (decision.action, decision.reason) == (Action.IGNORE, Reason.REARMING)
    rested = PauseHistory(last_resumed=ago(30))
    assert decide(
        price(500), settings, CHARGING, CarDrState(), NOW, history=rested
    ).action is (Action.PAUSE)


def test_policy_spends_the_budget_on_dearer_prices() -> None:
    """The second pause of the day needs ESCALATION times the threshold; a spent budget none."""
    settings = DrSettings(pauses_per_24h=2)
    one = PauseHistory(pauses_24h=1)
    decision = decide(price(120), settings, CHARGING, CarDrState(), NOW, history=one)
    assert (decision.action, decision.reason) == (Action.IGNORE, Reason.PAUSE_BUDGET)
    assert decide(
        price(250), settings, CHARGING, CarDrState(), NOW, history=one
    ).action is (Action.PAUSE)
    spent = PauseHistory(pauses_24h=2)
    assert decide(
        price(1500), settings, CHARGING, CarDrState(), NOW, history=spent
    ).reason is (Reason.PAUSE_BUDGET)
    # The first pause of the window needs only the threshold.
    assert decide(
        price(101), settings, CHARGING, CarDrState(), NOW, history=PauseHistory()
    ).action is (Action.PAUSE)


def test_churn_knobs_at_zero_are_the_policy_without_churn_control() -> None:
    """Knobs at 0 with a history: pause on the first crossing, resume on the first dip."""
    off = DrSettings(min_pause_minutes=0, pauses_per_24h=0)
    busy = PauseHistory(paused_since=ago(1), last_resumed=ago(1), pauses_24h=40)
    assert decide(
        price(101), off, CHARGING, CarDrState(), NOW, history=busy
    ).action is (Action.PAUSE)
    assert decide(price(40), off, STOPPED, PAUSED, NOW, history=busy).action is (
        Action.RESUME
    )


def test_churn_control_is_on_by_default_at_the_measured_rule() -> None:
    """Defaults: a pause held an hour through a dip; five pauses a day, then a rising bar."""
    settings = DrSettings()
    assert (settings.min_pause_minutes, settings.pauses_per_24h) == (
        RECOMMENDED_MIN_PAUSE_MINUTES,
        RECOMMENDED_PAUSES_PER_24H,
    )
    held = PauseHistory(paused_since=ago(30), pauses_24h=1)
    assert decide(price(40), settings, STOPPED, PAUSED, NOW, history=held).reason is (
        Reason.HOLDING_THROUGH_DIP
    )
    assert decide(
        price(40),
        settings,
        STOPPED,
        PAUSED,
        NOW,
        history=replace(held, paused_since=ago(60)),
    ).action is (Action.RESUME)
    # One pause taken: the bar is a quarter higher; five: the day's budget is spent.
    one, five = PauseHistory(pauses_24h=1), PauseHistory(pauses_24h=5)
    bar = budget_price(settings.start_threshold, settings.pauses_per_24h, one)
    assert bar == pytest.approx(settings.start_threshold * ESCALATION)
    assert decide(
        price(bar - 1), settings, CHARGING, CarDrState(), NOW, history=one
    ).reason is (Reason.PAUSE_BUDGET)
    assert decide(
        price(bar + 1), settings, CHARGING, CarDrState(), NOW, history=one
    ).action is (Action.PAUSE)
    assert decide(
        price(5000), settings, CHARGING, CarDrState(), NOW, history=five
    ).reason is (Reason.PAUSE_BUDGET)


def test_a_car_restarting_by_itself_inside_the_hold_is_stopped_again() -> None:
    """Held through a dip, a car its schedule restarted is paused again, as above the band."""
    settings = DrSettings(min_pause_minutes=30)
    young = PauseHistory(paused_since=ago(10))
    by_itself = replace(CHARGING, tells_overrides=True)
    decision = decide(price(40), settings, by_itself, PAUSED, NOW, history=young)
    assert (decision.action, decision.reason) == (
        Action.PAUSE,
        Reason.CHARGING_RESTARTED,
    )


def test_ledger_gives_the_pause_history() -> None:
    """The open pause's start, the last end and the pauses of the last 24 h."""
    ledger = Ledger()
    assert ledger.pause_history("VIN", NOW) == PauseHistory()
    ledger.start("VIN", "DLAP", ago(25 * 60), 7.0, None)
    ledger.end("VIN", ago(24 * 60), Outcome.RESUMED)
    ledger.start("VIN", "DLAP", ago(90), 7.0, None)
    ledger.end("VIN", ago(60), Outcome.RESUMED)
    ledger.start("VIN", "DLAP", ago(10), 7.0, None)
    ledger.start("OTHER", "DLAP", ago(5), 7.0, None)
    assert ledger.pause_history("VIN", NOW) == PauseHistory(
        paused_since=ago(10), last_resumed=ago(60), pauses_24h=2
    )
