"""A stand-in for the HACS integration `tesla_custom` (alandtse/tesla v3.27), which is not on PyPI.

It registers the entities DR reads with that integration's real shapes: unique ids
`slugify(f"{vin} {type}")` (e.g. `lrw3f7ek4nc000001_charger`), names `type.capitalize()`, no
translation keys, the device identified by Tesla's integer car id, and the raw Tesla
`charging_state` as an attribute of the charger connection binary sensor. Commands behave as
teslajsonpy 3.14.0's do: a success updates the local charging_state at once, `result: false` is
ignored silently, transport failures raise `TeslaException`; start wakes the car, stop does not.
"""

from __future__ import annotations

from copy import deepcopy
import logging
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
)
from homeassistant.components.device_tracker import SourceType, TrackerEntity
from homeassistant.components.number import NumberEntity
from homeassistant.components.sensor import SensorDeviceClass, SensorEntity
from homeassistant.components.switch import SwitchEntity
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import PERCENTAGE, UnitOfEnergy, UnitOfPower
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import (
    CoordinatorEntity,
    DataUpdateCoordinator,
    UpdateFailed,
)
from homeassistant.util import slugify
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    MockPlatform,
    mock_integration,
    mock_platform,
)
from tesla_fleet_api.exceptions import VehicleOffline
from teslajsonpy.exceptions import TeslaException

from .cars import LinkedCar

_LOGGER = logging.getLogger(__name__)
DOMAIN = "tesla_custom"
CAR_ID = 1492931337  # Tesla's integer car id, the device identifier of tesla_custom


class CustomCar(LinkedCar):
    """A car of tesla_custom; `seen` is teslajsonpy's local copy of its vehicle data."""

    integration = DOMAIN

    def __init__(self, hass: HomeAssistant) -> None:
        """A charging, online car."""
        super().__init__(hass)
        self.seen: dict[str, Any] = deepcopy(self.body)
        self._coordinator: DataUpdateCoordinator[dict[str, Any]]

    def coordinator(self) -> Any:
        """The stand-in's coordinator."""
        return self._coordinator

    async def read(self) -> dict[str, Any]:
        """Teslajsonpy's update: the cloud's data, last-known for a sleeping car."""
        if self.cloud_down:
            raise UpdateFailed("Tesla API unavailable")
        self.seen = deepcopy(self.body)
        return self.seen

    async def send(self, name: str) -> None:
        """A charge command through teslajsonpy."""
        if not self.online and name == "charge_start":
            self.wake()
        elif not self.online:
            self.commands.append(name)
            raise TeslaException(408)
        try:
            answer = self.command(name)
        except VehicleOffline as err:
            raise TeslaException(408) from err
        if answer["result"]:
            self.seen["charge_state"]["charging_state"] = (
                "Charging" if name == "charge_start" else "Stopped"
            )

    def fail_next_command(self, reason: str) -> None:
        """`NOT_ONLINE` raises TeslaException(408); other reasons are ignored by teslajsonpy."""
        super().fail_next_command(reason)

    def find_device(self) -> str:
        """The device, found by its integer id as tesla_custom registers it."""
        from homeassistant.helpers import device_registry as dr

        registry = dr.async_get(self.hass)
        (device,) = (
            device
            for device in dr.async_entries_for_config_entry(
                registry, self.entry.entry_id
            )
            if (DOMAIN, CAR_ID) in device.identifiers  # type: ignore[comparison-overlap]
        )
        return device.id


class TeslaCustomFlow(ConfigFlow):
    """Stands for tesla_custom's login flow, which its entries need to exist."""

    VERSION = 1


class _Entity(CoordinatorEntity[DataUpdateCoordinator[dict[str, Any]]]):
    """tesla_custom's TeslaCarEntity, reduced to what its shape is made of."""

    _attr_has_entity_name = True
    type = ""

    def __init__(self, car: CustomCar) -> None:
        super().__init__(car.coordinator())
        self.car = car
        self._attr_name = self.type.capitalize()
        self._attr_unique_id = slugify(f"{car.vin} {self.type}")
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, CAR_ID)},  # type: ignore[arg-type]
            name=car.name,
            manufacturer="Tesla",
            model="Model 3",
        )

    @property
    def charge(self) -> dict[str, Any]:
        return self.car.seen["charge_state"]  # type: ignore[no-any-return]


class Charger(_Entity, SwitchEntity):
    type = "charger"

    @property
    def is_on(self) -> bool:
        return self.charge["charging_state"] == "Charging"

    async def async_turn_on(self, **kwargs: Any) -> None:
        await self.car.send("charge_start")
        self.async_write_ha_state()

    async def async_turn_off(self, **kwargs: Any) -> None:
        await self.car.send("charge_stop")
        self.async_write_ha_state()


class ChargerConnection(_Entity, BinarySensorEntity):
    type = "charger"
    _attr_device_class = BinarySensorDeviceClass.PLUG

    @property
    def is_on(self) -> bool:
        return self.charge["charging_state"] != "Disconnected"

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {
            "charging_state": self.charge["charging_state"],
            "conn_charge_cable": self.charge["conn_charge_cable"],
            "fast_charger_present": self.charge["fast_charger_present"],
            "fast_charger_brand": self.charge["fast_charger_brand"],
            "fast_charger_type": self.charge["fast_charger_type"],
        }


class Charging(_Entity, BinarySensorEntity):
    type = "charging"
    _attr_device_class = BinarySensorDeviceClass.BATTERY_CHARGING

    @property
    def is_on(self) -> bool:
        return self.charge["charging_state"] == "Charging"


class ScheduledDeparture(_Entity, BinarySensorEntity):
    """On while Tesla's scheduled departure, preconditioning or off-peak charging is."""

    type = "scheduled departure"

    @property
    def is_on(self) -> bool:
        charge = self.charge
        return bool(
            charge.get("scheduled_charging_mode") == "DepartBy"
            or charge.get("preconditioning_enabled")
            or charge.get("off_peak_charging_enabled")
        )

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        charge = self.charge
        return {
            "Departure time": charge.get("scheduled_departure_time_minutes"),
            "Preconditioning enabled": charge.get("preconditioning_enabled"),
            "Preconditioning weekdays only": charge.get("preconditioning_times")
            == "weekdays",
            "Off peak charging enabled": charge.get("off_peak_charging_enabled"),
            "Off peak charging weekdays only": charge.get("off_peak_charging_times")
            == "weekdays",
            "End off peak time": charge.get("off_peak_hours_end_time"),
            "Departure timestamp": charge.get("scheduled_departure_time"),
        }


class Online(_Entity, BinarySensorEntity):
    type = "online"
    _attr_device_class = BinarySensorDeviceClass.CONNECTIVITY

    @property
    def is_on(self) -> bool:
        return self.car.seen["state"] == "online"

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        return {
            "vehicle_id": str(self.car.seen["vehicle_id"]),
            "vin": self.car.vin,
            "id": str(CAR_ID),
            "state": self.car.seen["state"],
        }


class Asleep(_Entity, BinarySensorEntity):
    type = "asleep"

    @property
    def is_on(self) -> bool:
        return self.car.seen["state"] == "asleep"


class Battery(_Entity, SensorEntity):
    type = "battery"
    _attr_device_class = SensorDeviceClass.BATTERY
    _attr_native_unit_of_measurement = PERCENTAGE

    @property
    def native_value(self) -> int:
        return round(self.charge["usable_battery_level"])


class ChargerPower(_Entity, SensorEntity):
    type = "charger power"
    _attr_device_class = SensorDeviceClass.POWER
    _attr_native_unit_of_measurement = UnitOfPower.KILO_WATT

    @property
    def native_value(self) -> float:
        return float(self.charge["charger_power"])


class EnergyAdded(_Entity, SensorEntity):
    type = "energy added"
    _attr_device_class = SensorDeviceClass.ENERGY
    _attr_native_unit_of_measurement = UnitOfEnergy.KILO_WATT_HOUR

    @property
    def native_value(self) -> float:
        return float(self.charge["charge_energy_added"])


class ChargeLimit(_Entity, NumberEntity):
    type = "charge limit"
    _attr_native_unit_of_measurement = PERCENTAGE

    @property
    def native_value(self) -> float:
        return float(self.charge["charge_limit_soc"])


class LocationTracker(_Entity, TrackerEntity):
    type = "location tracker"
    _attr_source_type = SourceType.GPS

    @property
    def latitude(self) -> float:
        return float(self.car.seen["drive_state"]["latitude"])

    @property
    def longitude(self) -> float:
        return float(self.car.seen["drive_state"]["longitude"])


class DestinationTracker(LocationTracker):
    type = "destination location tracker"


PLATFORM_ENTITIES: dict[str, tuple[type[_Entity], ...]] = {
    "switch": (Charger,),
    "binary_sensor": (ChargerConnection, Charging, Online, Asleep, ScheduledDeparture),
    "sensor": (Battery, ChargerPower, EnergyAdded),
    "number": (ChargeLimit,),
    "device_tracker": (LocationTracker, DestinationTracker),
}


async def async_setup_tesla_custom(car: CustomCar) -> None:
    """Register the stand-in integration and set up its entry with `car`."""
    hass = car.hass

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        car._coordinator = DataUpdateCoordinator(
            hass, _LOGGER, config_entry=entry, name=DOMAIN, update_method=car.read
        )
        await car._coordinator.async_config_entry_first_refresh()
        await hass.config_entries.async_forward_entry_setups(
            entry, list(PLATFORM_ENTITIES)
        )
        return True

    async def unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
        return await hass.config_entries.async_unload_platforms(
            entry, list(PLATFORM_ENTITIES)
        )

    # A HACS integration, so a custom one (built_in=False): Home Assistant 2026.11 refuses a
    # boolean from a core integration's async_setup_entry, and tesla_custom returns one.
    mock_integration(
        hass,
        MockModule(
            DOMAIN, async_setup_entry=setup_entry, async_unload_entry=unload_entry
        ),
        built_in=False,
    )
    for platform, classes in PLATFORM_ENTITIES.items():

        async def setup_platform(
            hass: HomeAssistant,
            entry: ConfigEntry,
            add_entities: AddConfigEntryEntitiesCallback,
            classes: tuple[type[_Entity], ...] = classes,
        ) -> None:
            add_entities(cls(car) for cls in classes)

        mock_platform(
            hass, f"{DOMAIN}.{platform}", MockPlatform(async_setup_entry=setup_platform)
        )
    mock_platform(hass, f"{DOMAIN}.config_flow", None)
    entry = MockConfigEntry(domain=DOMAIN, title="owner@example.com")
    entry.add_to_hass(hass)
    car.entry = entry
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    car.device_id = car.find_device()
