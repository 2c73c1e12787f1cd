"""Drivers of the fake clouds behind the real Tesla integrations (see conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
import json
from pathlib import Path
from typing import Any

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry
from tesla_fleet_api.const import Method
from tesla_fleet_api.exceptions import ServiceUnavailable, VehicleOffline
from tesla_fleet_api.tesla.fleet import TeslaFleetApi
from tesla_fleet_api.teslemetry import Teslemetry
from tesla_fleet_api.tessie import Tessie
from teslemetry_stream.stream import recursive_match

from custom_components.tesladr.sources import Role

FIXTURES = Path(__file__).parent / "fixtures"
NOT_ONLINE = "not online"
CAR_PLATFORMS = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.DEVICE_TRACKER,
    Platform.NUMBER,
    Platform.SENSOR,
    Platform.SWITCH,
]


def load_fixture(name: str) -> Any:
    """A JSON fixture of this folder."""
    return json.loads((FIXTURES / name).read_text())


class LinkedCar:
    """One car as another integration's cloud sees it; see the module docstring."""

    integration = ""
    wakes_for_commands = True

    def __init__(self, hass: HomeAssistant) -> None:
        """A charging, online car with the fixture's data."""
        self.hass = hass
        self.body: dict[str, Any] = load_fixture("vehicle_data.json")["response"]
        self.vin: str = self.body["vin"]
        self.name: str = self.body["display_name"]
        self.commands: list[str] = []
        self.obeys_commands = True
        self.cloud_down = False
        self._failures: list[str] = []
        self._last_kw = 7.0
        self.entry: MockConfigEntry
        self.device_id = ""

    # What the car does.
    @property
    def charge(self) -> dict[str, Any]:
        """The car's charge_state block."""
        return self.body["charge_state"]  # type: ignore[no-any-return]

    def set_charging(self, kw: float = 7.0) -> None:
        """Plugged in and drawing `kw`."""
        self._last_kw = kw
        self.charge.update(
            charging_state="Charging", charger_power=kw, conn_charge_cable="SAE"
        )

    def set_stopped(self) -> None:
        """Plugged in, not charging."""
        self.charge.update(
            charging_state="Stopped", charger_power=0, conn_charge_cable="SAE"
        )

    def set_complete(self) -> None:
        """Plugged in at its charge limit."""
        self.charge.update(
            charging_state="Complete", charger_power=0, conn_charge_cable="SAE"
        )

    def set_unplugged(self) -> None:
        """Cable out."""
        self.charge.update(
            charging_state="Disconnected",
            charger_power=0,
            conn_charge_cable="<invalid>",
        )

    def set_battery(self, level: float) -> None:
        """Battery level in percent."""
        self.charge.update(battery_level=level, usable_battery_level=level)

    def set_asleep(self) -> None:
        """Asleep: the cloud keeps its last data and answers 408 to live reads."""
        self.body["state"] = "asleep"

    def set_offline(self) -> None:
        """Offline (no connectivity)."""
        self.body["state"] = "offline"

    def set_online(self) -> None:
        """Awake and connected."""
        self.body["state"] = "online"

    def set_cloud_down(self, down: bool = True) -> None:
        """Every read fails with the library's 503."""
        self.cloud_down = down

    def fail_next_command(self, reason: str) -> None:
        """The next charge command fails with `reason` (or NOT_ONLINE: a 408)."""
        self._failures.append(reason)

    @property
    def online(self) -> bool:
        """Whether the car is awake."""
        return self.body["state"] == "online"

    def command(self, name: str) -> dict[str, Any]:
        """Run a charge command as the car would; the car's `{result, reason}` answer."""
        self.commands.append(name)
        if self._failures:
            reason = self._failures.pop(0)
            if reason == NOT_ONLINE:
                raise VehicleOffline
            return {"result": False, "reason": reason}
        if not self.online:
            if not self.wakes_for_commands:
                raise VehicleOffline
            self.set_online()
        state = self.charge["charging_state"]
        if name == "charge_stop":
            if state not in ("Charging", "Starting"):
                return {"result": False, "reason": "not_charging"}
            if self.obeys_commands:
                self.set_stopped()
        elif state == "Disconnected":
            return {"result": False, "reason": "disconnected"}
        elif state in ("Charging", "Starting"):
            return {"result": False, "reason": "is_charging"}
        elif self.obeys_commands:
            self.set_charging(self._last_kw)
        return {"result": True, "reason": ""}

    def wake(self) -> None:
        """A wake request."""
        self.commands.append("wake_up")
        self.set_online()

    def product(self) -> dict[str, Any]:
        """The car's product-list entry."""
        product: dict[str, Any] = load_fixture("products.json")["response"][0]
        product["state"] = self.body["state"]
        return product

    def vehicle_data(self) -> dict[str, Any]:
        """A live read: the cloud refuses it for a sleeping car."""
        if not self.online:
            raise VehicleOffline
        return {"response": deepcopy(self.body)}

    def check_cloud(self) -> None:
        """Fail like the cloud when it is down."""
        if self.cloud_down:
            raise ServiceUnavailable

    # Home Assistant's side.
    def coordinator(self) -> Any:
        """The integration's coordinator of this car."""
        raise NotImplementedError

    async def async_poll(self) -> None:
        """Make the integration read the car now."""
        await self.coordinator().async_refresh()
        await self.hass.async_block_till_done()

    def find_device(self) -> str:
        """The car's device id."""
        registry = dr.async_get(self.hass)
        (device,) = (
            device
            for device in dr.async_entries_for_config_entry(
                registry, self.entry.entry_id
            )
            if (self.integration, self.vin) in device.identifiers
        )
        return device.id


class FleetCar(LinkedCar):
    """A car of core tesla_fleet."""

    integration = "tesla_fleet"
    wakes_for_commands = False

    def coordinator(self) -> Any:
        """tesla_fleet's vehicle data coordinator."""
        return self.entry.runtime_data.vehicles[0].coordinator

    async def request(
        self, method: Method, path: str, params: Any, body: Any
    ) -> dict[str, Any]:
        """Answer one Fleet API call as Tesla would."""
        self.check_cloud()
        base = f"api/1/vehicles/{self.vin}"
        if path == "api/1/products":
            return {"response": [self.product()], "count": 1}
        if path == base:
            return {"response": self.product()}
        if path == f"{base}/vehicle_data":
            return self.vehicle_data()
        if path == f"{base}/wake_up":
            self.wake()
            return {"response": self.product()}
        if path in (f"{base}/command/charge_start", f"{base}/command/charge_stop"):
            return {"response": self.command(path.rsplit("/", 1)[-1])}
        raise AssertionError(f"unexpected Fleet API call {method} {path}")


class TessieCar(LinkedCar):
    """A car of core tessie."""

    integration = "tessie"

    def coordinator(self) -> Any:
        """Tessie's state coordinator."""
        return self.entry.runtime_data.vehicles[0].data_coordinator

    def state(self) -> dict[str, Any]:
        """Tessie's cached state: the last vehicle data, whatever the car's state."""
        return deepcopy(self.body)

    async def request(
        self, method: Method, path: str, params: Any, body: Any
    ) -> dict[str, Any]:
        """Answer one Tessie API call."""
        self.check_cloud()
        if path == "vehicles":
            return {
                "results": [
                    {"vin": self.vin, "is_active": True, "last_state": self.state()}
                ]
            }
        if path == "auth/tesla_scopes":
            return {"scopes": ["vehicle_device_data", "vehicle_cmds"]}
        if path == f"{self.vin}/state":
            return self.state()
        if path == f"{self.vin}/wake":
            self.wake()
            return {"result": True}
        raise AssertionError(f"unexpected Tessie API call {method} {path}")

    async def legacy_request(
        self, session: Any, method: str, path: str, api_key: str, params: Any = None
    ) -> dict[str, Any]:
        """Answer a tessie_api command (`/{vin}/command/start_charging`)."""
        self.check_cloud()
        name = path.rsplit("/", 1)[-1]
        commands = {"start_charging": "charge_start", "stop_charging": "charge_stop"}
        if path != f"/{self.vin}/command/{name}" or name not in commands:
            raise AssertionError(f"unexpected Tessie command {method} {path}")
        return self.command(commands[name])


class TeslemetryCar(LinkedCar):
    """A car of core teslemetry: polled (metadata `polling: true`) or streamed.

    Streamed, `async_poll()` pushes the car's current signals through the stream, as Fleet
    Telemetry does; its REST reads then serve only commands and the setup.
    """

    integration = "teslemetry"

    def __init__(self, hass: HomeAssistant, streaming: bool = False) -> None:
        """A charging, online car, polled or streamed."""
        super().__init__(hass)
        self.streaming = streaming
        self.listeners: list[
            tuple[Callable[[dict[str, Any]], None], dict[str, Any]]
        ] = []

    def coordinator(self) -> Any:
        """Teslemetry's vehicle data coordinator."""
        return self.entry.runtime_data.vehicles[0].coordinator

    def add_listener(
        self,
        callback: Callable[[dict[str, Any]], None],
        filters: dict[str, Any],
        internal: bool = False,
    ) -> Callable[[], None]:
        """TeslemetryStream.async_add_listener: remember who listens to what."""
        listener = (callback, filters)
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def send(self, event: dict[str, Any]) -> None:
        """Deliver one stream event to the listeners whose filter it matches."""
        for callback, filters in list(self.listeners):
            if recursive_match(filters, event):
                callback(event)

    def stream_signals(self) -> dict[str, Any]:
        """The car's charge signals as Fleet Telemetry names and encodes them."""
        charge, drive = self.charge, self.body["drive_state"]
        return {
            "DetailedChargeState": f"DetailedChargeState{charge['charging_state']}",
            "ACChargingPower": charge["charger_power"],
            "ACChargingEnergyIn": charge["charge_energy_added"],
            # Measured at the battery for AC and DC sessions alike (Teslemetry in Home
            # Assistant 2026.11 reads the energy added from it).
            "DCChargingEnergyIn": charge["charge_energy_added"],
            "BatteryLevel": charge["battery_level"],
            "Soc": charge["usable_battery_level"],
            "ChargeLimitSoc": charge["charge_limit_soc"],
            "FastChargerPresent": charge["fast_charger_present"],
            "FastChargerType": f"FastCharger{charge['fast_charger_type']}",
            "Location": {
                "latitude": drive["latitude"],
                "longitude": drive["longitude"],
            },
        }

    async def async_poll(self) -> None:
        """Polled: refresh the coordinator. Streamed: push the state and, awake, the signals."""
        if not self.streaming:
            await super().async_poll()
            return
        self.send({"vin": self.vin, "state": self.body["state"]})
        if self.online:
            self.send({"vin": self.vin, "data": self.stream_signals()})
        await self.hass.async_block_till_done()

    def metadata(self) -> dict[str, Any]:
        """Teslemetry's account metadata."""
        return {
            "uid": "user-1",
            "region": "NA",
            "scopes": [
                "openid",
                "offline_access",
                "user_data",
                "vehicle_device_data",
                "vehicle_location",
                "vehicle_cmds",
                "vehicle_charging_cmds",
            ],
            "vehicles": {
                self.vin: {
                    "proxy": False,
                    "access": True,
                    "polling": not self.streaming,
                    "firmware": "2026.20.3",
                }
            },
            "energy_sites": {},
        }

    async def request(
        self, method: Method, path: str, params: Any, body: Any
    ) -> dict[str, Any]:
        """Answer one Teslemetry API call."""
        self.check_cloud()
        base = f"api/1/vehicles/{self.vin}"
        if path == "api/metadata":
            return self.metadata()
        if path == "api/1/products":
            return {"response": [self.product()], "count": 1}
        if path == base:
            return {"response": self.product()}
        if path == f"{base}/vehicle_data":
            # Teslemetry answers from its cache for a sleeping car.
            return {"response": deepcopy(self.body)}
        if path == f"{base}/wake_up":
            self.wake()
            return {"response": self.product()}
        if path in (f"{base}/command/charge_start", f"{base}/command/charge_stop"):
            return {"response": self.command(path.rsplit("/", 1)[-1])}
        raise AssertionError(f"unexpected Teslemetry API call {method} {path}")


class FakeClouds:
    """Routes the libraries' requests to the car of their integration."""

    def __init__(self) -> None:
        """No cars yet."""
        self.cars: dict[type, LinkedCar] = {}

    async def request(
        self,
        api: TeslaFleetApi,
        method: Method,
        path: str,
        params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """TeslaFleetApi._request, answered by the fake car of this API's kind."""
        kind = (
            Tessie
            if isinstance(api, Tessie)
            else Teslemetry
            if isinstance(api, Teslemetry)
            else TeslaFleetApi
        )
        car: Any = self.cars[kind]
        return await car.request(method, path, params, json)  # type: ignore[no-any-return]


class HelperCharger:
    """Drives the template charger: what the car would draw, the plug, the battery."""

    def __init__(self, hass: HomeAssistant, entities: dict[Role, str]) -> None:
        """The charger's role -> registry id map."""
        self.hass = hass
        self.entities = entities

    async def _call(self, domain: str, service: str, data: dict[str, Any]) -> None:
        await self.hass.services.async_call(domain, service, data, blocking=True)
        await self.hass.async_block_till_done()

    async def async_set_power(self, watts: float) -> None:
        """What the car draws while the relay is closed."""
        await self._call(
            "input_number",
            "set_value",
            {"entity_id": "input_number.watts", "value": watts},
        )

    async def async_set_plugged(self, plugged: bool) -> None:
        """Cable in or out."""
        await self._call(
            "input_boolean",
            "turn_on" if plugged else "turn_off",
            {"entity_id": "input_boolean.plug"},
        )

    async def async_set_battery(self, percent: float) -> None:
        """The car's battery level."""
        await self._call(
            "input_number",
            "set_value",
            {"entity_id": "input_number.soc", "value": percent},
        )
