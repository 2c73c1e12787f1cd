"""The sleep-aware vehicle coordinator of one Tesla account.

Each poll costs one product-list call for the account and one `vehicle_data` call per online
car that is charging, just woke, or is held paused by DR; an idle online car is read once and
then left alone long enough to fall asleep. A sleeping or offline car keeps its last data,
marked stale, and is never woken.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

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
    CONF_SCAN_MINUTES,
    CONF_VEHICLES,
    DEFAULT_POLLING_POLICY,
    DOMAIN,
    ISSUE_FLEET_REQUIRED,
    LOGGER,
    VEHICLE_SCAN_INTERVAL_MINUTES,
)
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

MAX_BACK_OFF = timedelta(hours=1)
# A Tesla falls asleep about 15 minutes after the last request; give it a little more.
IDLE_REST = timedelta(minutes=21)


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
        """Poll at the account's interval."""
        self._interval = timedelta(
            minutes=entry.options.get(CONF_SCAN_MINUTES, VEHICLE_SCAN_INTERVAL_MINUTES)
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Tesla {entry.title}",
            update_interval=self._interval,
        )
        self.controller = controller
        self.control = control
        self._rate_limits = 0  # consecutive 429 answers to polls
        self._idle_since: dict[str, datetime] = {}
        # Cars that must be read at every poll whatever they do (DR holds them paused).
        self.watched: set[str] = set()

    async def _async_update_data(self) -> dict[str, ChargeState]:
        try:
            states = await self.control.list_vehicles()
            # Cars the user does not manage are not read at all.
            managed = self.config_entry.options.get(CONF_VEHICLES)
            now = dt_util.utcnow()
            data: dict[str, ChargeState] = {}
            for vin, state in states.items():
                if managed is not None and vin not in managed:
                    continue
                previous = (self.data or {}).get(vin)
                if previous is not None and self._resting(vin, state, previous, now):
                    data[vin] = previous
                    continue
                data[vin] = await self.control.read(vin)
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
            self.async_persist_tokens()
        self._end_back_off()
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
        self.update_interval = min(
            self._interval * 2 ** min(self._rate_limits, 16),
            max(MAX_BACK_OFF, self._interval),
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
            self._interval,
        )
        self._rate_limits = 0
        self.update_interval = self._interval

    # The car source DR drives (see car_source.CarSource).

    tells_overrides = False  # the owner API does not say who started charging

    @property
    def cars(self) -> dict[str, ChargeState]:
        """Every managed car, as last read."""
        return self.data or {}

    @callback
    def async_watch(self, car_ids: set[str]) -> None:
        """Cars DR holds paused are read at every poll."""
        self.watched = car_ids

    async def async_refresh_cars(self, car_ids: set[str]) -> None:
        """Re-read some cars now (DR asks when a price crosses a threshold).

        The fresh states are merged into the data as it is when the reads are done: several
        refreshes may run side by side, and none may put back what another just read.
        """
        fresh: dict[str, ChargeState] = {}
        try:
            for vin in car_ids & self.cars.keys():
                fresh[vin] = await self.control.read(vin)
        except VehicleError as err:
            LOGGER.debug("Immediate refresh of %d cars failed: %s", len(car_ids), err)
            return
        finally:
            self.async_persist_tokens()
        self._async_merge(fresh)

    async def async_stop(self, car_id: str) -> CommandResult:
        """Stop charging through the account; the read-back is merged."""
        return await self._async_command(self.control.stop_charging, car_id)

    async def async_start(self, car_id: str) -> CommandResult:
        """Start charging through the account (waking the car); the read-back is merged."""
        return await self._async_command(self.control.start_charging, car_id)

    async def _async_command(
        self, command: Callable[[str], Awaitable[CommandResult]], vin: str
    ) -> CommandResult:
        try:
            result = await command(vin)
        finally:
            self.async_persist_tokens()
        if result.state is not None:
            self._async_merge({vin: result.state})
        return result

    @callback
    def _async_merge(self, fresh: dict[str, ChargeState]) -> None:
        """Take reads made outside a poll without moving the poll.

        `async_set_updated_data` would reschedule the next poll from now: reads on DR's behalf
        during a spike would push the product list (and with it an owner's restart or a car
        waking up) ever later.
        """
        fresh = {vin: car for vin, car in fresh.items() if vin in self.cars}
        if not fresh:
            return
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
