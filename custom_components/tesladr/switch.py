"""Switch platform for tesladr: charging (account cars), and demand response per car."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .dr_coordinator import CarView, DrCoordinator
from .entity import DrEntity, TeslaVehicleEntity, async_setup_car_entities
from .models import TesladrConfigEntry

PARALLEL_UPDATES = 1
DEFAULT_DEPARTURE = "07:00"
CHARGING = SwitchEntityDescription(key="charging", translation_key="charging")


@dataclass(frozen=True, kw_only=True)
class DrSwitchDescription(SwitchEntityDescription):
    """A DR on/off setting: how to read and write it."""

    value_fn: Callable[[CarView], bool]
    set_value_fn: Callable[[DrCoordinator, str, bool], Awaitable[None]]


async def _set_ready_by(dr: DrCoordinator, car_id: str, on: bool) -> None:
    """Off keeps the departures for later; on with none known sets a usual morning one."""
    if not on:
        await dr.async_update_settings(car_id, ready_by=False)
        return
    settings = replace(dr.car(car_id).settings, ready_by=True)
    read = dr.source.cars.get(car_id)
    known = settings.departures(read.departure_schedule if read else None)
    await dr.async_update_settings(
        car_id,
        ready_by=True,
        **(
            {}
            if known
            else {"departure": DEFAULT_DEPARTURE, "departure_days": "every_day"}
        ),
    )


DR_SWITCHES: tuple[DrSwitchDescription, ...] = (
    DrSwitchDescription(
        key="demand_response",
        translation_key="demand_response",
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda car: car.settings.enabled,
        set_value_fn=lambda dr, car_id, on: dr.async_update_settings(
            car_id, enabled=on
        ),
    ),
    DrSwitchDescription(
        key="pause_on_flex_alert",
        translation_key="pause_on_flex_alert",
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda car: car.settings.pause_on_flex_alert,
        set_value_fn=lambda dr, car_id, on: dr.async_update_settings(
            car_id, pause_on_flex_alert=on
        ),
    ),
    DrSwitchDescription(
        key="ready_by",
        translation_key="ready_by",
        entity_category=EntityCategory.CONFIG,
        # On while DR keeps a departure on some day: set here or the car's own schedule.
        value_fn=lambda car: bool(car.departures),
        set_value_fn=_set_ready_by,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """A demand-response switch per car; a charging switch per account car."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: (DrSwitch(dr, car_id, desc) for desc in DR_SWITCHES),
        lambda vehicles, vin: [ChargingSwitch(vehicles, vin, CHARGING)],
    )


class ChargingSwitch(TeslaVehicleEntity, SwitchEntity):
    """On while the car charges; turning it on wakes the car."""

    @property
    @override
    def is_on(self) -> bool:
        """Whether the car is charging."""
        return self.car.charging

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging."""
        await self.async_command(self.coordinator.async_start)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging."""
        await self.async_command(self.coordinator.async_stop)


class DrSwitch(DrEntity, SwitchEntity):
    """A DR setting of one car; demand response off resumes a car DR paused."""

    entity_description: DrSwitchDescription

    @property
    @override
    def is_on(self) -> bool:
        """The setting."""
        return self.entity_description.value_fn(self.dr)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Turn the setting on."""
        await self.entity_description.set_value_fn(self.coordinator, self.car_id, True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Turn the setting off."""
        await self.entity_description.set_value_fn(self.coordinator, self.car_id, False)
