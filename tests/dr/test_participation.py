"""Event in progress and participation, from DR's own state and the policy's decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st
import pytest

from custom_components.tesladr.dr import (
    STALE_AFTER,
    Action,
    CarDrState,
    CarSnapshot,
    Decision,
    DrSettings,
    Price,
    Reason,
    decide,
    next_state,
)
from custom_components.tesladr.dr.participation import (
    NOT_ELIGIBLE_REASONS,
    Participation,
    event_in_progress,
    participation,
)

T0 = datetime(2026, 7, 1, 17, tzinfo=UTC)
SETTINGS = DrSettings()  # T_on 100, resume below 95


def price(value: float, age: timedelta = timedelta(0)) -> Price:
    """A 5-minute price whose interval ended `age` before T0."""
    return Price(value, T0 - age - timedelta(minutes=5), T0 - age)


@pytest.mark.parametrize(
    ("current", "state", "expected"),
    [
        (price(150), CarDrState(), True),
        (price(100), CarDrState(), False),  # at the threshold: no event
        (price(97), CarDrState(), False),  # in the band, nothing DR keeps
        (price(97), CarDrState(paused_by_dr=True), True),
        (price(97), CarDrState(skipped=True), True),
        (price(97), CarDrState(overridden=True), True),
        (price(150, STALE_AFTER + timedelta(seconds=1)), CarDrState(), False),
        (price(150, STALE_AFTER), CarDrState(), True),
        (None, CarDrState(), False),
    ],
)
def test_event_in_progress(
    current: Price | None, state: CarDrState, expected: bool
) -> None:
    assert event_in_progress(current, SETTINGS, state, T0) is expected


@pytest.mark.parametrize(
    ("settings", "state", "decision", "in_event", "expected"),
    [
        (
            DrSettings(enabled=False),
            CarDrState(paused_by_dr=True),
            None,
            True,
            (Participation.OPTED_OUT, None),
        ),
        (
            SETTINGS,
            CarDrState(paused_by_dr=True),
            None,
            True,
            (Participation.TAKING_PART, None),
        ),
        (SETTINGS, CarDrState(skipped=True), None, True, (Participation.SKIPPED, None)),
        (
            SETTINGS,
            CarDrState(overridden=True),
            None,
            True,
            (Participation.OVERRIDDEN, None),
        ),
        (
            SETTINGS,
            CarDrState(),
            Decision(Action.IGNORE, Reason.NOT_PLUGGED_IN),
            False,
            (Participation.NO_EVENT, None),
        ),
        (
            SETTINGS,
            CarDrState(),
            Decision(Action.IGNORE, Reason.NOT_PLUGGED_IN),
            True,
            (Participation.NOT_ELIGIBLE, Reason.NOT_PLUGGED_IN),
        ),
        (
            SETTINGS,
            CarDrState(),
            Decision(Action.PAUSE, Reason.PRICE_ABOVE_THRESHOLD),
            True,
            (Participation.NOT_ELIGIBLE, None),  # a stop that has not gone through yet
        ),
        (SETTINGS, CarDrState(), None, True, (Participation.NOT_ELIGIBLE, None)),
    ],
)
def test_participation(
    settings: DrSettings,
    state: CarDrState,
    decision: Decision | None,
    in_event: bool,
    expected: tuple[Participation, Reason | None],
) -> None:
    assert (
        participation(settings, state, decision.reason if decision else None, in_event)
        == expected
    )


cars = st.builds(
    CarSnapshot,
    online=st.booleans(),
    plugged_in=st.booleans(),
    charging=st.booleans(),
    fast_charging=st.booleans(),
    battery_level=st.one_of(st.none(), st.floats(0, 100)),
    in_caiso=st.booleans(),
)


@given(
    st.lists(
        st.tuples(
            st.one_of(st.sampled_from([94.0, 96.0, 100.0, 101.0]), st.floats(0, 400)),
            cars,
            st.booleans(),  # the owner skips now
        ),
        min_size=1,
        max_size=40,
    )
)
def test_a_paused_car_is_taking_part_and_a_car_the_policy_ignored_says_why(
    steps: list[tuple[float, CarSnapshot, bool]],
) -> None:
    """Driven by the real policy: each step's participation agrees with its decision."""
    state = CarDrState()
    for index, (value, car, skip) in enumerate(steps):
        now = T0 + index * timedelta(minutes=5)
        current = Price(value, now - timedelta(minutes=5), now)
        if skip and event_in_progress(current, SETTINGS, state, now):
            state = CarDrState(
                paused_by_dr=state.paused_by_dr,
                overridden=state.overridden,
                skipped=True,
            )
        decision = decide(current, SETTINGS, car, state, now)
        state = next_state(state, decision, current, SETTINGS, now)
        in_event = event_in_progress(current, SETTINGS, state, now)
        kind, reason = participation(SETTINGS, state, decision.reason, in_event)
        if decision.action in (Action.PAUSE, Action.HOLD):
            assert kind is Participation.TAKING_PART
        if kind is Participation.NOT_ELIGIBLE:
            assert value > SETTINGS.start_threshold
            assert reason is None or reason in NOT_ELIGIBLE_REASONS
            assert decision.action is Action.IGNORE
            assert reason is decision.reason
        if kind is Participation.NO_EVENT:
            assert value <= SETTINGS.start_threshold
