"""A fake Tesla auth + Fleet API server on 127.0.0.1 that the real teslajsonpy talks to.

Point both `auth_domain` and `api_proxy_url` at `fake.url`. Cars charge in memory; calls are
counted per car by kind (data, command, wake) so tests and benchmarks can check API economy.
"""

from __future__ import annotations

import asyncio
import base64
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import json
import ssl
from typing import Any

from aiohttp import web
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
import pytest

from custom_components.tesladr.const import DOMAIN

FLEET_FORBIDDEN = {
    "response": None,
    "error": "forbidden, see https://developer.tesla.com/docs/fleet-api",
    "error_description": "",
}
COMMAND_PROTOCOL_REQUIRED = {
    "response": None,
    "error": "Tesla Vehicle Command Protocol required, please refer to the documentation here: https://developer.tesla.com/docs/fleet-api#2023-10-09-rest-api-vehicle-commands-endpoint-deprecation-warning",
    "error_description": "",
}
UNAVAILABLE = {
    "response": None,
    "error": 'vehicle unavailable: {:error=>"vehicle unavailable:"}',
    "error_description": "",
}


def id_token(subject: str) -> str:
    """An unsigned OpenID token (JWT) for the account `subject`, shaped like Tesla's."""

    def part(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = {"alg": "none", "typ": "JWT"}
    claims = {"sub": subject}
    return f"{part(header)}.{part(claims)}."


@dataclass
class FakeCar:
    """One car's simulated state."""

    vin: str
    car_id: int
    name: str
    state: str = "online"  # online, asleep, offline
    charging_state: str = "Charging"
    battery_level: int = 60
    charge_limit_soc: int = 90
    charger_power: float = 7.0
    energy_added: float | None = 3.2
    fast_charger: bool = False
    latitude: float = 37.4419
    longitude: float = -122.143
    wakes_after: int = 1  # summary polls after a wake before it reports online
    # The car's own schedule, in Tesla's charge_state fields (minutes after local midnight).
    scheduled_charging_mode: str = "Off"  # Off, StartAt, DepartBy
    scheduled_departure_time_minutes: int = 480
    off_peak_charging_enabled: bool = False
    off_peak_charging_times: str = "all_week"  # all_week, weekdays
    off_peak_hours_end_time: int = 360

    def vehicle_data(self) -> dict[str, Any]:
        """The vehicle_data body."""
        return {
            "id": self.car_id,
            "vehicle_id": self.car_id + 1000,
            "vin": self.vin,
            "display_name": self.name,
            "state": self.state,
            "charge_state": {
                "battery_level": self.battery_level,
                "charging_state": self.charging_state,
                "charger_power": self.charger_power
                if self.charging_state == "Charging"
                else 0,
                "charge_energy_added": self.energy_added,
                "charge_limit_soc": self.charge_limit_soc,
                "time_to_full_charge": 2.5
                if self.charging_state == "Charging"
                else 0.0,
                "fast_charger_present": self.fast_charger,
                "scheduled_charging_mode": self.scheduled_charging_mode,
                "scheduled_departure_time_minutes": (
                    self.scheduled_departure_time_minutes
                ),
                "off_peak_charging_enabled": self.off_peak_charging_enabled,
                "off_peak_charging_times": self.off_peak_charging_times,
                "off_peak_hours_end_time": self.off_peak_hours_end_time,
            },
            "drive_state": {"latitude": self.latitude, "longitude": self.longitude},
        }

    def summary(self) -> dict[str, Any]:
        """The products/vehicle summary entry."""
        return {
            "id": self.car_id,
            "vehicle_id": self.car_id + 1000,
            "vin": self.vin,
            "display_name": self.name,
            "state": self.state,
        }


@dataclass
class FakeTesla:
    """The fake server. `fail_next(status, body)` queues an error reply for the next API call."""

    cars: dict[str, FakeCar] = field(default_factory=dict)
    refresh_token: str = "refresh-0"
    access_token: str = "access-0"
    # The account's id, the `sub` of the id_token in every token reply (a UUID at Tesla).
    account_id: str = "5a6f1c3e-2b7d-4e8f-9a0b-1c2d3e4f5a6b"
    calls: Counter[tuple[str, str]] = field(
        default_factory=Counter
    )  # (vin or "account", kind)
    token_refreshes: int = 0
    delay: float = 0.0  # seconds every API reply waits (a slow API)
    # Loop turns every API reply waits: a slow API under a frozen clock, where a timed wait
    # would never end.
    slow_turns: int = 0
    # (vin or "account", kind, start, end) of every API call, numbered by arrival and answer:
    # shows which calls overlapped without timing the test.
    spans: list[tuple[str, str, int, int]] = field(default_factory=list)
    _ticks: int = 0
    _faults: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    _pending_wake: dict[str, int] = field(default_factory=dict)
    # Reasons the car gives for refusing its next charge commands (`result: false`).
    command_refusals: deque[str] = field(default_factory=deque)
    # The status that replaces the next command's answer after the car carried it out (a
    # gateway that gave up waiting for the car); the library retries a 5xx.
    lose_next_answer: int | None = None
    _runner: web.AppRunner | None = None
    port: int = 0  # 0: a free port, chosen at start
    # Extra routes served beside the API (the offline demo's control endpoints).
    routes: list[web.RouteDef] = field(default_factory=list)
    # Called after every token rotation, so a long-running fake can persist its tokens.
    on_tokens: Callable[[], None] | None = None
    # Serve HTTPS with this context (an HTTP proxy with a self-signed certificate).
    ssl_context: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        """Give this as both auth_domain and api_proxy_url."""
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def add_car(self, vin: str, name: str, **state: Any) -> FakeCar:
        """Add a car to the account."""
        car = FakeCar(vin=vin, car_id=len(self.cars) + 1, name=name, **state)
        self.cars[vin] = car
        return car

    def fail_next(
        self, status: int, body: dict[str, Any] | None = None, times: int = 1
    ) -> None:
        """Answer the next API calls with an error."""
        self._faults.extend(
            [(status, body or {"response": None, "error": str(status)})] * times
        )

    def count(self, vin: str, kind: str) -> int:
        """Calls of a kind (data, command, wake) for a car."""
        return self.calls[vin, kind]

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/oauth2/v3/token", self._token)
        app.router.add_get("/api/1/products", self._products)
        app.router.add_get("/api/1/vehicles/{car_id}/vehicle_data", self._vehicle_data)
        app.router.add_get("/api/1/vehicles/{car_id}", self._summary)
        app.router.add_post("/api/1/vehicles/{car_id}/wake_up", self._wake)
        app.router.add_post("/api/1/vehicles/{car_id}/command/{command}", self._command)
        app.router.add_routes(self.routes)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(
            self._runner, "127.0.0.1", self.port, ssl_context=self.ssl_context
        )
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _json(body: Any, status: int = 200) -> web.Response:
        return web.Response(
            status=status, text=json.dumps(body), content_type="application/json"
        )

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if (
            form.get("grant_type") != "refresh_token"
            or form.get("refresh_token") != self.refresh_token
        ):
            return self._json(
                {"error": "invalid_grant", "error_description": "login_required"}, 401
            )
        self.token_refreshes += 1
        # Tesla rotates refresh tokens: the old one stops working.
        self.refresh_token = f"refresh-{self.token_refreshes}"
        self.access_token = f"access-{self.token_refreshes}"
        if self.on_tokens is not None:
            self.on_tokens()
        return self._json(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "id_token": id_token(self.account_id),
                "expires_in": 28800,
                "token_type": "Bearer",
            }
        )

    async def _guard(
        self, request: web.Request, vin: str, kind: str
    ) -> web.Response | None:
        self.calls[vin, kind] += 1
        started = self._tick()
        if self.delay:
            await asyncio.sleep(self.delay)
        for _ in range(self.slow_turns):
            await asyncio.sleep(0)
        self.spans.append((vin, kind, started, self._tick()))
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self._json({"response": None, "error": "invalid bearer token"}, 401)
        if self._faults:
            status, body = self._faults.popleft()
            return self._json(body, status)
        return None

    def _tick(self) -> int:
        self._ticks += 1
        return self._ticks

    def _car(self, request: web.Request) -> FakeCar:
        # Like the Fleet API, a car is addressed by its id or its VIN.
        key = request.match_info["car_id"]
        return next(
            car for car in self.cars.values() if key in (car.vin, str(car.car_id))
        )

    async def _products(self, request: web.Request) -> web.Response:
        if (error := await self._guard(request, "account", "data")) is not None:
            return error
        return self._json(
            {
                "response": [c.summary() for c in self.cars.values()],
                "count": len(self.cars),
            }
        )

    async def _vehicle_data(self, request: web.Request) -> web.Response:
        car = self._car(request)
        if (error := await self._guard(request, car.vin, "data")) is not None:
            return error
        if car.state != "online":
            return self._json(UNAVAILABLE, 408)
        return self._json({"response": car.vehicle_data()})

    async def _summary(self, request: web.Request) -> web.Response:
        car = self._car(request)
        if (error := await self._guard(request, car.vin, "data")) is not None:
            return error
        if car.vin in self._pending_wake:
            self._pending_wake[car.vin] -= 1
            if self._pending_wake[car.vin] <= 0:
                del self._pending_wake[car.vin]
                car.state = "online"
        return self._json({"response": car.summary()})

    async def _wake(self, request: web.Request) -> web.Response:
        car = self._car(request)
        if (error := await self._guard(request, car.vin, "wake")) is not None:
            return error
        if car.state != "online":
            self._pending_wake[car.vin] = car.wakes_after
        return self._json({"response": car.summary()})

    async def _command(self, request: web.Request) -> web.Response:
        car = self._car(request)
        if (error := await self._guard(request, car.vin, "command")) is not None:
            return error
        if car.state != "online":
            return self._json(UNAVAILABLE, 408)
        command = request.match_info["command"]
        reason = ""
        if self.command_refusals:
            reason = self.command_refusals.popleft()
        elif command == "charge_stop":
            if car.charging_state != "Charging":
                reason = "not_charging"
            else:
                car.charging_state = "Stopped"
        elif command == "charge_start":
            if car.charging_state == "Disconnected":
                reason = "disconnected"
            elif car.charging_state == "Charging":
                reason = "is_charging"
            elif car.battery_level >= car.charge_limit_soc:
                reason = "complete"
            else:
                car.charging_state = "Charging"
        else:
            reason = "unknown_command"
        if (status := self.lose_next_answer) is not None:
            self.lose_next_answer = None
            return self._json({"response": None, "error": "gateway timeout"}, status)
        return self._json({"response": {"result": not reason, "reason": reason}})


@asynccontextmanager
async def serving(hass: HomeAssistant, fake: FakeTesla) -> AsyncIterator[FakeTesla]:
    """Run `fake` until Home Assistant's tesladr entries are unloaded.

    The hass fixture unloads every entry as it tears down, after the fixtures that came later,
    and unloading an account resumes the cars demand response paused. A server stopped first
    would leave each resume to teslajsonpy's retries against a closed port; as a real cloud
    outlives Home Assistant, the entries are unloaded here while the server still answers.
    """
    await fake.start()
    try:
        yield fake
    finally:
        for entry in hass.config_entries.async_entries(DOMAIN):
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
        await hass.async_block_till_done()
        await fake.stop()


@pytest.fixture
async def fake_tesla(
    hass: HomeAssistant, socket_enabled: None
) -> AsyncIterator[FakeTesla]:
    """A started fake Tesla on 127.0.0.1 with no cars, stopped after the entries unload."""
    async with serving(hass, FakeTesla()) as fake:
        yield fake
