"""Button platform for tesladr: wake an account car, skip a DR event."""

from __future__ import annotations

from typing import override

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import DrEntity, TeslaVehicleEntity, async_setup_car_entities
from .models import TesladrConfigEntry
from .vehicles import CommandResult

PARALLEL_UPDATES = 1
WAKE_UP = ButtonEntityDescription(key="wake_up", translation_key="wake_up")
SKIP_EVENT = ButtonEntityDescription(key="skip_event", translation_key="skip_event")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A skip-event button per car; a wake-up button per account car."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: [SkipEventButton(dr, car_id, SKIP_EVENT)],
        lambda vehicles, vin: [WakeUpButton(vehicles, vin, WAKE_UP)],
    )


class WakeUpButton(TeslaVehicleEntity, ButtonEntity):
    """Wake the car (a billed Fleet API call; tesladr itself never does this to read)."""

    @override
    async def async_press(self) -> None:
        """Wake and refresh."""
        await self.async_command(self._wake)

    async def _wake(self, vin: str) -> CommandResult:
        awake = await self.coordinator.control.wake(vin)
        if awake:
            await self.coordinator.async_refresh_cars({vin})
        return CommandResult(ok=awake, reason="" if awake else "wake_timeout")


class SkipEventButton(DrEntity, ButtonEntity):
    """Let the car charge through the current event (within its skips per 24 h)."""

    @override
    async def async_press(self) -> None:
        """Skip; refused with a translated error beyond the budget."""
        await self.coordinator.async_skip(self.car_id)
