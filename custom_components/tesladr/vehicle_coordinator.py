"""The sleep-aware vehicle coordinator of one Tesla account.

Under the default polling policy ("demand") cars are read only as closely as demand response
needs (see `dr.reads`): the product list every 8 hours while no price is near a threshold, and
at each new price of an event or its approach the product list (a car last seen asleep) and
`vehicle_data` of the cars at that node or held paused. The dashboard policies poll every 5
minutes, reading online cars that charge, just woke or DR needs; an idle car is then left to
fall asleep. A sleeping or offline car keeps its last data, marked stale, and is never woken.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
import math
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util
from teslajsonpy import Controller

from .const import (
    CONF_ACCESS_TOKEN,
    CONF_EXPIRATION,
    CONF_POLLING_POLICY,
    CONF_REFRESH_TOKEN,
    CONF_VEHICLES,
    DEFAULT_POLLING_POLICY,
    DOMAIN,
    ISSUE_FLEET_REQUIRED,
    LOGGER,
    POLLING_ON_DEMAND,
)
from .dr import ReadNeed
from .identity import account_id, async_adopt_account_id
from .vehicles import (
    ChargeState,
    CommandResult,
    VehicleAuthError,
    VehicleError,
    VehicleForbiddenError,
    VehicleRateLimitedError,
    VehicleState,
)
from .vehicles.tesla import TeslaChargeControl

# The fresh-dashboard policies read the product list and the online cars this often. Not an
# option: Home Assistant does not let users configure polling intervals (an owner who wants
# another pace turns polling off and calls `homeassistant.update_entity`).
POLL_INTERVAL = timedelta(minutes=5)
MAX_BACK_OFF = timedelta(hours=1)
# A Tesla falls asleep about 15 minutes after the last request; give it a little more.
IDLE_REST = timedelta(minutes=21)
# "demand": the product list while no price is above a threshold (three a day, under a cent).
SLOW_LIST = timedelta(hours=8)
# "demand": after a failed read for DR, the next one waits this long.
READS_HELD = timedelta(minutes=4, seconds=30)
# "demand": DR reads the cars it needs at each new price; when a price is late, a car needed
# at each interval is read anyway once its last read is this old.
READ_AGAIN = timedelta(minutes=7)
# Cars evaluated together each ask for a list: one serves them all.
LISTED_FRESH = timedelta(minutes=1)


class TeslaVehicleCoordinator(DataUpdateCoordinator[dict[str, ChargeState]]):
    """Charge state of every car of an account, keyed by VIN."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        controller: Controller,
        control: TeslaChargeControl,
    ) -> None:
        """Poll as the account's polling policy says."""
        self.on_demand = (
            entry.options.get(CONF_POLLING_POLICY, DEFAULT_POLLING_POLICY)
            == POLLING_ON_DEMAND
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Tesla {entry.title}",
            update_interval=self._poll_interval(),
        )
        self.controller = controller
        self.control = control
        self._rate_limits = 0  # consecutive 429 answers to polls
        self._idle_since: dict[str, datetime] = {}
        # What DR needs of each car (see dr.reads); cars it does not name need nothing.
        self.needs: dict[str, ReadNeed] = {}
        self._listed_at: datetime | None = None
        self._list_lock = asyncio.Lock()
        self._read_at: dict[str, datetime] = {}
        self._reads: asyncio.Task[None] | None = None
        self._reads_held_until: datetime | None = None
        self._read_all = False  # the next poll reads every online car (an owner asked)
        self._merges = 0  # reads merged outside polls so far
        self._merged: dict[str, int] = {}  # the merge that last brought each car

    @override
    async def async_request_refresh(self) -> None:
        """A refresh asked for (`homeassistant.update_entity`) reads every online car."""
        self._read_all = True
        await super().async_request_refresh()

    @property
    def watched(self) -> set[str]:
        """Cars DR needs read at each interval."""
        return {vin for vin, need in self.needs.items() if need is ReadNeed.DATA}

    def _poll_interval(self) -> timedelta:
        if self.on_demand:
            return SLOW_LIST
        return POLL_INTERVAL

    @override
    async def _async_update_data(self) -> dict[str, ChargeState]:
        since = self._merges
        try:
            states = await self._list()
            # Cars the user does not manage are not read at all.
            managed = self.config_entry.options.get(CONF_VEHICLES)
            now = dt_util.utcnow()
            data: dict[str, ChargeState] = {}
            for vin, state in states.items():
                if managed is not None and vin not in managed:
                    continue
                previous = (self.data or {}).get(vin)
                if previous is not None and self.on_demand and not self._read_all:
                    # DR reads the cars it needs itself (async_set_read_needs).
                    data[vin] = _listed(previous, state)
                    continue
                if previous is not None and self._resting(vin, state, previous, now):
                    data[vin] = previous
                    continue
                data[vin] = await self._read(vin)
                self._note_idle(data[vin], now)
        except VehicleAuthError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except VehicleForbiddenError as err:
            self._raise_fleet_issue()
            raise UpdateFailed(
                translation_domain=DOMAIN, translation_key="fleet_required"
            ) from err
        except VehicleRateLimitedError as err:
            self._back_off()
            if self.data is None:
                # Loading an account with no cars would leave DR nothing to act on.
                raise UpdateFailed(
                    translation_domain=DOMAIN, translation_key="rate_limited"
                ) from err
            return self.data
        except VehicleError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="tesla_unavailable",
                translation_placeholders={"error": str(err)},
            ) from err
        finally:
            self._read_all = False
            self.async_persist_tokens()
        self._end_back_off()
        for vin, merge in self._merged.items():
            if merge > since and vin in data:
                data[vin] = self.cars[vin]  # merged while this poll ran: newer
        self._remove_gone_cars(data)
        ir.async_delete_issue(
            self.hass, DOMAIN, f"{ISSUE_FLEET_REQUIRED}_{self.config_entry.entry_id}"
        )
        return data

    def _resting(
        self, vin: str, state: VehicleState, previous: ChargeState, now: datetime
    ) -> bool:
        """Let an idle car fall asleep: reading it every poll would keep it awake (and billed).

        A car that has been online and idle since its last read is left alone for a while; one
        that went to sleep and came back (plugged in, driven) is read at once, and so is a car
        DR holds paused (an owner restarting it must be seen).
        """
        policy = self.config_entry.options.get(
            CONF_POLLING_POLICY, DEFAULT_POLLING_POLICY
        )
        if policy == "always" or (policy == "connected" and previous.plugged_in):
            return False
        idle_since = self._idle_since.get(vin)
        return (
            state is VehicleState.ONLINE
            and previous.state is VehicleState.ONLINE
            and vin not in self.watched
            and idle_since is not None
            and now - idle_since < IDLE_REST
        )

    def _note_idle(self, car: ChargeState, now: datetime) -> None:
        if car.state is VehicleState.ONLINE and not car.stale and not car.charging:
            self._idle_since[car.vin] = now
        else:
            self._idle_since.pop(car.vin, None)

    def _back_off(self) -> None:
        """Poll half as often per consecutive 429, up to once an hour.

        Polling at the same pace would keep the account at its limit. The exponent stops
        growing once past the cap, so a long episode cannot overflow the timedelta.
        """
        self._rate_limits += 1
        self.update_interval = max(
            self._poll_interval(),
            min(
                POLL_INTERVAL * 2 ** min(self._rate_limits, 16),
                MAX_BACK_OFF,
            ),
        )
        if self._rate_limits == 1:
            LOGGER.warning(
                "Tesla API rate limit reached; keeping the last data and polling less "
                "often until it passes (next poll in %s)",
                self.update_interval,
            )

    def _end_back_off(self) -> None:
        if not self._rate_limits:
            return
        LOGGER.info(
            "Tesla API rate limit over after %d refused polls; polling every %s again",
            self._rate_limits,
            POLL_INTERVAL,
        )
        self._rate_limits = 0
        self.update_interval = self._poll_interval()

    # The car source DR drives (see car_source.CarSource).

    tells_overrides = False  # the owner API does not say who started charging

    @property
    def reads_on_demand(self) -> bool:
        """Under "demand", DR asks for the reads it needs (see CarSource)."""
        return bool(self.on_demand)

    @property
    def cars(self) -> dict[str, ChargeState]:
        """Every managed car, as last read."""
        return self.data or {}

    @callback
    def async_set_read_needs(self, needs: Mapping[str, ReadNeed]) -> None:
        """Read the cars as closely as DR needs.

        The dashboard policies read the DATA cars at every poll. Under "demand" DR lists and
        reads them at each new price; here they are read (and a car last seen asleep looked
        up in the product list) only when a price is late.
        """
        self.needs = dict(needs)
        if not self.on_demand or (self._reads is not None and not self._reads.done()):
            return
        now = dt_util.utcnow()
        if self._reads_held_until is not None and now < self._reads_held_until:
            return
        due = {
            vin
            for vin in self.watched & self.cars.keys()
            if (read_at := self._read_at.get(vin)) is None
            or now - read_at >= READ_AGAIN
        }
        # DR reads an event's cars at each new price; a late price's asleep car is listed here.
        relist = self._listed_before(now - READ_AGAIN) and any(
            need is ReadNeed.DATA
            and vin in self.cars
            and self.cars[vin].state is not VehicleState.ONLINE
            for vin, need in self.needs.items()
        )
        if due or relist:
            self._reads = self.config_entry.async_create_background_task(
                self.hass, self._async_read_needed(due, relist), "tesladr car reads"
            )

    def _listed_before(self, moment: datetime) -> bool:
        return self._listed_at is None or self._listed_at < moment

    async def _async_read_needed(self, due: set[str], relist: bool) -> None:
        """List the account and read the due cars, as a refresh does; errors hold off reads."""
        try:
            await self._async_read_cars(due, relist=relist)
        except VehicleError as err:
            # Once an interval, not at every evaluation; the next poll reports the error.
            self._reads_held_until = dt_util.utcnow() + READS_HELD
            LOGGER.debug("Reads for demand response failed: %s", err)
            if isinstance(err, VehicleAuthError):
                self.config_entry.async_start_reauth(self.hass)

    async def async_refresh_cars(self, car_ids: set[str]) -> None:
        """Re-read some cars now (DR asks when a price crosses a threshold).

        A car last listed asleep may have woken since: the account is listed first then.
        """
        asleep = any(
            self.cars[vin].state is not VehicleState.ONLINE
            for vin in car_ids & self.cars.keys()
        )
        try:
            await self._async_read_cars(car_ids, relist=asleep)
        except VehicleError as err:
            LOGGER.debug("Immediate refresh of %d cars failed: %s", len(car_ids), err)
            if isinstance(err, VehicleAuthError):
                # Under "demand" the next poll may be hours away: ask for the login now.
                self.config_entry.async_start_reauth(self.hass)

    async def _async_read_cars(self, car_ids: set[str], *, relist: bool) -> None:
        """Read cars outside a poll (listing the account first when asked and it is old).

        The fresh states are merged into the data as it is when the reads are done: several
        refreshes may run side by side, and none may put back what another just read.
        """
        since = self._merges
        fresh: dict[str, ChargeState] = {}
        try:
            if relist:
                # Cars evaluated side by side each ask: one list serves them all.
                async with self._list_lock:
                    if self._listed_before(dt_util.utcnow() - LISTED_FRESH):
                        states = await self._list()
                        self._async_merge(
                            {
                                vin: _listed(car, states[vin])
                                for vin, car in self.cars.items()
                                if vin in states and vin not in car_ids
                            },
                            read=False,
                        )
            for vin in car_ids & self.cars.keys():
                fresh[vin] = await self._read(vin)
        finally:
            self.async_persist_tokens()
        self._async_merge(fresh, since)

    async def _list(self) -> dict[str, VehicleState]:
        states = await self.control.list_vehicles()
        self._listed_at = dt_util.utcnow()
        return states

    async def _read(self, vin: str) -> ChargeState:
        car = await self.control.read(vin)
        self._read_at[vin] = dt_util.utcnow()
        return car

    async def async_stop(self, car_id: str) -> CommandResult:
        """Stop charging through the account; the read-back is merged."""
        return await self._async_command(self.control.stop_charging, car_id)

    async def async_start(self, car_id: str) -> CommandResult:
        """Start charging through the account (waking the car); the read-back is merged.

        Under "demand" an accepted start is not read back: nothing DR decides next depends on
        it, and it would be one billed read per car and event.
        """
        return await self._async_command(
            partial(self.control.start_charging, read_back=not self.on_demand), car_id
        )

    async def _async_command(
        self, command: Callable[[str], Awaitable[CommandResult]], vin: str
    ) -> CommandResult:
        try:
            result = await command(vin)
        finally:
            self.async_persist_tokens()
        if result.state is not None:
            if not result.state.stale:
                # A command's read-back is a read: no second one is due for it.
                self._read_at[vin] = dt_util.utcnow()
            self._async_merge({vin: result.state})
        return result

    @callback
    def _async_merge(
        self,
        fresh: dict[str, ChargeState],
        since: float = math.inf,
        *,
        read: bool = True,
    ) -> None:
        """Take reads made outside a poll without moving the poll.

        A read that started before another merge of the same car (`since`: the merge count
        when it started) is older than what that merge brought, a command's read-back say,
        and is dropped: putting it back would show a car DR just stopped as charging. A list
        (`read=False`) only changes connectivity and does not make other reads older.

        `async_set_updated_data` would reschedule the next poll from now: reads on DR's behalf
        during a spike would push the product list (and with it an owner's restart or a car
        waking up) ever later.
        """
        fresh = {
            vin: car
            for vin, car in fresh.items()
            if vin in self.cars and self._merged.get(vin, 0) <= since
        }
        if not fresh:
            return
        if read:
            self._merges += 1
            self._merged.update(dict.fromkeys(fresh, self._merges))
        self.data = {**self.cars, **fresh}
        self.async_update_listeners()

    def device(self, car_id: str) -> DeviceInfo:
        """One device per car, identified by VIN."""
        return DeviceInfo(
            identifiers={(DOMAIN, car_id)},
            name=self.cars[car_id].name,
            manufacturer="Tesla",
            serial_number=car_id,
        )

    def device_id(self, car_id: str) -> str | None:
        """The car's device in the registry."""
        device = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, car_id), self.config_entry.entry_id
        )
        return device.id if device else None

    def diagnostics(self) -> dict[str, Any]:
        """How the account is read now (no VINs: counts only)."""
        return {
            "on_demand": self.on_demand,
            "update_interval_s": (
                self.update_interval.total_seconds() if self.update_interval else None
            ),
            "cars_read_at_each_price": len(self.watched),
            "last_list": self._listed_at.isoformat() if self._listed_at else None,
        }

    @override
    async def async_shutdown(self) -> None:
        """Cancel DR's reads in flight with the coordinator."""
        if self._reads is not None:
            self._reads.cancel()
        await super().async_shutdown()

    def _remove_gone_cars(self, data: dict[str, ChargeState]) -> None:
        """Drop the devices of cars that left the account."""
        registry = dr.async_get(self.hass)
        for device in dr.async_entries_for_config_entry(
            registry, self.config_entry.entry_id
        ):
            vins = {ident for domain, ident in device.identifiers if domain == DOMAIN}
            if vins and not vins & data.keys():
                registry.async_remove_device(device.id)

    def _raise_fleet_issue(self) -> None:
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            f"{ISSUE_FLEET_REQUIRED}_{self.config_entry.entry_id}",
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_FLEET_REQUIRED,
            translation_placeholders={"account": self.config_entry.title},
            learn_more_url="https://github.com/tesladr/tesladr#fleet-api-and-the-http-proxy",
        )

    def async_persist_tokens(self) -> None:
        """Save rotated tokens at once, so a restart needs no new login."""
        if not self.controller.is_token_refreshed():
            return
        tokens: dict[str, Any] = self.controller.get_tokens()
        self.hass.config_entries.async_update_entry(
            self.config_entry,
            data={
                **self.config_entry.data,
                CONF_REFRESH_TOKEN: tokens["refresh_token"],
                CONF_ACCESS_TOKEN: tokens["access_token"],
                CONF_EXPIRATION: tokens.get("expiration", 0),
            },
        )
        async_adopt_account_id(
            self.hass, self.config_entry, account_id(tokens.get("id_token"))
        )


def _listed(car: ChargeState, state: VehicleState) -> ChargeState:
    """A car's last data under the connectivity the product list gives now."""
    return car if car.state is state else replace(car, state=state, stale=True)
