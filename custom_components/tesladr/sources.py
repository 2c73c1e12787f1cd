"""Cars that another Home Assistant integration already provides: find their entities, read them.

Entities are found in the entity registry by the integration that created them
(`entry.platform`), their entity domain and their translation key or the key their unique id
carries after the VIN, never by `entity_id`: users rename entity ids and non-English installs
translate them. Keys that changed between releases of the core integrations are all listed,
current one first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Final

from homeassistant.const import (
    ATTR_LATITUDE,
    ATTR_LONGITUDE,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant, State, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.util.unit_conversion import EnergyConverter, PowerConverter

from .vehicles.base import ChargeState, VehicleState
from .vehicles.schedule import car_schedule, clock

SOURCE_DOMAINS: Final = ("tesla_fleet", "teslemetry", "tessie", "tesla_custom")
SOURCE_GENERIC: Final = "generic"

# Below this a charger's power reading is noise, not charging.
CHARGING_POWER_KW: Final = 0.05


class Role(StrEnum):
    """What an entity means to DR."""

    SWITCH = "switch"
    CHARGING_STATE = "charging_state"
    CHARGER_POWER = "charger_power"
    PLUGGED_IN = "plugged_in"
    BATTERY = "battery"
    CHARGE_LIMIT = "charge_limit"
    ENERGY_ADDED = "energy_added"
    FAST_CHARGER = "fast_charger"
    LOCATION = "location"
    ONLINE = "online"
    WAKE = "wake"
    # The car's own scheduled departure (tesla_custom only: the core integrations expose
    # Tesla's schedule neither as an entity nor as attributes).
    DEPARTURE = "departure"


REQUIRED_ROLES: Final = frozenset({Role.SWITCH, Role.CHARGING_STATE})


class MissingEntityError(Exception):
    """A required entity of the device is missing or disabled."""

    def __init__(self, role: Role, disabled: bool, name: str) -> None:
        """Name the role, whether the entity exists but is disabled, and what the user sees."""
        super().__init__(
            f"{'disabled' if disabled else 'missing'} entity for {role}: {name}"
        )
        self.role = role
        self.disabled = disabled
        self.name = name


@dataclass(frozen=True, slots=True)
class _Match:
    """How one role's entity is recognised: (entity domain, key) pairs, preferred first."""

    keys: tuple[tuple[str, str], ...]
    name: str  # the English name the integration gives it, for when it is missing


def _one(domain: str, *keys: str, name: str) -> _Match:
    return _Match(tuple((domain, key) for key in keys), name)


def _core(
    fast_charger: _Match | None, battery_keys: tuple[str, ...]
) -> dict[Role, _Match]:
    roles = {
        Role.SWITCH: _one(
            "switch",
            "charge_state_charging_state",
            "charge_state_user_charge_enable_request",
            "charge_state_charge_enable_request",
            name="Charge",
        ),
        Role.CHARGING_STATE: _one(
            "sensor", "charge_state_charging_state", name="Charging"
        ),
        Role.CHARGER_POWER: _one(
            "sensor", "charge_state_charger_power", name="Charger power"
        ),
        Role.PLUGGED_IN: _one(
            "binary_sensor", "charge_state_conn_charge_cable", name="Charge cable"
        ),
        Role.BATTERY: _one("sensor", *battery_keys, name="Battery level"),
        Role.CHARGE_LIMIT: _one(
            "number", "charge_state_charge_limit_soc", name="Charge limit"
        ),
        Role.ENERGY_ADDED: _one(
            "sensor", "charge_state_charge_energy_added", name="Charge energy added"
        ),
        Role.LOCATION: _one("device_tracker", "location", name="Location"),
        Role.ONLINE: _one("binary_sensor", "state", name="Status"),
        Role.WAKE: _one("button", "wake", name="Wake"),
    }
    if fast_charger is not None:
        roles[Role.FAST_CHARGER] = fast_charger
    return roles


_FAST_CHARGER_TYPE: Final = _one(
    "sensor", "charge_state_fast_charger_type", name="Fast charger type"
)

# tesla_custom has no translation keys; its unique ids are slugify(f"{vin} {type}").
_TESLA_CUSTOM: Final = {
    Role.SWITCH: _one("switch", "charger", name="Charger"),
    Role.CHARGING_STATE: _one("binary_sensor", "charging", name="Charging"),
    Role.CHARGER_POWER: _one("sensor", "charger_power", name="Charger power"),
    Role.PLUGGED_IN: _one("binary_sensor", "charger", name="Charger"),
    Role.BATTERY: _one("sensor", "battery", name="Battery"),
    Role.CHARGE_LIMIT: _one("number", "charge_limit", name="Charge limit"),
    Role.ENERGY_ADDED: _one("sensor", "energy_added", name="Energy added"),
    # Its charger connection sensor carries `fast_charger_present` as an attribute.
    Role.FAST_CHARGER: _one("binary_sensor", "charger", name="Charger"),
    Role.LOCATION: _one("device_tracker", "location_tracker", name="Location tracker"),
    Role.ONLINE: _one("binary_sensor", "online", name="Online"),
    # On while scheduled departure is; its attributes carry Tesla's schedule fields.
    Role.DEPARTURE: _one(
        "binary_sensor", "scheduled_departure", name="Scheduled departure"
    ),
}

SOURCE_ROLES: Final[Mapping[str, Mapping[Role, _Match]]] = {
    "tesla_fleet": _core(
        _FAST_CHARGER_TYPE,
        ("charge_state_battery_level", "charge_state_usable_battery_level"),
    ),
    "teslemetry": _core(
        # Streamed cars have the binary sensor, polled ones only the type sensor.
        _Match(
            (
                ("binary_sensor", "fast_charger_present"),
                ("sensor", "charge_state_fast_charger_type"),
            ),
            "Fast charger present",
        ),
        ("charge_state_battery_level", "charge_state_usable_battery_level"),
    ),
    # Tessie names its usable level "Battery level" and exposes no fast-charger signal.
    "tessie": _core(
        None, ("charge_state_usable_battery_level", "charge_state_battery_level")
    ),
    "tesla_custom": _TESLA_CUSTOM,
}

# Tesla's charging_state vocabulary, from the core integrations' enum options.
CHARGING_STATES: Final = {
    "starting": "Starting",
    "charging": "Charging",
    "stopped": "Stopped",
    "complete": "Complete",
    "disconnected": "Disconnected",
    "no_power": "NoPower",
}
# fast_charger_type when the car is on AC: none, Tesla wall connector, mobile connector.
_AC_CHARGER_TYPES: Final = frozenset(
    {"<invalid>", "", "acsinglewirecan", "mcsinglewirecan"}
)
_DC_CHARGER_TYPES: Final = frozenset(
    {"supercharger", "chademo", "gb", "combo", "ccs", "tesla"}
)
_MISSING: Final = (STATE_UNAVAILABLE, STATE_UNKNOWN)


def _key_rank(source: str, entry: er.RegistryEntry, match: _Match) -> int | None:
    """Position of the entry's key in the match's preference list, or None."""
    # Unique ids are f"{vin}-{key}" (core) or slugify(f"{vin} {type}") (tesla_custom): the
    # VIN holds neither separator, so what follows the first one is the key.
    separator = "_" if source == "tesla_custom" else "-"
    unique_key = entry.unique_id.partition(separator)[2]
    for rank, (domain, key) in enumerate(match.keys):
        if entry.domain == domain and key in (entry.translation_key, unique_key):
            return rank
    return None


def _pick(
    source: str, entries: Iterable[er.RegistryEntry], match: _Match
) -> tuple[er.RegistryEntry | None, er.RegistryEntry | None]:
    """(best enabled entry, best disabled entry) for one role."""
    ranked = sorted(
        (
            (rank, entry)
            for entry in entries
            if (rank := _key_rank(source, entry, match)) is not None
        ),
        key=lambda ranked_entry: ranked_entry[0],
    )
    enabled = next((entry for _, entry in ranked if not entry.disabled), None)
    disabled = next((entry for _, entry in ranked if entry.disabled), None)
    return enabled, disabled


@callback
def async_find_car_entities(
    hass: HomeAssistant, device_id: str
) -> tuple[str, dict[Role, str]]:
    """(source domain, role -> entity registry id) for a car device of one of SOURCE_DOMAINS.

    Raises MissingEntityError for a required role that is missing or disabled; optional roles
    are left out when missing or disabled.
    """
    registry = er.async_get(hass)
    entries = er.async_entries_for_device(
        registry, device_id, include_disabled_entities=True
    )
    source = next(
        (
            domain
            for domain in SOURCE_DOMAINS
            if any(entry.platform == domain for entry in entries)
        ),
        None,
    )
    if source is None:
        raise MissingEntityError(
            Role.SWITCH, False, SOURCE_ROLES["tesla_fleet"][Role.SWITCH].name
        )
    own = [entry for entry in entries if entry.platform == source]
    found: dict[Role, str] = {}
    for role, match in SOURCE_ROLES[source].items():
        enabled, disabled = _pick(source, own, match)
        if enabled is not None:
            found[role] = enabled.id
        elif role in REQUIRED_ROLES:
            if disabled is not None:
                raise MissingEntityError(role, True, _entry_name(disabled, match))
            raise MissingEntityError(role, False, match.name)
    return source, found


@callback
def async_find_optional_entity(
    hass: HomeAssistant, source: str, device_id: str, role: Role
) -> str | None:
    """The registry id of an optional role's enabled entity on the device, None without one.

    For a role added after an entry stored its entities (the car's scheduled departure).
    """
    if (match := SOURCE_ROLES.get(source, {}).get(role)) is None:
        return None
    own = [
        entry
        for entry in er.async_entries_for_device(er.async_get(hass), device_id)
        if entry.platform == source
    ]
    enabled, _ = _pick(source, own, match)
    return enabled.id if enabled is not None else None


def _entry_name(entry: er.RegistryEntry, match: _Match) -> str:
    """The name the user sees for an entity in the entity settings."""
    return entry.name or entry.original_name or match.name


def entity_id_of(hass: HomeAssistant, registry_id: str) -> str | None:
    """Current entity_id of a registry id (follows renames)."""
    entry = er.async_get(hass).async_get(registry_id)
    return None if entry is None else entry.entity_id


def _state(hass: HomeAssistant, registry_id: str) -> State | None:
    if (entity_id := entity_id_of(hass, registry_id)) is None:
        return None
    return hass.states.get(entity_id)


def _usable(state: State | None) -> State | None:
    """The state when it holds a reading, None when missing, unavailable or unknown."""
    return None if state is None or state.state in _MISSING else state


def _number(state: State | None) -> float | None:
    if (state := _usable(state)) is None:
        return None
    try:
        return float(state.state)
    except ValueError:
        return None


def _power_kw(state: State | None) -> float | None:
    """Charger power in kW from a sensor in any power unit; None for an unknown unit."""
    if (value := _number(state)) is None or state is None:
        return None
    if (
        unit := state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    ) not in PowerConverter.VALID_UNITS:
        return None
    return PowerConverter.convert(value, unit, UnitOfPower.KILO_WATT)


def _energy_kwh(state: State | None) -> float | None:
    if (value := _number(state)) is None or state is None:
        return None
    if (
        unit := state.attributes.get(ATTR_UNIT_OF_MEASUREMENT)
    ) not in EnergyConverter.VALID_UNITS:
        return None
    return EnergyConverter.convert(value, unit, UnitOfEnergy.KILO_WATT_HOUR)


def _fast_charger(source: str, state: State | None) -> bool | None:
    """Whether the car is on a DC fast charger, as far as its entity tells."""
    if (state := _usable(state)) is None:
        return None
    if source == "tesla_custom":
        present = state.attributes.get("fast_charger_present")
        return present if isinstance(present, bool) else None
    if state.domain == "binary_sensor":
        return state.state == STATE_ON
    # Tesla's values; teslemetry_stream strips the `FastCharger` prefix of streamed ones.
    # Unknown, SNA (signal not available) and Other tell nothing: None.
    kind = state.state.lower()
    if kind in _AC_CHARGER_TYPES:
        return False
    if kind in _DC_CHARGER_TYPES:
        return True
    return None


def _charging_state(
    source: str,
    states: Mapping[Role, State | None],
    has_charging: bool,
    power_kw: float | None,
) -> str | None:
    """Tesla's charging_state word for what the entities show, None when unknown."""
    plugged = _usable(states.get(Role.PLUGGED_IN))
    if (
        source == "tesla_custom"
        and plugged is not None
        and isinstance(raw := plugged.attributes.get("charging_state"), str)
    ):
        return raw
    if has_charging:
        if (charging := _usable(states.get(Role.CHARGING_STATE))) is None:
            return None
        if charging.domain == "sensor":
            return CHARGING_STATES.get(charging.state)
        is_charging = charging.state == STATE_ON
    elif power_kw is not None:
        is_charging = power_kw > CHARGING_POWER_KW
    elif (switch := _usable(states.get(Role.SWITCH))) is None:
        return None
    else:
        is_charging = switch.state == STATE_ON
    if is_charging:
        return "Charging"
    if plugged is not None and plugged.state != STATE_ON:
        return "Disconnected"
    return "Stopped"


def _vehicle_state(
    online: State | None, switch: State | None, has_online: bool
) -> VehicleState:
    if not has_online:
        return VehicleState.OFFLINE if _usable(switch) is None else VehicleState.ONLINE
    if (online := _usable(online)) is None:
        return VehicleState.OFFLINE
    return VehicleState.ONLINE if online.state == STATE_ON else VehicleState.ASLEEP


def read_charge_state(
    hass: HomeAssistant,
    source: str,
    entities: Mapping[Role, str],
    car_id: str,
    name: str,
) -> ChargeState:
    """The car as its entities show it now."""
    states = {role: _state(hass, registry_id) for role, registry_id in entities.items()}
    switch = states.get(Role.SWITCH)
    charging = states.get(Role.CHARGING_STATE)
    power_state = states.get(Role.CHARGER_POWER)
    power_kw = _power_kw(power_state)
    location = _usable(states.get(Role.LOCATION))
    watched = [switch]
    if Role.CHARGING_STATE in entities:
        watched.append(charging)
    updated = [
        state.last_updated
        for state in (switch, charging, power_state)
        if state is not None
    ]
    return ChargeState(
        vin=car_id,
        name=name,
        state=_vehicle_state(states.get(Role.ONLINE), switch, Role.ONLINE in entities),
        battery_level=_number(states.get(Role.BATTERY)),
        charging_state=_charging_state(
            source, states, Role.CHARGING_STATE in entities, power_kw
        ),
        charger_power_kw=power_kw,
        charge_energy_added_kwh=_energy_kwh(states.get(Role.ENERGY_ADDED)),
        charge_limit_soc=_number(states.get(Role.CHARGE_LIMIT)),
        fast_charger=_fast_charger(source, states.get(Role.FAST_CHARGER)),
        latitude=_coordinate(location, ATTR_LATITUDE),
        longitude=_coordinate(location, ATTR_LONGITUDE),
        updated_at=max(updated, default=None),
        stale=any(_usable(state) is None for state in watched),
        departure_schedule=_departure_schedule(states.get(Role.DEPARTURE)),
    )


def _departure_schedule(state: State | None) -> tuple[time | None, ...] | None:
    """The car's schedule from tesla_custom's scheduled departure sensor, while it is on."""
    if (state := _usable(state)) is None or state.state != STATE_ON:
        return None
    attributes = state.attributes
    off_peak = attributes.get("Off peak charging enabled") is True
    return car_schedule(
        clock(attributes.get("Departure time")),
        clock(attributes.get("End off peak time")) if off_peak else None,
        attributes.get("Off peak charging weekdays only") is True,
    )


def _coordinate(state: State | None, attribute: str) -> float | None:
    if state is None or not isinstance(
        value := state.attributes.get(attribute), (int, float)
    ):
        return None
    return float(value)
