"""The ledger's cause, CO2 avoided at the marginal rate, and the owner's retail value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.tesladr.dr import (
    Action,
    Decision,
    Ledger,
    Outcome,
    Price,
    Reason,
)
from custom_components.tesladr.dr.ledger import Cause, DrEvent, cause_of

NOW = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
VIN = "5YJ3E1EA7KF000001"
NODE = "TH_NP15_GEN-APND"
FIVE = timedelta(minutes=5)


def test_cause_co2_and_retail_by_hand() -> None:
    """7 kW paused 10 minutes at 400 and 600 g/kWh, 0.45 USD/kWh retail."""
    ledger = Ledger()
    event = ledger.start(VIN, NODE, NOW, 7.0, None, cause=Cause.FLEX_ALERT)
    assert event.cause is Cause.FLEX_ALERT
    for index, moer in enumerate((400.0, 600.0)):
        start = NOW + FIVE * index
        for _ in range(2):  # an interval accounted twice counts once
            event.account_moer(start, start + FIVE, moer)
            event.account_retail(start, start + FIVE, 0.45)
    ledger.end(VIN, NOW + 2 * FIVE, Outcome.RESUMED)
    per_interval = 7 * 5 / 60  # kWh
    assert event.kg_co2 == pytest.approx(per_interval * (400 + 600) / 1000)
    assert event.kg_co2 == pytest.approx(0.58333, abs=1e-5)
    assert event.retail_usd == pytest.approx(2 * per_interval * 0.45)
    # Nothing drawn back yet: net is gross.
    assert event.net_kg_co2 == event.kg_co2
    assert event.net_retail_usd == event.retail_usd


def test_drawing_back_nets_co2_and_retail_at_the_rates_then() -> None:
    """Energy drawn back later emits at its own interval's rate and costs its own tariff."""
    ledger = Ledger()
    event = ledger.start(VIN, NODE, NOW, 6.0, None, cause=Cause.EMISSIONS)
    event.account(Price(100, NOW, NOW + FIVE))
    event.account_moer(NOW, NOW + FIVE, 500.0)
    event.account_retail(NOW, NOW + FIVE, 0.50)
    ledger.end(VIN, NOW + FIVE, Outcome.RESUMED)
    assert event.kwh == pytest.approx(0.5)
    later = NOW + timedelta(hours=3)
    # An interval drawn without its rates: the net is unknown, not the gross.
    ledger.draw(VIN, Price(20, later, later + FIVE), 0.2)
    assert (event.net_kg_co2, event.net_retail_usd) == (None, None)
    assert event.kg_co2 == pytest.approx(0.25)  # the gross stays beside it
    assert event.pending_draws() == [later]
    ledger.draw(
        VIN, Price(20, later + FIVE, later + 2 * FIVE), 1.0, moer=200.0, retail=0.25
    )
    assert event.drawn_kwh == pytest.approx(0.5)
    assert event.net_kg_co2 is None
    # The first interval's rates found later (MIDAS's answer came after the draw).
    assert event.draw_rates(later, moer=300.0) is True
    assert event.net_kg_co2 == pytest.approx((0.5 * 500 - 0.2 * 300 - 0.3 * 200) / 1000)
    assert event.net_retail_usd is None
    assert event.draw_rates(later, moer=999.0, retail=0.30) is True
    assert event.draw_rates(later, moer=999.0, retail=0.99) is False  # known already
    assert event.net_kg_co2 == pytest.approx((0.5 * 500 - 0.2 * 300 - 0.3 * 200) / 1000)
    assert event.net_retail_usd == pytest.approx(0.5 * 0.50 - 0.2 * 0.30 - 0.3 * 0.25)
    assert event.pending_draws() == []
    # An interval never drawn takes no rate.
    assert event.draw_rates(NOW, moer=1.0) is False


def test_an_event_without_rates_has_no_figure() -> None:
    """A price-only event has no CO2 or retail figure, gross or net, drawn back or not."""
    ledger = Ledger()
    event = ledger.start(VIN, NODE, NOW, 6.0, None)
    event.account(Price(100, NOW, NOW + FIVE))
    ledger.end(VIN, NOW + FIVE, Outcome.RESUMED)
    ledger.draw(VIN, Price(20, NOW + FIVE, NOW + 2 * FIVE), 1.0, moer=200, retail=0.3)
    assert event.cause is Cause.PRICE
    assert (event.kg_co2, event.net_kg_co2) == (None, None)
    assert (event.retail_usd, event.net_retail_usd) == (None, None)
    assert not ledger.co2_totals(VIN).known


def test_need_caps_and_an_early_end_reaccounts() -> None:
    """Capped by the energy still needed; an end inside an interval counts only its part."""
    ledger = Ledger()
    event = ledger.start(VIN, NODE, NOW, 12.0, 0.5)
    for index in range(2):
        start = NOW + FIVE * index
        event.account_moer(start, start + FIVE, 300.0)
        event.account_retail(start, start + FIVE, 0.4)
    assert event.co2.kwh == pytest.approx(0.5)  # 1 kWh paused, 0.5 needed
    assert event.kg_co2 == pytest.approx(0.15)
    # An interval wholly before the pause adds nothing.
    event.account_moer(NOW - FIVE, NOW, 900.0)
    event.account_retail(NOW - FIVE, NOW, 0.9)
    assert event.kg_co2 == pytest.approx(0.15)
    ledger.end(VIN, NOW + timedelta(minutes=2), Outcome.OVERRIDDEN)
    paused = 12 * 2 / 60  # kWh in the two minutes
    assert event.co2.kwh == pytest.approx(paused)
    assert event.kg_co2 == pytest.approx(paused * 300 / 1000)
    assert event.retail_usd == pytest.approx(paused * 0.4)


def test_round_trip_and_older_events_load() -> None:
    """Stored with the event; events stored before the signals load as the price's."""
    ledger = Ledger()
    event = ledger.start(VIN, NODE, NOW, 7.0, None, cause=Cause.FLEX_ALERT)
    event.account_moer(NOW, NOW + FIVE, 450.0)
    event.account_retail(NOW, NOW + FIVE, 0.3)
    ledger.end(VIN, NOW + FIVE, Outcome.RESUMED)
    ledger.draw(VIN, Price(20, NOW + FIVE, NOW + 2 * FIVE), 0.1, moer=100.0)
    loaded = Ledger.from_dict(ledger.as_dict())
    assert loaded.events[0] == event
    older = event.as_dict()
    for name in ("cause", "co2", "retail", "draws"):
        del older[name]
    old = DrEvent.from_dict(older)
    assert old.cause is Cause.PRICE
    assert (old.kg_co2, old.retail_usd, old.co2.rates) == (None, None, {})


def test_cause_of_a_decision() -> None:
    """A signal's pause is the signal's; any other, or a pause before a restart, the price's."""
    assert cause_of(Decision(Action.PAUSE, Reason.FLEX_ALERT)) is Cause.FLEX_ALERT
    assert cause_of(Decision(Action.PAUSE, Reason.HIGH_EMISSIONS)) is Cause.EMISSIONS
    assert cause_of(Decision(Action.PAUSE, Reason.PRICE_ABOVE_THRESHOLD)) is Cause.PRICE
    assert cause_of(None) is Cause.PRICE
