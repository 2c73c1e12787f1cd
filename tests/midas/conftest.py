"""Fixtures of the MIDAS client tests: a client on a real session, pointed at the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from custom_components.tesladr.midas import MidasClient
from tests.fake_midas import FakeMidas, fake_midas  # noqa: F401 - the fixture


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
