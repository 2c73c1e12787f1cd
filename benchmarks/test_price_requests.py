"""OASIS requests per 5-minute interval for 1, 3 and 10 entries, beside a naive baseline.

Run: ./scripts/bench price-requests
The naive baseline is what a first attempt does: every entry polls its own nodes on its own
timer, one request per entry per interval, with no pacing.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import itertools
import json

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util

from custom_components.tesladr.caiso import NODES, Market, OasisClient, RequestPacer
from custom_components.tesladr.const import DOMAIN
from custom_components.tesladr.price_coordinator import (
    async_acquire_price_coordinator,
    async_release_price_coordinator,
)
from tests.fake_oasis import FakeOasis, RequestRecord
from tests.prices.test_coordinator import advance

START = datetime(2026, 7, 1, 20, 0, 20, tzinfo=UTC)
HOURS = 3
NODE_NAMES = list(NODES)


def summary(
    records: list[RequestRecord], intervals: int
) -> dict[str, float | int | None]:
    """Requests per interval (mean and max) and the smallest gap between two requests."""
    per_interval: dict[datetime, int] = {}
    for record in records:
        key = record.at.replace(
            minute=record.at.minute - record.at.minute % 5, second=0, microsecond=0
        )
        per_interval[key] = per_interval.get(key, 0) + 1
    gaps = [(b.at - a.at).total_seconds() for a, b in itertools.pairwise(records)]
    return {
        "requests_per_interval_mean": round(len(records) / intervals, 2),
        "requests_per_interval_max": max(per_interval.values()),
        "min_gap_s": min(gaps) if gaps else None,
    }


async def test_requests_per_interval(
    hass: HomeAssistant,
    fake_oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    frozen_pacer: RequestPacer,
) -> None:
    """Print one JSON line per entry count.

    The instance's pacer waits on the frozen clock (tests.fake_oasis.frozen_pacer): with a
    real sleep a paced request would wait for a timer no one fires, and the run would hang.
    """
    freezer.move_to(START)
    fake_oasis.clock = dt_util.utcnow
    fake_oasis.price_fn = lambda market, node, start: 40.0
    fake_oasis.publish_lag = timedelta(seconds=20)
    await async_setup_component(hass, DOMAIN, {})
    intervals = HOURS * 12
    for entries in (1, 3, 10):
        owners = {
            f"entry{i}": {NODE_NAMES[i % len(NODE_NAMES)]} for i in range(entries)
        }
        fake_oasis.requests.clear()
        # Entries start together, as they do when Home Assistant starts.
        first, *others = owners.items()
        await async_acquire_price_coordinator(hass, *first)
        await asyncio.gather(
            *(async_acquire_price_coordinator(hass, o, n) for o, n in others)
        )
        await advance(hass, freezer, timedelta(hours=HOURS))
        ours = summary(list(fake_oasis.requests), intervals)
        for owner in owners:
            async_release_price_coordinator(hass, owner)

        fake_oasis.requests.clear()
        async with aiohttp.ClientSession() as session:
            client = OasisClient(
                session, base_url=fake_oasis.url, pacer=RequestPacer(min_gap=0)
            )
            for _ in range(intervals):
                now = dt_util.utcnow()
                for nodes in owners.values():
                    await client.fetch(Market.RTM, nodes, now - timedelta(hours=1), now)
                freezer.tick(timedelta(minutes=5))
        naive = summary(list(fake_oasis.requests), intervals)
        print(
            json.dumps(
                {
                    "benchmark": "oasis_requests_per_interval",
                    "entries": entries,
                    "nodes": len(set().union(*owners.values())),
                    "simulated_hours": HOURS,
                    "tesladr": ours,
                    "naive_baseline": naive,
                }
            )
        )
