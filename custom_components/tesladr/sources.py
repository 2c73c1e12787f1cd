"""Placeholder for the car-source discovery (replaced by the full module)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .vehicles import ChargeState, VehicleState

SOURCE_DOMAINS: Final = ("tesla_fleet", "teslemetry", "tessie", "tesla_custom")
SOURCE_GENERIC: Final = "generic"


class Role(StrEnum):
    """What an entity of a car means to DR."""

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


def entity_id_of(hass: HomeAssistant, registry_id: str) -> str | None:
    """Current entity_id of a registry id (follows renames)."""
    entry = er.async_get(hass).async_get(registry_id)
    return entry.entity_id if entry else None


def read_charge_state(
    hass: HomeAssistant,
    source: str,
    entities: Mapping[Role, str],
    car_id: str,
    name: str,
) -> ChargeState:
    """The car as its entities show it now."""
    return ChargeState(vin=car_id, name=name, state=VehicleState.ONLINE, stale=True)
