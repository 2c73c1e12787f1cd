"""Binary sensor platform for tesladr."""

from __future__ import annotations

from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import CaisoPriceEntity
from .price_coordinator import CaisoPriceCoordinator
from .prices import PricesRuntimeData

PRICE_ABOVE_THRESHOLD = BinarySensorEntityDescription(
    key="price_above_threshold", translation_key="price_above_threshold"
)

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The "price above threshold" sensor of every node of the prices entry."""
    runtime: PricesRuntimeData = entry.runtime_data
    async_add_entities(
        PriceAboveThresholdSensor(runtime.coordinator, node, runtime.threshold)
        for node in runtime.nodes
    )


class PriceAboveThresholdSensor(CaisoPriceEntity, BinarySensorEntity):
    """On while a node's newest 5-minute price is above the entry's threshold."""

    def __init__(
        self, coordinator: CaisoPriceCoordinator, node: str, threshold: float
    ) -> None:
        """Bind the sensor to its node and threshold."""
        super().__init__(coordinator, node, PRICE_ABOVE_THRESHOLD)
        self.threshold = threshold

    @property
    def is_on(self) -> bool | None:
        """Whether the newest price is above the threshold."""
        latest = self.coordinator.data.latest(self.node)
        return None if latest is None else latest.price > self.threshold

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The threshold compared against, in USD/MWh."""
        return {"threshold": self.threshold}
