"""The process-wide pacing rule and the node table."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.tesladr.caiso import NODES, RequestPacer, nearest_node
from custom_components.tesladr.caiso.nodes import DEFAULT_NODE, distance_km, utility_at
from custom_components.tesladr.caiso.pacing import (
    CLOCK_MARGIN_SECONDS,
    MIN_GAP_SECONDS,
    PACER,
)

# What the pacer keeps between slots: CAISO's 5 s and the clock margin.
GAP = MIN_GAP_SECONDS + CLOCK_MARGIN_SECONDS


async def test_concurrent_callers_queue_five_seconds_apart() -> None:
    """Whoever asks, slots are at least 5 s apart, even for concurrent callers."""
    now = [0.0]
    taken: list[float] = []

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(0)
        now[0] = max(now[0], 0) + 0  # time is driven by the slot arithmetic below
        taken.append(seconds)

    pacer = RequestPacer(clock=lambda: now[0], sleep=sleep)
    await asyncio.gather(*(pacer.wait() for _ in range(4)))
    # The first goes at once; the others wait one, two and three gaps from the same instant.
    assert sorted(taken) == pytest.approx([GAP, 2 * GAP, 3 * GAP])


async def test_pacer_does_not_wait_after_a_long_pause() -> None:
    """A request long after the previous one goes at once."""
    now = [0.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    pacer = RequestPacer(clock=lambda: now[0], sleep=sleep)
    await pacer.wait()
    now[0] = 7.0
    await pacer.wait()
    now[0] = 9.0
    await pacer.wait()
    assert waits == pytest.approx([7.0 + GAP - 9.0])


async def test_delay_tells_the_wait_until_the_next_slot() -> None:
    """Nothing to wait for before the first request; then the rest of the gap, never < 0."""
    now = [100.0]

    async def sleep(_seconds: float) -> None:
        """Not reached: these requests go at once."""

    pacer = RequestPacer(clock=lambda: now[0], sleep=sleep)
    assert pacer.delay() == 0.0
    await pacer.wait()
    now[0] = 101.5
    assert pacer.delay() == pytest.approx(100.0 + GAP - 101.5)
    now[0] = 112.0
    assert pacer.delay() == 0.0


def test_process_wide_pacer_uses_five_seconds() -> None:
    """The shared pacer enforces CAISO's 5 s rule (with the clock margin on top)."""
    assert PACER.min_gap == 5.0
    assert 0 < CLOCK_MARGIN_SECONDS <= 0.1


@pytest.mark.parametrize(
    ("place", "lat", "lon", "node"),
    [
        ("San Francisco", 37.7749, -122.4194, "TH_NP15_GEN-APND"),
        ("Sacramento", 38.5816, -121.4944, "TH_NP15_GEN-APND"),
        ("Eureka", 40.8021, -124.1637, "TH_NP15_GEN-APND"),
        ("Fresno", 36.7378, -119.7871, "TH_ZP26_GEN-APND"),
        ("Bakersfield", 35.3733, -119.0187, "TH_ZP26_GEN-APND"),
        ("Los Angeles", 34.0522, -118.2437, "TH_SP15_GEN-APND"),
        ("San Diego", 32.7157, -117.1611, "TH_SP15_GEN-APND"),
        ("Pahrump", 36.2083, -115.9839, "DLAP_VEA-APND"),
        ("Portland", 45.5152, -122.6784, None),
        ("Phoenix", 33.4484, -112.0740, None),
        ("Salt Lake City", 40.7608, -111.8910, None),
    ],
)
def test_nearest_node(place: str, lat: float, lon: float, node: str | None) -> None:
    """Auto picks the nearest hub (or VEA); far points are outside CAISO."""
    found = nearest_node(lat, lon)
    assert (found.name if found else None) == node, place


def test_table_and_distance() -> None:
    """The table has the hubs and DLAPs; distances are great-circle kilometres."""
    assert DEFAULT_NODE in NODES
    assert {n for n in NODES if n.startswith("DLAP_")} == {
        "DLAP_PGAE-APND",
        "DLAP_SCE-APND",
        "DLAP_SDGE-APND",
        "DLAP_VEA-APND",
    }
    # San Francisco to Los Angeles is about 559 km.
    assert distance_km(37.7749, -122.4194, 34.0522, -118.2437) == pytest.approx(
        559, abs=3
    )
    assert distance_km(1.0, 2.0, 1.0, 2.0) == 0.0


@pytest.mark.parametrize(
    ("latitude", "longitude", "utility"),
    [
        (37.44, -122.14, "PG&E"),  # Palo Alto
        (38.58, -121.49, "PG&E"),  # Sacramento (SMUD's own area: a documented limit)
        (34.05, -117.75, "SCE"),  # Pomona
        (32.72, -117.16, "SDG&E"),  # San Diego
        (36.21, -115.98, "VEA"),  # Pahrump
        (45.52, -122.68, None),  # Portland
    ],
)
def test_utility_at_nearest_dlap(
    latitude: float, longitude: float, utility: str | None
) -> None:
    """The utility whose DLAP point is nearest, within reach."""
    found = utility_at(latitude, longitude)
    assert (found.name if found else None) == utility
    if found is not None:
        assert found.dlap in NODES
