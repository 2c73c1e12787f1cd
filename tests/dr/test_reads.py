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
    ("price", "outlook", "need"),
    [
        (40.0, None, ReadNeed.NONE),
        (89.9, 95.0, ReadNeed.NONE),  # a forecast below the threshold says nothing
        (90.0, None, ReadNeed.STATE),  # within 10 of T_on = 100
        (40.0, 300.0, ReadNeed.STATE),  # the forecast expects a spike
        (100.0, None, ReadNeed.STATE),  # DR pauses above T_on, not at it
        (100.5, None, ReadNeed.DATA),
        (None, 300.0, ReadNeed.NONE),  # no 5-minute price: DR cannot act
    ],
)
def test_examples_at_the_default_threshold(
    price: float | None, outlook: float | None, need: ReadNeed
) -> None:
    """T = 100, A = 50."""
    assert read_need(DrSettings(), CarDrState(), price, outlook) is need


def test_a_high_threshold_is_approached_by_a_tenth_of_it() -> None:
    """T_on = 500: near from 450."""
    settings = DrSettings(threshold=500.0)
    assert read_need(settings, CarDrState(), 449.0, None) is ReadNeed.NONE
    assert read_need(settings, CarDrState(), 451.0, None) is ReadNeed.STATE


@given(SETTINGS, STATES, PRICES, st.none() | PRICES)
def test_a_paused_car_is_always_read(
    settings: DrSettings, state: CarDrState, price: float, outlook: float | None
) -> None:
    """An owner restarting a car DR holds must be seen, whatever the prices say."""
    paused = CarDrState(paused_by_dr=True, skipped=state.skipped)
    assert read_need(settings, paused, price, outlook) is ReadNeed.DATA


@given(SETTINGS, STATES, PRICES, PRICES, st.none() | PRICES)
def test_a_higher_price_never_needs_less(
    settings: DrSettings,
    state: CarDrState,
    low: float,
    high: float,
    outlook: float | None,
) -> None:
    """Monotonic in the price: the need cannot fall as the price rises."""
    low, high = sorted((low, high))
    assert read_need(settings, state, low, outlook) <= read_need(
        settings, state, high, outlook
    )


@given(SETTINGS, PRICES, st.none() | PRICES)
def test_a_car_dr_will_not_pause_needs_nothing(
    settings: DrSettings, price: float, outlook: float | None
) -> None:
    """Opted out, overridden or skipped for the event: no read is worth its cost."""
    for state in (CarDrState(overridden=True), CarDrState(skipped=True)):
        assert read_need(settings, state, price, outlook) is ReadNeed.NONE
    off = DrSettings(enabled=False, threshold=settings.threshold)
    assert read_need(off, CarDrState(), price, outlook) is ReadNeed.NONE
