"""Set-ups of the linked-car routes, for the fixtures of conftest.py and for the replay benchmark.

Each context manager loads the real integration (or the tesla_custom stand-in, or the template
charger) in the given Home Assistant with one car, faked at its library, and yields the car's
driver; the patches it needs hold until it exits. See conftest.py for what the drivers offer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
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
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_config_flow,
)
from tesla_fleet_api.tesla.fleet import TeslaFleetApi
from tesla_fleet_api.teslemetry import Teslemetry
from tesla_fleet_api.tessie import Tessie

from custom_components.tesladr.const import (
    CONF_DEVICE_ID,
    CONF_ENTITIES,
    CONF_ENTRY_TYPE,
    CONF_SOURCE,
    DOMAIN,
    ENTRY_TYPE_LINKED,
)
from custom_components.tesladr.sources import Role

from .cars import (
    CAR_PLATFORMS,
    FakeClouds,
    FleetCar,
    LinkedCar,
    TeslemetryCar,
    TessieCar,
)
from .tesla_custom import CustomCar, TeslaCustomFlow, async_setup_tesla_custom


@contextmanager
def patched_clouds(clouds: FakeClouds | None = None) -> Iterator[FakeClouds]:
    """Patch tesla-fleet-api's single request function (its HTTP boundary)."""
    clouds = clouds or FakeClouds()

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
def _car_platforms(module: str) -> Iterator[None]:
    """Only the platforms DR reads, for the set-up's whole life (reloads included)."""
    with patch(f"homeassistant.components.{module}.PLATFORMS", CAR_PLATFORMS):
        yield


async def _setup(car: LinkedCar, entry: MockConfigEntry) -> None:
    entry.add_to_hass(car.hass)
    car.entry = entry
    assert await car.hass.config_entries.async_setup(entry.entry_id)
    await car.hass.async_block_till_done()
    car.device_id = car.find_device()


@asynccontextmanager
async def linked_fleet_car(
    hass: HomeAssistant, clouds: FakeClouds, car: FleetCar | None = None
) -> AsyncIterator[FleetCar]:
    """Core tesla_fleet with one charging car."""
    car = car or FleetCar(hass)
    clouds.cars[TeslaFleetApi] = car
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


@asynccontextmanager
async def linked_tessie_car(
    hass: HomeAssistant, clouds: FakeClouds, car: TessieCar | None = None
) -> AsyncIterator[TessieCar]:
    """Core tessie with one charging car."""
    car = car or TessieCar(hass)
    clouds.cars[Tessie] = car
    entry = MockConfigEntry(domain="tessie", data={"access_token": "tessie-token"})
    with (
        _car_platforms("tessie"),
        patch("tessie_api.charging.tessieRequest", car.legacy_request),
    ):
        await _setup(car, entry)
        yield car


@asynccontextmanager
async def linked_teslemetry_car(
    hass: HomeAssistant,
    clouds: FakeClouds,
    car: TeslemetryCar | None = None,
    *,
    streaming: bool = False,
) -> AsyncIterator[TeslemetryCar]:
    """Core teslemetry with one charging car, polled or streamed.

    Needs Bluetooth mocked (the `mock_bluetooth` fixture of the test plugin).
    """
    car = car or TeslemetryCar(hass, streaming=streaming)
    clouds.cars[Teslemetry] = car
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


@asynccontextmanager
async def linked_tesla_custom_car(
    hass: HomeAssistant, car: CustomCar | None = None
) -> AsyncIterator[CustomCar]:
    """The tesla_custom stand-in with one charging car."""
    car = car or CustomCar(hass)
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


async def template_charger(
    hass: HomeAssistant,
    helpers: dict[str, Any] = HELPERS,
    templates: dict[str, Any] = TEMPLATES,
) -> dict[Role, str]:
    """A template charger over input helpers (in Los Angeles): role -> registry id."""
    for domain, config in helpers.items():
        assert await async_setup_component(hass, domain, {domain: config})
    assert await async_setup_component(hass, "template", templates)
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


def linked_entry(
    source: str,
    unique_id: str,
    device_id: str | None,
    entities: dict[Role, str],
    *,
    title: str,
    entry_id: str,
) -> MockConfigEntry:
    """A linked-car entry as the config flow makes it."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=unique_id,
        entry_id=entry_id,
        data={
            CONF_ENTRY_TYPE: ENTRY_TYPE_LINKED,
            CONF_SOURCE: source,
            CONF_DEVICE_ID: device_id,
            CONF_ENTITIES: {str(role): rid for role, rid in entities.items()},
        },
    )
