"""Where a DR coordinator's cars come from.

An account entry's cars come from its vehicle coordinator (teslajsonpy); a linked car from the
entities another integration already provides. The DR coordinator sees only this protocol, so its
policy, settings, entities, ledger and events are the same whatever the route.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from homeassistant.core import CALLBACK_TYPE
from homeassistant.helpers.device_registry import AnyDeviceEntry, DeviceInfo

from .vehicles import ChargeState, CommandResult


class CarSource(Protocol):
    """Cars, their charge state and their commands, for one config entry."""

    # Whether `ChargeState.owner_started_at` says who restarted charging (see dr.CarSnapshot).
    tells_overrides: bool

    @property
    def cars(self) -> Mapping[str, ChargeState]:
        """Every car DR manages, by car id, as last read."""

    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call back when a car's state changes."""

    async def async_refresh_cars(self, car_ids: set[str]) -> None:
        """Fresh reads where the source can give them, without resetting its own schedule."""

    def async_watch(self, car_ids: set[str]) -> None:
        """Cars DR holds paused: keep reading them, an owner restarting one must be seen."""

    async def async_stop(self, car_id: str) -> CommandResult:
        """Stop charging (never waking the car); raises VehicleError when it cannot be sent."""

    async def async_start(self, car_id: str) -> CommandResult:
        """Start charging, waking the car where the route needs that."""

    def device(self, car_id: str) -> DeviceInfo | AnyDeviceEntry:
        """The device DR's entities of this car belong to: one of ours, or an existing one."""

    def device_id(self, car_id: str) -> str | None:
        """That device's registry id, once it exists."""
