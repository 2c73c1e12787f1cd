"""Net CO2 and retail value: properties over random pauses and draw-backs, and the totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.tesladr.dr import DrEvent, Ledger, Outcome, Price
from custom_components.tesladr.dr.values import RateValue, ValueTotals

T0 = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
FIVE = timedelta(minutes=5)
VIN = "VIN"

rates = st.floats(0, 1500, allow_nan=False)
paused_rates = st.lists(st.tuples(rates, rates), min_size=1, max_size=12)
draws = st.lists(
    st.tuples(st.floats(0, 12, allow_nan=False), rates, rates), max_size=24
)


def pause(
    ledger: Ledger, rows: list[tuple[float, float]], power: float, need: float | None
) -> DrEvent:
    """A pause over one interval per row, each at its (g/kWh, USD/kWh) rates and a price."""
    event = ledger.start(VIN, "NODE", T0, power, need)
    for index, (moer, retail) in enumerate(rows):
        start = T0 + index * FIVE
        event.account(Price(100.0, start, start + FIVE))
        event.account_moer(start, start + FIVE, moer)
        event.account_retail(start, start + FIVE, retail / 1000)
    ended = ledger.end(VIN, T0 + len(rows) * FIVE, Outcome.RESUMED)
    assert ended is event
    return event


def draw_back(
    ledger: Ledger, rows: list[tuple[float, float, float]], start: int
) -> None:
    """Draw `kwh` in each interval after `start`, at that interval's rates."""
    for index, (kwh, moer, retail) in enumerate(rows, start=start):
        begin = T0 + index * FIVE
        ledger.draw(
            VIN, Price(40.0, begin, begin + FIVE), kwh, moer=moer, retail=retail / 1000
        )


@settings(max_examples=150, deadline=None)
@given(
    rows=paused_rates,
    drawn=draws,
    power=st.floats(0.5, 19.2),
    need=st.one_of(st.none(), st.floats(0, 20)),
)
def test_energy_is_conserved(
    rows: list[tuple[float, float]],
    drawn: list[tuple[float, float, float]],
    power: float,
    need: float | None,
) -> None:
    """Drawn back never exceeds what was paused; the draws per interval add up to it."""
    ledger = Ledger()
    event = pause(ledger, rows, power, need)
    draw_back(ledger, drawn, len(rows) + 1)
    assert 0 <= event.drawn_kwh <= event.kwh + 1e-9
    assert sum(event.draws.values()) == pytest.approx(event.drawn_kwh, abs=1e-9)
    assert event.owed_kwh + event.drawn_kwh == pytest.approx(event.kwh, abs=1e-9)
    assert event.drawn_kwh == pytest.approx(
        min(event.kwh, sum(kwh for kwh, _, _ in drawn)), abs=1e-9
    )
    # Each rate values the same energy as the price: the same intervals, the same need.
    assert event.co2.kwh == pytest.approx(event.kwh)
    assert event.retail.kwh == pytest.approx(event.kwh)


@settings(max_examples=150, deadline=None)
@given(rows=paused_rates, power=st.floats(0.5, 19.2))
def test_nothing_drawn_back_net_is_gross(
    rows: list[tuple[float, float]], power: float
) -> None:
    """A car that never draws its energy back: every net is its gross."""
    event = pause(Ledger(), rows, power, None)
    assert event.net_kg_co2 == event.kg_co2
    assert event.net_retail_usd == event.retail_usd
    assert event.net_usd == event.usd


@settings(max_examples=150, deadline=None)
@given(rows=paused_rates, drawn=draws, power=st.floats(0.5, 19.2))
def test_net_is_at_most_gross_and_kept_when_drawn_no_dearer(
    rows: list[tuple[float, float]],
    drawn: list[tuple[float, float, float]],
    power: float,
) -> None:
    """Draw-back costs never add value; drawn at rates no higher, the net stays >= 0."""
    ledger = Ledger()
    event = pause(ledger, rows, power, None)
    lowest_moer = min(moer for moer, _ in rows)
    lowest_retail = min(retail for _, retail in rows)
    no_dearer = [
        (kwh, min(moer, lowest_moer), min(retail, lowest_retail))
        for kwh, moer, retail in drawn
    ]
    draw_back(ledger, no_dearer, len(rows))
    assert event.kg_co2 is not None and event.net_kg_co2 is not None
    assert event.retail_usd is not None and event.net_retail_usd is not None
    assert event.net_kg_co2 <= event.kg_co2 + 1e-9
    assert event.net_retail_usd <= event.retail_usd + 1e-9
    assert event.net_kg_co2 >= -1e-9
    assert event.net_retail_usd >= -1e-9


@settings(max_examples=100, deadline=None)
@given(rows=paused_rates, drawn=draws, missing=st.integers(0, 23))
def test_a_draw_back_rate_not_known_makes_the_net_unknown(
    rows: list[tuple[float, float]],
    drawn: list[tuple[float, float, float]],
    missing: int,
) -> None:
    """One interval of energy drawn without its rate: net unknown until the rate is given."""
    ledger = Ledger()
    event = pause(ledger, rows, 7.0, None)
    start = len(rows)
    for index, (kwh, moer, retail) in enumerate(drawn, start=start):
        begin = T0 + index * FIVE
        known = index - start != missing
        ledger.draw(
            VIN,
            Price(40.0, begin, begin + FIVE),
            kwh,
            moer=moer if known else None,
            retail=retail / 1000 if known else None,
        )
    pending = event.pending_draws()
    if not pending:
        assert event.net_kg_co2 is not None
        return
    assert pending == [T0 + (start + missing) * FIVE]
    assert (event.net_kg_co2, event.net_retail_usd) == (None, None)
    assert ledger.co2_totals(VIN) == ValueTotals(
        gross=event.co2.gross / 1000, net=0.0, net_unknown=1, known=True
    )
    event.draw_rates(pending[0], moer=0.0, retail=0.0)
    assert event.net_kg_co2 is not None
    assert event.net_retail_usd is not None


def test_totals_by_hand_keep_pruned_events_and_survive_a_restart() -> None:
    """Two events: one drawn back at known rates, one at an unknown rate; then pruned."""
    ledger = Ledger()
    first = pause(ledger, [(400.0, 500.0)], 6.0, None)  # 0.5 kWh: 200 g, 0.25 USD
    draw_back(ledger, [(0.5, 100.0, 200.0)], 2)  # 50 g, 0.10 USD drawn back
    second = ledger.start(VIN, "NODE", T0 + 4 * FIVE, 6.0, None)
    second.account_moer(T0 + 4 * FIVE, T0 + 5 * FIVE, 800.0)  # 400 g
    second.account_retail(T0 + 4 * FIVE, T0 + 5 * FIVE, 0.5)
    ledger.end(VIN, T0 + 5 * FIVE, Outcome.RESUMED)
    second.kwh = 0.5
    second.draw(Price(40.0, T0 + 6 * FIVE, T0 + 7 * FIVE), 0.2)  # no rate
    assert first.net_kg_co2 == pytest.approx(0.15)
    co2 = ledger.co2_totals(VIN)
    assert co2 == ValueTotals(
        gross=pytest.approx(0.6), net=pytest.approx(0.15), net_unknown=1, known=True
    )
    retail = ledger.retail_totals(VIN)
    assert (retail.gross, retail.net) == (pytest.approx(0.5), pytest.approx(0.15))
    assert ledger.co2_totals("OTHER") == ValueTotals()
    ledger.prune(T0 + timedelta(days=31))
    assert ledger.events == []
    assert ledger.co2_totals(VIN) == co2
    restored = Ledger.from_dict(ledger.as_dict())
    assert restored.co2_totals(VIN) == co2
    assert restored.retail_totals(VIN) == retail


def test_pending_draws_are_the_recent_ones() -> None:
    """Draw-back intervals still missing a rate, of events that drew within the tail."""
    ledger = Ledger()
    event = pause(ledger, [(400.0, 500.0)], 6.0, None)
    # Nothing drawn in an interval: nothing to give a rate.
    event.draw(Price(40.0, T0 + FIVE, T0 + 2 * FIVE), 0.0)
    assert event.draws == {}
    event.drawn_through = None
    assert ledger.pending_draws(T0, timedelta(hours=1)) == []
    event.draw(Price(40.0, T0 + FIVE, T0 + 2 * FIVE), 0.1)
    moment = T0 + FIVE
    assert ledger.pending_draws(T0 + 2 * FIVE, timedelta(hours=1)) == [
        (event, [moment])
    ]
    assert ledger.pending_draws(T0 + timedelta(hours=2), timedelta(hours=1)) == []


def test_rate_value_and_totals_round_trip() -> None:
    """The stored forms read back equal."""
    value = RateValue()
    value.add("a", 2.0, 1.5)
    value.add("a", 9.0, 1.5)  # once per interval
    value.add("b", 2.0, 0.0)  # nothing paused in it
    value.draw_rates["c"] = 1.0
    assert (value.gross, value.kwh, list(value.rates)) == (3.0, 1.5, ["a"])
    assert RateValue.from_dict(value.as_dict()) == value
    assert value.net({"c": 1.0}, 0.0) == pytest.approx(2.0)
    assert value.net({"c": 1.0}, 0.5) is None  # drawn before draws were kept
    totals = ValueTotals().plus(1.0, None) + ValueTotals().plus(2.0, 1.5)
    assert totals == ValueTotals(3.0, 1.5, 1, True)
    assert ValueTotals.from_list(totals.as_list()) == totals
    assert ValueTotals().plus(None, None) == ValueTotals()
