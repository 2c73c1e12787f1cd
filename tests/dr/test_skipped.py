"""Intervals OASIS skipped still count in the ledger, at the price before them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import itertools

from hypothesis import given, strategies as st

from custom_components.tesladr.dr import Ledger, Outcome, Price, with_skipped

T0 = datetime(2026, 7, 15, 17, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def interval(k: int, value: float) -> Price:
    return Price(value, T0 + k * FIVE, T0 + (k + 1) * FIVE)


def test_a_skipped_interval_is_filled_at_the_price_before_it() -> None:
    filled = with_skipped([interval(0, 300), interval(2, 500), interval(3, 80)])
    assert filled == [
        interval(0, 300),
        interval(1, 300),
        interval(2, 500),
        interval(3, 80),
    ]


def test_a_car_paused_through_a_skipped_interval_counts_its_energy() -> None:
    """Without the fill the ledger would miss the middle five minutes (0.6 kWh at 7.2 kW)."""
    ledger = Ledger()
    event = ledger.start("vin", "TH_NP15_GEN-APND", T0, 7.2, None)
    for price in with_skipped([interval(0, 300), interval(2, 300)]):
        event.account(price)
    assert round(event.kwh, 6) == 1.8
    assert round(event.usd, 6) == 0.54


@given(st.sets(st.integers(0, 40), min_size=1))
def test_filled_intervals_are_contiguous_and_keep_every_published_one(
    published: set[int],
) -> None:
    given_prices = [interval(k, float(k)) for k in published]
    filled = with_skipped(given_prices)
    assert [p.start for p in filled] == [
        T0 + k * FIVE for k in range(min(published), max(published) + 1)
    ]
    assert set(given_prices) <= set(filled)
    for before, after in itertools.pairwise(filled):
        if after not in given_prices:
            assert after.value == before.value


def test_published_intervals_are_accounted_once_and_not_after_the_tail() -> None:
    """Open events and those ended within the tail collect the intervals they overlap."""
    ledger = Ledger()
    ledger.start("a", "NODE", T0 + 2 * FIVE, 6.0, None)  # open, from 17:10
    ledger.start("b", "NODE", T0, 6.0, None)
    ledger.end("b", T0 + FIVE, Outcome.RESUMED)
    ledger.start("c", "OTHER", T0, 6.0, None)
    ledger.end("c", T0 + timedelta(minutes=1), Outcome.RESUMED)
    asked: list[str] = []

    def published(node: str) -> list[Price]:
        asked.append(node)
        return [interval(0, 100), interval(2, 200), interval(3, 300)]

    tail = timedelta(minutes=30)
    now = T0 + timedelta(minutes=1, seconds=1) + tail
    # "c" ended longer ago than the tail: left out, its node never asked for.
    assert ledger.account_published(published, now, tail) is True
    assert asked == ["NODE"]
    a, b, c = ledger.events
    assert list(a.prices.values()) == [200, 300]  # before its start: not its business
    assert list(b.prices.values()) == [100]  # the skipped 17:05 is after its end
    assert c.prices == {}
    # Accounting again adds nothing.
    ledger.account_published(published, now, tail)
    assert [list(e.prices.values()) for e in ledger.events] == [[200, 300], [100], []]
