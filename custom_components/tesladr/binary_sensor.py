"""Binary sensor platform for tesladr."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .dr.participation import event_in_progress
from .entity import (
    CaisoPriceEntity,
    DrEntity,
    TeslaVehicleEntity,
    async_setup_car_entities,
)
from .grid_entities import grid_binary_sensors
from .models import TesladrConfigEntry, prices_runtime
from .price_coordinator import CaisoPriceCoordinator
from .vehicles import ChargeState, VehicleState

PRICE_ABOVE_THRESHOLD = BinarySensorEntityDescription(
    key="price_above_threshold", translation_key="price_above_threshold"
)
DR_ACTIVE = BinarySensorEntityDescription(key="dr_active", translation_key="dr_active")
EVENT_IN_PROGRESS = BinarySensorEntityDescription(
    key="event_in_progress", translation_key="event_in_progress"
)

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Price-above-threshold sensors of the prices entry, or the sensors of a car entry."""
    if (runtime := prices_runtime(entry)) is not None:
        async_add_entities(
            PriceAboveThresholdSensor(runtime.coordinator, node, runtime.threshold)
            for node in runtime.nodes
        )
        async_add_entities(grid_binary_sensors(runtime))
        return
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: [
            DrActiveSensor(dr, car_id, DR_ACTIVE),
            EventInProgressSensor(dr, car_id, EVENT_IN_PROGRESS),
        ],
        lambda vehicles, vin: (
            TeslaVehicleBinarySensor(vehicles, vin, description)
            for description in VEHICLE_BINARY_SENSORS
        ),
    )


@dataclass(frozen=True, kw_only=True)
class TeslaVehicleBinarySensorDescription(BinarySensorEntityDescription):
    """A car binary sensor."""

    value_fn: Callable[[ChargeState], bool | None]


VEHICLE_BINARY_SENSORS: tuple[TeslaVehicleBinarySensorDescription, ...] = (
    TeslaVehicleBinarySensorDescription(
        key="plugged_in",
        translation_key="plugged_in",
        device_class=BinarySensorDeviceClass.PLUG,
        value_fn=lambda car: car.plugged_in,
    ),
    TeslaVehicleBinarySensorDescription(
        key="online",
        translation_key="online",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda car: car.state is VehicleState.ONLINE,
    ),
)


class TeslaVehicleBinarySensor(TeslaVehicleEntity, BinarySensorEntity):
    """An on/off fact about one car."""

    entity_description: TeslaVehicleBinarySensorDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """From the car's (possibly last known) state."""
        return self.entity_description.value_fn(self.car)


class DrActiveSensor(DrEntity, BinarySensorEntity):
    """On while DR holds the car paused."""

    @property
    @override
    def is_on(self) -> bool:
        """Whether DR paused the car."""
        return self.dr.state.paused_by_dr


class EventInProgressSensor(DrEntity, BinarySensorEntity):
    """On while a DR event is on for the car, whether or not the car takes part in it."""

    @property
    def is_on(self) -> bool:
        """A fresh price above the car's threshold, or DR still keeping its part in one."""
        car = self.dr
        return event_in_progress(car.price, car.settings, car.state, dt_util.utcnow())


class PriceAboveThresholdSensor(CaisoPriceEntity, BinarySensorEntity):
    """On while a node's newest 5-minute price is above the entry's threshold."""

    def __init__(
        self, coordinator: CaisoPriceCoordinator, node: str, threshold: float
    ) -> None:
        """Bind the sensor to its node and threshold."""
        super().__init__(coordinator, node, PRICE_ABOVE_THRESHOLD)
        self.threshold = threshold

    @property
    @override
    def is_on(self) -> bool | None:
        """Whether the newest price is above the threshold."""
        latest = self.coordinator.data.latest(self.node)
        return None if latest is None else latest.price > self.threshold

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """The threshold compared against, in USD/MWh."""
        return {"threshold": self.threshold}
