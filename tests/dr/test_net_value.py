"""Net value: the wholesale cost a pause avoided, less drawing that energy back later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.tesladr.dr import DrEvent, Ledger, Outcome, Price

T0 = datetime(2018, 7, 25, 0, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)


def interval(index: int, value: float) -> Price:
    """The `index`-th 5-minute interval from T0."""
    start = T0 + index * FIVE
    return Price(value, start, start + FIVE)


def paused(ledger: Ledger, first: int, last: int, value: float) -> DrEvent:
    """A 7 kW car paused over intervals first..last, each at `value`."""
    event = ledger.start("VIN", "DLAP", T0 + first * FIVE, 7.0, None)
    for index in range(first, last + 1):
        event.account(interval(index, value))
    ended = ledger.end("VIN", T0 + (last + 1) * FIVE, Outcome.RESUMED)
    assert ended is event
    return event


def test_net_is_gross_less_the_energy_drawn_back() -> None:
    """Paused 10 min at 1,000; drew it back at 40: net = gross less 40/MWh of it."""
    ledger = Ledger()
    event = paused(ledger, 0, 1, 1000.0)
    kwh = 7 * 10 / 60
    assert event.usd == pytest.approx(kwh)
    ledger.draw("VIN", interval(2, 40.0), 7 * 5 / 60)
    ledger.draw("VIN", interval(3, 40.0), 7 * 5 / 60)
    assert event.drawn_kwh == pytest.approx(kwh)
    assert event.owed_kwh == 0
    assert event.net_usd == pytest.approx(kwh - kwh * 40 / 1000)
    # The gross value is kept beside it.
    assert event.usd == pytest.approx(kwh)


def test_energy_never_drawn_back_keeps_its_gross_value() -> None:
    """A car that left short (or stopped needing it) drew nothing back: net equals gross."""
    event = paused(Ledger(), 0, 2, 300.0)
    assert event.net_usd == event.usd


def test_drawing_back_at_a_dearer_price_loses_value() -> None:
    """Paused at 110, drew back at 150: the pause cost money."""
    ledger = Ledger()
    event = paused(ledger, 0, 0, 110.0)
    ledger.draw("VIN", interval(1, 150.0), 1.0)
    assert event.net_usd < 0


def test_oldest_pause_is_paid_back_first() -> None:
    """First in, first out over the car's closed events; other cars untouched."""
    ledger = Ledger()
    first = paused(ledger, 0, 0, 500.0)
    second = paused(ledger, 2, 2, 500.0)
    other = ledger.start("OTHER", "DLAP", T0, 7.0, None)
    ledger.draw("VIN", interval(3, 20.0), 7 * 5 / 60 + 0.1)
    assert first.owed_kwh == 0
    assert second.drawn_kwh == pytest.approx(0.1)
    assert other.drawn_kwh == 0


def test_an_interval_is_drawn_once_and_only_after_the_pause() -> None:
    """Replaying an interval, or one before the pause ended, changes nothing."""
    ledger = Ledger()
    event = paused(ledger, 0, 1, 500.0)
    assert event.draw(interval(1, 20.0), 0.2) == 0.2  # ended with it, not after
    ledger.draw("VIN", interval(2, 20.0), 0.2)
    ledger.draw("VIN", interval(2, 20.0), 0.2)
    assert event.drawn_kwh == pytest.approx(0.2)
    open_event = Ledger().start("VIN", "DLAP", T0, 7.0, None)
    assert open_event.draw(interval(5, 20.0), 1.0) == 1.0
    assert open_event.drawn_kwh == 0


def test_drawn_energy_survives_a_restart() -> None:
    """The stored ledger keeps what was drawn back; an older store reads as nothing drawn."""
    ledger = Ledger()
    event = paused(ledger, 0, 1, 500.0)
    ledger.draw("VIN", interval(2, 30.0), 0.3)
    again = Ledger.from_dict(ledger.as_dict())
    restored = again.events[0]
    assert (restored.drawn_kwh, restored.drawn_usd, restored.drawn_through) == (
        event.drawn_kwh,
        event.drawn_usd,
        event.drawn_through,
    )
    old = event.as_dict()
    for key in ("drawn_kwh", "drawn_usd", "drawn_through"):
        del old[key]
    assert DrEvent.from_dict(old).net_usd == event.usd
    assert DrEvent.from_dict(old).drawn_through is None


def test_a_car_drawing_more_than_it_owes_pays_back_no_more() -> None:
    """Charging beyond what the pauses kept pays back only what they kept."""
    ledger = Ledger()
    event = paused(ledger, 0, 0, 500.0)
    ledger.start("OTHER", "DLAP", T0, 7.0, None)
    ledger.draw("VIN", interval(1, 20.0), 5.0)
    assert event.drawn_kwh == pytest.approx(event.kwh)
    assert event.drawn_usd == pytest.approx(event.kwh * 20 / 1000)


def test_a_cars_net_total_keeps_pruned_events_and_survives_a_restart() -> None:
    """Pruned after 30 days, an event's draw-back still counts against the car's total."""
    ledger = Ledger()
    event = paused(ledger, 0, 1, 1000.0)
    ledger.draw("VIN", interval(2, 40.0), 7 * 10 / 60)
    net = event.net_usd
    assert ledger.net_usd("VIN") == pytest.approx(net)
    ledger.prune(T0 + timedelta(days=31))
    assert ledger.events == []
    assert ledger.net_usd("VIN") == pytest.approx(net)
    assert Ledger.from_dict(ledger.as_dict()).net_usd("VIN") == pytest.approx(net)
    # A store from before net value: the archived gross alone.
    old = ledger.as_dict()
    del old["archived_drawn_usd"]
    assert Ledger.from_dict(old).net_usd("VIN") == pytest.approx(event.usd)
