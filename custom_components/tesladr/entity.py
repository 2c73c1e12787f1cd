"""Base entities of tesladr."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .caiso import NODES
from .const import DOMAIN
from .dr_manager import CarDr, DrManager
from .price_coordinator import CaisoPriceCoordinator
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
            identifiers={(DOMAIN, f"node_{node}")},
            name=f"CAISO prices {label}",
            manufacturer="California ISO",
            model="OASIS pricing node",
            model_id=node,
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def available(self) -> bool:
        """Keep showing the last price through short outages; go unavailable when stale."""
        return self.coordinator.data.is_fresh(self.node, dt_util.utcnow())


class TeslaVehicleEntity(CoordinatorEntity[TeslaVehicleCoordinator]):
    """An entity of one car's device."""

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
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, vin)},
            name=coordinator.data[vin].name,
            manufacturer="Tesla",
            serial_number=vin,
        )

    @property
    def car(self) -> ChargeState:
        """The car's current (or last known) charge state."""
        return self.coordinator.data[self.vin]

    async def async_command(
        self, command: Callable[[str], Awaitable[CommandResult]]
    ) -> None:
        """Send a command; failures and the car's refusals become translated errors."""
        try:
            result = await command(self.vin)
        except VehicleError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_failed",
                translation_placeholders={"reason": str(err)},
            ) from err
        await self.coordinator.async_request_refresh()
        if not result.ok:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="command_refused",
                translation_placeholders={"reason": result.reason},
            )

    @property
    def available(self) -> bool:
        """A sleeping car keeps its last data; only a car gone from the account is unavailable."""
        return super().available and self.vin in self.coordinator.data


class TeslaDrEntity(TeslaVehicleEntity):
    """A demand-response entity of one car: DR state is tesladr's own, not Tesla's."""

    def __init__(
        self,
        coordinator: TeslaVehicleCoordinator,
        manager: DrManager,
        vin: str,
        description: EntityDescription,
    ) -> None:
        """Bind the entity to its car and the account's DR manager."""
        super().__init__(coordinator, vin, description)
        self.manager = manager

    async def async_added_to_hass(self) -> None:
        """Follow DR changes as well as car updates."""
        await super().async_added_to_hass()
        self.async_on_remove(self.manager.async_add_listener(self.async_write_ha_state))

    @property
    def dr(self) -> CarDr:
        """The car's DR settings and state."""
        return self.manager.car(self.vin)

    @property
    def available(self) -> bool:
        """DR settings and totals stay usable while Tesla's API is down."""
        return self.vin in self.coordinator.data
