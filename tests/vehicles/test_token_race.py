"""Concurrent calls near token expiry spend the rotating refresh token once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory

from custom_components.tesladr.vehicles import VehicleState
from custom_components.tesladr.vehicles.tesla import TeslaChargeControl
from tests.fake_tesla import FakeTesla

from .test_tesla import CHARGING, control, controller  # noqa: F401 - fixtures


async def test_concurrent_calls_with_an_expired_token_refresh_it_once(
    control: TeslaChargeControl,  # noqa: F811
    fake_tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The library has no lock: without ours the second refresh would be refused (rotation)."""
    await control.list_vehicles()
    assert fake_tesla.token_refreshes == 1
    # Past the 8 h token lifetime: every next call wants to refresh it.
    freezer.tick(timedelta(hours=9))
    results = await asyncio.gather(*(control.read(CHARGING) for _ in range(4)))
    assert fake_tesla.token_refreshes == 2
    assert all(r.state is VehicleState.ONLINE for r in results)
