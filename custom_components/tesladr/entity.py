"""Base entities of tesladr."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .caiso import NODES
from .car_source import CarSource
from .const import DOMAIN
from .dr_coordinator import CarView, DrCoordinator
from .models import TesladrConfigEntry, car_runtime
from .price_coordinator import CaisoPriceCoordinator
from .prices import node_identifier
from .vehicle_coordinator import TeslaVehicleCoordinator
from .vehicles import ChargeState, CommandResult, VehicleError


class CaisoPriceEntity(CoordinatorEntity[CaisoPriceCoordinator]):
    """An entity of one node's "CAISO prices" device."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: CaisoPriceCoordinator,
        node: str,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to its node."""
        super().__init__(coordinator)
        self.entity_description = description
        self.node = node
        self._attr_unique_id = f"{node}_{description.key}"
        label = NODES[node].label if node in NODES else node
        self._attr_device_info = DeviceInfo(
            identifiers={node_identifier(node)},
            name=f"CAISO prices {label}",
            manufacturer="California ISO",
            model="OASIS pricing node",
            model_id=node,
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    @override
    def available(self) -> bool:
        """Keep showing the last price through short outages; go unavailable when stale."""
        return self.coordinator.data.is_fresh(self.node, dt_util.utcnow())


class TeslaVehicleEntity(CoordinatorEntity[TeslaVehicleCoordinator]):
    """An entity of one car of a Tesla account (tesladr's own login)."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: TeslaVehicleCoordinator,
        vin: str,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to its car."""
        super().__init__(coordinator)
        self.entity_description = description
        self.vin = vin
        self._attr_unique_id = f"{vin}_{description.key}"
        self._attr_device_info = coordinator.device(vin)

    @property
    def car(self) -> ChargeState:
        """The car's current (or last known) charge state."""
        return self.coordinator.data[self.vin]

    async def async_command(
        self, command: Callable[[str], Awaitable[CommandResult]]
    ) -> None:
        """Send a command; failures and the car's refusals become translated errors.

        The command reads the car back into the coordinator's data itself.
        """
        try:
            result = await command(self.vin)
        except VehicleError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={"reason": str(err)},
            ) from err
        if not result.ok:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_refused",
                translation_placeholders={"reason": result.reason},
            )

    @property
    @override
    def available(self) -> bool:
        """A sleeping car keeps its last data; only a car gone from the account is unavailable."""
        return super().available and self.vin in self.coordinator.data


class DrEntity(CoordinatorEntity[DrCoordinator]):
    """A demand-response entity of one car, whatever its route: DR state is tesladr's own."""

    _attr_has_entity_name = True

    def __init__(
        self,
        coordinator: DrCoordinator,
        car_id: str,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to its car; it sits on the device the car's source names."""
        super().__init__(coordinator)
        self.entity_description = description
        self.car_id = car_id
        self._attr_unique_id = f"{car_id}_{description.key}"
        device = coordinator.source.device(car_id)
        if isinstance(device, dr.DeviceEntry | dr.ChildDeviceEntry):
            # Another integration's device: the entity joins it, as core's helpers do.
            self.device_entry = device
        else:
            self._attr_device_info = device

    @property
    def dr(self) -> CarView:
        """What DR shows of the car: its settings, state and totals."""
        return self.coordinator.view(self.car_id)

    @property
    @override
    def available(self) -> bool:
        """DR settings and totals stay usable while the car's data is not."""
        return self.car_id in self.coordinator.source.cars


@callback
def async_setup_car_entities(
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    dr_entities: Callable[[DrCoordinator, str], Iterable[Entity]],
    vehicle_entities: Callable[[TeslaVehicleCoordinator, str], Iterable[Entity]]
    | None = None,
) -> None:
    """Add a car entry's entities of one platform (the prices entry has none of these).

    DR entities for every car; for a car of tesladr's own login its Tesla entities too.
    """
    if (runtime := car_runtime(entry)) is None:
        return
    dr = runtime.dr
    async_add_car_entities(
        entry, dr.source, lambda car_id: dr_entities(dr, car_id), async_add_entities
    )
    if vehicle_entities is not None and (vehicles := runtime.vehicles) is not None:
        async_add_car_entities(
            entry,
            vehicles,
            lambda vin: vehicle_entities(vehicles, vin),
            async_add_entities,
        )


@callback
def async_add_car_entities[E: Entity](
    entry: ConfigEntry,
    source: CarSource,
    make: Callable[[str], Iterable[E]],
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a car's entities now and for every car that joins the source later."""
    known: set[str] = set()

    @callback
    def add_new() -> None:
        new = [car_id for car_id in source.cars if car_id not in known]
        known.intersection_update(source.cars)
        known.update(new)
        if new:
            async_add_entities(entity for car_id in new for entity in make(car_id))

    add_new()
    entry.async_on_unload(source.async_add_listener(add_new))
