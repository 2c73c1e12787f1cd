"""Properties over random price and car sequences, with a small simulator of the caller."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st

from custom_components.tesladr.dr import (
    STALE_AFTER,
    Action,
    CarDrState,
    CarSnapshot,
    DrSettings,
    Price,
    decide,
    next_state,
)

T0 = datetime(2026, 7, 1, tzinfo=UTC)

cars = st.builds(
    CarSnapshot,
    online=st.booleans(),
    plugged_in=st.booleans(),
    charging=st.booleans(),
    fast_charging=st.booleans(),
    battery_level=st.one_of(st.none(), st.floats(0, 100)),
    in_caiso=st.booleans(),
)
steps = st.lists(
    st.tuples(
        st.one_of(st.none(), st.floats(-150, 2000)),  # price (None: no price at all)
        st.integers(0, 40),  # minutes since the newest interval ended
        cars,
        st.booleans(),  # user toggles opt-out this step
    ),
    min_size=1,
    max_size=60,
)
dr_settings = st.builds(
    DrSettings,
    threshold=st.floats(0, 1000),
    aggressiveness=st.integers(1, 100),
)


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(dr_settings, steps)
def test_policy_invariants(base: DrSettings, sequence: list) -> None:
    """Never start a car DR did not stop, never pause below the floor, never hold on stale prices."""
    state = CarDrState()
    enabled = True
    now = T0
    for value, age, car, toggle in sequence:
        now += timedelta(minutes=5)
        enabled = enabled != toggle
        current = DrSettings(
            enabled=enabled,
            threshold=base.threshold,
            aggressiveness=base.aggressiveness,
        )
        price = None
        if value is not None:
            end = now - timedelta(minutes=age)
            price = Price(value, end - timedelta(minutes=5), end)
        decision = decide(price, current, car, state, now)
        if decision.action is Action.RESUME:
            assert state.paused_by_dr
        if decision.action is Action.PAUSE:
            assert car.battery_level is not None
            assert car.battery_level >= current.battery_floor
            assert (
                car.online and car.plugged_in and car.charging and not car.fast_charging
            )
        if state.paused_by_dr and (price is None or now - price.end > STALE_AFTER):
            assert decision.action is Action.RESUME
        state = next_state(state, decision, price, current, now)
        if decision.action is Action.RESUME:
            assert not state.paused_by_dr
