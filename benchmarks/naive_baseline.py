"""The naive controller the project's seed described, as the replay benchmark's baseline.

A fixed 5-minute timer from start-up (so it drifts against interval boundaries), one OASIS
request per car, a `vehicle_data` read of every car on every tick (waking a sleeping car the
way a client that wants fresh data does), and stop/start on the threshold with no hysteresis.
It uses the project's real OASIS client and the real teslajsonpy against the same fakes.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.httpx_client import get_async_client
from homeassistant.util import dt as dt_util
from teslajsonpy import Controller
from teslajsonpy.exceptions import TeslaException

from custom_components.tesladr.caiso import (
    Market,
    OasisClient,
    OasisError,
    RequestPacer,
)

from .replay_sim import THRESHOLD, CarPlan

PERIOD = timedelta(minutes=5)
LOOKBACK = timedelta(hours=1)
WAKE_POLL_S = 5.0
WAKE_POLLS = 12


@dataclass(frozen=True, slots=True)
class NaiveAccount:
    """One Tesla account as the naive client sees it."""

    url: str
    email: str
    refresh_token: str
    cars: list[CarPlan]


class NaiveBaseline:
    """Polls, compares with the threshold, stops and starts; see the module docstring."""

    def __init__(
        self, hass: HomeAssistant, oasis_url: str, accounts: list[NaiveAccount]
    ) -> None:
        """Prepare one OASIS client and one teslajsonpy controller per account."""
        self._hass = hass
        self._oasis = OasisClient(
            async_get_clientsession(hass),
            base_url=oasis_url,
            pacer=RequestPacer(min_gap=0),
        )
        self._accounts = accounts
        self._controllers: list[Controller] = []
        self._ids: dict[str, int] = {}
        self.stopped: set[str] = set()
        self.ticks = 0
        self.errors = 0

    async def start(self) -> None:
        """Log in and learn the cars' ids (one product-list call per account)."""
        for account in self._accounts:
            controller = Controller(
                websession=get_async_client(self._hass),
                email=account.email,
                refresh_token=account.refresh_token,
                auth_domain=account.url,
                api_proxy_url=account.url,
                client_id="naive-baseline",
            )
            products = (await controller.api("PRODUCT_LIST"))["response"]
            for product in products:
                self._ids[product["vin"]] = product["id"]
                controller.set_id_vin(car_id=product["id"], vin=product["vin"])
            self._controllers.append(controller)

    async def run(self) -> None:
        """Tick every five minutes from now, forever."""
        while True:
            await self.tick()
            await asyncio.sleep(PERIOD.total_seconds())

    async def tick(self) -> None:
        """One pass over every car."""
        self.ticks += 1
        for controller, account in zip(self._controllers, self._accounts, strict=True):
            for car in account.cars:
                try:
                    await self._control(controller, car)
                except OasisError, TeslaException, aiohttp.ClientError:
                    self.errors += 1

    async def _control(self, controller: Controller, car: CarPlan) -> None:
        now = dt_util.utcnow()
        intervals = await self._oasis.fetch(
            Market.RTM, [car.node], now - LOOKBACK, now + PERIOD
        )
        if not intervals:
            return
        price = max(intervals, key=lambda interval: interval.start).price
        data = await self._read(controller, car.vin)
        charging_state = (data.get("charge_state") or {}).get("charging_state")
        if price > THRESHOLD and charging_state == "Charging":
            await self._api(controller, "STOP_CHARGE", car.vin)
            self.stopped.add(car.vin)
        elif (
            price <= THRESHOLD
            and car.vin in self.stopped
            and charging_state == "Stopped"
        ):
            await self._api(controller, "START_CHARGE", car.vin)
            self.stopped.discard(car.vin)

    async def _api(self, controller: Controller, name: str, vin: str) -> Any:
        reply = await controller.api(name, path_vars={"vehicle_id": self._ids[vin]})
        return reply["response"]

    async def _read(self, controller: Controller, vin: str) -> dict[str, Any]:
        """vehicle_data; if the car is asleep, wake it, wait until online, read again."""
        try:
            data: dict[str, Any] = await self._api(controller, "VEHICLE_DATA", vin)
        except TeslaException as err:
            if err.code != 408:
                raise
        else:
            return data
        await self._api(controller, "WAKE_UP", vin)
        for _ in range(WAKE_POLLS):
            await asyncio.sleep(WAKE_POLL_S)
            if (await self._api(controller, "VEHICLE_SUMMARY", vin))[
                "state"
            ] == "online":
                break
        result: dict[str, Any] = await self._api(controller, "VEHICLE_DATA", vin)
        return result
