"""The quarter-hour forecast: 15-minute prices over day-ahead hours, nothing invented."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, strategies as st

from custom_components.tesladr.caiso import PriceInterval
from custom_components.tesladr.caiso.forecast import (
    QUARTER,
    ForecastPrice,
    Source,
    quarter_forecast,
)

NODE = "TH_NP15_GEN-APND"
T0 = datetime(2026, 7, 14, 7, tzinfo=UTC)  # local midnight in California (PDT)
HOUR = timedelta(hours=1)


def hour(index: int, price: float) -> PriceInterval:
    start = T0 + index * HOUR
    return PriceInterval(NODE, start, start + HOUR, price)


def quarter(index: int, price: float) -> PriceInterval:
    start = T0 + index * QUARTER
    return PriceInterval(NODE, start, start + QUARTER, price)


def test_a_day_ahead_hour_prices_its_four_quarters() -> None:
    assert quarter_forecast([], [hour(0, 42.0)]) == [
        ForecastPrice(T0 + k * QUARTER, T0 + (k + 1) * QUARTER, 42.0, Source.DAY_AHEAD)
        for k in range(4)
    ]


def test_fifteen_minute_prices_stand_over_the_day_ahead_hour() -> None:
    forecast = quarter_forecast([quarter(1, 300.0), quarter(2, 310.0)], [hour(0, 42.0)])
    assert [(p.price, p.source) for p in forecast] == [
        (42.0, Source.DAY_AHEAD),
        (300.0, Source.FIFTEEN_MINUTE),
        (310.0, Source.FIFTEEN_MINUTE),
        (42.0, Source.DAY_AHEAD),
    ]


def test_a_repriced_quarter_counts_once_at_its_last_price() -> None:
    forecast = quarter_forecast([quarter(0, 50.0), quarter(0, 55.0)], [])
    assert [(p.start, p.price) for p in forecast] == [(T0, 55.0)]


def test_a_gap_stays_a_gap() -> None:
    forecast = quarter_forecast([], [hour(0, 10.0), hour(2, 30.0)])
    assert [p.start for p in forecast] == [
        T0 + k * QUARTER for k in (0, 1, 2, 3, 8, 9, 10, 11)
    ]


def test_only_quarters_that_end_after_the_moment_asked() -> None:
    after = T0 + timedelta(minutes=20)
    forecast = quarter_forecast([], [hour(0, 10.0)], after=after)
    assert [p.start for p in forecast] == [
        T0 + QUARTER,
        T0 + 2 * QUARTER,
        T0 + 3 * QUARTER,
    ]


def test_an_hour_given_twice_prices_each_moment_once() -> None:
    forecast = quarter_forecast([], [hour(0, 10.0), hour(0, 99.0)])
    assert [p.price for p in forecast] == [10.0] * 4


def test_an_interval_off_the_quarter_grid_keeps_its_short_tail() -> None:
    odd = PriceInterval(NODE, T0, T0 + timedelta(minutes=20), 5.0)
    forecast = quarter_forecast([], [odd])
    assert [(p.start, p.end) for p in forecast] == [
        (T0, T0 + QUARTER),
        (T0 + QUARTER, T0 + timedelta(minutes=20)),
    ]


@given(
    hours=st.dictionaries(st.integers(0, 47), st.floats(-150, 2000), max_size=48),
    quarters=st.dictionaries(st.integers(0, 191), st.floats(-150, 2000), max_size=30),
)
def test_every_priced_moment_once_with_the_closest_market(
    hours: dict[int, float], quarters: dict[int, float]
) -> None:
    """Sorted, no overlap, every moment either market prices kept, the 15-minute one first."""
    forecast = quarter_forecast(
        [quarter(i, p) for i, p in quarters.items()],
        [hour(i, p) for i, p in hours.items()],
    )
    assert all(a.end <= b.start for a, b in pairwise(forecast))
    by_start = {p.start: p for p in forecast}
    for index, price in quarters.items():
        assert by_start[T0 + index * QUARTER].price == price
        assert by_start[T0 + index * QUARTER].source is Source.FIFTEEN_MINUTE
    for index, price in hours.items():
        for k in range(4):
            start = T0 + index * HOUR + k * QUARTER
            if (start - T0) // QUARTER not in quarters:
                assert by_start[start] == ForecastPrice(
                    start, start + QUARTER, price, Source.DAY_AHEAD
                )
    assert len(forecast) == len(
        set(quarters) | {i * 4 + k for i in hours for k in range(4)}
    )
