"""Set-up of a linked car: a car or charger another Home Assistant integration provides.

One entry per car. Its DR entities sit on the source integration's own device (as core's
helpers link theirs), and every command goes through that integration's switch: tesladr makes
no Tesla call of its own for such a car.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device import async_entity_id_to_device
from homeassistant.helpers.device_registry import DeviceInfo

from .const import CONF_DEVICE_ID, CONF_ENTITIES, CONF_SOURCE, DOMAIN
from .dr import ReadNeed
from .dr_coordinator import DrCoordinator
from .entity_control import EntityChargeControl
from .sources import Role, async_find_optional_entity
from .vehicles import ChargeState, CommandResult


class LinkedCarSource:
    """The car source of a linked entry: one car, read from its entities."""

    tells_overrides = True  # Home Assistant's Context says who turned the switch on
    reads_on_demand = False  # the integration keeps its entities fresh on its own

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Read the entry's route and entities."""
        self.hass = hass
        self.entry = entry
        self.source: str = entry.data[CONF_SOURCE]
        self.source_device: str | None = entry.data.get(CONF_DEVICE_ID)
        self.entities = {
            Role(role): registry_id
            for role, registry_id in entry.data[CONF_ENTITIES].items()
        }
        # Entries made before tesladr read the car's schedule: look for its entity now.
        if (
            Role.DEPARTURE not in self.entities
            and self.source_device is not None
            and (
                found := async_find_optional_entity(
                    hass, self.source, self.source_device, Role.DEPARTURE
                )
            )
        ):
            self.entities[Role.DEPARTURE] = found
        self.car_id = entry.unique_id or entry.entry_id
        self.control = EntityChargeControl(
            hass, self.source, self.entities, self.car_id, entry.title
        )
        self._unsub: CALLBACK_TYPE | None = None

    @callback
    def async_follow(self) -> None:
        """Follow the car's entities, and their renames."""
        self.control.async_start_tracking()
        self._unsub = self.hass.bus.async_listen(
            er.EVENT_ENTITY_REGISTRY_UPDATED,
            self._async_registry_updated,
            event_filter=self._is_ours,
        )

    @callback
    def async_unfollow(self) -> None:
        """Stop following."""
        self.control.async_stop_tracking()
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def _is_ours(self, event_data: Any) -> bool:
        if event_data.get("action") != "update" or "entity_id" not in event_data.get(
            "changes", {}
        ):
            return False
        entry = er.async_get(self.hass).async_get(event_data["entity_id"])
        return entry is not None and entry.id in self.entities.values()

    @callback
    def _async_registry_updated(self, _event: Event[Any]) -> None:
        # A renamed entity: follow it under its new entity_id.
        self.control.async_start_tracking()

    # CarSource

    @property
    def cars(self) -> dict[str, ChargeState]:
        """The one car, as its entities show it now."""
        return {self.car_id: self.control.current()}

    def async_add_listener(self, update_callback: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call back on every change of the car's entities."""
        return self.control.async_add_listener(update_callback)

    async def async_refresh_cars(self, car_ids: set[str]) -> None:
        """Nothing: the integration reads the car on its own schedule (and pays for it).

        A fresh read is asked for only after a command, where confirming it needs one.
        """

    @callback
    def async_set_read_needs(self, needs: Mapping[str, ReadNeed]) -> None:
        """Nothing to do: the integration keeps its entities fresh on its own schedule."""

    async def async_stop(self, car_id: str) -> CommandResult:
        """Turn the charge switch off."""
        return await self.control.stop_charging(car_id)

    async def async_start(self, car_id: str) -> CommandResult:
        """Turn the charge switch on (waking the car where the integration needs that)."""
        return await self.control.start_charging(car_id)

    def device(self, car_id: str) -> DeviceInfo | dr.AnyDeviceEntry:
        """The source integration's device; for a bare switch its device, else our own."""
        registry = dr.async_get(self.hass)
        if self.source_device and (found := registry.async_get(self.source_device)):
            return found
        if (
            found := async_entity_id_to_device(self.hass, self.entities[Role.SWITCH])
        ) is not None:
            return found
        return DeviceInfo(identifiers={(DOMAIN, self.car_id)}, name=self.entry.title)

    def device_id(self, car_id: str) -> str | None:
        """The device the car's DR entities are on."""
        device = self.device(car_id)
        if isinstance(device, dr.DeviceEntry | dr.ChildDeviceEntry):
            return device.id
        found = dr.async_get(self.hass).async_get_device_by_identifier(
            (DOMAIN, self.car_id), self.entry.entry_id
        )
        return found.id if found else None


@dataclass(slots=True)
class LinkedRuntimeData:
    """What a linked entry holds while loaded."""

    source: LinkedCarSource
    dr: DrCoordinator
    # The car's own entities are the source integration's: tesladr adds only DR ones.
    vehicles: None = None


async def async_setup_linked(
    hass: HomeAssistant, entry: ConfigEntry
) -> LinkedRuntimeData:
    """Follow the car's entities and start DR on it."""
    source = LinkedCarSource(hass, entry)
    source.async_follow()
    manager = DrCoordinator(hass, entry, source)
    try:
        await manager.async_setup()
    except BaseException:
        source.async_unfollow()
        raise
    return LinkedRuntimeData(source, manager)


async def async_unload_linked(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Resume the car if DR paused it, then stop following its entities."""
    runtime: LinkedRuntimeData = entry.runtime_data
    await runtime.dr.async_unload()
    runtime.source.async_unfollow()
