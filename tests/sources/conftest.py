"""Real Tesla integrations of Home Assistant, loaded in the test instance, faked at their library.

Each fixture sets up the integration and yields a driver for its one car:

- `fleet_car`: core `tesla_fleet` (tesla-fleet-api, faked at `TeslaFleetApi._request`)
- `tessie_car`: core `tessie` (same boundary for reads, `tessie_api`'s request for commands)
- `teslemetry_car`: core `teslemetry`, the car polled (same boundary)
- `teslemetry_streaming_car`: core `teslemetry`, the car streamed: `async_poll()` pushes its
  signals through the stream listeners (the stream connection itself is patched out)
- `custom_car`: a stand-in for HACS `tesla_custom` with its entity shapes (see tesla_custom.py)
- `charger`: a template switch, power, plug and battery over input helpers (role -> registry id);
  the power reads 0 while the switch is off. `helper_charger` wraps it in a driver with
  `async_set_power(watts)`, `async_set_plugged(bool)`, `async_set_battery(percent)`.

Every driver (`LinkedCar`) offers:

    car.vin, car.name, car.device_id, car.entry   the car and its device / config entry
    car.set_charging(kw=7.0)    plugged in, drawing `kw`
    car.set_stopped()           plugged in, not charging
    car.set_complete()          plugged in, charge limit reached
    car.set_unplugged()         cable out
    car.set_asleep() / car.set_online() / car.set_offline()
    car.set_battery(level)
    car.fail_next_command(reason)   the next charge command fails: the car answers
                                    `result: false` with `reason`, or, with NOT_ONLINE, the
                                    API answers 408 "vehicle is not online" (tesla_fleet's real
                                    failure for a car that fell asleep since its last poll)
    car.set_cloud_down(True)    every read fails with the library's 503: entities unavailable
    car.commands                commands the cloud received, in order ("charge_stop",
                                "charge_start", "wake_up")
    await car.async_poll()      the integration re-reads the car now (its coordinator refresh)

State changes reach Home Assistant at the next poll, as with the real cloud. A successful
command changes the car (stop: Stopped at 0 kW; start: Charging at the last power) unless
`car.obeys_commands = False`. Assumptions of the fake, where the real behaviour is not known:
a start on an unplugged car answers `result: false, reason: "disconnected"`; a start on a
charging car answers `reason: "is_charging"`, a stop on an idle one `reason: "not_charging"`.
Tesla Fleet commands on a sleeping car fail with 408; Tessie and Teslemetry wake it server side
(`car.wakes_for_commands`). Asleep, Tesla Fleet's live read answers 408 and the integration keeps
its last values; Tessie and Teslemetry answer from their cache. tesla_custom: `result: false`
is ignored silently (as teslajsonpy does); NOT_ONLINE raises teslajsonpy's TeslaException(408);
a stop on a sleeping car raises it too (teslajsonpy does not wake to stop).
Streamed Teslemetry entities never go unavailable; `set_cloud_down` there only fails REST calls.

The drivers live in `cars.py` (import `NOT_ONLINE`, the driver classes and `HelperCharger` from
there); these fixtures are visible to tests under `tests/sources/`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator
from contextlib import contextmanager
import time
from typing import Any
from unittest.mock import patch

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import jwt
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_config_flow,
)
from tesla_fleet_api.tesla.fleet import TeslaFleetApi
from tesla_fleet_api.teslemetry import Teslemetry
from tesla_fleet_api.tessie import Tessie

from custom_components.tesladr.sources import Role

from .cars import (
    CAR_PLATFORMS,
    FakeClouds,
    FleetCar,
    HelperCharger,
    LinkedCar,
    TeslemetryCar,
    TessieCar,
)
from .tesla_custom import CustomCar, TeslaCustomFlow, async_setup_tesla_custom


@pytest.fixture
def fake_clouds() -> Generator[FakeClouds]:
    """Patch tesla-fleet-api's single request function (its HTTP boundary)."""
    clouds = FakeClouds()

    async def request(api: TeslaFleetApi, *args: Any, **kwargs: Any) -> Any:
        return await clouds.request(api, *args, **kwargs)

    with patch.object(TeslaFleetApi, "_request", request):
        yield clouds


def _fleet_token(scopes: list[str]) -> dict[str, Any]:
    access_token = jwt.encode(
        {"sub": "user-1", "aud": [], "scp": scopes, "ou_code": "NA"},
        key="",
        algorithm="none",
    )
    return {
        "access_token": access_token,
        "refresh_token": "refresh-token",
        "expires_at": time.time() + 86400,
        "token_type": "Bearer",
    }


async def _credentials(hass: HomeAssistant, domain: str) -> None:
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass, domain, ClientCredential("client-id", "client-secret"), domain
    )


@contextmanager
def _car_platforms(module: str) -> Generator[None]:
    """Only the platforms DR reads, for the fixture's whole life (reloads included)."""
    with patch(f"homeassistant.components.{module}.PLATFORMS", CAR_PLATFORMS):
        yield


async def _setup(car: LinkedCar, entry: MockConfigEntry) -> None:
    entry.add_to_hass(car.hass)
    car.entry = entry
    assert await car.hass.config_entries.async_setup(entry.entry_id)
    await car.hass.async_block_till_done()
    car.device_id = car.find_device()


@pytest.fixture
async def fleet_car(
    hass: HomeAssistant, fake_clouds: FakeClouds
) -> AsyncGenerator[FleetCar]:
    """Core tesla_fleet with one charging car."""
    car = FleetCar(hass)
    fake_clouds.cars[TeslaFleetApi] = car
    await _credentials(hass, "tesla_fleet")
    from homeassistant.components.tesla_fleet.const import SCOPES

    entry = MockConfigEntry(
        domain="tesla_fleet",
        title="user-1",
        unique_id="user-1",
        data={"auth_implementation": "tesla_fleet", "token": _fleet_token(SCOPES)},
    )
    with _car_platforms("tesla_fleet"):
        await _setup(car, entry)
        yield car


@pytest.fixture
async def tessie_car(
    hass: HomeAssistant, fake_clouds: FakeClouds
) -> AsyncGenerator[TessieCar]:
    """Core tessie with one charging car."""
    car = TessieCar(hass)
    fake_clouds.cars[Tessie] = car
    entry = MockConfigEntry(domain="tessie", data={"access_token": "tessie-token"})
    with (
        _car_platforms("tessie"),
        patch("tessie_api.charging.tessieRequest", car.legacy_request),
    ):
        await _setup(car, entry)
        yield car


async def _teslemetry(
    car: TeslemetryCar, fake_clouds: FakeClouds
) -> AsyncGenerator[TeslemetryCar]:
    fake_clouds.cars[Teslemetry] = car
    await _credentials(car.hass, "teslemetry")
    entry = MockConfigEntry(
        domain="teslemetry",
        unique_id="user-1",
        version=2,
        data={"auth_implementation": "teslemetry", "token": _fleet_token([])},
    )
    with (
        _car_platforms("teslemetry"),
        patch("teslemetry_stream.TeslemetryStream.listen"),
        patch("teslemetry_stream.TeslemetryStream.connected", return_value=True),
        patch(
            "teslemetry_stream.TeslemetryStream.async_add_listener",
            side_effect=car.add_listener,
        ),
        # Enabling streamed fields configures Teslemetry's server: nothing to fake there.
        patch("teslemetry_stream.TeslemetryStreamVehicle.add_field"),
        patch("teslemetry_stream.TeslemetryStreamVehicle.get_config"),
        patch("teslemetry_stream.TeslemetryStreamVehicle.update_config"),
    ):
        await _setup(car, entry)
        if car.streaming:
            await car.async_poll()  # the stream's first message after connecting
        yield car


@pytest.fixture
async def teslemetry_car(
    hass: HomeAssistant, fake_clouds: FakeClouds, mock_bluetooth: None
) -> AsyncGenerator[TeslemetryCar]:
    """Core teslemetry with one charging car that it polls (no streaming firmware)."""
    async for car in _teslemetry(TeslemetryCar(hass), fake_clouds):
        yield car


@pytest.fixture
async def teslemetry_streaming_car(
    hass: HomeAssistant, fake_clouds: FakeClouds, mock_bluetooth: None
) -> AsyncGenerator[TeslemetryCar]:
    """Core teslemetry with one charging car on Fleet Telemetry streaming."""
    async for car in _teslemetry(TeslemetryCar(hass, streaming=True), fake_clouds):
        yield car


@pytest.fixture
async def custom_car(hass: HomeAssistant) -> AsyncGenerator[CustomCar]:
    """The tesla_custom stand-in with one charging car."""
    car = CustomCar(hass)
    with mock_config_flow("tesla_custom", TeslaCustomFlow):
        await async_setup_tesla_custom(car)
        yield car


# The generic route: a template charger switch over input helpers, as users build them.
HELPERS = {
    "input_boolean": {"relay": {"initial": True}, "plug": {"initial": True}},
    "input_number": {
        "watts": {"min": 0, "max": 20000, "step": 1, "initial": 7200},
        "soc": {"min": 0, "max": 100, "step": 1, "initial": 55},
    },
}
TEMPLATES = {
    "template": [
        {
            "switch": [
                {
                    "name": "Garage charger",
                    "unique_id": "garage_charger",
                    "state": "{{ is_state('input_boolean.relay', 'on') }}",
                    "turn_on": {
                        "action": "input_boolean.turn_on",
                        "target": {"entity_id": "input_boolean.relay"},
                    },
                    "turn_off": {
                        "action": "input_boolean.turn_off",
                        "target": {"entity_id": "input_boolean.relay"},
                    },
                }
            ],
            "sensor": [
                {
                    "name": "Charger power",
                    "unique_id": "charger_power",
                    # A real charger draws nothing with its relay open.
                    "state": (
                        "{{ states('input_number.watts') | float"
                        " if is_state('input_boolean.relay', 'on') else 0 }}"
                    ),
                    "unit_of_measurement": "W",
                    "device_class": "power",
                },
                {
                    "name": "EV battery",
                    "unique_id": "ev_battery",
                    "state": "{{ states('input_number.soc') | float }}",
                    "unit_of_measurement": "%",
                    "device_class": "battery",
                },
            ],
            "binary_sensor": [
                {
                    "name": "Charger plug",
                    "unique_id": "charger_plug",
                    "state": "{{ is_state('input_boolean.plug', 'on') }}",
                    "device_class": "plug",
                }
            ],
        }
    ]
}


@pytest.fixture
async def charger(hass: HomeAssistant) -> dict[Role, str]:
    """A template charger over input helpers: role -> registry id."""
    for domain, config in HELPERS.items():
        assert await async_setup_component(hass, domain, {domain: config})
    assert await async_setup_component(hass, "template", TEMPLATES)
    await hass.async_block_till_done()
    registry = er.async_get(hass)
    tracker = registry.async_get_or_create("device_tracker", "demo", "ev_tracker")
    hass.states.async_set(
        tracker.entity_id, "home", {"latitude": 34.05, "longitude": -118.24}
    )
    ids = {
        Role.SWITCH: ("switch", "garage_charger"),
        Role.CHARGER_POWER: ("sensor", "charger_power"),
        Role.BATTERY: ("sensor", "ev_battery"),
        Role.PLUGGED_IN: ("binary_sensor", "charger_plug"),
    }
    roles = {}
    for role, (domain, unique_id) in ids.items():
        entity_id = registry.async_get_entity_id(domain, "template", unique_id)
        assert entity_id is not None
        entry = registry.async_get(entity_id)
        assert entry is not None
        roles[role] = entry.id
    roles[Role.LOCATION] = tracker.id
    return roles


@pytest.fixture
def helper_charger(hass: HomeAssistant, charger: dict[Role, str]) -> HelperCharger:
    """The template charger with a driver."""
    return HelperCharger(hass, charger)
