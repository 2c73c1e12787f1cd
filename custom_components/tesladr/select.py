"""Select platform for tesladr: each car's pricing node and the days its owner leaves."""

from __future__ import annotations

from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .caiso import NODES
from .dr.departures import DEPARTURE_DAYS
from .entity import DrEntity, async_setup_car_entities
from .models import TesladrConfigEntry

PARALLEL_UPDATES = 0
AUTO = "auto"
# Options are translation keys, which Home Assistant wants in lower case.
OPTIONS = {node.lower(): node for node in NODES}
PRICING_NODE = SelectEntityDescription(
    key="pricing_node_choice",
    translation_key="pricing_node_choice",
    entity_category=EntityCategory.CONFIG,
    options=[AUTO, *OPTIONS],
)
DEPARTURE_DAYS_SELECT = SelectEntityDescription(
    key="departure_days",
    translation_key="departure_days",
    entity_category=EntityCategory.CONFIG,
    options=list(DEPARTURE_DAYS),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The pricing-node and departure-days settings of every car of an entry."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: [
            PricingNodeSelect(dr, car_id, PRICING_NODE),
            DepartureDaysSelect(dr, car_id, DEPARTURE_DAYS_SELECT),
        ],
    )


class PricingNodeSelect(DrEntity, SelectEntity):
    """Which CAISO node prices the car: the nearest one, or the owner's choice."""

    @property
    @override
    def current_option(self) -> str:
        """The chosen node, or auto."""
        node = self.dr.settings.node
        return node.lower() if node in NODES else AUTO

    @override
    async def async_select_option(self, option: str) -> None:
        """Choose a node (auto: the one nearest the car, else home)."""
        await self.coordinator.async_update_settings(
            self.car_id, node=OPTIONS.get(option)
        )


class DepartureDaysSelect(DrEntity, SelectEntity):
    """The days the owner leaves: on other days DR keeps no departure."""

    @property
    @override
    def current_option(self) -> str:
        """Every day, weekdays or weekends."""
        return self.dr.settings.departure_days

    @override
    async def async_select_option(self, option: str) -> None:
        """Choose the days."""
        await self.coordinator.async_update_settings(self.car_id, departure_days=option)
