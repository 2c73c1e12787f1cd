"""Fixtures of the MIDAS client tests: a client on a real session, pointed at the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
from freezegun.api import FrozenDateTimeFactory
from homeassistant.util import dt as dt_util
import pytest

from custom_components.tesladr.midas import MidasClient
from tests.fake_midas import FakeMidas, fake_midas, row  # noqa: F401 - the fixture

NOW = datetime(2026, 7, 1, 19, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
RATE = "USCA-PGPG-TOU4-0000"


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def client(
    session: aiohttp.ClientSession,
    fake_midas: FakeMidas,  # noqa: F811
) -> MidasClient:
    return MidasClient(session, base_url=fake_midas.url + "/", timeout=2)


@pytest.fixture
def midas(
    fake_midas: FakeMidas,  # noqa: F811
    freezer: FrozenDateTimeFactory,
) -> FakeMidas:
    """The fake on Home Assistant's frozen clock, holding a rate."""
    freezer.move_to(NOW)
    fake_midas.clock = dt_util.utcnow
    hours = [
        row(
            MIDNIGHT + n * timedelta(hours=1),
            MIDNIGHT + (n + 1) * timedelta(hours=1),
            0.3,
            "peak",
            "$/kWh",
        )
        for n in range(24 * 5)
    ]
    fake_midas.add_rate(RATE, hours, "E-TOU-C")
    return fake_midas
