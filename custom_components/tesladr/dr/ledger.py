"""The ledger of DR events: every car's pauses and skips, and what they saved over its history.

Each event (`event.DrEvent`) accounts its own intervals; the ledger opens and closes them,
feeds them the published prices, pays back the oldest pause first when a car draws energy
again, and keeps the totals of events it prunes, so a car's lifetime totals never lose them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .churn import PauseHistory
from .event import Cause, DrEvent, Outcome, cause_of
from .policy import Price
from .values import ValueTotals

# The event's names too: the glue imported them from here before events had their own module.
__all__ = [
    "INTERVAL",
    "KEEP_EVENTS",
    "SKIP_WINDOW",
    "Cause",
    "DrEvent",
    "Ledger",
    "Outcome",
    "SkipBudgetExceeded",
    "cause_of",
    "with_skipped",
]

SCHEMA_VERSION = 1
SKIP_WINDOW = timedelta(hours=24)
KEEP_EVENTS = timedelta(days=30)
# The ledger accounts the 5-minute real-time intervals.
INTERVAL = timedelta(minutes=5)


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


def _reaccount_rates(event: DrEvent) -> None:
    """Account an ended event's emissions and retail intervals again, up to its end."""
    for value, account in (
        (event.co2, event.account_moer),
        (event.retail, event.account_retail),
    ):
        for key, rate in value.clear_paused().items():
            start = datetime.fromisoformat(key)
            account(start, start + INTERVAL, rate)


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
    # Their CO2 (kg) and retail (USD) figures (stores before net CO2 have none).
    archived_co2: dict[str, ValueTotals] = field(default_factory=dict)
    archived_retail: dict[str, ValueTotals] = field(default_factory=dict)
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

    def co2_totals(self, vin: str) -> ValueTotals:
        """KG CO2 avoided, gross and net, over the car's whole history."""
        totals = self.archived_co2.get(vin, ValueTotals())
        for event in self.events:
            if event.vin == vin:
                totals = totals.plus(event.kg_co2, event.net_kg_co2)
        return totals

    def retail_totals(self, vin: str) -> ValueTotals:
        """USD of the owner's retail bill avoided, gross and net, over the car's history."""
        totals = self.archived_retail.get(vin, ValueTotals())
        for event in self.events:
            if event.vin == vin:
                totals = totals.plus(event.retail_usd, event.net_retail_usd)
        return totals

    def pending_draws(
        self, now: datetime, tail: timedelta
    ) -> list[tuple[DrEvent, list[datetime]]]:
        """Events with draw-back intervals still missing a rate, drawn within `tail`."""
        return [
            (event, pending)
            for event in self.events
            if event.drawn_through is not None
            and now - event.drawn_through <= tail
            and (pending := event.pending_draws())
        ]

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
            self.archived_co2[event.vin] = self.archived_co2.get(
                event.vin, ValueTotals()
            ).plus(event.kg_co2, event.net_kg_co2)
            self.archived_retail[event.vin] = self.archived_retail.get(
                event.vin, ValueTotals()
            ).plus(event.retail_usd, event.net_retail_usd)
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
            "archived_co2": {
                vin: totals.as_list() for vin, totals in self.archived_co2.items()
            },
            "archived_retail": {
                vin: totals.as_list() for vin, totals in self.archived_retail.items()
            },
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
            archived_co2={
                vin: ValueTotals.from_list(totals)
                for vin, totals in data.get("archived_co2", {}).items()
            },
            archived_retail={
                vin: ValueTotals.from_list(totals)
                for vin, totals in data.get("archived_retail", {}).items()
            },
            next_id=int(data.get("next_id", len(data["events"]) + 1)),
        )
