"""Number platform for tesladr: each car's demand-response settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.number import (
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .account import AccountRuntimeData
from .dr import DrSettings
from .dr.policy import MAX_SKIPS
from .entity import TeslaDrEntity

PARALLEL_UPDATES = 0
USD_PER_MWH = "USD/MWh"


@dataclass(frozen=True, kw_only=True)
class DrNumberDescription(NumberEntityDescription):
    """A DR setting: which field of DrSettings it edits."""

    setting: str
    value_fn: Callable[[DrSettings], float]


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
        setting="threshold",
        value_fn=lambda settings: float(settings.threshold),
    ),
    DrNumberDescription(
        key="aggressiveness",
        translation_key="aggressiveness",
        entity_category=EntityCategory.CONFIG,
        native_min_value=1,
        native_max_value=100,
        native_step=1,
        mode=NumberMode.SLIDER,
        setting="aggressiveness",
        value_fn=lambda settings: settings.aggressiveness,
    ),
    DrNumberDescription(
        key="max_skips",
        translation_key="max_skips",
        entity_category=EntityCategory.CONFIG,
        native_min_value=0,
        native_max_value=MAX_SKIPS,
        native_step=1,
        mode=NumberMode.BOX,
        setting="max_skips_per_24h",
        value_fn=lambda settings: settings.max_skips_per_24h,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """DR settings of every managed car of an account."""
    runtime: AccountRuntimeData = entry.runtime_data
    async_add_entities(
        DrNumber(runtime.coordinator, runtime.dr, vin, description)
        for vin in runtime.dr.managed_vins()
        for description in DR_NUMBERS
    )


class DrNumber(TeslaDrEntity, NumberEntity):
    """One DR setting of one car, kept by tesladr across restarts."""

    entity_description: DrNumberDescription

    @property
    def native_value(self) -> float:
        """The current setting."""
        return self.entity_description.value_fn(self.dr.settings)

    async def async_set_native_value(self, value: float) -> None:
        """Change the setting; DR acts on it at once."""
        setting = self.entity_description.setting
        new = value if setting == "threshold" else int(value)
        await self.manager.async_update_settings(self.vin, **{setting: new})
