"""Time platform for tesladr: each car's departure, for the ready-by guarantee."""

from __future__ import annotations

from datetime import time

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .dr.policy import departure_time
from .entity import DrEntity, async_setup_car_entities
from .models import TesladrConfigEntry

PARALLEL_UPDATES = 0
DEPARTURE = TimeEntityDescription(
    key="departure",
    translation_key="departure",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The departure of every car of an entry."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: [DepartureTime(dr, car_id, DEPARTURE)],
    )


class DepartureTime(DrEntity, TimeEntity):
    """When the owner leaves each day; unknown while ready by departure is off."""

    @property
    def native_value(self) -> time | None:
        """The daily departure, in Home Assistant's time zone."""
        departure = self.dr.settings.departure
        return departure_time(departure) if departure is not None else None

    async def async_set_value(self, value: time) -> None:
        """Set the departure; this turns ready by departure on."""
        await self.coordinator.async_update_settings(
            self.car_id, departure=value.strftime("%H:%M")
        )
