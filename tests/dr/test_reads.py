"""How closely DR needs a car read (dr.reads): examples and properties."""

from __future__ import annotations

from hypothesis import given, strategies as st
import pytest

from custom_components.tesladr.dr import CarDrState, DrSettings, ReadNeed, read_need

PRICES = st.floats(min_value=-500, max_value=2000, allow_nan=False)
SETTINGS = st.builds(
    DrSettings,
    enabled=st.booleans(),
    threshold=st.floats(min_value=-100, max_value=1000, allow_nan=False),
    aggressiveness=st.integers(min_value=1, max_value=100),
)
STATES = st.builds(
    CarDrState,
    paused_by_dr=st.booleans(),
    overridden=st.booleans(),
    skipped=st.booleans(),
)


@pytest.mark.parametrize(
    ("price", "need"),
    [
        (40.0, ReadNeed.NONE),
        (99.0, ReadNeed.NONE),  # near the threshold: the crossing's own read will tell
        (100.0, ReadNeed.NONE),  # DR pauses above T_on, not at it
        (100.5, ReadNeed.DATA),
        (None, ReadNeed.NONE),  # no 5-minute price: DR cannot act
    ],
)
def test_examples_at_the_default_threshold(price: float | None, need: ReadNeed) -> None:
    """T = 100, A = 50."""
    assert read_need(DrSettings(), CarDrState(), price) is need


def test_the_start_threshold_follows_the_aggressiveness() -> None:
    """T = 100, A = 100: T_on = 50."""
    settings = DrSettings(aggressiveness=100)
    assert read_need(settings, CarDrState(), 49.0) is ReadNeed.NONE
    assert read_need(settings, CarDrState(), 51.0) is ReadNeed.DATA


@given(SETTINGS, STATES, st.none() | PRICES)
def test_a_paused_car_is_always_read(
    settings: DrSettings, state: CarDrState, price: float | None
) -> None:
    """An owner restarting a car DR holds must be seen, whatever the price says."""
    paused = CarDrState(paused_by_dr=True, skipped=state.skipped)
    assert read_need(settings, paused, price) is ReadNeed.DATA


@given(SETTINGS, STATES, PRICES, PRICES)
def test_a_higher_price_never_needs_less(
    settings: DrSettings, state: CarDrState, low: float, high: float
) -> None:
    """Monotonic in the price: the need cannot fall as the price rises."""
    low, high = sorted((low, high))
    assert read_need(settings, state, low) <= read_need(settings, state, high)


@given(SETTINGS, PRICES)
def test_a_car_dr_will_not_pause_needs_nothing(
    settings: DrSettings, price: float
) -> None:
    """Opted out, overridden or skipped for the event: no read is worth its cost."""
    for state in (CarDrState(overridden=True), CarDrState(skipped=True)):
        assert read_need(settings, state, price) is ReadNeed.NONE
    off = DrSettings(enabled=False, threshold=settings.threshold)
    assert read_need(off, CarDrState(), price) is ReadNeed.NONE
