"""The teslajsonpy backend of the charge-control protocol.

Reads go straight to the two endpoints that matter, so a sleeping car is never asked for
`vehicle_data` (teslajsonpy's own car objects read every car at creation). Commands use the raw
API response, because the library drops a `result: false` and its reason.
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
from teslajsonpy import Controller
from teslajsonpy.exceptions import IncompleteCredentials, TeslaException

from .base import (
    ChargeState,
    CommandResult,
    Refusal,
    VehicleAuthError,
    VehicleError,
    VehicleForbiddenError,
    VehicleRateLimitedError,
    VehicleState,
    VehicleUnavailableError,
)
from .schedule import tesla_schedule

WAKE_TIMEOUT = 60.0
TOKEN_MARGIN = 60  # seconds before expiry from which calls are serialised
WAKE_POLL = 5.0


def _error(err: Exception) -> VehicleError:
    """Map the library's errors to the protocol's."""
    if isinstance(err, IncompleteCredentials):
        return VehicleAuthError(str(err))
    code = getattr(err, "code", None)
    message = f"{code} {getattr(err, 'message', '')}".strip()
    match code:
        case 401:
            return VehicleAuthError(message)
        case 403:
            return VehicleForbiddenError(message)
        case 408:
            return VehicleUnavailableError(message)
        case 429:
            return VehicleRateLimitedError(message)
    return VehicleError(message or str(err))


async def _renew_access_token(controller: Controller) -> None:
    """Refresh the tokens now, once, as the library does when its clock says they expired.

    The library has no call for this, and its own path retries a refused refresh for 15
    seconds; one refused attempt is enough to ask the owner to log in again. The steps are
    those of teslajsonpy 3.14.0's `Connection.post` (pinned in the manifest).
    """
    connection = getattr(controller, "_Controller__connection")
    try:
        auth = await connection.refresh_access_token(connection.refresh_token)
    except httpx.HTTPError as err:
        raise VehicleError(f"cannot reach Tesla: {err!r}") from err
    if not auth or not all(
        auth.get(item) for item in ("access_token", "refresh_token", "expires_in")
    ):
        raise VehicleAuthError("Tesla refused the refresh token")
    now = calendar.timegm(datetime.now().timetuple())
    connection.sso_oauth = {
        "access_token": auth["access_token"],
        "refresh_token": auth["refresh_token"],
        "expires_in": auth["expires_in"] + now,
    }
    connection.id_token = auth.get("id_token")
    connection.refresh_token = auth["refresh_token"]
    getattr(connection, "_Connection__sethead")(
        access_token=auth["access_token"], expires_in=auth["expires_in"]
    )
    connection.token_refreshed = True


def _access_token(controller: Controller) -> str | None:
    token: str | None = getattr(controller, "_Controller__connection").access_token
    return token


def _charge_state(vin: str, name: str, data: dict[str, Any]) -> ChargeState:
    charge = data.get("charge_state") or {}
    drive = data.get("drive_state") or {}
    return ChargeState(
        vin=vin,
        name=name,
        state=VehicleState.ONLINE,
        battery_level=charge.get("battery_level"),
        charging_state=charge.get("charging_state"),
        charger_power_kw=charge.get("charger_power"),
        charge_energy_added_kwh=charge.get("charge_energy_added"),
        charge_limit_soc=charge.get("charge_limit_soc"),
        time_to_full_h=charge.get("time_to_full_charge"),
        fast_charger=charge.get("fast_charger_present"),
        latitude=drive.get("latitude"),
        longitude=drive.get("longitude"),
        updated_at=datetime.now(UTC),
        departure_schedule=tesla_schedule(charge),
    )


class TeslaChargeControl:
    """ChargeControl over a connected teslajsonpy Controller."""

    def __init__(
        self,
        controller: Controller,
        *,
        wake_timeout: float = WAKE_TIMEOUT,
        wake_poll: float = WAKE_POLL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Wrap a controller; the wake wait is bounded and its sleep injectable."""
        self.controller = controller
        self._wake_timeout = wake_timeout
        self._wake_poll = wake_poll
        self._sleep = sleep
        self._ids: dict[str, int] = {}
        self._names: dict[str, str] = {}
        self._states: dict[str, VehicleState] = {}
        self._last: dict[str, ChargeState] = {}
        self._token_lock = asyncio.Lock()

    async def _api(self, name: str, vin: str | None = None) -> dict[str, Any]:
        # The library refreshes an expired token inside whichever call comes first, without a
        # lock; two concurrent refreshes would spend the rotating refresh token twice and log
        # the user out. Near expiry, calls go one at a time.
        now = calendar.timegm(datetime.now().timetuple())
        if now > self.controller.get_expiration() - TOKEN_MARGIN:
            async with self._token_lock:
                return await self._call(name, vin)
        refused = _access_token(self.controller)
        try:
            return await self._call(name, vin)
        except VehicleAuthError:
            # Tesla refused an access token the library still holds valid: it expired on
            # Tesla's clock while the call was on its way, or Tesla replaced it. The refresh
            # token may still be good, so renew once (once for all the calls refused together)
            # before the account goes to reauth.
            async with self._token_lock:
                if _access_token(self.controller) == refused:
                    await _renew_access_token(self.controller)
                return await self._call(name, vin)

    async def _call(self, name: str, vin: str | None) -> dict[str, Any]:
        path_vars = {"vehicle_id": self._ids[vin]} if vin else None
        try:
            result: dict[str, Any] = await self.controller.api(
                name, path_vars=path_vars, wake_if_asleep=False
            )
        except (TeslaException, IncompleteCredentials) as err:
            raise _error(err) from err
        except httpx.HTTPError as err:
            # The token refresh goes through httpx directly, outside the library's wrapping.
            raise VehicleError(f"cannot reach Tesla: {err!r}") from err
        return result

    async def list_vehicles(self) -> dict[str, VehicleState]:
        """The account's cars and their connectivity: one cheap call, wakes nothing."""
        products = (await self._api("PRODUCT_LIST"))["response"]
        states: dict[str, VehicleState] = {}
        for product in products:
            if "vin" not in product or "id" not in product:
                continue
            vin = product["vin"]
            self._ids[vin] = product["id"]
            # Lets the library address the car by VIN (what the Fleet API prefers) instead of
            # logging an error on every call about an unknown id.
            self.controller.set_id_vin(product["id"], vin)
            self._names[vin] = product.get("display_name") or vin[-6:]
            state = product.get("state")
            states[vin] = (
                VehicleState(state) if state in VehicleState else VehicleState.OFFLINE
            )
        # A car that left the account is forgotten, not kept with its last state.
        self._states = states
        return dict(states)

    @property
    def names(self) -> dict[str, str]:
        """Display names of the cars on the account, by VIN."""
        return {vin: self._names[vin] for vin in self._states}

    async def _known(self, vin: str) -> None:
        if vin not in self._ids:
            await self.list_vehicles()
        if vin not in self._ids:
            raise VehicleError(f"car {vin[-6:]} is not on this account")

    async def read(self, vin: str) -> ChargeState:
        """Charge state of an online car; last-known data marked stale otherwise."""
        await self._known(vin)
        state = self._states.get(vin, VehicleState.OFFLINE)
        if state is not VehicleState.ONLINE:
            return self._stale(vin, state)
        try:
            data = (await self._api("VEHICLE_DATA", vin))["response"]
        except VehicleUnavailableError:
            # It fell asleep since the product list was read.
            self._states[vin] = VehicleState.ASLEEP
            return self._stale(vin, VehicleState.ASLEEP)
        current = _charge_state(vin, self._names[vin], data)
        self._last[vin] = current
        return current

    def _stale(self, vin: str, state: VehicleState) -> ChargeState:
        last = self._last.get(vin)
        if last is None:
            return ChargeState(vin=vin, name=self._names[vin], state=state, stale=True)
        return replace(last, state=state, stale=True)

    async def stop_charging(self, vin: str) -> CommandResult:
        """Stop without waking; a sleeping car is not charging."""
        await self._known(vin)
        try:
            reply = (await self._api("STOP_CHARGE", vin))["response"]
        except VehicleUnavailableError:
            return CommandResult(ok=False, reason=Refusal.ASLEEP)
        result = CommandResult(
            bool(reply.get("result")), str(reply.get("reason") or "")
        )
        after = await self.read(vin)
        if result.ok and after.charging:
            return CommandResult(ok=False, reason=Refusal.STILL_CHARGING, state=after)
        return replace(result, state=after)

    async def start_charging(
        self, vin: str, *, read_back: bool = True
    ) -> CommandResult:
        """Wake the car (bounded), then start charging.

        Without `read_back` an accepted start is taken at its word: the last data, marked
        stale, as "Starting" (the state Tesla reports while charging begins). A refused one is
        always read back.
        """
        if not await self.wake(vin):
            return CommandResult(ok=False, reason=Refusal.WAKE_TIMEOUT)
        reply = (await self._api("START_CHARGE", vin))["response"]
        result = CommandResult(
            bool(reply.get("result")), str(reply.get("reason") or "")
        )
        if read_back or not result.ok:
            # A refusal is read back too: DR checks its reason against the car.
            return replace(result, state=await self.read(vin))
        if (last := self._last.get(vin)) is None:
            return result
        started = replace(last, charging_state="Starting", stale=True)
        self._last[vin] = started
        return replace(result, state=started)

    async def wake(self, vin: str) -> bool:
        """Wake a car and wait (bounded) until it is online; False when it stays asleep."""
        await self._known(vin)
        if self._states.get(vin) is VehicleState.ONLINE:
            return True
        reply = (await self._api("WAKE_UP", vin))["response"]
        waited = 0.0
        while reply.get("state") != "online":
            if waited >= self._wake_timeout:
                return False
            await self._sleep(self._wake_poll)
            waited += self._wake_poll
            reply = (await self._api("VEHICLE_SUMMARY", vin))["response"]
        self._states[vin] = VehicleState.ONLINE
        return True
