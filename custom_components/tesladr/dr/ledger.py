"""DR events and what they saved: energy not consumed and its wholesale value.

Accounting is by overlap: each price interval contributes the part of it the car spent paused,
at the charger power seen before the pause, capped by the energy that was still needed to reach
the charge limit, valued at that interval's LMP. Accounting the same interval twice changes
nothing, so the caller may replay intervals after a restart.

Gross and net value: the energy a pause kept the car from drawing is, for a car that still
needs it, drawn later. Gross value is that energy at the prices of the paused intervals; net
value subtracts what drawing it back cost, at the prices of the intervals the car charged in
after the pause (first in, first out over the car's closed events, up to each event's kWh).
Energy a car never draws back (it left short, or its need ended) costs nothing: net is gross.

Beside the wholesale value each event records which signal caused it (`cause`), the CO2 it
avoided at the marginal emissions rate (MOER, g/kWh) of the intervals paused, and its value on
the owner's retail tariff (USD/kWh, where the owner's RIN is known), both accounted by overlap
like the price. Both are net of drawing the energy back where the caller gives the rate of the
interval drawn in (`draw(..., moer=, retail=)`); an interval drawn without it is left out of
the net, so without those rates the figures are gross.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .churn import PauseHistory
from .policy import Decision, Price, Reason

SCHEMA_VERSION = 1
SKIP_WINDOW = timedelta(hours=24)
KEEP_EVENTS = timedelta(days=30)
# The ledger accounts the 5-minute real-time intervals.
INTERVAL = timedelta(minutes=5)


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


class SkipBudgetExceeded(Exception):
    """More skips than the car's rolling 24 h budget allows."""

    def __init__(self, limit: int, next_available: datetime | None) -> None:
        """Keep what a translated error message needs."""
        super().__init__(f"skip budget of {limit} per 24 h used up")
        self.limit = limit
        self.next_available = next_available


def with_skipped(intervals: list[Price]) -> list[Price]:
    """The node's published intervals, each one OASIS skipped filled in at the price before it.

    A car paused through an interval OASIS never published still did not draw its energy;
    DR itself went on deciding on the price before the gap, so that is its value here.
    """
    filled: list[Price] = []
    for interval in sorted(intervals, key=lambda price: price.start):
        if filled:
            last = filled[-1]
            length = last.end - last.start
            while length > timedelta(0) and last.end < interval.start:
                last = Price(last.value, last.end, last.end + length)
                filled.append(last)
        filled.append(interval)
    return filled


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
    # Marginal emissions (g CO2/kWh) and retail rates (USD/kWh) of the intervals paused, by
    # interval start; what they avoided, and the kWh each has counted against the need.
    moer: dict[str, float] = field(default_factory=dict)
    kg_co2: float = 0.0
    co2_kwh: float = 0.0
    retail: dict[str, float] = field(default_factory=dict)
    retail_usd: float = 0.0
    retail_kwh: float = 0.0
    drawn_kg_co2: float = 0.0
    drawn_retail_usd: float = 0.0

    @property
    def net_kg_co2(self) -> float:
        """CO2 avoided net of the emissions of drawing the energy back, where known."""
        return self.kg_co2 - self.drawn_kg_co2

    @property
    def net_retail_usd(self) -> float:
        """Retail bill avoided net of paying for the energy drawn back, where known."""
        return self.retail_usd - self.drawn_retail_usd

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

    def account_moer(self, start: datetime, end: datetime, g_per_kwh: float) -> None:
        """Add the CO2 not emitted in one emissions interval."""
        key = start.isoformat()
        if key in self.moer:
            return
        kwh = self._paused_kwh(start, end, self.co2_kwh)
        if kwh <= 0:
            return
        self.moer[key] = g_per_kwh
        self.co2_kwh += kwh
        self.kg_co2 += kwh * g_per_kwh / 1000

    def account_retail(
        self, start: datetime, end: datetime, usd_per_kwh: float
    ) -> None:
        """Add the owner's retail cost not paid in one 5-minute interval at its rate."""
        key = start.isoformat()
        if key in self.retail:
            return
        kwh = self._paused_kwh(start, end, self.retail_kwh)
        if kwh <= 0:
            return
        self.retail[key] = usd_per_kwh
        self.retail_kwh += kwh
        self.retail_usd += kwh * usd_per_kwh

    @property
    def owed_kwh(self) -> float:
        """Energy the pause kept from the car that it has not drawn back yet."""
        return max(0.0, self.kwh - self.drawn_kwh)

    @property
    def net_usd(self) -> float:
        """Wholesale cost avoided net of drawing the energy back later."""
        return self.usd - self.drawn_usd

    def draw(
        self,
        price: Price,
        kwh: float,
        *,
        moer: float | None = None,
        retail: float | None = None,
    ) -> float:
        """Count energy the car drew in one interval after the pause; return what is left.

        `moer` (g/kWh) and `retail` (USD/kWh): the interval's rates, where known.
        """
        if self.ended is None or price.end <= self.ended:
            return kwh
        if self.drawn_through is not None and price.start < self.drawn_through:
            return kwh
        taken = min(max(0.0, kwh), self.owed_kwh)
        self.drawn_kwh += taken
        self.drawn_usd += taken * price.value / 1000
        if moer is not None and self.moer:
            self.drawn_kg_co2 += taken * moer / 1000
        if retail is not None and self.retail:
            self.drawn_retail_usd += taken * retail
        self.drawn_through = price.end
        return kwh - taken

    def account(self, price: Price) -> None:
        """Add what the car did not consume during one price interval."""
        key = price.start.isoformat()
        if key in self.prices:
            return
        start = max(price.start, self.started)
        end = min(price.end, self.ended) if self.ended else price.end
        if end <= start:
            return
        kwh = self.power_kw * (end - start).total_seconds() / 3600
        if self.energy_needed_kwh is not None:
            kwh = max(0.0, min(kwh, self.energy_needed_kwh - self.kwh))
        self.prices[key] = price.value
        self.kwh += kwh
        self.usd += kwh * price.value / 1000

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
        """Inverse of as_dict."""
        return cls(
            event_id=data["event_id"],
            vin=data["vin"],
            node=data["node"],
            started=datetime.fromisoformat(data["started"]),
            power_kw=float(data["power_kw"]),
            energy_needed_kwh=data["energy_needed_kwh"],
            ended=datetime.fromisoformat(data["ended"]) if data["ended"] else None,
            outcome=Outcome(data["outcome"]) if data["outcome"] else None,
            kwh=float(data["kwh"]),
            usd=float(data["usd"]),
            prices=dict(data["prices"]),
            utility=data.get("utility"),
            dlap=data.get("dlap"),
            seen_paused_at=(
                datetime.fromisoformat(seen)
                if (seen := data.get("seen_paused_at"))
                else None
            ),
            seen_paused_energy_kwh=(
                None
                if (energy := data.get("seen_paused_energy_kwh")) is None
                else float(energy)
            ),
            drawn_kwh=float(data.get("drawn_kwh", 0.0)),
            drawn_usd=float(data.get("drawn_usd", 0.0)),
            drawn_through=(
                datetime.fromisoformat(through)
                if (through := data.get("drawn_through"))
                else None
            ),
            # Events stored before the grid signals were all the price's.
            cause=Cause(data.get("cause", Cause.PRICE)),
            moer=dict(data.get("moer", {})),
            kg_co2=float(data.get("kg_co2", 0.0)),
            co2_kwh=float(data.get("co2_kwh", 0.0)),
            retail=dict(data.get("retail", {})),
            retail_usd=float(data.get("retail_usd", 0.0)),
            retail_kwh=float(data.get("retail_kwh", 0.0)),
            drawn_kg_co2=float(data.get("drawn_kg_co2", 0.0)),
            drawn_retail_usd=float(data.get("drawn_retail_usd", 0.0)),
        )


def _reaccount_rates(event: DrEvent) -> None:
    """Account an ended event's emissions and retail intervals again, up to its end."""
    moer, retail = dict(event.moer), dict(event.retail)
    event.moer.clear()
    event.retail.clear()
    event.kg_co2 = event.co2_kwh = event.retail_usd = event.retail_kwh = 0.0
    for key, value in moer.items():
        start = datetime.fromisoformat(key)
        event.account_moer(start, start + INTERVAL, value)
    for key, value in retail.items():
        start = datetime.fromisoformat(key)
        event.account_retail(start, start + INTERVAL, value)


def _complete(event: DrEvent) -> bool:
    """Account the intervals of an ended event that no price came for, once none can come.

    Past the tail the caller's prices no longer reach the event (an OASIS outage outlasted
    it), yet the car did not draw its energy in those intervals. Each counts at the price
    known before it, or, before the first price known, at that one. Return whether any was
    added; an event without any price stays as it is.
    """
    if event.ended is None or not event.prices:
        return False
    first = _interval_start(event.started)
    count = -((first - event.ended) // INTERVAL)  # intervals the event overlaps
    if len(event.prices) >= count:
        return False
    known = {datetime.fromisoformat(key): value for key, value in event.prices.items()}
    value = known[min(known)]
    for k in range(count):
        start = first + k * INTERVAL
        if start in known:
            value = known[start]
        else:
            event.account(Price(value, start, start + INTERVAL))
    return True


def _interval_start(moment: datetime) -> datetime:
    """Start of the 5-minute interval a moment is in (the grid is aligned to the epoch)."""
    return moment - timedelta(seconds=moment.timestamp() % INTERVAL.total_seconds())


@dataclass(slots=True)
class Ledger:
    """Every car's events and skips."""

    events: list[DrEvent] = field(default_factory=list)
    skips: dict[str, list[datetime]] = field(default_factory=dict)
    # What pruned events saved, per car, so lifetime totals never go down.
    archived: dict[str, tuple[float, float]] = field(default_factory=dict)
    # And what drawing their energy back cost (stores before net value have none).
    archived_drawn_usd: dict[str, float] = field(default_factory=dict)
    next_id: int = 1

    def active(self, vin: str) -> DrEvent | None:
        """The car's open event."""
        return next((e for e in self.events if e.vin == vin and e.ended is None), None)

    def start(
        self,
        vin: str,
        node: str,
        now: datetime,
        power_kw: float,
        energy_needed_kwh: float | None,
        *,
        utility: tuple[str, str] | None = None,
        cause: Cause = Cause.PRICE,
    ) -> DrEvent:
        """Open an event when DR pauses a car (reuses an open one)."""
        if (event := self.active(vin)) is not None:
            return event
        # A counter, not the VIN: event ids reach logs, automations and diagnostics.
        event = DrEvent(
            event_id=f"{now:%Y%m%d}-{self.next_id}",
            vin=vin,
            node=node,
            started=now,
            power_kw=max(0.0, power_kw),
            energy_needed_kwh=energy_needed_kwh,
            utility=utility[0] if utility else None,
            dlap=utility[1] if utility else None,
            cause=cause,
        )
        self.next_id += 1
        self.events.append(event)
        return event

    def end(self, vin: str, now: datetime, outcome: Outcome) -> DrEvent | None:
        """Close the car's open event.

        An end before intervals already accounted in full (an override seen a poll late)
        accounts them again up to the end.
        """
        if (event := self.active(vin)) is not None:
            event.ended = now
            event.outcome = outcome
            accounted = [
                Price(value, start, start + INTERVAL)
                for key, value in event.prices.items()
                if (start := datetime.fromisoformat(key)) + INTERVAL > now
            ]
            if accounted:
                for price in accounted:
                    del event.prices[price.start.isoformat()]
                event.kwh = event.usd = 0.0
                kept = dict(event.prices)
                event.prices.clear()
                for key, value in kept.items():
                    start = datetime.fromisoformat(key)
                    event.account(Price(value, start, start + INTERVAL))
                for price in accounted:
                    event.account(price)
            _reaccount_rates(event)
        return event

    def draw(
        self,
        vin: str,
        price: Price,
        kwh: float,
        *,
        moer: float | None = None,
        retail: float | None = None,
    ) -> None:
        """The car drew `kwh` during one interval: pay back its oldest pauses first."""
        for event in self.events:
            if kwh <= 0:
                return
            if event.vin == vin and event.owed_kwh > 0:
                kwh = event.draw(price, kwh, moer=moer, retail=retail)

    def account_published(
        self,
        published: Callable[[str], list[Price]],
        now: datetime,
        tail: timedelta,
    ) -> bool:
        """Add newly published intervals to open events and those ended within `tail`.

        `published`: a node's published 5-minute prices. Events keep collecting the value of
        intervals they overlap while the caller's prices may still fill in late ones; an event
        ended longer ago than `tail` gets its remaining intervals from its own prices
        (`_complete`). Return whether anything was added.
        """
        changed = False
        by_node: dict[str, list[Price]] = {}
        for event in self.events:
            if event.ended is not None and now - event.ended > tail:
                changed = _complete(event) or changed
                continue
            if (prices := by_node.get(event.node)) is None:
                prices = by_node[event.node] = published(event.node)
            # The event's own prices join the published ones: after a restart the caller's
            # prices start where its first answer did, and an interval the pause spanned
            # between the event's last price and that answer was never fetched (a pause
            # churn control holds through a dip runs on into such gaps). The car did not draw
            # its energy then either; like an interval OASIS skipped, it counts at the price
            # before it, the one DR went on deciding on.
            known = {
                start: Price(value, start, start + INTERVAL)
                for start, value in (
                    (datetime.fromisoformat(key), value)
                    for key, value in event.prices.items()
                )
            } | {price.start: price for price in prices}
            for price in with_skipped(list(known.values())):
                if (
                    price.end <= event.started
                    or (event.ended is not None and price.start >= event.ended)
                    or price.start.isoformat() in event.prices
                ):
                    continue
                event.account(price)
                changed = True
        return changed

    def skip(self, vin: str, limit: int, now: datetime) -> None:
        """Record a skip, or raise SkipBudgetExceeded beyond the rolling 24 h budget."""
        recent = [t for t in self.skips.get(vin, []) if now - t < SKIP_WINDOW]
        if len(recent) >= limit:
            next_available = min(recent) + SKIP_WINDOW if recent else None
            raise SkipBudgetExceeded(limit, next_available)
        self.skips[vin] = [*recent, now]

    def skips_used(self, vin: str, now: datetime) -> int:
        """Skips in the last 24 h."""
        return sum(1 for t in self.skips.get(vin, []) if now - t < SKIP_WINDOW)

    def events_in_window(self, vin: str, now: datetime) -> int:
        """Events of the car that started in the last 24 h."""
        return sum(
            1 for e in self.events if e.vin == vin and now - e.started < SKIP_WINDOW
        )

    def pause_history(self, vin: str, now: datetime) -> PauseHistory:
        """The car's recent pauses, as churn control reads them."""
        active = self.active(vin)
        ended = [e.ended for e in self.events if e.vin == vin and e.ended is not None]
        return PauseHistory(
            paused_since=active.started if active else None,
            last_resumed=max(ended, default=None),
            pauses_24h=self.events_in_window(vin, now),
        )

    def totals(self, vin: str) -> tuple[float, float]:
        """KWh and USD not consumed, over the car's whole history."""
        mine = [e for e in self.events if e.vin == vin]
        kwh, usd = self.archived.get(vin, (0.0, 0.0))
        return kwh + sum(e.kwh for e in mine), usd + sum(e.usd for e in mine)

    def net_usd(self, vin: str) -> float:
        """Wholesale cost avoided net of drawing the energy back, over the car's history."""
        _kwh, usd = self.totals(vin)
        drawn = sum(e.drawn_usd for e in self.events if e.vin == vin)
        return usd - self.archived_drawn_usd.get(vin, 0.0) - drawn

    def between(self, vin: str, start: datetime, end: datetime) -> list[DrEvent]:
        """Events of a car that overlap a period."""
        return [
            e
            for e in self.events
            if e.vin == vin and e.started < end and (e.ended is None or e.ended > start)
        ]

    def prune(self, now: datetime) -> None:
        """Drop closed events older than the kept history, keeping their totals."""
        kept: list[DrEvent] = []
        for event in self.events:
            if event.ended is None or now - event.ended < KEEP_EVENTS:
                kept.append(event)
                continue
            kwh, usd = self.archived.get(event.vin, (0.0, 0.0))
            self.archived[event.vin] = (kwh + event.kwh, usd + event.usd)
            self.archived_drawn_usd[event.vin] = (
                self.archived_drawn_usd.get(event.vin, 0.0) + event.drawn_usd
            )
        self.events = kept
        self.skips = {
            vin: recent
            for vin, ts in self.skips.items()
            if (recent := [t for t in ts if now - t < SKIP_WINDOW])
        }

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form, with a schema version."""
        return {
            "version": SCHEMA_VERSION,
            "events": [e.as_dict() for e in self.events],
            "skips": {
                vin: [t.isoformat() for t in ts] for vin, ts in self.skips.items()
            },
            "archived": {vin: list(totals) for vin, totals in self.archived.items()},
            "archived_drawn_usd": self.archived_drawn_usd,
            "next_id": self.next_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ledger:
        """Inverse of as_dict; an unknown version starts empty rather than guessing."""
        if data.get("version") != SCHEMA_VERSION:
            return cls()
        return cls(
            events=[DrEvent.from_dict(e) for e in data["events"]],
            skips={
                vin: [datetime.fromisoformat(t) for t in ts]
                for vin, ts in data["skips"].items()
            },
            archived={
                vin: (float(kwh), float(usd))
                for vin, (kwh, usd) in data.get("archived", {}).items()
            },
            archived_drawn_usd={
                vin: float(usd)
                for vin, usd in data.get("archived_drawn_usd", {}).items()
            },
            next_id=int(data.get("next_id", len(data["events"]) + 1)),
        )
