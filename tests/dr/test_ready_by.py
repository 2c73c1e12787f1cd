"""Ready by departure: the rule, its place in the policy, and its promise over random prices."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.tesladr.dr import (
    Action,
    CarDrState,
    CarSnapshot,
    DrSettings,
    Price,
    Reason,
    decide,
    next_state,
)
from custom_components.tesladr.dr.churn import PauseHistory
from custom_components.tesladr.dr.policy import departure_time
from custom_components.tesladr.dr.ready_by import (
    CAR_DATA_STALE_AFTER,
    MARGIN,
    MARGIN_SHARE,
    PAUSE_ROOM,
    ChargeNeed,
    energy_from_time_to_full,
    energy_to_target,
    energy_to_target_below_limit,
    may_pause,
    must_end_pause,
    next_departure,
    slack,
    time_needed,
)

NOW = datetime(2019, 7, 24, 2, 0, tzinfo=UTC)
HIGH = Price(500.0, NOW - timedelta(minutes=6), NOW - timedelta(minutes=1))
LOW = Price(20.0, NOW - timedelta(minutes=6), NOW - timedelta(minutes=1))
CHARGING = CarSnapshot(
    online=True,
    plugged_in=True,
    charging=True,
    fast_charging=False,
    battery_level=60,
    in_caiso=True,
)


def need(hours_to_departure: float, kwh: float = 14.0, kw: float = 7.0) -> ChargeNeed:
    """A fresh read of a car needing `kwh` at `kw`, leaving in so many hours."""
    return ChargeNeed(NOW + timedelta(hours=hours_to_departure), kwh, kw, NOW)


def test_energy_to_target() -> None:
    """Level to target over the usable capacity; nothing when at or above it, or unknown."""
    assert energy_to_target(60, 80, 75) == pytest.approx(15)
    assert energy_to_target(85, 80, 75) == 0
    assert energy_to_target(None, 80, 75) is None
    assert energy_to_target(60, 80, None) is None


def test_energy_from_time_to_full() -> None:
    """The car's own estimate: its time to full at its charge power."""
    assert energy_from_time_to_full(2.5, 7.2) == pytest.approx(18)
    assert energy_from_time_to_full(-1, 7.2) == 0
    assert energy_from_time_to_full(None, 7.2) is None
    assert energy_from_time_to_full(2, None) is None
    # A stopped car reports no power: its time to full says nothing of the energy.
    assert energy_from_time_to_full(2, 0) is None


def test_time_needed_has_the_documented_margin() -> None:
    """14 kWh at 7 kW: 2 h, plus 10 %, plus 20 minutes."""
    assert time_needed(14, 7) == timedelta(hours=2.2) + MARGIN
    assert MARGIN_SHARE == 0.10
    assert time_needed(-3, 7) == MARGIN
    # A trickle that would take ages: a year, not an overflow.
    assert time_needed(80, 1e-300) == timedelta(days=366) + MARGIN


def test_slack_and_its_bounds() -> None:
    """Time beyond what is needed; pause only with room to spare, end when none is left."""
    needed = time_needed(14, 7)
    exact = ChargeNeed(NOW + needed, 14, 7, NOW)
    assert slack(exact, NOW) == timedelta(0)
    assert not must_end_pause(exact, NOW)
    assert not may_pause(exact, NOW)
    short = replace(exact, departure=exact.departure - timedelta(seconds=1))
    assert must_end_pause(short, NOW)
    roomy = replace(exact, departure=exact.departure + PAUSE_ROOM)
    assert may_pause(roomy, NOW)
    just_short = replace(roomy, departure=roomy.departure - timedelta(seconds=1))
    assert not may_pause(just_short, NOW)
    assert not must_end_pause(just_short, NOW)


def test_a_car_at_its_target_may_always_pause() -> None:
    """Nothing left to charge: a pause costs it nothing, even after its departure time."""
    done = ChargeNeed(NOW - timedelta(hours=1), 0.0, 7.0, NOW)
    assert slack(done, NOW) == timedelta.max
    assert may_pause(done, NOW)
    assert not must_end_pause(done, NOW)


@pytest.mark.parametrize(
    "unknown",
    [
        {"read_at": None},
        {"read_at": NOW - CAR_DATA_STALE_AFTER - timedelta(seconds=1)},
        {"energy_needed_kwh": None},
        {"power_kw": None},
        {"power_kw": 0.0},
        {"power_kw": float("nan")},
        {"energy_needed_kwh": float("nan")},
    ],
)
def test_data_that_cannot_tell_means_no_time(unknown: dict[str, object]) -> None:
    """Stale or missing car data: never pause, and end DR's pause."""
    blind = replace(need(12), **unknown)  # type: ignore[arg-type]
    assert slack(blind, NOW) is None
    assert not may_pause(blind, NOW)
    assert must_end_pause(blind, NOW)


def test_data_just_fresh_enough_still_counts() -> None:
    """A read exactly CAR_DATA_STALE_AFTER old is still judged."""
    edge = replace(need(12), read_at=NOW - CAR_DATA_STALE_AFTER)
    assert slack(edge, NOW) is not None


def test_policy_does_not_pause_a_car_without_time() -> None:
    """Price above the threshold, but the car needs the time: left charging, reason ready_by."""
    tight = replace(CHARGING, charge_need=need(2.5))
    decision = decide(HIGH, DrSettings(), tight, CarDrState(), NOW)
    assert (decision.action, decision.reason) == (Action.IGNORE, Reason.READY_BY)
    roomy = replace(CHARGING, charge_need=need(6))
    assert decide(HIGH, DrSettings(), roomy, CarDrState(), NOW).action is Action.PAUSE


def test_policy_ends_its_pause_when_time_runs_out() -> None:
    """DR's pause ends early for the departure, even with the price still high."""
    paused = CarDrState(paused_by_dr=True)
    stopped = replace(CHARGING, charging=False)
    short = replace(stopped, charge_need=need(2.5))
    decision = decide(HIGH, DrSettings(), short, paused, NOW)
    assert (decision.action, decision.reason) == (Action.RESUME, Reason.READY_BY)
    roomy = replace(stopped, charge_need=need(6))
    assert decide(HIGH, DrSettings(), roomy, paused, NOW).action is Action.HOLD
    # The guarantee comes before re-pausing a car that restarted by itself.
    restarted = replace(CHARGING, tells_overrides=True, charge_need=need(2.5))
    decision = decide(HIGH, DrSettings(), restarted, paused, NOW)
    assert (decision.action, decision.reason) == (Action.RESUME, Reason.READY_BY)


def test_policy_after_a_ready_by_resume_leaves_the_car_charging() -> None:
    """Once resumed for the departure, the car is not stopped again while it still needs time."""
    paused = CarDrState(paused_by_dr=True)
    car = replace(CHARGING, charging=False, charge_need=need(2.5))
    decision = decide(HIGH, DrSettings(), car, paused, NOW)
    state = next_state(paused, decision, HIGH, DrSettings(), NOW)
    assert state == CarDrState()
    later = NOW + timedelta(minutes=5)
    charging = replace(
        CHARGING, charge_need=ChargeNeed(NOW + timedelta(hours=2.5), 13.4, 7, later)
    )
    price = replace(HIGH, start=HIGH.start + timedelta(minutes=5), end=later)
    assert decide(price, DrSettings(), charging, state, later).reason is Reason.READY_BY


def test_a_price_drop_ends_the_pause_as_before() -> None:
    """With time to spare, the pause ends on the price, not on the guarantee."""
    car = replace(CHARGING, charging=False, charge_need=need(8))
    decision = decide(LOW, DrSettings(), car, CarDrState(paused_by_dr=True), NOW)
    assert decision.reason is Reason.PRICE_BELOW_RESUME


# The promise, over random prices, cars and decision gaps.
car_days = st.fixed_dictionaries(
    {
        "window_min": st.integers(5, 16 * 60),
        "need_kwh": st.floats(0.1, 90),
        "power_kw": st.floats(1.0, 11.5),
        "battery": st.floats(0, 100),
        "threshold": st.floats(-50, 500),
        "aggressiveness": st.integers(1, 100),
        "min_pause": st.sampled_from([0, 10, 30, 120]),
        "rearm": st.sampled_from([0, 15, 60]),
        "budget": st.sampled_from([0, 2, 6]),
        # Each decision: minutes since the last (the guarantee's margin covers up to 20),
        # the price, its age, and how old the car's read is.
        "steps": st.lists(
            st.tuples(
                st.integers(1, 20),
                st.floats(-150, 2000),
                st.integers(0, 20),
                st.sampled_from([0, 0, 0, 1, 20]),
            ),
            min_size=1,
            max_size=200,
        ),
    }
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(car_days)
def test_a_car_that_can_make_it_does_whatever_the_prices(day: dict) -> None:
    """Whatever the prices and settings, a car that could make it does.

    A car that could reach its target by its departure, charging all the time it is plugged
    in, reaches it; and no decision starts a car DR did not stop.
    """
    arrive = NOW
    departure = arrive + timedelta(minutes=day["window_min"])
    power = day["power_kw"]
    remaining = day["need_kwh"]
    dr = DrSettings(
        threshold=day["threshold"],
        aggressiveness=day["aggressiveness"],
        min_pause_minutes=day["min_pause"],
        rearm_minutes=day["rearm"],
        pauses_per_24h=day["budget"],
    )
    state = CarDrState()
    now = arrive
    paused_since = last_resumed = None
    pauses = 0
    steps = iter(day["steps"])
    while now < departure:
        gap, value, age, read_age = next(steps, (20, 1000.0, 0, 0))
        end = now - timedelta(minutes=age)
        price = Price(value, end - timedelta(minutes=5), end)
        car = CarSnapshot(
            online=True,
            plugged_in=True,
            charging=remaining > 0 and not state.paused_by_dr,
            fast_charging=False,
            battery_level=day["battery"],
            in_caiso=True,
            charge_need=ChargeNeed(
                departure, remaining, power, now - timedelta(minutes=read_age)
            ),
        )
        history = PauseHistory(paused_since, last_resumed, pauses)
        decision = decide(price, dr, car, state, now, history=history)
        if decision.action is Action.RESUME:
            assert state.paused_by_dr
            paused_since, last_resumed = None, now
        if decision.action is Action.PAUSE and not state.paused_by_dr:
            paused_since, pauses = now, pauses + 1
        state = next_state(state, decision, price, dr, now)
        step_end = min(now + timedelta(minutes=gap), departure)
        if not state.paused_by_dr:
            hours = (step_end - now).total_seconds() / 3600
            remaining = max(0.0, remaining - power * hours)
        now = step_end
    could = day["need_kwh"] <= power * day["window_min"] / 60
    if could:
        assert remaining <= 1e-9


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.floats(-150, 2000),
    st.builds(
        CarSnapshot,
        online=st.booleans(),
        plugged_in=st.booleans(),
        charging=st.booleans(),
        fast_charging=st.booleans(),
        battery_level=st.one_of(st.none(), st.floats(0, 100)),
        in_caiso=st.booleans(),
        charge_need=st.builds(
            ChargeNeed,
            departure=st.datetimes(
                min_value=datetime(2019, 7, 23), max_value=datetime(2019, 7, 26)
            ).map(lambda moment: moment.replace(tzinfo=UTC)),
            energy_needed_kwh=st.one_of(st.none(), st.floats(-5, 100)),
            power_kw=st.one_of(st.none(), st.floats(-1, 20)),
            read_at=st.one_of(st.none(), st.just(NOW)),
        ),
    ),
    st.booleans(),
    st.booleans(),
)
def test_the_guarantee_never_starts_a_car_dr_did_not_stop(
    value: float, car: CarSnapshot, overridden: bool, skipped: bool
) -> None:
    """A car DR holds no pause on is never resumed, whatever its charge need says."""
    price = Price(value, NOW - timedelta(minutes=6), NOW - timedelta(minutes=1))
    state = CarDrState(overridden=overridden, skipped=skipped)
    decision = decide(price, DrSettings(), car, state, NOW)
    assert decision.action in {Action.IGNORE, Action.PAUSE}


PACIFIC = ZoneInfo("America/Los_Angeles")
WEEKDAYS_0700 = {day: time(7, 0) for day in range(5)}


@pytest.mark.parametrize(
    ("now", "departures", "expected"),
    [
        # Tuesday 23 July 2019, 18:00 Pacific: Wednesday 07:00 (14:00 UTC).
        (
            datetime(2019, 7, 24, 1, 0, tzinfo=UTC),
            WEEKDAYS_0700,
            datetime(2019, 7, 24, 14, 0, tzinfo=UTC),
        ),
        # Friday evening: the weekend has none, so Monday.
        (
            datetime(2019, 7, 27, 1, 0, tzinfo=UTC),
            WEEKDAYS_0700,
            datetime(2019, 7, 29, 14, 0, tzinfo=UTC),
        ),
        # 06:59 Pacific on a weekday: the same morning.
        (
            datetime(2019, 7, 24, 13, 59, tzinfo=UTC),
            WEEKDAYS_0700,
            datetime(2019, 7, 24, 14, 0, tzinfo=UTC),
        ),
        # Exactly at departure: the next one.
        (
            datetime(2019, 7, 24, 14, 0, tzinfo=UTC),
            {2: time(7, 0)},
            datetime(2019, 7, 31, 14, 0, tzinfo=UTC),
        ),
        # The night of the fall-back: 07:00 PST is 15:00 UTC.
        (
            datetime(2019, 11, 3, 6, 0, tzinfo=UTC),
            {6: time(7, 0)},
            datetime(2019, 11, 3, 15, 0, tzinfo=UTC),
        ),
        # Spring forward: 02:30 does not exist that night; it is 03:30 PDT (10:30 UTC).
        (
            datetime(2019, 3, 10, 6, 0, tzinfo=UTC),
            {6: time(2, 30)},
            datetime(2019, 3, 10, 10, 30, tzinfo=UTC),
        ),
        # No departure on any day.
        (datetime(2019, 7, 24, 1, 0, tzinfo=UTC), {}, None),
    ],
)
def test_next_departure(
    now: datetime, departures: dict[int, time], expected: datetime | None
) -> None:
    """The next departure from a weekday schedule, across weekends and DST."""
    assert next_departure(now, departures, PACIFIC) == expected


def test_energy_to_target_scales_the_cars_estimate_to_its_limit() -> None:
    """17.5 kWh from 60 % to a 90 % limit: 70 % is a third of it; above the limit, the limit."""
    assert energy_to_target_below_limit(60, 70, 90, 17.5) == pytest.approx(17.5 / 3)
    assert energy_to_target_below_limit(60, 95, 90, 17.5) == 17.5
    assert energy_to_target_below_limit(60, None, 90, 17.5) == 17.5
    assert energy_to_target_below_limit(None, None, None, -1.0) == 0.0
    assert energy_to_target_below_limit(80, 70, 90, 5.0) == 0.0
    assert energy_to_target_below_limit(60, 70, 90, None) is None
    assert energy_to_target_below_limit(None, 70, 90, 17.5) is None
    assert energy_to_target_below_limit(60, 70, None, 17.5) is None


def test_departure_setting_is_a_wall_clock_time() -> None:
    """A departure is "HH:MM"; anything else is refused, as a target outside 1 to 100 %."""
    assert DrSettings(departure="07:30", target_level=80).departure == "07:30"
    assert departure_time("07:30") == time(7, 30)
    for bad in ("7h30", "25:00", ""):
        with pytest.raises(ValueError, match="departure"):
            DrSettings(departure=bad)
    for level in (0, 101):
        with pytest.raises(ValueError, match="target_level"):
            DrSettings(target_level=level)
