"""How closely DR needs a car read (dr.reads): examples and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st
import pytest

from custom_components.tesladr.dr import (
    CarDrState,
    DrSettings,
    ReadNeed,
    Reason,
    read_need,
)
from custom_components.tesladr.dr.reads import (
    APPROACH_BAND,
    ReadFirst,
    approach_band,
    read_ahead_fresh,
    read_first,
)

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
# A car DR may pause: what the approach is about.
WATCHED = st.builds(
    DrSettings,
    threshold=st.floats(min_value=-100, max_value=1000, allow_nan=False),
    aggressiveness=st.integers(min_value=1, max_value=100),
)


@pytest.mark.parametrize(
    ("price", "expected", "need"),
    [
        (40.0, None, ReadNeed.NONE),
        (89.0, None, ReadNeed.NONE),
        (90.0, None, ReadNeed.NONE),  # the band is open below
        (95.0, None, ReadNeed.APPROACH),
        (99.0, 50.0, ReadNeed.APPROACH),
        (100.0, None, ReadNeed.APPROACH),  # DR pauses above T_on, not at it
        (40.0, 100.0, ReadNeed.NONE),  # a forecast at T_on is no spike
        (40.0, 300.0, ReadNeed.APPROACH),  # the 15-minute market expects a spike
        (100.5, None, ReadNeed.DATA),
        (None, 300.0, ReadNeed.NONE),  # no 5-minute price: DR cannot act
    ],
)
def test_examples_at_the_default_threshold(
    price: float | None, expected: float | None, need: ReadNeed
) -> None:
    """T = 100, A = 50."""
    assert read_need(DrSettings(), CarDrState(), price, expected) is need


def test_the_start_threshold_follows_the_aggressiveness() -> None:
    """T = 100, A = 100: T_on = 50."""
    settings = DrSettings(aggressiveness=100)
    assert read_need(settings, CarDrState(), 39.0) is ReadNeed.NONE
    assert read_need(settings, CarDrState(), 49.0) is ReadNeed.APPROACH
    assert read_need(settings, CarDrState(), 51.0) is ReadNeed.DATA


@pytest.mark.parametrize("threshold", [0.0, -20.0])
def test_a_zero_or_negative_threshold_has_a_band(threshold: float) -> None:
    """A share of the threshold would be no band at 0 and an inverted one below."""
    settings = DrSettings(threshold=threshold, aggressiveness=50)
    start = settings.start_threshold
    assert read_need(settings, CarDrState(), start - 5.0) is ReadNeed.APPROACH
    assert read_need(settings, CarDrState(), start - 15.0) is ReadNeed.NONE


@given(SETTINGS, STATES, st.none() | PRICES, st.none() | PRICES)
def test_a_paused_car_is_always_read(
    settings: DrSettings,
    state: CarDrState,
    price: float | None,
    expected: float | None,
) -> None:
    """An owner restarting a car DR holds must be seen, whatever the prices say."""
    paused = CarDrState(paused_by_dr=True, skipped=state.skipped)
    assert read_need(settings, paused, price, expected) is ReadNeed.DATA


@given(SETTINGS, STATES, PRICES, PRICES, st.none() | PRICES)
def test_a_higher_price_never_needs_less(
    settings: DrSettings,
    state: CarDrState,
    low: float,
    high: float,
    expected: float | None,
) -> None:
    """Monotonic in the price: the need cannot fall as the price rises."""
    low, high = sorted((low, high))
    assert read_need(settings, state, low, expected) <= read_need(
        settings, state, high, expected
    )


@given(SETTINGS, STATES, PRICES, PRICES, PRICES)
def test_a_higher_forecast_never_needs_less(
    settings: DrSettings, state: CarDrState, price: float, low: float, high: float
) -> None:
    """Monotonic in the forecast too, and knowing none needs no more than knowing one."""
    low, high = sorted((low, high))
    need = read_need(settings, state, price, low)
    assert read_need(settings, state, price, None) <= need
    assert need <= read_need(settings, state, price, high)


@given(WATCHED, PRICES, st.none() | PRICES)
def test_the_approach_reads_exactly_the_band_and_forecast_spikes(
    settings: DrSettings, price: float, expected: float | None
) -> None:
    """Below T_on, a car is read ahead iff the price is in the band or a spike is expected."""
    start = settings.start_threshold
    band = approach_band(start)
    assert band >= APPROACH_BAND
    need = read_need(settings, CarDrState(), price, expected)
    if price > start:
        assert need is ReadNeed.DATA
        return
    near = price > start - band
    spike = expected is not None and expected > start
    assert (need is ReadNeed.APPROACH) == (near or spike)
    assert (need is ReadNeed.NONE) == (not near and not spike)


@given(SETTINGS, PRICES, st.none() | PRICES)
def test_a_car_dr_will_not_pause_needs_nothing(
    settings: DrSettings, price: float, expected: float | None
) -> None:
    """Opted out, overridden or skipped for the event: no read is worth its cost."""
    for state in (CarDrState(overridden=True), CarDrState(skipped=True)):
        assert read_need(settings, state, price, expected) is ReadNeed.NONE
    off = DrSettings(enabled=False, threshold=settings.threshold)
    assert read_need(off, CarDrState(), price, expected) is ReadNeed.NONE


NOW = datetime(2026, 7, 1, 17, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("reason", "online", "on_demand", "need", "first"),
    [
        (Reason.PRICE_ABOVE_THRESHOLD, True, False, ReadNeed.NONE, ReadFirst.CROSSING),
        (Reason.PRICE_ABOVE_THRESHOLD, False, False, ReadNeed.NONE, ReadFirst.NO),
        (Reason.NOT_CHARGING, False, True, ReadNeed.NONE, ReadFirst.CROSSING),
        (Reason.ASLEEP, False, True, ReadNeed.NONE, ReadFirst.CROSSING),
        (Reason.ASLEEP, True, False, ReadNeed.APPROACH, ReadFirst.NO),
        (Reason.PRICE_BELOW_THRESHOLD, True, True, ReadNeed.APPROACH, ReadFirst.AHEAD),
        (Reason.PRICE_BELOW_THRESHOLD, True, True, ReadNeed.NONE, ReadFirst.NO),
        (Reason.PRICE_BELOW_THRESHOLD, True, False, ReadNeed.APPROACH, ReadFirst.NO),
    ],
)
def test_read_first(
    reason: Reason, online: bool, on_demand: bool, need: ReadNeed, first: ReadFirst
) -> None:
    """A crossing is read where the car is online or read on demand; ahead only on demand."""
    assert (
        read_first(reason, online=online, reads_on_demand=on_demand, need=lambda: need)
        is first
    )


BEFORE = NOW - timedelta(minutes=5)


@pytest.mark.parametrize(
    ("read_for", "read_at", "online", "stale", "updated", "fresh"),
    [
        (
            BEFORE,
            NOW - timedelta(minutes=5),
            True,
            False,
            NOW - timedelta(minutes=5),
            True,
        ),
        (BEFORE, NOW - timedelta(minutes=5), False, True, None, True),  # asleep: listed
        (BEFORE, NOW - timedelta(minutes=7), False, True, None, False),  # too old
        (NOW - timedelta(minutes=10), NOW, True, False, NOW, False),  # another interval
        (None, None, True, False, NOW, False),
        (BEFORE, NOW, True, True, NOW, False),  # the read failed: older data
        (BEFORE, NOW, True, False, None, False),
        (BEFORE, NOW, True, False, NOW - timedelta(minutes=7), False),
    ],
)
def test_read_ahead_fresh(
    read_for: datetime | None,
    read_at: datetime | None,
    online: bool,
    stale: bool,
    updated: datetime | None,
    fresh: bool,
) -> None:
    """A read ahead counts for the next interval while it is recent and really read."""
    assert (
        read_ahead_fresh(
            read_for,
            read_at,
            BEFORE,
            NOW,
            online=online,
            stale=stale,
            updated_at=updated,
        )
        is fresh
    )
