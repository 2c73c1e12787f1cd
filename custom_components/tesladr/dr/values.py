"""What a pause's energy is worth at a rate other than the wholesale price, gross and net.

Two rates value a pause beside the wholesale LMP: the marginal operating emissions rate (MOER,
g CO2/kWh) and the owner's retail tariff (USD/kWh). For each, an event keeps a `RateValue`:
the rate of each interval paused and the energy valued at it (gross), and the rate of each
interval the car drew the energy back in. Net is gross less the drawn energy at the rate of
the interval it was drawn in.

A net figure is only given when every kWh drawn back has its rate: energy drawn at an unknown
rate (MIDAS had no value for that interval, or the store predates per-interval draws) makes the
net unknown (None), not gross. Pretending it emitted nothing would overstate what the pause
avoided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Energy drawn back but not in the per-interval draws below this is float rounding (the running
# total against the sum of the draws), not an older store's draw-back.
KWH_EPSILON = 1e-9


@dataclass(slots=True)
class RateValue:
    """One rate's valuation of one event; amounts are kWh x rate (g CO2, or USD)."""

    # The rate of each interval paused, by interval start (ISO): each counts once.
    rates: dict[str, float] = field(default_factory=dict)
    # The energy valued so far (counted against the car's need) and its worth.
    kwh: float = 0.0
    gross: float = 0.0
    # The rate of each interval the energy was drawn back in, where it is known.
    draw_rates: dict[str, float] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """Whether any paused interval had a rate: without one there is no figure at all."""
        return bool(self.rates)

    def add(self, key: str, rate: float, kwh: float) -> None:
        """Value `kwh` paused in the interval `key` at `rate` (once per interval)."""
        if key in self.rates or kwh <= 0:
            return
        self.rates[key] = rate
        self.kwh += kwh
        self.gross += kwh * rate

    def clear_paused(self) -> dict[str, float]:
        """Forget the paused intervals (to account them again); return their rates."""
        rates = dict(self.rates)
        self.rates.clear()
        self.kwh = self.gross = 0.0
        return rates

    def unknown_kwh(self, draws: Mapping[str, float], unattributed: float) -> float:
        """Energy drawn back at a rate not known: intervals without one, and `unattributed`."""
        missing = sum(kwh for key, kwh in draws.items() if key not in self.draw_rates)
        return missing + (unattributed if unattributed > KWH_EPSILON else 0.0)

    def drawn(self, draws: Mapping[str, float]) -> float:
        """The worth of the energy drawn back in intervals whose rate is known."""
        return sum(
            kwh * self.draw_rates[key]
            for key, kwh in draws.items()
            if key in self.draw_rates
        )

    def net(self, draws: Mapping[str, float], unattributed: float) -> float | None:
        """Gross less the energy drawn back at its rates; None when a rate is unknown."""
        if not self.known or self.unknown_kwh(draws, unattributed) > 0:
            return None
        return self.gross - self.drawn(draws)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "rates": dict(self.rates),
            "kwh": self.kwh,
            "gross": self.gross,
            "draw_rates": dict(self.draw_rates),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RateValue:
        """Inverse of as_dict."""
        return cls(
            rates={k: float(v) for k, v in data.get("rates", {}).items()},
            kwh=float(data.get("kwh", 0.0)),
            gross=float(data.get("gross", 0.0)),
            draw_rates={k: float(v) for k, v in data.get("draw_rates", {}).items()},
        )

    @classmethod
    def from_gross(
        cls, rates: Mapping[str, float], kwh: float, gross: float
    ) -> RateValue:
        """An event stored before draw-back rates were kept: its paused side only."""
        return cls(rates={k: float(v) for k, v in rates.items()}, kwh=kwh, gross=gross)


@dataclass(frozen=True, slots=True)
class ValueTotals:
    """One rate's figures summed over a car's events (and those pruned from the ledger)."""

    # Over events with a figure; net only over those whose net is known.
    gross: float = 0.0
    net: float = 0.0
    # Events with a figure but an unknown net (energy drawn back at an unknown rate).
    net_unknown: int = 0
    # Whether any event had a figure: a car without any has no total (unknown), not zero.
    known: bool = False

    def plus(self, gross: float | None, net: float | None) -> ValueTotals:
        """These totals with one event's figures (None: the event has no such figure)."""
        if gross is None:
            return self
        return ValueTotals(
            gross=self.gross + gross,
            net=self.net + (net or 0.0),
            net_unknown=self.net_unknown + (net is None),
            known=True,
        )

    def __add__(self, other: ValueTotals) -> ValueTotals:
        """The sum of two sets of totals."""
        return ValueTotals(
            self.gross + other.gross,
            self.net + other.net,
            self.net_unknown + other.net_unknown,
            self.known or other.known,
        )

    def as_list(self) -> list[Any]:
        """JSON-able form."""
        return [self.gross, self.net, self.net_unknown, self.known]

    @classmethod
    def from_list(cls, data: list[Any]) -> ValueTotals:
        """Inverse of as_list."""
        gross, net, unknown, known = data
        return cls(float(gross), float(net), int(unknown), bool(known))
