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

from .dr import ReadNeed
from .vehicles import ChargeState, CommandResult


class CarSource(Protocol):
    """Cars, their charge state and their commands, for one config entry."""

    # Whether `ChargeState.owner_started_at` says who restarted charging (see dr.CarSnapshot).
    tells_overrides: bool

    @property
    def reads_on_demand(self) -> bool:
        """Whether the source reads a car only when DR asks, so its data may be hours old.

        Then DR asks for a fresh read at each price interval that may act on the car, also of
        a car shown asleep (it may have woken and plugged in) or held paused (an owner may
        have restarted it).
        """

    @property
    def cars(self) -> Mapping[str, ChargeState]:
        """Every car DR manages, by car id, as last read."""

    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call back when a car's state changes."""

    async def async_refresh_cars(self, car_ids: set[str]) -> None:
        """Fresh reads where the source can give them, without resetting its own schedule."""

    def async_set_read_needs(self, needs: Mapping[str, ReadNeed]) -> None:
        """How closely DR needs each car read (see dr.reads); called at every evaluation."""

    async def async_stop(self, car_id: str) -> CommandResult:
        """Stop charging (never waking the car); raises VehicleError when it cannot be sent."""

    async def async_start(self, car_id: str) -> CommandResult:
        """Start charging, waking the car where the route needs that."""

    def device(self, car_id: str) -> DeviceInfo | AnyDeviceEntry:
        """The device DR's entities of this car belong to: one of ours, or an existing one."""

    def device_id(self, car_id: str) -> str | None:
        """That device's registry id, once it exists."""
