"""The pricing node and utility of a car, shared by DR and the pricing-node sensor."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant

from .caiso import DEFAULT_NODE, MAX_DISTANCE_KM, NODES, nearest_node
from .caiso.nodes import Utility, distance_km, utility_at
from .vehicles import ChargeState

OUTSIDE_CAISO = "outside_caiso"


@dataclass(frozen=True, slots=True)
class NodeChoice:
    """Where a car is priced, and how that was decided."""

    node: str
    in_caiso: bool
    utility: Utility | None
    # "car": the car's last known location; "home": Home Assistant's home location.
    located_by: str
    chosen: bool  # the owner chose the node; else the nearest one

    @property
    def state(self) -> str:
        """What the pricing-node sensor shows."""
        return self.node if self.in_caiso else OUTSIDE_CAISO


def location(car: ChargeState | None) -> tuple[float, float] | None:
    """Where the car is, when its source says."""
    if car is None or car.latitude is None or car.longitude is None:
        return None
    return car.latitude, car.longitude


def resolve_node(
    hass: HomeAssistant, setting: str | None, place: tuple[float, float] | None
) -> NodeChoice:
    """The car's node: the owner's choice, else the node nearest the car (or home)."""
    if place is not None:
        (latitude, longitude), located_by = place, "car"
    else:
        latitude, longitude = hass.config.latitude, hass.config.longitude
        located_by = "home"
    utility = utility_at(latitude, longitude)
    if setting in NODES:
        node = NODES[setting]
        reach = distance_km(latitude, longitude, node.latitude, node.longitude)
        in_reach = reach <= MAX_DISTANCE_KM
        return NodeChoice(
            node.name, in_reach, utility if in_reach else None, located_by, True
        )
    if (nearest := nearest_node(latitude, longitude)) is not None:
        return NodeChoice(nearest.name, True, utility, located_by, False)
    return NodeChoice(DEFAULT_NODE, False, None, located_by, False)
