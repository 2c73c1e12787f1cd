"""CAISO pricing nodes tesladr offers, with representative points for "nearest node".

CAISO publishes no coordinates for aggregated pricing nodes. Each point below is a hand-picked
representative location of the area the node prices, chosen near the centre of its load:
NP15 the San Francisco Bay Area and Sacramento delta (PG&E north of Path 15), ZP26 the southern
San Joaquin Valley between Paths 15 and 26, SP15 the Los Angeles basin, the DLAPs the centre of
their utility's load (PG&E: the Bay Area/delta, SCE: the Inland Empire, SDG&E: San Diego, VEA:
Pahrump, Nevada). They are good enough to pick a zone, not to draw its borders: a point within
`MAX_DISTANCE_KM` of an auto-selectable node gets it, anything farther is outside CAISO.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

EARTH_RADIUS_KM = 6371.0088
# Covers California's populated areas from Eureka to the Mexican border and the VEA area,
# while Portland, Phoenix or Salt Lake City fall outside.
MAX_DISTANCE_KM = 400.0


@dataclass(frozen=True, slots=True)
class PricingNode:
    """An aggregated CAISO pricing node and its representative point."""

    name: str
    label: str
    latitude: float
    longitude: float
    # Trading hubs (and VEA, which has no hub) are what "auto" picks; DLAPs are opt-in.
    auto: bool


NODES: dict[str, PricingNode] = {
    node.name: node
    for node in (
        PricingNode("TH_NP15_GEN-APND", "NP15 hub", 38.00, -121.90, auto=True),
        PricingNode("TH_ZP26_GEN-APND", "ZP26 hub", 35.40, -119.00, auto=True),
        PricingNode("TH_SP15_GEN-APND", "SP15 hub", 34.00, -117.90, auto=True),
        PricingNode("DLAP_PGAE-APND", "PG&E DLAP", 37.80, -121.50, auto=False),
        PricingNode("DLAP_SCE-APND", "SCE DLAP", 34.10, -117.60, auto=False),
        PricingNode("DLAP_SDGE-APND", "SDG&E DLAP", 32.90, -117.00, auto=False),
        PricingNode("DLAP_VEA-APND", "VEA DLAP", 36.20, -116.00, auto=True),
    )
}
DEFAULT_NODE = "TH_NP15_GEN-APND"


@dataclass(frozen=True, slots=True)
class Utility:
    """An electric utility whose customers CAISO prices through its DLAP."""

    name: str
    dlap: str


# The four DLAPs are the load of the utilities CAISO serves directly. Which utility a place
# belongs to is taken as the one whose DLAP point is nearest, within MAX_DISTANCE_KM: service
# areas are irregular (PG&E and SCE interleave in the Central Valley, municipal utilities such
# as SMUD or LADWP sit inside them but outside CAISO), so this names the likely utility of a
# point, not its legal service territory.
UTILITIES: dict[str, Utility] = {
    utility.dlap: utility
    for utility in (
        Utility("PG&E", "DLAP_PGAE-APND"),
        Utility("SCE", "DLAP_SCE-APND"),
        Utility("SDG&E", "DLAP_SDGE-APND"),
        Utility("VEA", "DLAP_VEA-APND"),
    )
}


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = (
        math.sin(dphi / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def nearest_node(
    latitude: float, longitude: float, max_distance_km: float = MAX_DISTANCE_KM
) -> PricingNode | None:
    """The auto-selectable node nearest to a point, or None when it is outside CAISO."""
    best = min(
        (node for node in NODES.values() if node.auto),
        key=lambda node: distance_km(
            latitude, longitude, node.latitude, node.longitude
        ),
    )
    if (
        distance_km(latitude, longitude, best.latitude, best.longitude)
        > max_distance_km
    ):
        return None
    return best


def utility_at(
    latitude: float, longitude: float, max_distance_km: float = MAX_DISTANCE_KM
) -> Utility | None:
    """The utility whose DLAP point is nearest, or None outside CAISO."""
    distance, dlap = min(
        (
            distance_km(
                latitude, longitude, NODES[dlap].latitude, NODES[dlap].longitude
            ),
            dlap,
        )
        for dlap in UTILITIES
    )
    return UTILITIES[dlap] if distance <= max_distance_km else None
