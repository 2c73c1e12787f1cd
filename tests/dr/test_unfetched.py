"""Intervals a pause spans that the prices never bring still count in the ledger.

A held pause (churn control keeps a car paused through a dip for its minimum length) can
run into an OASIS outage and a Home Assistant restart: the restarted price coordinator asks
OASIS for the last hour only, so an interval in between is never fetched, though the car did
not draw its energy in it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.tesladr.dr import Ledger, Outcome, Price

T0 = datetime(2026, 11, 2, 2, 40, tzinfo=UTC)
FIVE = timedelta(minutes=5)
TAIL = timedelta(minutes=70)
KW = 7.2
ONE_INTERVAL_KWH = KW * 5 / 60  # 0.6


def interval(k: int, value: float) -> Price:
    return Price(value, T0 + k * FIVE, T0 + (k + 1) * FIVE)


def held_through_a_dip() -> Ledger:
    """A pause from T0 held through a dip (72, 80 < the resume band of 95) to 03:15."""
    ledger = Ledger()
    ledger.start("vin", "NODE", T0, KW, None)
    before = [interval(0, 150), interval(1, 120), interval(2, 72), interval(3, 80)]
    ledger.account_published(lambda _node: before, T0 + 4 * FIVE, TAIL)
    return ledger


def test_an_interval_before_the_first_fetched_one_is_filled_at_the_price_before_it() -> (
    None
):
    """After the restart OASIS answers from 03:05 on: 03:00 comes in at the dip's price."""
    ledger = held_through_a_dip()
    ledger.end("vin", T0 + 7 * FIVE, Outcome.RESUMED)
    after_restart = [interval(5, 85), interval(6, 90), interval(7, 60)]
    assert ledger.account_published(lambda _node: after_restart, T0 + 9 * FIVE, TAIL)
    (event,) = ledger.events
    assert sorted(event.prices.values()) == sorted([150, 120, 72, 80, 80, 85, 90])
    assert event.prices[(T0 + 4 * FIVE).isoformat()] == 80
    assert event.kwh == pytest.approx(7 * ONE_INTERVAL_KWH)
    usd = ONE_INTERVAL_KWH * (150 + 120 + 72 + 80 + 80 + 85 + 90) / 1000
    assert event.usd == pytest.approx(usd)
    # Accounting again adds nothing.
    assert not ledger.account_published(
        lambda _node: after_restart, T0 + 10 * FIVE, TAIL
    )
    assert event.kwh == pytest.approx(7 * ONE_INTERVAL_KWH)


def test_an_ended_event_the_prices_never_reached_again_is_completed_after_its_tail() -> (
    None
):
    """OASIS down past the tail: the pause's last intervals count at the last price known."""
    ledger = held_through_a_dip()
    ended = T0 + 6 * FIVE + timedelta(minutes=2)  # inside 03:10
    ledger.end("vin", ended, Outcome.RESUMED_STALE)
    (event,) = ledger.events

    def nothing(_node: str) -> list[Price]:
        return []

    # Within the tail the prices may still come: nothing is guessed.
    assert not ledger.account_published(nothing, ended + TAIL, TAIL)
    assert len(event.prices) == 4
    assert ledger.account_published(nothing, ended + TAIL + FIVE, TAIL)
    assert [event.prices[(T0 + k * FIVE).isoformat()] for k in range(7)] == [
        150,
        120,
        72,
        80,
        80,
        80,
        80,
    ]
    assert event.kwh == pytest.approx(KW * (ended - T0).total_seconds() / 3600)
    assert not ledger.account_published(nothing, ended + 2 * TAIL, TAIL)


def test_an_ended_event_gap_before_its_first_known_price_takes_that_price() -> None:
    """A pause whose first intervals no answer brought: they count at the first price known."""
    ledger = Ledger()
    ledger.start("vin", "NODE", T0 + timedelta(minutes=1), KW, 10.0)
    ledger.account_published(lambda _node: [interval(2, 130)], T0 + 3 * FIVE, TAIL)
    ledger.end("vin", T0 + 3 * FIVE, Outcome.RESUMED)
    assert ledger.account_published(lambda _node: [], T0 + 3 * FIVE + 2 * TAIL, TAIL)
    (event,) = ledger.events
    assert [event.prices[(T0 + k * FIVE).isoformat()] for k in range(3)] == [
        130,
        130,
        130,
    ]
    assert event.kwh == pytest.approx(KW * 14 / 60)
