"""One car's DR event: the energy a pause kept from the car, and drawing it back later.

Accounting is by overlap: each interval contributes the part of it the car spent paused, at
the charger power seen before the pause, capped by the energy that was still needed to reach
the charge limit. Accounting the same interval twice changes nothing, so the caller may replay
intervals after a restart.

Gross and net: the energy a pause kept the car from drawing is, for a car that still needs it,
drawn later. Gross value is that energy at the prices of the paused intervals; net value
subtracts what drawing it back cost, at the prices of the intervals the car charged in after
the pause (first in, first out over the car's closed events, up to each event's kWh). Energy a
car never draws back (it left short, or its need ended) costs nothing: net is gross.

The same holds for the CO2 avoided (at the marginal emissions rate) and the owner's retail
bill: `values.RateValue` keeps both sides of each. The event records the energy drawn in each
interval (`draws`), so the rate of a draw-back interval can be given with the draw or found
later; until it is, that rate's net is unknown.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from .policy import Decision, Price, Reason
from .values import RateValue

# MOER is in g CO2/kWh; the ledger shows kg.
G_PER_KG = 1000.0


class Outcome(StrEnum):
    """How an event ended for a car."""

    RESUMED = "resumed"  # price fell below the resume band
    RESUMED_STALE = "resumed_stale"  # fail-safe on stale prices
    OPTED_OUT = "opted_out"
    SKIPPED = "skipped"
    OVERRIDDEN = "overridden"  # the user restarted charging
    UNPLUGGED = "unplugged"
    UNLOADED = "unloaded"
    READY_BY = "ready_by"  # ended early so the car is ready by its departure
    REMOVED = "removed"  # the car left its account or integration


class Cause(StrEnum):
    """The signal that caused a pause."""

    PRICE = "price"
    FLEX_ALERT = "flex_alert"
    EMISSIONS = "emissions"


def cause_of(decision: Decision | None) -> Cause:
    """The cause of a pause DR made on `decision` (a pause made before a restart: the price)."""
    if decision is None:
        return Cause.PRICE
    return {
        Reason.FLEX_ALERT: Cause.FLEX_ALERT,
        Reason.HIGH_EMISSIONS: Cause.EMISSIONS,
    }.get(decision.reason, Cause.PRICE)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(slots=True)
class DrEvent:
    """One car's pause, from stop to start."""

    event_id: str
    vin: str
    node: str
    started: datetime
    power_kw: float
    energy_needed_kwh: float | None
    ended: datetime | None = None
    outcome: Outcome | None = None
    kwh: float = 0.0
    usd: float = 0.0
    prices: dict[str, float] = field(default_factory=dict)
    # The utility whose service area the car was in (PG&E, SCE, ...), None outside CAISO.
    utility: str | None = None
    dlap: str | None = None
    # The car's last read that showed it paused, and its energy count then: an owner's
    # restart came after it, and a count that moved since says the car charged in between.
    seen_paused_at: datetime | None = None
    seen_paused_energy_kwh: float | None = None
    # The energy drawn back after the pause, its cost, and the end of the newest interval
    # drawn (an interval drawn twice counts once).
    drawn_kwh: float = 0.0
    drawn_usd: float = 0.0
    drawn_through: datetime | None = None
    cause: Cause = Cause.PRICE
    # The CO2 (g, at g/kWh) and the retail bill (USD) of the energy paused and drawn back.
    co2: RateValue = field(default_factory=RateValue)
    retail: RateValue = field(default_factory=RateValue)
    # The energy drawn back in each interval, by interval start: what the rates apply to.
    draws: dict[str, float] = field(default_factory=dict)

    @property
    def owed_kwh(self) -> float:
        """Energy the pause kept from the car that it has not drawn back yet."""
        return max(0.0, self.kwh - self.drawn_kwh)

    @property
    def net_usd(self) -> float:
        """Wholesale cost avoided net of drawing the energy back later."""
        return self.usd - self.drawn_usd

    @property
    def unattributed_kwh(self) -> float:
        """Energy drawn back before draws were kept per interval (an older store's)."""
        return max(0.0, self.drawn_kwh - sum(self.draws.values()))

    @property
    def kg_co2(self) -> float | None:
        """CO2 the pause avoided, gross; None without any emissions rate."""
        return self.co2.gross / G_PER_KG if self.co2.known else None

    @property
    def net_kg_co2(self) -> float | None:
        """CO2 avoided net of drawing the energy back; None while a draw-back rate is unknown."""
        net = self.co2.net(self.draws, self.unattributed_kwh)
        return None if net is None else net / G_PER_KG

    @property
    def retail_usd(self) -> float | None:
        """The owner's retail bill the pause avoided, gross; None without the tariff."""
        return self.retail.gross if self.retail.known else None

    @property
    def net_retail_usd(self) -> float | None:
        """Retail bill avoided net of paying for the energy drawn back; None while unknown."""
        return self.retail.net(self.draws, self.unattributed_kwh)

    def _paused_kwh(self, start: datetime, end: datetime, counted: float) -> float:
        """The energy the pause kept from the car over one interval, capped by the need."""
        start = max(start, self.started)
        end = min(end, self.ended) if self.ended else end
        if end <= start:
            return 0.0
        kwh = self.power_kw * (end - start).total_seconds() / 3600
        if self.energy_needed_kwh is not None:
            kwh = max(0.0, min(kwh, self.energy_needed_kwh - counted))
        return kwh

    def account(self, price: Price) -> None:
        """Add what the car did not consume during one price interval."""
        key = price.start.isoformat()
        if key in self.prices:
            return
        start = max(price.start, self.started)
        end = min(price.end, self.ended) if self.ended else price.end
        if end <= start:
            return
        # An interval the need caps to nothing is still accounted: it counts once.
        kwh = self._paused_kwh(start, end, self.kwh)
        self.prices[key] = price.value
        self.kwh += kwh
        self.usd += kwh * price.value / 1000

    def account_moer(self, start: datetime, end: datetime, g_per_kwh: float) -> None:
        """Add the CO2 not emitted in one emissions interval."""
        kwh = self._paused_kwh(start, end, self.co2.kwh)
        self.co2.add(start.isoformat(), g_per_kwh, kwh)

    def account_retail(
        self, start: datetime, end: datetime, usd_per_kwh: float
    ) -> None:
        """Add the owner's retail cost not paid in one interval at its rate."""
        kwh = self._paused_kwh(start, end, self.retail.kwh)
        self.retail.add(start.isoformat(), usd_per_kwh, kwh)

    def draw(
        self,
        price: Price,
        kwh: float,
        *,
        moer: float | None = None,
        retail: float | None = None,
    ) -> float:
        """Count energy the car drew in one interval after the pause; return what is left.

        `moer` (g/kWh) and `retail` (USD/kWh): the interval's rates where known now; an
        interval drawn without them can be given them later (`draw_rates`).
        """
        if self.ended is None or price.end <= self.ended:
            return kwh
        if self.drawn_through is not None and price.start < self.drawn_through:
            return kwh
        taken = min(max(0.0, kwh), self.owed_kwh)
        self.drawn_kwh += taken
        self.drawn_usd += taken * price.value / 1000
        self.drawn_through = price.end
        if taken > 0:
            key = price.start.isoformat()
            self.draws[key] = self.draws.get(key, 0.0) + taken
            self.draw_rates(price.start, moer=moer, retail=retail)
        return kwh - taken

    def draw_rates(
        self,
        start: datetime,
        *,
        moer: float | None = None,
        retail: float | None = None,
    ) -> bool:
        """Give the draw-back interval starting at `start` its rates; return whether any was new."""
        key = start.isoformat()
        if key not in self.draws:
            return False
        changed = False
        for value, rate in ((self.co2, moer), (self.retail, retail)):
            if rate is not None and key not in value.draw_rates:
                value.draw_rates[key] = rate
                changed = True
        return changed

    def pending_draws(self) -> list[datetime]:
        """Draw-back intervals still missing a rate (emissions or retail)."""
        return [
            datetime.fromisoformat(key)
            for key in self.draws
            if key not in self.co2.draw_rates or key not in self.retail.draw_rates
        ]

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["ended"] = self.ended.isoformat() if self.ended else None
        data["seen_paused_at"] = (
            self.seen_paused_at.isoformat() if self.seen_paused_at else None
        )
        data["drawn_through"] = (
            self.drawn_through.isoformat() if self.drawn_through else None
        )
        data["cause"] = str(self.cause)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DrEvent:
        """Inverse of as_dict; events of older stores load too (`_rate_values`)."""
        co2, retail = _rate_values(data)
        return cls(
            event_id=data["event_id"],
            vin=data["vin"],
            node=data["node"],
            started=datetime.fromisoformat(data["started"]),
            power_kw=float(data["power_kw"]),
            energy_needed_kwh=data["energy_needed_kwh"],
            ended=_time(data["ended"]),
            outcome=Outcome(data["outcome"]) if data["outcome"] else None,
            kwh=float(data["kwh"]),
            usd=float(data["usd"]),
            prices=dict(data["prices"]),
            utility=data.get("utility"),
            dlap=data.get("dlap"),
            seen_paused_at=_time(data.get("seen_paused_at")),
            seen_paused_energy_kwh=(
                None
                if (energy := data.get("seen_paused_energy_kwh")) is None
                else float(energy)
            ),
            drawn_kwh=float(data.get("drawn_kwh", 0.0)),
            drawn_usd=float(data.get("drawn_usd", 0.0)),
            drawn_through=_time(data.get("drawn_through")),
            # Events stored before the grid signals were all the price's.
            cause=Cause(data.get("cause", Cause.PRICE)),
            co2=co2,
            retail=retail,
            draws={k: float(v) for k, v in data.get("draws", {}).items()},
        )


def _rate_values(data: dict[str, Any]) -> tuple[RateValue, RateValue]:
    """An event's CO2 and retail valuations, from this version's store or an older one.

    This version stores `co2` and `retail` as RateValue records. The one before kept flat
    fields: `moer` and `retail` (rates by paused interval), `kg_co2`, `co2_kwh`,
    `retail_usd`, `retail_kwh`, and running `drawn_kg_co2` / `drawn_retail_usd` that its DR
    loop never filled. Those events have no draws per interval: energy they drew back is
    `unattributed_kwh`, at rates not known, so their net CO2 and retail read unknown.
    """
    if "co2" in data:
        return RateValue.from_dict(data["co2"]), RateValue.from_dict(data["retail"])
    co2 = RateValue.from_gross(
        data.get("moer", {}),
        float(data.get("co2_kwh", 0.0)),
        float(data.get("kg_co2", 0.0)) * G_PER_KG,
    )
    retail = RateValue.from_gross(
        data.get("retail", {}),
        float(data.get("retail_kwh", 0.0)),
        float(data.get("retail_usd", 0.0)),
    )
    return co2, retail
