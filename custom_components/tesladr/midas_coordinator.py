"""The one MIDAS coordinator of a Home Assistant instance: Flex Alert, emissions, retail rates.

Owners (config entries) acquire it with the signals they need (`MidasNeeds`) and may change
them as the signals start or stop mattering; it reads only the RINs of the union. It wakes every
5 minutes: the Flex Alert and MOER RINs are read at every wake, a retail rate once an hour
(utilities upload rates days ahead). Each read is one realtime request, whose 72-hour window
holds the forecast too, so a failure keeps the last values and `MidasData.fetched_at` says how
old they are. A failing RIN backs off, doubling from 5 minutes to an hour; a 429 stops every
request for its Retry-After (5 minutes at least).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN, LOGGER
from .midas import (
    DEFAULT_BASE_URL,
    FLEX_ALERT_RIN,
    MidasClient,
    MidasError,
    MidasRequestError,
    MidasResponseError,
    MidasThrottledError,
    RateValues,
    moer_rin,
)
from .midas_issues import async_clear_midas_issues, async_update_midas_issues

DATA_MIDAS: HassKey[MidasCoordinator] = HassKey(f"{DOMAIN}_midas")
# Sent after every refresh, for listeners in other entries (DR) that must not depend on which
# entry loads first nor on the coordinator being replaced when its last owner leaves.
SIGNAL_MIDAS_UPDATED = f"{DOMAIN}_midas_updated"
# Where MIDAS answers; read whenever a client is made, so tests and the offline demo can point
# it at their fake on 127.0.0.1 (tests/fake_midas.py: `point_midas_at`).
MIDAS_URL = DEFAULT_BASE_URL

TICK = timedelta(minutes=5)
RATE_EVERY = timedelta(hours=1)
MAX_BACKOFF = timedelta(hours=1)
# Alert and emissions values older than this no longer say what the grid does now; a rate's
# rows are uploaded days ahead and stay good for much longer.
STALE_AFTER = timedelta(minutes=15)
RATE_STALE_AFTER = timedelta(hours=6)


@dataclass(frozen=True, slots=True)
class MidasNeeds:
    """The signals one owner needs."""

    flex_alert: bool = False
    moer_regions: frozenset[str] = frozenset()
    rate_rins: frozenset[str] = frozenset()

    @property
    def rins(self) -> set[str]:
        """The RINs these signals are read from."""
        rins = {moer_rin(region) for region in self.moer_regions} | set(self.rate_rins)
        return rins | {FLEX_ALERT_RIN} if self.flex_alert else rins


@dataclass(slots=True)
class MidasData:
    """The last values of every RIN read, and when they came."""

    values: dict[str, RateValues] = field(default_factory=dict)
    fetched_at: dict[str, datetime] = field(default_factory=dict)
    # The latest failure of a RIN, until it reads again.
    errors: dict[str, MidasError] = field(default_factory=dict)

    @property
    def flex_alert(self) -> RateValues | None:
        """The Flex Alert hours, if read."""
        return self.values.get(FLEX_ALERT_RIN)

    def moer(self, region: str) -> RateValues | None:
        """A region's marginal emissions, if read."""
        return self.values.get(moer_rin(region))

    def is_fresh(self, rin: str, now: datetime) -> bool:
        """Whether the RIN's values were read recently enough to act on."""
        fetched = self.fetched_at.get(rin)
        limit = STALE_AFTER if _is_fast(rin) else RATE_STALE_AFTER
        return fetched is not None and now - fetched <= limit


def _is_fast(rin: str) -> bool:
    """Flex Alert and emissions change within the hour; rates do not."""
    return rin == FLEX_ALERT_RIN or rin.startswith("USCA-SGIP-MOER-")


class MidasCoordinator(DataUpdateCoordinator[MidasData]):
    """Shared MIDAS feed; see the module docstring."""

    def __init__(self, hass: HomeAssistant) -> None:
        """Create the coordinator; its own timer runs it, listeners or not."""
        super().__init__(hass, LOGGER, config_entry=None, name="MIDAS signals")
        self.client = MidasClient(async_get_clientsession(hass), base_url=MIDAS_URL)
        self.owners: dict[str, MidasNeeds] = {}
        self.data = MidasData()
        self.lock = asyncio.Lock()
        self.down = False
        # Why the last refresh failed as a whole; None once a read succeeds.
        self.last_error: MidasError | None = None
        self._next_due: dict[str, datetime] = {}
        self._failures: dict[str, int] = {}
        # When each RIN was first needed: the age of one that never read, for its repair.
        self._needed_since: dict[str, datetime] = {}
        self._resume_at: datetime | None = None
        self._unsub_tick: CALLBACK_TYPE | None = None

    @property
    def rins(self) -> set[str]:
        """The union of the RINs every owner needs."""
        return set().union(*(needs.rins for needs in self.owners.values()))

    @callback
    def async_set_needs(self, owner: str, needs: MidasNeeds) -> None:
        """Change what an owner needs; RINs no one needs any more are forgotten."""
        self.owners[owner] = needs
        now = dt_util.utcnow()
        for rin in needs.rins:
            self._needed_since.setdefault(rin, now)
        self.async_prune()

    @callback
    def async_prune(self) -> None:
        """Forget the values and schedule of RINs no owner needs."""
        wanted = self.rins
        tables: tuple[dict[str, Any], ...] = (
            self.data.values,
            self.data.fetched_at,
            self.data.errors,
            self._next_due,
            self._failures,
            self._needed_since,
        )
        gone = set().union(*tables) - wanted
        for table in tables:
            for rin in gone & set(table):
                del table[rin]
        async_clear_midas_issues(self.hass, gone)

    def missing(self) -> set[str]:
        """RINs needed that have no values yet."""
        return self.rins - set(self.data.values)

    async def _async_update_data(self) -> MidasData:
        """Read the RINs that are due; UpdateFailed when every read failed."""
        now = dt_util.utcnow()
        throttled = self._resume_at is not None and now < self._resume_at
        due = (
            []
            if throttled
            else sorted(rin for rin in self.rins if self._next_due.get(rin, now) <= now)
        )
        if not due and self.last_error is not None:
            # Backing off: nothing to ask, and nothing that says MIDAS is back.
            raise _update_failed(self.last_error)
        failed: list[MidasError] = []
        read = 0
        for rin in due:
            try:
                values = await self.client.values(rin)
            except MidasThrottledError as err:
                wait = max(TICK.total_seconds(), err.retry_after or 0.0)
                self._resume_at = now + timedelta(seconds=wait)
                self._failed(rin, err, now)
                failed.append(err)
                break
            except MidasError as err:
                self._failed(rin, err, now)
                failed.append(err)
                continue
            read += 1
            self.data.values[rin] = values
            self.data.fetched_at[rin] = now
            self.data.errors.pop(rin, None)
            self._failures.pop(rin, None)
            self._next_due[rin] = now + (TICK if _is_fast(rin) else RATE_EVERY)
        if failed and not read:
            self._note_down(failed[0])
            raise _update_failed(failed[0])
        if read:
            self._note_up()
        return self.data

    def _failed(self, rin: str, err: MidasError, now: datetime) -> None:
        self.data.errors[rin] = err
        failures = self._failures[rin] = self._failures.get(rin, 0) + 1
        self._next_due[rin] = now + min(TICK * 2 ** (failures - 1), MAX_BACKOFF)
        if failures == 1 and isinstance(err, MidasRequestError | MidasResponseError):
            # Not an outage: MIDAS refused or garbled this RIN, which a report can fix.
            LOGGER.error("MIDAS answer for %s is unusable, please report: %s", rin, err)

    def _note_down(self, err: MidasError) -> None:
        self.last_error = err
        if not self.down:
            self.down = True
            LOGGER.warning("MIDAS is unavailable, keeping the last values: %s", err)

    def _note_up(self) -> None:
        self.last_error = None
        if self.down:
            self.down = False
            LOGGER.info("MIDAS is available again")

    async def _async_refresh(
        self,
        log_failures: bool = True,
        raise_on_auth_failed: bool = False,
        scheduled: bool = False,
        raise_on_entry_error: bool = False,
    ) -> None:
        """Every refresh, without the base class's failure lines (`_note_down` logs once).

        Each ends by raising or clearing the repairs of the RINs read (midas_issues.py).
        """
        await super()._async_refresh(
            log_failures=False,
            raise_on_auth_failed=raise_on_auth_failed,
            scheduled=scheduled,
            raise_on_entry_error=raise_on_entry_error,
        )
        async_update_midas_issues(
            self.hass,
            self.rins,
            self._needed_since | self.data.fetched_at,
            self.data.errors,
            dt_util.utcnow(),
        )

    @callback
    def async_update_listeners(self) -> None:
        """Tell the entities, then every DR coordinator, that the values may have changed."""
        super().async_update_listeners()
        async_dispatcher_send(self.hass, SIGNAL_MIDAS_UPDATED)

    @callback
    def async_start(self) -> None:
        """Wake every 5 minutes until stopped."""
        if self._unsub_tick is None:
            self._unsub_tick = async_track_time_interval(
                self.hass, self._async_tick, TICK, name="MIDAS signals"
            )

    async def _async_tick(self, _now: datetime) -> None:
        await self.async_refresh()

    @callback
    def async_stop(self) -> None:
        """Stop the timer and the base class's debounced refresh."""
        if self._unsub_tick is not None:
            self._unsub_tick()
            self._unsub_tick = None
        self.hass.async_create_task(
            self.async_shutdown(), "MIDAS signals shutdown", eager_start=True
        )

    def diagnostics(self) -> dict[str, Any]:
        """What the coordinator knows, for diagnostics (nothing secret)."""
        now = dt_util.utcnow()
        return {
            "rins": sorted(self.rins),
            "owners": len(self.owners),
            "requests_made": self.client.requests_made,
            "down": self.down,
            "throttled_until": self._resume_at.isoformat()
            if self._resume_at and self._resume_at > now
            else None,
            "signals": {
                rin: {
                    "fetched_at": fetched.isoformat()
                    if (fetched := self.data.fetched_at.get(rin))
                    else None,
                    "fresh": self.data.is_fresh(rin, now),
                    "intervals": len(values.intervals)
                    if (values := self.data.values.get(rin))
                    else 0,
                    "error": str(error)
                    if (error := self.data.errors.get(rin))
                    else None,
                }
                for rin in sorted(self.rins)
            },
        }


async def async_acquire_midas(
    hass: HomeAssistant, owner: str, needs: MidasNeeds
) -> MidasCoordinator:
    """Take a share of the MIDAS coordinator, creating and starting it for the first owner.

    The coordinator is stored and the owner registered before anything is awaited, so owners
    set up side by side share one; RINs no one has read yet are read at once, under a lock,
    the others keep their cadence. An outage does not fail the share: the coordinator keeps
    trying, and its `last_update_success` and per-RIN errors tell the owner.
    """
    if (coordinator := hass.data.get(DATA_MIDAS)) is None:
        coordinator = hass.data[DATA_MIDAS] = MidasCoordinator(hass)
    coordinator.async_set_needs(owner, needs)
    async with coordinator.lock:
        if coordinator.missing():
            await coordinator.async_refresh()
    if hass.data.get(DATA_MIDAS) is coordinator and owner in coordinator.owners:
        coordinator.async_start()
    return coordinator


@callback
def async_release_midas(hass: HomeAssistant, owner: str) -> None:
    """Give back an owner's share; the last one stops the coordinator."""
    if (coordinator := hass.data.get(DATA_MIDAS)) is None:
        return
    coordinator.owners.pop(owner, None)
    coordinator.async_prune()
    if not coordinator.owners:
        del hass.data[DATA_MIDAS]
        coordinator.async_stop()


def _update_failed(err: MidasError) -> UpdateFailed:
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key="midas_unavailable",
        translation_placeholders={"error": str(err)},
    )
