"""Time platform for tesladr: each car's departure, for the ready-by guarantee.

One daily departure, and a departure per weekday (disabled by default) for an owner who leaves
at different times on different days. Until the owner sets one, they show the car's own
schedule where its source tells it, and say so in their `source` attribute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any, override

from homeassistant.components.time import TimeEntity, TimeEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .dr.departures import DEPARTURE_DAYS, WEEKDAYS, DepartureSource
from .dr.ready_by import next_departure
from .dr_coordinator import DrCoordinator
from .entity import DrEntity, async_setup_car_entities
from .models import TesladrConfigEntry

PARALLEL_UPDATES = 0
SOURCE = "source"
DEPARTURE = TimeEntityDescription(
    key="departure",
    translation_key="departure",
    entity_category=EntityCategory.CONFIG,
)
WEEKDAY_DEPARTURES = tuple(
    TimeEntityDescription(
        key=f"departure_{day}",
        translation_key=f"departure_{day}",
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
    )
    for day in WEEKDAYS
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The departures of every car of an entry."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: [
            DepartureTime(dr, car_id, DEPARTURE),
            *(
                WeekdayDepartureTime(dr, car_id, desc, weekday)
                for weekday, desc in enumerate(WEEKDAY_DEPARTURES)
            ),
        ],
    )


class DepartureTime(DrEntity, TimeEntity):
    """When the owner leaves each day: set here, else the car's own schedule.

    Unknown while ready by departure is off or no departure is known.
    """

    def _shown(self) -> tuple[time, DepartureSource] | None:
        """The daily time set here, else that of the next departure (the car's schedule)."""
        settings = self.dr.settings
        if not settings.ready_by:
            return None
        if settings.departure is not None:
            return time.fromisoformat(settings.departure), DepartureSource.SET_HERE
        week = self.dr.departures
        zone = dt_util.get_default_time_zone()
        upcoming = next_departure(
            dt_util.utcnow(), {day: at for day, (at, _) in week.items()}, zone
        )
        return week[upcoming.astimezone(zone).weekday()] if upcoming else None

    @property
    @override
    def native_value(self) -> time | None:
        """The departure, in Home Assistant's time zone."""
        shown = self._shown()
        return shown[0] if shown is not None else None

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Where the departure comes from: set here, or the car's own schedule."""
        shown = self._shown()
        return {SOURCE: shown[1]} if shown is not None else None

    @override
    async def async_set_value(self, value: time) -> None:
        """Set the daily departure; this turns ready by departure on."""
        await self.coordinator.async_update_settings(
            self.car_id, departure=value.strftime("%H:%M"), ready_by=True
        )


class WeekdayDepartureTime(DrEntity, TimeEntity):
    """The departure of one weekday; unknown on a day the owner does not leave."""

    def __init__(
        self,
        coordinator: DrCoordinator,
        car_id: str,
        description: TimeEntityDescription,
        weekday: int,
    ) -> None:
        """Bind the entity to its car and weekday (0 Monday)."""
        super().__init__(coordinator, car_id, description)
        self.weekday = weekday

    @property
    @override
    def native_value(self) -> time | None:
        """That day's departure: its own, the daily one, or the car's schedule."""
        found = self.dr.departures.get(self.weekday)
        return found[0] if found is not None else None

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Where that day's departure comes from."""
        found = self.dr.departures.get(self.weekday)
        return {SOURCE: found[1]} if found is not None else None

    @override
    async def async_set_value(self, value: time) -> None:
        """Give the weekday its own departure; this turns ready by departure on."""
        settings = self.dr.settings
        if self.weekday not in DEPARTURE_DAYS[settings.departure_days]:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="not_a_departure_day",
                translation_placeholders={"entity_id": self.entity_id},
            )
        weekly = list(settings.weekday_departures)
        weekly[self.weekday] = value.strftime("%H:%M")
        await self.coordinator.async_update_settings(
            self.car_id, weekday_departures=tuple(weekly), ready_by=True
        )
