"""Switch platform for tesladr: charging, and demand response per car."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .account import AccountRuntimeData
from .entity import TeslaDrEntity, TeslaVehicleEntity

PARALLEL_UPDATES = 1
CHARGING = SwitchEntityDescription(key="charging", translation_key="charging")
DEMAND_RESPONSE = SwitchEntityDescription(
    key="demand_response",
    translation_key="demand_response",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A charging switch and a demand-response switch per car of an account."""
    runtime: AccountRuntimeData = entry.runtime_data
    async_add_entities(
        ChargingSwitch(runtime.coordinator, vin, CHARGING)
        for vin in runtime.coordinator.data
    )
    async_add_entities(
        DemandResponseSwitch(runtime.coordinator, runtime.dr, vin, DEMAND_RESPONSE)
        for vin in runtime.dr.managed_vins()
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


class DemandResponseSwitch(TeslaDrEntity, SwitchEntity):
    """The car takes part in demand response; off resumes a car DR paused."""

    @property
    def is_on(self) -> bool:
        """Whether the car is opted in."""
        return self.dr.settings.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Opt the car in."""
        await self.manager.async_update_settings(self.vin, enabled=True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Opt the car out."""
        await self.manager.async_update_settings(self.vin, enabled=False)
