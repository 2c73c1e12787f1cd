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
from homeassistant.const import PERCENTAGE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .dr import DrSettings
from .dr.policy import (
    MAX_CHURN_MINUTES,
    MAX_EMISSIONS_G_PER_KWH,
    MAX_PAUSES_PER_24H,
    MAX_SKIPS,
)
from .dr_coordinator import DrCoordinator
from .entity import DrEntity, async_setup_car_entities
from .models import TesladrConfigEntry
from .vehicles import ChargeState

PARALLEL_UPDATES = 0
USD_PER_MWH = "USD/MWh"
GRAMS_PER_KWH = "g/kWh"


@dataclass(frozen=True, kw_only=True)
class DrNumberDescription(NumberEntityDescription):
    """A DR setting: how to read and write it."""

    value_fn: Callable[[DrSettings, ChargeState | None], float | None]
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
        value_fn=lambda settings, _read: float(settings.threshold),
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
        value_fn=lambda settings, _read: settings.aggressiveness,
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
        value_fn=lambda settings, _read: settings.max_skips_per_24h,
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, max_skips_per_24h=int(value)
        ),
    ),
    DrNumberDescription(
        key="target_charge",
        translation_key="target_charge",
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=1,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.SLIDER,
        # Until the owner sets one: the car's own charge limit, where its source tells it.
        value_fn=lambda settings, read: (
            settings.target_level
            if settings.target_level is not None
            else (read.charge_limit_soc if read is not None else None)
        ),
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, target_level=int(value)
        ),
    ),
    DrNumberDescription(
        key="min_pause",
        translation_key="min_pause",
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        native_min_value=0,
        native_max_value=MAX_CHURN_MINUTES,
        native_step=5,
        mode=NumberMode.BOX,
        value_fn=lambda settings, _read: settings.min_pause_minutes,
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, min_pause_minutes=int(value)
        ),
    ),
    DrNumberDescription(
        key="pauses_per_24h",
        translation_key="pauses_per_24h",
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=MAX_PAUSES_PER_24H,
        native_step=1,
        mode=NumberMode.BOX,
        value_fn=lambda settings, _read: settings.pauses_per_24h,
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, pauses_per_24h=int(value)
        ),
    ),
)

# The grid-signal settings (dr/signals.py), apart from the price's.
GRID_NUMBERS: tuple[DrNumberDescription, ...] = (
    DrNumberDescription(
        key="emissions_limit",
        translation_key="emissions_limit",
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=GRAMS_PER_KWH,
        native_min_value=0,
        native_max_value=MAX_EMISSIONS_G_PER_KWH,
        native_step=10,
        mode=NumberMode.BOX,
        value_fn=lambda settings, _read: settings.emissions_above_g_per_kwh,
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, emissions_above_g_per_kwh=int(value)
        ),
    ),
    # 0 turns the rule off; 25 pauses in the dirtiest quarter of the day's intervals.
    DrNumberDescription(
        key="dirtiest_share",
        translation_key="dirtiest_share",
        entity_category=EntityCategory.CONFIG,
        native_unit_of_measurement=PERCENTAGE,
        native_min_value=0,
        native_max_value=100,
        native_step=5,
        mode=NumberMode.BOX,
        value_fn=lambda settings, _read: settings.dirtiest_share_percent,
        set_value_fn=lambda dr, car_id, value: dr.async_update_settings(
            car_id, dirtiest_share_percent=int(value)
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
        lambda dr, car_id: (
            DrNumber(dr, car_id, desc) for desc in (*DR_NUMBERS, *GRID_NUMBERS)
        ),
    )


class DrNumber(DrEntity, NumberEntity):
    """One DR setting of one car, kept by tesladr across restarts."""

    entity_description: DrNumberDescription

    @property
    @override
    def native_value(self) -> float | None:
        """The current setting."""
        return self.entity_description.value_fn(
            self.dr.settings, self.coordinator.source.cars.get(self.car_id)
        )

    @override
    async def async_set_native_value(self, value: float) -> None:
        """Change the setting; DR acts on it at once."""
        await self.entity_description.set_value_fn(self.coordinator, self.car_id, value)
