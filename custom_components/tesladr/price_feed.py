"""What the instance knows of CAISO prices, kept across price coordinators.

`PriceData` is what the price coordinator hands its listeners: each update is a new object, so
a listener keeps what it was given. `OasisFeed` holds the instance's OASIS state (request budget,
learned lag, outage, last prices) and `NodeDemand`, the nodes every entry needs prices for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .caiso import PriceInterval, RequestPacer
from .caiso.lag import REQUESTS_PER_INTERVAL, PublicationLag, grid_floor
from .const import DOMAIN
from .dr import STALE_AFTER

DATA_FEED: HassKey[OasisFeed] = HassKey(f"{DOMAIN}_oasis_feed")
# The lag changes slowly; writing it every few minutes is plenty (and a stop writes it too).
LAG_SAVE_DELAY = 300.0


@dataclass(frozen=True, slots=True)
class PriceData:
    """Prices per node, newest last, as the coordinator last saw them."""

    realtime: Mapping[str, list[PriceInterval]] = field(default_factory=dict)
    fifteen_minute: Mapping[str, list[PriceInterval]] = field(default_factory=dict)
    day_ahead: Mapping[str, list[PriceInterval]] = field(default_factory=dict)
    last_update: datetime | None = None
    publication_lag_s: float | None = None  # learned, seconds after an interval's end

    def latest(self, node: str) -> PriceInterval | None:
        """The newest 5-minute interval of a node."""
        intervals = self.realtime.get(node)
        return intervals[-1] if intervals else None

    def is_fresh(self, node: str, now: datetime) -> bool:
        """Whether the node's newest 5-minute interval is recent enough for DR to act on."""
        latest = self.latest(node)
        return latest is not None and now - latest.end <= STALE_AFTER

    @staticmethod
    def covering(
        intervals: list[PriceInterval], moment: datetime
    ) -> PriceInterval | None:
        """The interval of a list that contains a moment."""
        return next((i for i in intervals if i.start <= moment < i.end), None)


def merge(
    current: Mapping[str, list[PriceInterval]],
    fetched: list[PriceInterval],
    keep_after: datetime,
) -> dict[str, list[PriceInterval]]:
    """New per-node lists from old and fetched intervals: re-priced intervals replace old ones."""
    by_key = {(i.node, i.start): i for items in current.values() for i in items}
    by_key.update({(i.node, i.start): i for i in fetched})
    merged: dict[str, list[PriceInterval]] = {}
    for (node, _start), interval in sorted(by_key.items()):
        if interval.end > keep_after:
            merged.setdefault(node, []).append(interval)
    return merged


def boundary(moment: datetime) -> datetime:
    """Start of the 5-minute interval containing a moment."""
    return dt_util.utc_from_timestamp(grid_floor(moment.timestamp()))


class NodeDemand:
    """The nodes each owner (a config entry) needs prices for.

    Owners declare here and the price coordinator reads the union: nothing that listens to
    the coordinator writes into it. A declaration that adds a node to the union is announced
    to whoever watches (the running coordinator), which then asks OASIS for it soon.
    """

    def __init__(self) -> None:
        """Start with no owners."""
        self._owners: dict[str, frozenset[str]] = {}
        self._watchers: list[Callable[[], None]] = []

    @property
    def owners(self) -> Mapping[str, frozenset[str]]:
        """The nodes of each owner (read only)."""
        return MappingProxyType(self._owners)

    @property
    def nodes(self) -> set[str]:
        """The union of the nodes every owner needs."""
        return set().union(*self._owners.values())

    @callback
    def async_declare(self, owner: str, nodes: set[str]) -> None:
        """Set the nodes an owner needs; the next request asks for the new union."""
        before = self.nodes
        self._owners[owner] = frozenset(nodes)
        if not nodes <= before:
            for watcher in list(self._watchers):
                watcher()

    @callback
    def async_withdraw(self, owner: str) -> None:
        """Forget an owner's nodes."""
        self._owners.pop(owner, None)

    @callback
    def async_watch(self, on_new_nodes: Callable[[], None]) -> CALLBACK_TYPE:
        """Be told when a declaration adds a node to the union; returns the undo."""
        self._watchers.append(on_new_nodes)
        return lambda: self._watchers.remove(on_new_nodes)


@dataclass(slots=True)
class OasisFeed:
    """OASIS state of the whole instance, kept across coordinators.

    A reload or an options change re-creates the coordinator, but CAISO's 5 s rule and our
    budget per interval count every request the instance makes, an outage that outlasts
    set-up retries is still one outage, and prices kept across a reload spare a request.
    """

    pacer: RequestPacer
    store: Store[dict[str, Any]] | None = None
    data: PriceData = field(default_factory=PriceData)
    demand: NodeDemand = field(default_factory=NodeDemand)
    lag: PublicationLag = field(default_factory=PublicationLag)
    down: bool = False
    last_error: Exception | None = None
    last_sent_at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _loaded: bool = field(default=False, init=False)
    _interval_start: datetime | None = field(default=None, init=False)
    _requests_this_interval: int = field(default=0, init=False)

    def budget_left(self, now: datetime) -> int:
        """Requests still allowed in the 5-minute interval containing `now`."""
        start = boundary(now)
        if start != self._interval_start:
            self._interval_start = start
            self._requests_this_interval = 0
        return REQUESTS_PER_INTERVAL - self._requests_this_interval

    def admit(self) -> bool:
        """Take one request of the interval's budget.

        The client asks for every HTTP request it sends, throttle retries too, at the moment
        it sends it, so the budget counts what OASIS sees even when a fetch spans a boundary.
        """
        if self.budget_left(dt_util.utcnow()) <= 0:
            return False
        self._requests_this_interval += 1
        self.last_sent_at = now = dt_util.utcnow()
        self.lag.sent(now.timestamp())
        return True

    async def async_load_lag(self) -> None:
        """Restore the learned lag once per instance (a reload keeps the one in memory)."""
        if self._loaded or self.store is None:
            return
        self._loaded = True
        self.lag = PublicationLag.from_dict(await self.store.async_load())
        self.data = replace(self.data, publication_lag_s=self.lag.lag_s)

    @callback
    def async_save_lag(self, delay: float = LAG_SAVE_DELAY) -> None:
        """Write the learned lag soon, once for many changes."""
        if self.store is not None:
            self.store.async_delay_save(self.lag.to_dict, delay)


def _ha_clock() -> float:
    return dt_util.utcnow().timestamp()


@callback
def async_get_feed(hass: HomeAssistant) -> OasisFeed:
    """The instance's OASIS feed state, created once, on Home Assistant's clock."""
    if (feed := hass.data.get(DATA_FEED)) is None:
        feed = hass.data[DATA_FEED] = OasisFeed(RequestPacer(clock=_ha_clock))
    return feed


@callback
def async_declare_nodes(hass: HomeAssistant, owner: str, nodes: set[str]) -> None:
    """Declare the nodes an owner needs prices for (see NodeDemand)."""
    async_get_feed(hass).demand.async_declare(owner, nodes)
