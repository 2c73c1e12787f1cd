"""Likely DR events ahead, and the likely end of a pause, from forecast prices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, strategies as st

from custom_components.tesladr.caiso import PriceInterval
from custom_components.tesladr.caiso.forecast import (
    QUARTER,
    ForecastPrice,
    Source,
    quarter_forecast,
)
from custom_components.tesladr.dr import DrSettings, Price, decide
from custom_components.tesladr.dr.outlook import (
    LikelyEvent,
    expected_end,
    likely_events,
)
from custom_components.tesladr.dr.policy import Action, CarDrState, CarSnapshot

T0 = datetime(2026, 7, 14, 22, tzinfo=UTC)  # 15:00 Pacific
SETTINGS = DrSettings()  # T_on 100, resume below 95
CHARGING = CarSnapshot(
    online=True,
    plugged_in=True,
    charging=True,
    fast_charging=False,
    battery_level=70,
    in_caiso=True,
)


def quarters(
    *prices: float | None, source: Source = Source.DAY_AHEAD
) -> list[ForecastPrice]:
    """Consecutive quarters from T0; None leaves a gap."""
    return [
        ForecastPrice(T0 + i * QUARTER, T0 + (i + 1) * QUARTER, price, source)
        for i, price in enumerate(prices)
        if price is not None
    ]


def test_quarters_above_the_start_threshold_merge_into_one_event() -> None:
    forecast = quarters(50, 120, 180, 130, 60)
    assert likely_events(forecast, SETTINGS, T0) == [
        LikelyEvent(T0 + QUARTER, T0 + 4 * QUARTER, 180, frozenset({"day_ahead"}))
    ]


def test_an_event_lasts_through_the_resume_band_as_the_policy_does() -> None:
    """96 is below T_on but not below the band: a paused car stays paused there."""
    forecast = quarters(120, 96, 96, 94, 96)
    [event] = likely_events(forecast, SETTINGS, T0)
    assert (event.start, event.end) == (T0, T0 + 3 * QUARTER)


def test_prices_at_the_threshold_open_no_event() -> None:
    assert likely_events(quarters(100, 100, 99), SETTINGS, T0) == []


def test_a_gap_ends_an_event_and_the_next_quarter_may_open_another() -> None:
    forecast = quarters(150, None, 150, 150)
    assert [(e.start, e.end) for e in likely_events(forecast, SETTINGS, T0)] == [
        (T0, T0 + QUARTER),
        (T0 + 2 * QUARTER, T0 + 4 * QUARTER),
    ]


def test_a_fall_below_the_band_ends_one_event_and_a_rise_opens_the_next() -> None:
    forecast = quarters(150, 50, 150)
    assert len(likely_events(forecast, SETTINGS, T0)) == 2


def test_events_past_are_left_out_and_the_current_one_kept() -> None:
    forecast = quarters(150, 60, 150, 150)
    now = T0 + 2 * QUARTER + timedelta(minutes=3)
    [event] = likely_events(forecast, SETTINGS, now)
    assert event.start == T0 + 2 * QUARTER


def test_an_opted_out_car_has_no_likely_event() -> None:
    assert likely_events(quarters(500), DrSettings(enabled=False), T0) == []


def test_the_car_threshold_decides() -> None:
    """A=100 halves the threshold: 60 is a likely pause for that car, not for the default."""
    eager = DrSettings(aggressiveness=100)
    assert likely_events(quarters(60), SETTINGS, T0) == []
    assert len(likely_events(quarters(60), eager, T0)) == 1


def test_an_event_names_the_markets_it_rests_on() -> None:
    forecast = quarter_forecast(
        [PriceInterval("N", T0, T0 + QUARTER, 300.0)],
        [PriceInterval("N", T0, T0 + timedelta(hours=1), 140.0)],
    )
    [event] = likely_events(forecast, SETTINGS, T0)
    assert event.sources == {"fifteen_minute", "day_ahead"}
    assert event.max_price == 300.0
    assert event.end == T0 + timedelta(hours=1)


def test_expected_end_is_the_first_quarter_below_the_band() -> None:
    forecast = quarters(150, 96, 120, 90, 200)
    assert (
        expected_end(forecast, SETTINGS, T0 + timedelta(minutes=5)) == T0 + 3 * QUARTER
    )


def test_expected_end_is_now_when_the_current_quarter_is_already_below() -> None:
    now = T0 + timedelta(minutes=5)
    assert expected_end(quarters(50), SETTINGS, now) == now


def test_expected_end_unknown_without_a_price_for_now() -> None:
    assert expected_end(quarters(None, 50), SETTINGS, T0) is None
    assert expected_end([], SETTINGS, T0) is None


def test_expected_end_unknown_past_a_gap_or_the_horizon() -> None:
    assert expected_end(quarters(150, None, 50), SETTINGS, T0) is None
    assert expected_end(quarters(150, 150), SETTINGS, T0) is None


# Prices near the band's edges as often as anywhere else: that is where the rules differ.
EDGES = st.sampled_from([94.99, 95.0, 97.0, 100.0, 100.01])
PRICES = st.one_of(st.none(), EDGES, st.floats(-150, 400))


@given(st.lists(PRICES, max_size=40))
def test_a_likely_event_is_where_the_policy_would_hold_a_charging_car_paused(
    prices: list[float | None],
) -> None:
    """Step the real policy through the forecast as if it were the real-time price.

    Inside a likely event DR pauses (or holds) a charging car at every quarter; outside it,
    a charging car DR has not paused is left alone.
    """
    forecast = quarters(*prices)
    events = likely_events(forecast, SETTINGS, T0)
    state = CarDrState()
    previous_end: datetime | None = None
    for period in forecast:
        if previous_end != period.start:
            state = CarDrState()  # a gap: the forecast says nothing there
        price = Price(period.price, period.start, period.end)
        decision = decide(
            price, SETTINGS, _as_paused(CHARGING, state), state, period.start
        )
        inside = any(e.start <= period.start < e.end for e in events)
        assert inside == (decision.action in (Action.PAUSE, Action.HOLD))
        state = CarDrState(paused_by_dr=inside)
        previous_end = period.end


def _as_paused(car: CarSnapshot, state: CarDrState) -> CarSnapshot:
    """A car DR paused reads stopped; one it did not reads charging."""
    if not state.paused_by_dr:
        return car
    return CarSnapshot(
        online=True,
        plugged_in=True,
        charging=False,
        fast_charging=False,
        battery_level=car.battery_level,
        in_caiso=True,
    )
