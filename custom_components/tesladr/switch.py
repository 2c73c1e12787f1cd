"""Switch platform for tesladr: start and stop charging."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .account import AccountRuntimeData
from .entity import TeslaVehicleEntity

PARALLEL_UPDATES = 1
CHARGING = SwitchEntityDescription(key="charging", translation_key="charging")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A charging switch per car of an account."""
    runtime: AccountRuntimeData = entry.runtime_data
    async_add_entities(
        ChargingSwitch(runtime.coordinator, vin, CHARGING)
        for vin in runtime.coordinator.data
    )


class ChargingSwitch(TeslaVehicleEntity, SwitchEntity):
    """On while the car charges; turning it on wakes the car."""

    @property
    def is_on(self) -> bool:
        """Whether the car is charging."""
        return self.car.charging

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        await self.async_command(self.coordinator.control.start_charging)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await self.async_command(self.coordinator.control.stop_charging)
