"""The one CAISO price coordinator of a Home Assistant instance.

Every config entry that needs prices declares its nodes (`price_feed.NodeDemand`); the
coordinator asks OASIS for the union of all nodes in one request per report. Instead of drifting
on a fixed timer it asks when the learned publication lag (`caiso.lag`) says the next 5-minute
interval is out, on its own boundary timer, and retries briefly until it is, within a budget of
requests per interval and CAISO's 5 s rule. Whoever asks (a set-up, new nodes, `update_entity`),
the budget holds: a node without a price gets one at the next interval's request. Each answer
is handed to the listeners as new `PriceData`.
The learned lag is kept in a Store, so a restart asks at the right moment from the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, override

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.event import async_track_point_in_utc_time
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .caiso import (
    DEFAULT_BASE_URL,
    INTERVAL as INTERVAL,  # noqa: PLC0414 - re-exported for the DR side
    Market,
    OasisBudgetError,
    OasisClient,
    OasisError,
    OasisRequestError,
    PriceInterval,
)
from .caiso.lag import PublicationLag
from .const import DOMAIN, LOGGER
from .price_feed import PriceData, async_get_feed, boundary, merge

DATA_PRICES: HassKey[CaisoPriceCoordinator] = HassKey(f"{DOMAIN}_prices")
# Where OASIS answers; read whenever a client is made, so the tests and the offline demo can
# point it at their fake on 127.0.0.1 (tests/fake_oasis.py: `point_tesladr_at`).
OASIS_URL = DEFAULT_BASE_URL

LAG_STORAGE_KEY = f"{DOMAIN}.oasis_publication_lag"
LAG_STORAGE_VERSION = 1
SECONDARY_DELAY = timedelta(seconds=10)
# Entries set up together at start-up share one refresh for their new nodes.
NEW_NODES_DEBOUNCE = timedelta(seconds=5)
HISTORY = timedelta(hours=6)
LOOKBACK = timedelta(hours=1)
PACIFIC = "America/Los_Angeles"
# Day-ahead results publish early afternoon Pacific; before that tomorrow is not worth asking.
DAY_AHEAD_PUBLISHED_HOUR = 13
DAY_AHEAD_RETRY = timedelta(hours=1)


@callback
def async_oasis_client(hass: HomeAssistant) -> OasisClient:
    """An OASIS client on the shared session, paced with every other request of the instance."""
    return OasisClient(
        async_get_clientsession(hass),
        base_url=OASIS_URL,
        pacer=async_get_feed(hass).pacer,
    )


class CaisoPriceCoordinator(DataUpdateCoordinator[PriceData]):
    """Shared CAISO price feed; see the module docstring."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Create the coordinator; it schedules itself, so no update_interval."""
        super().__init__(hass, LOGGER, config_entry=None, name="CAISO prices")
        self._feed = async_get_feed(hass)
        self.client = async_oasis_client(hass)
        self.started = False
        self.fetched_nodes: set[str] = set()
        self._unsub_timer: CALLBACK_TYPE | None = None
        self._unsub_secondary: CALLBACK_TYPE | None = None
        self._unsub_refresh_soon: CALLBACK_TYPE | None = None
        self._unsub_demand: CALLBACK_TYPE | None = self._feed.demand.async_watch(
            self._async_new_nodes
        )
        self._fifteen_tried: datetime | None = None
        self._day_ahead_tried: datetime | None = None
        self._stopped = False
        self._got_new = False
        self.data = self._feed.data
        # An outage outlives coordinators: a new one neither warns again nor hides recovery.
        self.last_update_success = not self._feed.down

    @property
    def last_error(self) -> Exception | None:
        """Why the instance's latest request failed; None once one succeeded."""
        return self._feed.last_error

    @property
    def lag(self) -> PublicationLag:
        """The instance's learned OASIS publication lag."""
        return self._feed.lag

    @property
    def owners(self) -> Mapping[str, frozenset[str]]:
        """The nodes each owner declared."""
        return self._feed.demand.owners

    @property
    def nodes(self) -> set[str]:
        """The union of the nodes every owner needs."""
        return self._feed.demand.nodes

    @override
    async def _async_update_data(self) -> PriceData:
        """Fetch the newest 5-minute prices: new data, or a translated UpdateFailed.

        Every refresh comes here: the feed's own timer, new nodes, set-up, `update_entity`.
        The feed logs an outage once for every coordinator, wake and refresh (see
        `_note_failure`), so the base class must not log it again; and entities judge
        freshness themselves, so every failure reaches them, not only the first one.
        """
        try:
            data = await self._fetch_realtime(dt_util.utcnow())
        except OasisBudgetError as err:
            # Our own limit, not an OASIS fault: not an outage, nor the end of one.
            LOGGER.debug("CAISO request skipped: %s", err)
            if not self._feed.down:
                return self.data
            raise self._failed(self._feed.last_error or err) from err
        except Exception as err:
            if (sent_at := self._feed.last_sent_at) is not None:
                self.lag.failed(sent_at.timestamp())
            self._note_failure(err)
            raise self._failed(err) from err
        finally:
            if self.started:
                # Any answer may move the schedule on (it found the awaited interval).
                self._schedule_next()
        self._note_success()
        self._feed.data = data
        return data

    @callback
    def _failed(self, err: Exception) -> UpdateFailed:
        """Tell the listeners of a failed request; the translated error to raise.

        Marked failed here, the base class neither logs the failure nor skips the listeners.
        """
        failure = _update_failed(err)
        self.last_exception = failure
        self.last_update_success = False
        self.async_update_listeners()
        return failure

    async def _fetch_realtime(self, now: datetime) -> PriceData:
        """Fetch recent 5-minute prices; `_got_new` says whether a newer interval came in."""
        before = self.lag.newest_end
        nodes = self.nodes
        # On the 5-minute grid whenever the request goes (the schedule moves it around),
        # and one interval ahead, which real-time dispatch may already have priced.
        start = boundary(now)
        fetched = await self.client.fetch(
            Market.RTM,
            nodes,
            start - LOOKBACK,
            start + 2 * INTERVAL,
            admit=self._feed.admit,
        )
        self.fetched_nodes = nodes
        realtime = merge(self.data.realtime, fetched, now - HISTORY)
        sent_at = self._feed.last_sent_at or now
        newest = _newest_end(realtime, nodes)
        learned = len(self.lag.brackets), self.lag.lag_s
        self.lag.answered(
            sent_at.timestamp(), None if newest is None else newest.timestamp()
        )
        if (len(self.lag.brackets), self.lag.lag_s) != learned or before is None:
            self._feed.async_save_lag()
        self._got_new = self.lag.newest_end != before
        return replace(
            self.data,
            realtime=realtime,
            last_update=now,
            publication_lag_s=self.lag.lag_s,
        )

    def has_newest(self, now: datetime) -> bool:
        """Whether every node has the interval that ended at the latest boundary."""
        newest = _newest_end(self.data.realtime, self.nodes)
        return newest is not None and newest >= boundary(now)

    @callback
    def _note_failure(self, err: Exception) -> None:
        self._feed.last_error = err
        if isinstance(err, OasisRequestError):
            # Our request was wrong: a bug report, whatever state the feed is in.
            LOGGER.error("CAISO OASIS rejected a request, please report: %s", err)
        if self._feed.down:
            return
        self._feed.down = True
        if isinstance(err, OasisError):
            LOGGER.warning(
                "CAISO OASIS is unavailable, keeping the last prices: %s", err
            )
        else:
            # A bug of ours: the traceback once, not at every interval it recurs.
            LOGGER.exception(
                "CAISO prices are unavailable after an unexpected error, keeping the "
                "last prices",
                exc_info=err,
            )

    @callback
    def _note_success(self) -> None:
        self._feed.last_error = None
        if self._feed.down:
            self._feed.down = False
            LOGGER.info("CAISO OASIS is available again")
        # Recovery is logged above, once for the feed; the base class would add a line.
        self.last_update_success = True

    @callback
    def _async_new_nodes(self) -> None:
        # An owner declared a node: ask for it soon, unless the last request already did.
        if self.started and not self.nodes <= self.fetched_nodes:
            self.async_refresh_paced()

    @callback
    def async_refresh_paced(self) -> None:
        """Refresh soon for new nodes, once for all owners that arrive together."""
        if self._unsub_refresh_soon is not None or self._stopped:
            return
        delay = max(self.client.pacer.delay(), NEW_NODES_DEBOUNCE.total_seconds())
        self._unsub_refresh_soon = async_track_point_in_utc_time(
            self.hass,
            self._async_refresh_soon,
            dt_util.utcnow() + timedelta(seconds=delay),
        )

    async def _async_refresh_soon(self, _now: datetime) -> None:
        self._unsub_refresh_soon = None
        await self.async_refresh()

    async def async_start(self) -> None:
        """Restore the learned lag, ask unless the newest interval is known, then go on.

        From here the feed asks at the moments the learned lag gives.
        """
        await self._feed.async_load_lag()
        self.data = self._feed.data
        if not self.has_newest(dt_util.utcnow()):
            await self.async_refresh()
        self.started = True
        self._schedule_next()

    @callback
    def async_stop(self) -> None:
        """Stop the timers and the base class's debounced refresh."""
        # A wake or refresh in flight cannot be cancelled here; it must not re-arm a timer.
        self._stopped = True
        for unsub in (
            self._unsub_timer,
            self._unsub_secondary,
            self._unsub_refresh_soon,
            self._unsub_demand,
        ):
            if unsub is not None:
                unsub()
        self._unsub_timer = self._unsub_secondary = self._unsub_refresh_soon = None
        # Stopping twice is fine (Home Assistant's stop, then the entries' unload).
        self._unsub_demand = None
        # async_shutdown awaits nothing: started eagerly, it is done when this returns.
        self.hass.async_create_task(
            self.async_shutdown(), "CAISO prices shutdown", eager_start=True
        )
        # What was learned since the last write survives a restart that follows.
        self._feed.async_save_lag(0)

    @callback
    def _schedule_next(self) -> None:
        if self._stopped:
            return
        if self._unsub_timer is not None:
            self._unsub_timer()
        when = self.lag.next_request(dt_util.utcnow().timestamp())
        self._unsub_timer = async_track_point_in_utc_time(
            self.hass, self._async_wake, dt_util.utc_from_timestamp(when)
        )

    async def _async_wake(self, _now: datetime) -> None:
        self._unsub_timer = None
        try:
            await self.async_refresh()
            now = dt_util.utcnow()
            if (
                self.last_update_success
                and self._got_new
                and not self._stopped
                and self._unsub_secondary is None
                and self._secondary_due(now)[0] is not None
            ):
                # A separate, later request keeps the 5 s rule without ever sleeping.
                self._unsub_secondary = async_track_point_in_utc_time(
                    self.hass, self._async_fetch_secondary, now + SECONDARY_DELAY
                )
        finally:
            # Whatever went wrong, the feed wakes again: a broken timer chain would leave
            # the DR side deciding on prices that never update.
            self._schedule_next()

    async def _async_fetch_secondary(self, _now: datetime) -> None:
        """One 15-minute or day-ahead request, within the interval's budget."""
        self._unsub_secondary = None
        now = dt_util.utcnow()
        market, start, end = self._secondary_due(now)
        if market is None or self._feed.budget_left(now) <= 0:
            return
        if market is Market.DAM:
            self._day_ahead_tried = now
        else:
            self._fifteen_tried = now
        try:
            fetched = await self.client.fetch(
                market, self.nodes, start, end, admit=self._feed.admit
            )
        except OasisError as err:
            LOGGER.debug("CAISO %s prices not fetched: %s", market, err)
            return
        if market is Market.DAM:
            data = replace(
                self.data, day_ahead=merge(self.data.day_ahead, fetched, start)
            )
        else:
            data = replace(
                self.data,
                fifteen_minute=merge(self.data.fifteen_minute, fetched, now - HISTORY),
            )
        # New data, not an edit of what listeners hold; it ends no outage of the real-time
        # prices, so the state of the last refresh stays.
        self.data = self._feed.data = data
        self.async_update_listeners()

    def _secondary_due(self, now: datetime) -> tuple[Market | None, datetime, datetime]:
        pacific = dt_util.get_time_zone(PACIFIC)
        local = now.astimezone(pacific)
        today = local.replace(hour=0, minute=0, second=0, microsecond=0)
        tomorrow_end = (today + timedelta(days=2)).astimezone(dt_util.UTC)
        day_ahead = self.data.day_ahead
        has_now = all(PriceData.covering(day_ahead.get(n, []), now) for n in self.nodes)
        has_tomorrow = all(
            PriceData.covering(day_ahead.get(n, []), tomorrow_end - timedelta(hours=1))
            for n in self.nodes
        )
        retry_ok = (
            self._day_ahead_tried is None
            or now - self._day_ahead_tried >= DAY_AHEAD_RETRY
        )
        if retry_ok and (
            not has_now or (local.hour >= DAY_AHEAD_PUBLISHED_HOUR and not has_tomorrow)
        ):
            return Market.DAM, today.astimezone(dt_util.UTC), tomorrow_end
        quarter = now.replace(
            minute=now.minute - now.minute % 15, second=0, microsecond=0
        )
        has_quarter = all(
            PriceData.covering(self.data.fifteen_minute.get(n, []), now)
            for n in self.nodes
        )
        if not has_quarter and (
            self._fifteen_tried is None or self._fifteen_tried < quarter
        ):
            return Market.RTPD, quarter - LOOKBACK, quarter + timedelta(minutes=30)
        return None, now, now

    def diagnostics(self) -> dict[str, Any]:
        """What the coordinator knows, for diagnostics (nothing secret)."""
        now = dt_util.utcnow()
        return {
            "nodes": sorted(self.nodes),
            "owners": len(self.owners),
            "requests_made": self.client.requests_made,
            "feed_down": self._feed.down,
            "publication_lag": self.lag.diagnostics()
            | {
                "next_request": dt_util.utc_from_timestamp(
                    self.lag.next_request(now.timestamp())
                ).isoformat()
            },
            "last_update": self.data.last_update.isoformat()
            if self.data.last_update
            else None,
            "latest": {
                node: {
                    "start": latest.start.isoformat(),
                    "price": latest.price,
                    "fresh": self.data.is_fresh(node, now),
                }
                for node in sorted(self.nodes)
                if (latest := self.data.latest(node)) is not None
            },
        }


def _newest_end(
    realtime: Mapping[str, list[PriceInterval]], nodes: set[str]
) -> datetime | None:
    """End of the newest interval every node has (None while a node has none)."""
    ends = [
        intervals[-1].end if (intervals := realtime.get(node)) else None
        for node in nodes
    ]
    if not ends or None in ends:
        return None
    return min(end for end in ends if end is not None)


async def async_acquire_price_coordinator(
    hass: HomeAssistant, owner: str, nodes: set[str], *, require_data: bool = True
) -> CaisoPriceCoordinator:
    """Take a share of the price coordinator, creating it for the first owner.

    The coordinator is stored and the owner's nodes declared before anything is awaited, so owners
    that set up side by side share one coordinator; the first refresh runs once, under the
    feed's lock, and later owners wait for it. A new coordinator starts from the prices the
    instance already has (a reload keeps them) and asks OASIS only when the newest interval
    is missing. Raises UpdateFailed when OASIS is down and `require_data` is set (the share
    is given back). Owners that must run through an outage (the DR side has cars to resume)
    pass False and get a coordinator that keeps trying.
    """
    if (coordinator := hass.data.get(DATA_PRICES)) is None:
        coordinator = hass.data[DATA_PRICES] = CaisoPriceCoordinator(hass)
    feed = async_get_feed(hass)
    feed.demand.async_declare(owner, nodes)
    if feed.store is None:
        feed.store = Store(hass, LAG_STORAGE_VERSION, LAG_STORAGE_KEY)
    async with feed.lock:
        if coordinator is not hass.data.get(DATA_PRICES):
            # Released while we waited (every other owner failed or unloaded): start over.
            return await async_acquire_price_coordinator(
                hass, owner, nodes, require_data=require_data
            )
        if not coordinator.started:
            await coordinator.async_start()
        elif not nodes <= coordinator.fetched_nodes:
            coordinator.async_refresh_paced()
    if require_data and (error := coordinator.last_error) is not None:
        async_release_price_coordinator(hass, owner)
        raise _update_failed(error)
    return coordinator


@callback
def async_release_price_coordinator(hass: HomeAssistant, owner: str) -> None:
    """Give back an owner's share; the last one stops the coordinator."""
    demand = async_get_feed(hass).demand
    demand.async_withdraw(owner)
    if (coordinator := hass.data.get(DATA_PRICES)) is None:
        return
    if not demand.owners:
        del hass.data[DATA_PRICES]
        coordinator.async_stop()


def _update_failed(err: Exception) -> UpdateFailed:
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="oasis_unavailable",
        translation_placeholders={"error": str(err)},
    )
