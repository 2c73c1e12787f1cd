"""Number platform for tesladr: each car's demand-response settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.number import (
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .dr import DrSettings
from .dr.policy import MAX_SKIPS
from .dr_coordinator import DrCoordinator
from .entity import DrEntity, async_setup_car_entities
from .models import TesladrConfigEntry

PARALLEL_UPDATES = 0
USD_PER_MWH = "USD/MWh"


@dataclass(frozen=True, kw_only=True)
class DrNumberDescription(NumberEntityDescription):
    """A DR setting: how to read and write it."""

    value_fn: Callable[[DrSettings], float]
    set_value_fn: Callable[[DrCoordinator, str, float], Awaitable[None]]


DR_NUMBERS: tuple[DrNumberDescription, ...] = (
    DrNumberDescription(
        key="price_threshold",
        translation_key="price_threshold",
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=USD_PER_MWH,
        native_min_value=0,
        native_max_value=2000,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda settings: float(settings.threshold),
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, threshold=value
        ),
    ),
    DrNumberDescription(
        key="aggressiveness",
        translation_key="aggressiveness",
        entity_category=EntityCategory.CONFIG,
        native_min_value=1,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.SLIDER,
        value_fn=lambda settings: settings.aggressiveness,
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, aggressiveness=int(value)
        ),
    ),
    DrNumberDescription(
        key="max_skips",
        translation_key="max_skips",
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=MAX_SKIPS,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda settings: settings.max_skips_per_24h,
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, max_skips_per_24h=int(value)
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """DR settings of every car of an entry."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: (DrNumber(dr, car_id, desc) for desc in DR_NUMBERS),
    )


class DrNumber(DrEntity, NumberEntity):
    """One DR setting of one car, kept by tesladr across restarts."""

    entity_description: DrNumberDescription

    @property
    @override
    def native_value(self) -> float:
        """The current setting."""
        return self.entity_description.value_fn(self.dr.settings)

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change the setting; DR acts on it at once."""
        await self.entity_description.set_value_fn(self.coordinator, self.car_id, value)
