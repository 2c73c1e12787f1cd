"""Select platform for tesladr: each car's pricing node."""

from __future__ import annotations

from typing import override

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .caiso import NODES
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The pricing-node setting of every car of an entry."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: [PricingNodeSelect(dr, car_id, PRICING_NODE)],
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
