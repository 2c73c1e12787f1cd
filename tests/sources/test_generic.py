"""The generic route: any charger switch, read with Home Assistant's own helpers behind it."""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest

from custom_components.tesladr.sources import (
    SOURCE_GENERIC,
    Role,
    entity_id_of,
    read_charge_state,
)
from custom_components.tesladr.vehicles import ChargeState, VehicleState

from .cars import HelperCharger, LinkedCar


def _read(hass: HomeAssistant, entities: dict[Role, str]) -> ChargeState:
    return read_charge_state(hass, SOURCE_GENERIC, entities, "garage_charger", "EV")


async def _set(hass: HomeAssistant, domain: str, name: str, value: Any) -> None:
    if domain == "input_number":
        await hass.services.async_call(
            domain,
            "set_value",
            {"entity_id": f"{domain}.{name}", "value": value},
            blocking=True,
        )
    else:
        await hass.services.async_call(
            domain,
            "turn_on" if value else "turn_off",
            {"entity_id": f"{domain}.{name}"},
            blocking=True,
        )
    await hass.async_block_till_done()


async def test_charging_by_power(hass: HomeAssistant, charger: dict[Role, str]) -> None:
    """Power above 50 W is charging; the watts are converted to kW."""
    state = _read(hass, charger)

    assert state.vin == "garage_charger"
    assert state.name == "EV"
    assert state.state is VehicleState.ONLINE
    assert state.charging_state == "Charging"
    assert state.charger_power_kw == 7.2
    assert state.battery_level == 55.0
    assert (state.latitude, state.longitude) == (34.05, -118.24)
    assert state.updated_at is not None
    assert not state.stale

    await _set(hass, "input_number", "watts", 40)
    state = _read(hass, charger)
    assert state.charging_state == "Stopped"
    assert state.charger_power_kw == 0.04
    assert state.plugged_in


async def test_unplugged(hass: HomeAssistant, charger: dict[Role, str]) -> None:
    """Plug sensor off and no power: Disconnected; power flowing still counts as plugged."""
    await _set(hass, "input_boolean", "plug", False)
    assert _read(hass, charger).charging_state == "Charging"

    await _set(hass, "input_number", "watts", 0)
    state = _read(hass, charger)
    assert state.charging_state == "Disconnected"
    assert state.plugged_in is False


async def test_relay_off_draws_nothing(
    hass: HomeAssistant, helper_charger: HelperCharger
) -> None:
    """The charge switch off opens the relay: the power and the reading follow."""
    await helper_charger.async_set_battery(70)
    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": entity_id_of(hass, helper_charger.entities[Role.SWITCH])},
        blocking=True,
    )
    await hass.async_block_till_done()

    state = _read(hass, helper_charger.entities)
    assert state.charger_power_kw == 0.0
    assert state.charging_state == "Stopped"
    assert state.battery_level == 70.0
    await helper_charger.async_set_plugged(False)
    assert _read(hass, helper_charger.entities).charging_state == "Disconnected"


async def test_switch_alone(hass: HomeAssistant, charger: dict[Role, str]) -> None:
    """Without a power sensor the switch says whether it charges."""
    switch_only = {Role.SWITCH: charger[Role.SWITCH]}
    assert _read(hass, switch_only).charging_state == "Charging"

    await hass.services.async_call(
        "switch",
        "turn_off",
        {"entity_id": entity_id_of(hass, charger[Role.SWITCH])},
        blocking=True,
    )
    await hass.async_block_till_done()
    state = _read(hass, switch_only)
    assert state.charging_state == "Stopped"
    assert state.charger_power_kw is None
    assert state.battery_level is None


async def test_switch_unavailable(
    hass: HomeAssistant, charger: dict[Role, str]
) -> None:
    """The switch unavailable: stale, offline, and unknown without a power reading."""
    switch = entity_id_of(hass, charger[Role.SWITCH])
    assert switch is not None
    hass.states.async_set(switch, STATE_UNAVAILABLE)

    state = _read(hass, {Role.SWITCH: charger[Role.SWITCH]})
    assert state.stale
    assert state.state is VehicleState.OFFLINE
    assert state.charging_state is None


async def test_missing_entity_state(
    hass: HomeAssistant, charger: dict[Role, str]
) -> None:
    """A registry id without a state (entity removed) reads as stale."""
    switch = entity_id_of(hass, charger[Role.SWITCH])
    assert switch is not None
    hass.states.async_remove(switch)

    assert _read(hass, charger).stale


async def test_removed_registry_entry(
    hass: HomeAssistant, charger: dict[Role, str]
) -> None:
    """A switch deleted from the registry reads as stale and offline, never as a guess."""
    er.async_get(hass).async_remove(entity_id_of(hass, charger[Role.SWITCH]) or "")

    state = _read(hass, {Role.SWITCH: charger[Role.SWITCH]})
    assert state.stale
    assert state.state is VehicleState.OFFLINE
    assert state.charging_state is None


@pytest.mark.parametrize(
    ("unit", "value", "kw"),
    [("W", "1500", 1.5), ("kW", "11", 11.0), ("MW", "0.0075", 7.5), ("kVA", "7", None)],
)
async def test_power_units(
    hass: HomeAssistant,
    charger: dict[Role, str],
    unit: str,
    value: str,
    kw: float | None,
) -> None:
    """Power in any unit Home Assistant converts; an unknown unit is no reading."""
    power = entity_id_of(hass, charger[Role.CHARGER_POWER])
    assert power is not None
    hass.states.async_set(power, value, {"unit_of_measurement": unit})

    assert _read(hass, charger).charger_power_kw == kw


async def test_odd_readings(hass: HomeAssistant, charger: dict[Role, str]) -> None:
    """Non-numeric numbers, energy in Wh, coordinates missing, a binary charging sensor."""
    registry = er.async_get(hass)

    def make(domain: str, unique_id: str, state: str, attrs: dict[str, Any]) -> str:
        entry = registry.async_get_or_create(domain, "demo", unique_id)
        hass.states.async_set(entry.entity_id, state, attrs)
        return entry.id

    entities = dict(charger)
    entities[Role.ENERGY_ADDED] = make(
        "sensor", "energy", "2500", {"unit_of_measurement": "Wh"}
    )
    entities[Role.CHARGE_LIMIT] = make("number", "limit", "not a number", {})
    entities[Role.LOCATION] = make("device_tracker", "nowhere", "away", {})
    entities[Role.CHARGING_STATE] = make("binary_sensor", "charging", "off", {})

    state = _read(hass, entities)
    assert state.charge_energy_added_kwh == 2.5
    assert state.charge_limit_soc is None
    assert state.latitude is None
    # A charging-state entity, when given, decides over the power reading.
    assert state.charging_state == "Stopped"

    hass.states.async_set(
        entity_id_of(hass, entities[Role.ENERGY_ADDED]) or "",
        "3",
        {"unit_of_measurement": "kVAh"},
    )
    assert _read(hass, entities).charge_energy_added_kwh is None


async def test_core_charging_state_unknown_word(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """An enum value outside Tesla's vocabulary reads as unknown, not as a guess."""
    from custom_components.tesladr.sources import async_find_car_entities

    source, entities = async_find_car_entities(hass, fleet_car.device_id)
    charging = entity_id_of(hass, entities[Role.CHARGING_STATE]) or ""
    hass.states.async_set(charging, "something_new")
    assert (
        read_charge_state(hass, source, entities, fleet_car.vin, "x").charging_state
        is None
    )


async def test_tesla_custom_without_raw_state(
    hass: HomeAssistant, custom_car: LinkedCar
) -> None:
    """Without the raw attribute, tesla_custom's charging binary sensor decides."""
    from custom_components.tesladr.sources import async_find_car_entities

    source, entities = async_find_car_entities(hass, custom_car.device_id)
    plug = entity_id_of(hass, entities[Role.PLUGGED_IN]) or ""
    charging = entity_id_of(hass, entities[Role.CHARGING_STATE]) or ""

    def read() -> ChargeState:
        return read_charge_state(hass, source, entities, custom_car.vin, "x")

    hass.states.async_set(plug, "on", {"fast_charger_present": "yes"})
    assert read().charging_state == "Charging"
    assert read().fast_charger is None  # not a bool: unknown
    hass.states.async_set(charging, "off")
    assert read().charging_state == "Stopped"
    hass.states.async_set(plug, "off", {})
    assert read().charging_state == "Disconnected"
    hass.states.async_set(charging, STATE_UNAVAILABLE)
    assert read().charging_state is None
    assert read().stale
    hass.states.async_set(plug, STATE_UNAVAILABLE)
    assert read().fast_charger is None


async def test_fast_charger_binary_sensor(hass: HomeAssistant) -> None:
    """Teslemetry's streamed fast_charger_present binary sensor: on means DC."""
    registry = er.async_get(hass)
    switch = registry.async_get_or_create(
        "switch", "teslemetry", "VIN-charge_state_charging_state"
    )
    present = registry.async_get_or_create(
        "binary_sensor", "teslemetry", "VIN-fast_charger_present"
    )
    hass.states.async_set(switch.entity_id, "on")
    entities = {Role.SWITCH: switch.id, Role.FAST_CHARGER: present.id}

    hass.states.async_set(present.entity_id, "on")
    assert (
        read_charge_state(hass, "teslemetry", entities, "VIN", "x").fast_charger is True
    )
    hass.states.async_set(present.entity_id, "off")
    assert (
        read_charge_state(hass, "teslemetry", entities, "VIN", "x").fast_charger
        is False
    )
