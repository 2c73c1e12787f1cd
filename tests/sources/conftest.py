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
there); these fixtures are visible to tests under `tests/sources/`. Outside it (the replay
benchmark), the same set-ups are the context managers of `routes.py`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

from homeassistant.core import HomeAssistant
import pytest

from custom_components.tesladr.sources import Role

from .cars import FakeClouds, FleetCar, HelperCharger, TeslemetryCar, TessieCar
from .routes import (
    linked_fleet_car,
    linked_tesla_custom_car,
    linked_teslemetry_car,
    linked_tessie_car,
    patched_clouds,
    template_charger,
)
from .tesla_custom import CustomCar


@pytest.fixture
def fake_clouds() -> Generator[FakeClouds]:
    """Patch tesla-fleet-api's single request function (its HTTP boundary)."""
    with patched_clouds() as clouds:
        yield clouds


@pytest.fixture
async def fleet_car(
    hass: HomeAssistant, fake_clouds: FakeClouds
) -> AsyncGenerator[FleetCar]:
    """Core tesla_fleet with one charging car."""
    async with linked_fleet_car(hass, fake_clouds) as car:
        yield car


@pytest.fixture
async def tessie_car(
    hass: HomeAssistant, fake_clouds: FakeClouds
) -> AsyncGenerator[TessieCar]:
    """Core tessie with one charging car."""
    async with linked_tessie_car(hass, fake_clouds) as car:
        yield car


@pytest.fixture
async def teslemetry_car(
    hass: HomeAssistant, fake_clouds: FakeClouds, mock_bluetooth: None
) -> AsyncGenerator[TeslemetryCar]:
    """Core teslemetry with one charging car that it polls (no streaming firmware)."""
    async with linked_teslemetry_car(hass, fake_clouds) as car:
        yield car


@pytest.fixture
async def teslemetry_streaming_car(
    hass: HomeAssistant, fake_clouds: FakeClouds, mock_bluetooth: None
) -> AsyncGenerator[TeslemetryCar]:
    """Core teslemetry with one charging car on Fleet Telemetry streaming."""
    async with linked_teslemetry_car(hass, fake_clouds, streaming=True) as car:
        yield car


@pytest.fixture
async def custom_car(hass: HomeAssistant) -> AsyncGenerator[CustomCar]:
    """The tesla_custom stand-in with one charging car."""
    async with linked_tesla_custom_car(hass) as car:
        yield car


@pytest.fixture
async def charger(hass: HomeAssistant) -> dict[Role, str]:
    """A template charger over input helpers: role -> registry id."""
    return await template_charger(hass)


@pytest.fixture
def helper_charger(hass: HomeAssistant, charger: dict[Role, str]) -> HelperCharger:
    """The template charger with a driver."""
    return HelperCharger(hass, charger)
