"""Button platform for tesladr: wake a car, skip a DR event."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .account import AccountRuntimeData
from .entity import TeslaDrEntity, TeslaVehicleEntity
from .vehicles import CommandResult

PARALLEL_UPDATES = 1
WAKE_UP = ButtonEntityDescription(key="wake_up", translation_key="wake_up")
SKIP_EVENT = ButtonEntityDescription(key="skip_event", translation_key="skip_event")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A wake-up and a skip-event button per car of an account."""
    runtime: AccountRuntimeData = entry.runtime_data
    async_add_entities(
        WakeUpButton(runtime.coordinator, vin, WAKE_UP)
        for vin in runtime.coordinator.data
    )
    async_add_entities(
        SkipEventButton(runtime.coordinator, runtime.dr, vin, SKIP_EVENT)
        for vin in runtime.dr.managed_vins()
    )


class WakeUpButton(TeslaVehicleEntity, ButtonEntity):
    """Wake the car (a billed Fleet API call; tesladr itself never does this to read)."""

    async def async_press(self) -> None:
        """Wake and refresh."""
        await self.async_command(self._wake)

    async def _wake(self, vin: str) -> CommandResult:
        awake = await self.coordinator.control.wake(vin)
        return CommandResult(ok=awake, reason="" if awake else "wake_timeout")


class SkipEventButton(TeslaDrEntity, ButtonEntity):
    """Let the car charge through the current event (within its skips per 24 h)."""

    async def async_press(self) -> None:
        """Skip; refused with a translated error beyond the budget."""
        await self.manager.async_skip(self.vin)
