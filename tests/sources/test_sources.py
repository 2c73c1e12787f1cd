"""Finding and reading a car's entities, against the real integrations that create them."""

from __future__ import annotations

from datetime import time
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from teslajsonpy.exceptions import TeslaException

from custom_components.tesladr.sources import (
    MissingEntityError,
    Role,
    async_find_car_entities,
    entity_id_of,
    read_charge_state,
)
from custom_components.tesladr.vehicles import VehicleState

from .cars import NOT_ONLINE, LinkedCar

CARS = [
    "fleet_car",
    "teslemetry_car",
    "teslemetry_streaming_car",
    "tessie_car",
    "custom_car",
]
POLLED = ["fleet_car", "teslemetry_car", "tessie_car", "custom_car"]
ALL_ROLES = set(Role)
# Roles found with each integration's default entity settings, and why the others are not:
# tesla_fleet and teslemetry (polled) have a fast-charger type sensor that is disabled by
# default; tessie has no fast-charger signal; tesla_custom has no wake button. Only tesla_custom
# tells the car's scheduled departure.
DEFAULT_ROLES = {
    "tesla_fleet": ALL_ROLES - {Role.FAST_CHARGER, Role.DEPARTURE},
    "teslemetry": ALL_ROLES - {Role.FAST_CHARGER, Role.DEPARTURE},
    "tessie": ALL_ROLES - {Role.FAST_CHARGER, Role.DEPARTURE},
    "tesla_custom": ALL_ROLES - {Role.WAKE},
}
SWITCH_ENTITY = {
    "tesla_fleet": "switch.test_model_3_charge",
    "teslemetry": "switch.test_model_3_charge",
    "tessie": "switch.test_model_3_charge",
    "tesla_custom": "switch.test_model_3_charger",
}


@pytest.fixture(params=CARS)
def car(request: pytest.FixtureRequest) -> LinkedCar:
    """Each integration's car in turn."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def _read(hass: HomeAssistant, car: LinkedCar) -> Any:
    source, entities = async_find_car_entities(hass, car.device_id)
    return read_charge_state(hass, source, entities, car.vin, car.name)


def _registry_entry(
    hass: HomeAssistant, car: LinkedCar, role: Role
) -> er.RegistryEntry:
    _, entities = async_find_car_entities(hass, car.device_id)
    entry = er.async_get(hass).async_get(entities[role])
    assert entry is not None
    return entry


async def test_finds_every_role(hass: HomeAssistant, car: LinkedCar) -> None:
    """Each integration's default entities give every role but the documented ones."""
    source, entities = async_find_car_entities(hass, car.device_id)

    assert source == car.integration
    assert set(entities) == DEFAULT_ROLES[source]
    registry = er.async_get(hass)
    assert entity_id_of(hass, entities[Role.SWITCH]) == SWITCH_ENTITY[source]
    for role, registry_id in entities.items():
        entry = registry.async_get(registry_id)
        assert entry is not None
        assert entry.platform == source, role
        assert entry.device_id == car.device_id


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("car", ["fleet_car", "teslemetry_car"], indirect=True)
async def test_fast_charger_once_enabled(hass: HomeAssistant, car: LinkedCar) -> None:
    """The fast-charger type sensor, once enabled, says AC or DC."""
    assert _read(hass, car).fast_charger is False  # ACSingleWireCAN: a wall connector

    car.charge.update(fast_charger_type="Supercharger", fast_charger_present=True)
    await car.async_poll()
    assert _read(hass, car).fast_charger is True

    car.charge.update(fast_charger_type="SomethingNew")
    await car.async_poll()
    assert _read(hass, car).fast_charger is None


async def test_tesla_custom_fast_charger(
    hass: HomeAssistant, custom_car: LinkedCar
) -> None:
    """tesla_custom's charger sensor carries fast_charger_present."""
    assert _read(hass, custom_car).fast_charger is False
    custom_car.charge.update(fast_charger_present=True)
    await custom_car.async_poll()
    assert _read(hass, custom_car).fast_charger is True


async def test_tesla_custom_scheduled_departure(
    hass: HomeAssistant, custom_car: LinkedCar
) -> None:
    """tesla_custom's scheduled departure sensor carries the car's schedule."""
    assert _read(hass, custom_car).departure_schedule is None  # scheduled departure off
    custom_car.charge.update(
        scheduled_charging_mode="DepartBy",
        scheduled_departure_time_minutes=7 * 60 + 30,
        off_peak_charging_enabled=True,
        off_peak_charging_times="weekdays",
        off_peak_hours_end_time=6 * 60,
    )
    await custom_car.async_poll()
    assert (
        _read(hass, custom_car).departure_schedule
        == (time(6),) * 5 + (time(7, 30),) * 2
    )
    custom_car.charge.update(
        scheduled_charging_mode="Off", off_peak_charging_enabled=False
    )
    await custom_car.async_poll()
    assert _read(hass, custom_car).departure_schedule is None


async def test_renamed_entity_id_still_resolves(
    hass: HomeAssistant, car: LinkedCar
) -> None:
    """A user's entity_id rename changes nothing: matching never looks at entity_id."""
    before = async_find_car_entities(hass, car.device_id)
    registry = er.async_get(hass)
    for role, new_id in (
        (Role.SWITCH, "switch.laden"),
        (
            Role.CHARGING_STATE,
            f"{_registry_entry(hass, car, Role.CHARGING_STATE).domain}.ladestatus",
        ),
    ):
        old_id = entity_id_of(hass, before[1][role])
        assert old_id is not None
        registry.async_update_entity(old_id, new_entity_id=new_id)
    await hass.async_block_till_done()

    assert async_find_car_entities(hass, car.device_id) == before
    assert entity_id_of(hass, before[1][Role.SWITCH]) == "switch.laden"
    state = _read(hass, car)
    assert state.charging_state == "Charging"
    assert not state.stale


async def test_disabled_required_entity_is_named(
    hass: HomeAssistant, car: LinkedCar
) -> None:
    """A disabled charging-state entity is reported with the name the user sees."""
    entry = _registry_entry(hass, car, Role.CHARGING_STATE)
    registry = er.async_get(hass)
    registry.async_update_entity(
        entry.entity_id, disabled_by=er.RegistryEntryDisabler.USER
    )

    with pytest.raises(MissingEntityError) as err:
        async_find_car_entities(hass, car.device_id)
    assert (err.value.role, err.value.disabled) == (Role.CHARGING_STATE, True)
    assert err.value.name == "Charging"

    registry.async_update_entity(entry.entity_id, name="Ladezustand")
    with pytest.raises(MissingEntityError) as err:
        async_find_car_entities(hass, car.device_id)
    assert err.value.name == "Ladezustand"


async def test_missing_switch_is_named(hass: HomeAssistant, car: LinkedCar) -> None:
    """A car without its charge switch is reported as missing."""
    entry = _registry_entry(hass, car, Role.SWITCH)
    er.async_get(hass).async_remove(entry.entity_id)

    with pytest.raises(MissingEntityError) as err:
        async_find_car_entities(hass, car.device_id)
    assert (err.value.role, err.value.disabled) == (Role.SWITCH, False)
    assert err.value.name in ("Charge", "Charger")


async def test_disabled_optional_entity_is_left_out(
    hass: HomeAssistant, car: LinkedCar
) -> None:
    """Location disabled: the car is still found, without it."""
    entry = _registry_entry(hass, car, Role.LOCATION)
    er.async_get(hass).async_update_entity(
        entry.entity_id, disabled_by=er.RegistryEntryDisabler.USER
    )

    _, entities = async_find_car_entities(hass, car.device_id)
    assert Role.LOCATION not in entities
    assert Role.SWITCH in entities


async def test_enabled_alternative_is_preferred(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """tesla_fleet's battery level disabled: its (enabled) usable level is taken instead."""
    registry = er.async_get(hass)
    battery = _registry_entry(hass, fleet_car, Role.BATTERY)
    assert battery.translation_key == "charge_state_battery_level"
    usable = registry.async_get_entity_id(
        "sensor", "tesla_fleet", f"{fleet_car.vin}-charge_state_usable_battery_level"
    )
    assert usable is not None
    registry.async_update_entity(usable, disabled_by=None)
    registry.async_update_entity(
        battery.entity_id, disabled_by=er.RegistryEntryDisabler.USER
    )

    assert _registry_entry(hass, fleet_car, Role.BATTERY).entity_id == usable


async def test_device_of_another_integration(hass: HomeAssistant) -> None:
    """A device without entities of a Tesla integration has no charge switch."""
    entry = MockConfigEntry(domain="other")
    entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={("other", "1")}
    )
    with pytest.raises(MissingEntityError) as err:
        async_find_car_entities(hass, device.id)
    assert err.value.role is Role.SWITCH


async def test_entity_id_of_unknown_registry_id(hass: HomeAssistant) -> None:
    """A registry id that no longer exists has no entity_id."""
    assert entity_id_of(hass, "0123456789abcdef") is None


async def test_reads_charging(hass: HomeAssistant, car: LinkedCar) -> None:
    """Charging at 7 kW, as the fixture shows."""
    state = _read(hass, car)

    assert state.vin == car.vin
    assert state.name == car.name
    assert state.state is VehicleState.ONLINE
    assert state.charging_state == "Charging"
    assert state.charging
    assert state.plugged_in
    assert state.charger_power_kw == 7.0
    assert state.battery_level in (61.0, 62.0)  # usable level (tessie, tesla_custom)
    assert state.charge_limit_soc == 80.0
    assert state.charge_energy_added_kwh == 4.2
    assert (state.latitude, state.longitude) == (37.4419, -122.143)
    assert state.updated_at is not None
    assert state.updated_at.tzinfo is not None
    assert not state.stale


@pytest.mark.parametrize(
    ("change", "charging_state", "power"),
    [
        (LinkedCar.set_stopped, "Stopped", 0.0),
        (LinkedCar.set_complete, "Complete", 0.0),
        (LinkedCar.set_unplugged, "Disconnected", 0.0),
        (lambda car: car.set_charging(11.5), "Charging", 11.5),
    ],
)
async def test_reads_charge_changes(
    hass: HomeAssistant,
    car: LinkedCar,
    change: Any,
    charging_state: str,
    power: float,
) -> None:
    """What the car does reaches the reading at the integration's next poll."""
    change(car)
    await car.async_poll()

    state = _read(hass, car)
    # tesla_custom's plug sensor carries Tesla's own word; its binary sensors alone would
    # say Stopped for Complete.
    assert state.charging_state == charging_state
    assert state.charger_power_kw == power
    assert state.plugged_in is (charging_state != "Disconnected")
    assert state.state is VehicleState.ONLINE


async def test_reads_asleep(hass: HomeAssistant, car: LinkedCar) -> None:
    """A sleeping car reads ASLEEP with its last known charge data, not stale."""
    car.set_stopped()
    await car.async_poll()
    car.set_asleep()
    await car.async_poll()

    state = _read(hass, car)
    assert state.state is VehicleState.ASLEEP
    assert state.charging_state == "Stopped"
    assert not state.stale


@pytest.mark.parametrize("car", POLLED, indirect=True)
async def test_reads_unavailable(hass: HomeAssistant, car: LinkedCar) -> None:
    """The cloud down: entities unavailable, the reading stale and the car offline."""
    car.set_cloud_down()
    await car.async_poll()

    state = _read(hass, car)
    assert state.stale
    assert state.state is VehicleState.OFFLINE
    assert state.charging_state is None
    assert state.charger_power_kw is None


async def test_streamed_values_outlive_the_cloud(
    hass: HomeAssistant, teslemetry_streaming_car: LinkedCar
) -> None:
    """Teslemetry's streamed entities never go unavailable: a silent stream keeps them.

    Only the age of the reading tells: `updated_at` stays where the last change left it.
    """
    before = _read(hass, teslemetry_streaming_car)
    teslemetry_streaming_car.set_cloud_down()
    teslemetry_streaming_car.set_stopped()  # never delivered: the stream is silent

    after = _read(hass, teslemetry_streaming_car)
    assert not after.stale
    assert after.charging_state == "Charging"
    assert after.updated_at == before.updated_at


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_streamed_fast_charger_present(
    hass: HomeAssistant, teslemetry_streaming_car: LinkedCar
) -> None:
    """Streamed cars have fast_charger_present, preferred over the type sensor."""
    source, entities = async_find_car_entities(hass, teslemetry_streaming_car.device_id)
    entry = er.async_get(hass).async_get(entities[Role.FAST_CHARGER])
    assert entry is not None
    assert (entry.domain, entry.translation_key) == (
        "binary_sensor",
        "fast_charger_present",
    )
    assert _read(hass, teslemetry_streaming_car).fast_charger is False

    teslemetry_streaming_car.charge.update(
        fast_charger_present=True, fast_charger_type="Supercharger"
    )
    await teslemetry_streaming_car.async_poll()
    assert _read(hass, teslemetry_streaming_car).fast_charger is True


async def test_switch_commands_reach_the_car(
    hass: HomeAssistant, car: LinkedCar
) -> None:
    """The real charge switch stops and starts the fake car."""
    switch = entity_id_of(
        hass, async_find_car_entities(hass, car.device_id)[1][Role.SWITCH]
    )

    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": switch}, blocking=True
    )
    await car.async_poll()
    assert _read(hass, car).charging_state == "Stopped"

    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": switch}, blocking=True
    )
    await car.async_poll()
    assert _read(hass, car).charging_state == "Charging"
    assert car.commands == ["charge_stop", "charge_start"]


@pytest.mark.parametrize(
    "car", ["fleet_car", "teslemetry_car", "tessie_car"], indirect=True
)
async def test_failed_command_raises(hass: HomeAssistant, car: LinkedCar) -> None:
    """A refused command is the integration's HomeAssistantError, the car unchanged."""
    switch = entity_id_of(
        hass, async_find_car_entities(hass, car.device_id)[1][Role.SWITCH]
    )
    car.fail_next_command("no_power")

    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": switch}, blocking=True
        )
    await car.async_poll()
    assert _read(hass, car).charging_state == "Charging"


async def test_fleet_start_on_a_car_that_fell_asleep(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """tesla_fleet trusts its cached state: a car asleep since the poll fails "not online"."""
    switch = entity_id_of(
        hass, async_find_car_entities(hass, fleet_car.device_id)[1][Role.SWITCH]
    )
    fleet_car.set_stopped()
    await fleet_car.async_poll()
    fleet_car.set_asleep()  # after the poll: tesla_fleet still believes it online

    with pytest.raises(HomeAssistantError, match="not 'online'"):
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": switch}, blocking=True
        )
    assert fleet_car.commands == ["charge_start"]

    wake = entity_id_of(
        hass, async_find_car_entities(hass, fleet_car.device_id)[1][Role.WAKE]
    )
    await fleet_car.async_poll()  # now it knows the car sleeps
    await hass.services.async_call(
        "button", "press", {"entity_id": wake}, blocking=True
    )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": switch}, blocking=True
    )
    assert fleet_car.commands == ["charge_start", "wake_up", "charge_start"]


async def test_fleet_not_online_failure(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """fail_next_command(NOT_ONLINE) is the 408 of a car asleep since the last poll."""
    switch = entity_id_of(
        hass, async_find_car_entities(hass, fleet_car.device_id)[1][Role.SWITCH]
    )
    fleet_car.fail_next_command(NOT_ONLINE)
    with pytest.raises(HomeAssistantError, match="not 'online'"):
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": switch}, blocking=True
        )


async def test_unavailable_state_is_stale(hass: HomeAssistant, car: LinkedCar) -> None:
    """The charge switch alone going unavailable makes the reading stale."""
    source, entities = async_find_car_entities(hass, car.device_id)
    switch = entity_id_of(hass, entities[Role.SWITCH])
    assert switch is not None
    hass.states.async_set(switch, STATE_UNAVAILABLE)

    assert read_charge_state(hass, source, entities, car.vin, car.name).stale


@pytest.mark.parametrize(
    ("platform", "switch_unique_id"),
    [
        ("tessie", "VIN1-charge_state_charge_enable_request"),
        ("teslemetry", "VIN1-charge_state_charge_enable_request"),
        ("tesla_fleet", "VIN1-charge_state_user_charge_enable_request"),
    ],
)
async def test_older_keys_without_translation_key(
    hass: HomeAssistant, platform: str, switch_unique_id: str
) -> None:
    """Registry entries of older releases (other keys, no translation key) still match."""
    config_entry = MockConfigEntry(domain=platform)
    config_entry.add_to_hass(hass)
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=config_entry.entry_id, identifiers={(platform, "VIN1")}
    )
    registry = er.async_get(hass)

    def register(domain: str, unique_id: str) -> str:
        return registry.async_get_or_create(
            domain,
            platform,
            unique_id,
            config_entry=config_entry,
            device_id=device.id,
        ).id

    switch = register("switch", switch_unique_id)
    charging = register("sensor", "VIN1-charge_state_charging_state")
    register("sensor", "VIN1-charge_state_charging_stateX")  # not a key: ignored

    assert async_find_car_entities(hass, device.id) == (
        platform,
        {Role.SWITCH: switch, Role.CHARGING_STATE: charging},
    )


async def test_source_reload(hass: HomeAssistant, car: LinkedCar) -> None:
    """Unloaded, the car reads stale; set up again, the same registry ids read fresh."""
    source, entities = async_find_car_entities(hass, car.device_id)

    assert await hass.config_entries.async_unload(car.entry.entry_id)
    await hass.async_block_till_done()
    unloaded = read_charge_state(hass, source, entities, car.vin, car.name)
    assert unloaded.stale
    assert unloaded.state is VehicleState.OFFLINE

    assert await hass.config_entries.async_setup(car.entry.entry_id)
    await hass.async_block_till_done()
    await car.async_poll()
    assert async_find_car_entities(hass, car.device_id) == (source, entities)
    state = read_charge_state(hass, source, entities, car.vin, car.name)
    assert state.charging_state == "Charging"
    assert not state.stale


async def test_tesla_custom_command_failures(
    hass: HomeAssistant, custom_car: LinkedCar
) -> None:
    """Teslajsonpy ignores `result: false`; a car not online raises its TeslaException."""
    switch = entity_id_of(
        hass, async_find_car_entities(hass, custom_car.device_id)[1][Role.SWITCH]
    )
    custom_car.fail_next_command("no_power")
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": switch}, blocking=True
    )
    await custom_car.async_poll()
    assert _read(hass, custom_car).charging_state == "Charging"

    custom_car.fail_next_command(NOT_ONLINE)
    with pytest.raises(TeslaException):
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": switch}, blocking=True
        )

    custom_car.set_asleep()
    await custom_car.async_poll()
    with pytest.raises(TeslaException):  # teslajsonpy does not wake a car to stop it
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": switch}, blocking=True
        )
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": switch}, blocking=True
    )
    assert custom_car.commands[-2:] == ["wake_up", "charge_start"]
