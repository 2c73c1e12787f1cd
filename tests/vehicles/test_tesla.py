"""The teslajsonpy backend, with the real library talking to the fake Tesla server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from teslajsonpy import Controller

from custom_components.tesladr.vehicles import (
    CommandResult,
    VehicleAuthError,
    VehicleError,
    VehicleForbiddenError,
    VehicleRateLimitedError,
    VehicleState,
)
from custom_components.tesladr.vehicles.tesla import TeslaChargeControl
from tests.fake_tesla import FLEET_FORBIDDEN, FakeTesla

CHARGING = "5YJ3E1EA7KF000001"
SLEEPING = "5YJYGDEE0MF000002"


@pytest.fixture
async def controller(fake_tesla: FakeTesla) -> AsyncIterator[Controller]:
    """A real controller pointed at the fake for both auth and API."""
    fake_tesla.add_car(CHARGING, "Model 3")
    fake_tesla.add_car(SLEEPING, "Model Y", state="asleep", charging_state="Stopped")
    async with httpx.AsyncClient() as client:
        yield Controller(
            websession=client,
            email="owner@example.com",
            refresh_token=fake_tesla.refresh_token,
            auth_domain=fake_tesla.url,
            api_proxy_url=fake_tesla.url,
            client_id="tesladr-tests",
        )


@pytest.fixture
def control(controller: Controller) -> TeslaChargeControl:
    """The backend, with a wake wait that does not really sleep."""

    async def no_sleep(_seconds: float) -> None:
        return None

    return TeslaChargeControl(controller, wake_timeout=15, wake_poll=5, sleep=no_sleep)


async def test_reads_online_car_and_never_wakes_a_sleeper(
    control: TeslaChargeControl, controller: Controller, fake_tesla: FakeTesla
) -> None:
    """vehicle_data only for the online car; the sleeper is stale, not woken, not read."""
    assert await control.list_vehicles() == {
        CHARGING: VehicleState.ONLINE,
        SLEEPING: VehicleState.ASLEEP,
    }
    state = await control.read(CHARGING)
    assert state.charging and state.plugged_in
    assert state.battery_level == 60
    assert state.charger_power_kw == 7.0
    assert state.latitude == pytest.approx(37.4419)
    assert not state.stale
    sleeper = await control.read(SLEEPING)
    assert sleeper.stale and sleeper.state is VehicleState.ASLEEP
    assert sleeper.plugged_in is None
    assert fake_tesla.count(SLEEPING, "data") == 0
    assert fake_tesla.count(SLEEPING, "wake") == 0
    # The refresh token rotated on first use; the new one must be persisted by the caller.
    assert controller.is_token_refreshed()
    assert (
        controller.get_tokens()["refresh_token"]
        == fake_tesla.refresh_token
        == "refresh-1"
    )


async def test_car_falling_asleep_keeps_last_data(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """A 408 on read means asleep: last data, marked stale."""
    await control.read(CHARGING)
    fake_tesla.cars[CHARGING].state = "asleep"
    state = await control.read(CHARGING)
    assert state.stale and state.state is VehicleState.ASLEEP
    assert state.battery_level == 60
    assert fake_tesla.count(CHARGING, "wake") == 0


async def test_stop_reports_success_and_rereads(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """Stop, then read back the state before believing it."""
    assert await control.stop_charging(CHARGING) == CommandResult(ok=True)
    assert fake_tesla.cars[CHARGING].charging_state == "Stopped"
    assert fake_tesla.count(CHARGING, "command") == 1
    assert fake_tesla.count(CHARGING, "data") == 1


async def test_stop_result_false_carries_the_reason(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """Teslajsonpy ignores result: false; the backend reports it."""
    fake_tesla.cars[CHARGING].charging_state = "Complete"
    assert await control.stop_charging(CHARGING) == CommandResult(
        ok=False, reason="not_charging"
    )


async def test_stop_never_wakes_a_sleeping_car(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """A sleeping car is not charging: no wake, a clear reason."""
    await control.list_vehicles()
    assert await control.stop_charging(SLEEPING) == CommandResult(
        ok=False, reason="asleep"
    )
    assert fake_tesla.count(SLEEPING, "wake") == 0


async def test_start_wakes_first_within_a_bound(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """Start wakes the sleeper, waits for it, then starts."""
    fake_tesla.cars[SLEEPING].wakes_after = 2
    await control.list_vehicles()
    assert await control.start_charging(SLEEPING) == CommandResult(ok=True)
    assert fake_tesla.count(SLEEPING, "wake") == 1
    assert fake_tesla.cars[SLEEPING].charging_state == "Charging"


async def test_start_gives_up_when_the_car_does_not_wake(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """A car that stays asleep: wake_timeout, no command sent."""
    fake_tesla.cars[SLEEPING].wakes_after = 100
    await control.list_vehicles()
    assert await control.start_charging(SLEEPING) == CommandResult(
        ok=False, reason="wake_timeout"
    )
    assert fake_tesla.count(SLEEPING, "command") == 0


@pytest.mark.parametrize(
    ("charging_state", "battery", "reason"),
    [
        ("Disconnected", 60, "disconnected"),
        ("Charging", 60, "is_charging"),
        ("Stopped", 95, "complete"),
    ],
)
async def test_start_refusals(
    control: TeslaChargeControl,
    fake_tesla: FakeTesla,
    charging_state: str,
    battery: int,
    reason: str,
) -> None:
    """The car's own reasons come through."""
    fake_tesla.cars[CHARGING].charging_state = charging_state
    fake_tesla.cars[CHARGING].battery_level = battery
    await control.list_vehicles()
    assert await control.start_charging(CHARGING) == CommandResult(
        ok=False, reason=reason
    )


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, VehicleAuthError), (429, VehicleRateLimitedError), (404, VehicleError)],
)
async def test_api_errors_are_typed(
    control: TeslaChargeControl,
    fake_tesla: FakeTesla,
    status: int,
    error: type[Exception],
) -> None:
    """Non-retryable API errors map to the protocol's errors."""
    fake_tesla.fail_next(status)
    with pytest.raises(error):
        await control.list_vehicles()


async def test_forbidden_means_fleet_api_required(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """The 2026 403 body (retried by the library for about 15 s) → VehicleForbiddenError."""
    fake_tesla.fail_next(403, FLEET_FORBIDDEN, times=100)
    with pytest.raises(VehicleForbiddenError):
        await control.list_vehicles()


async def test_refused_refresh_token_needs_reauth(
    control: TeslaChargeControl, fake_tesla: FakeTesla
) -> None:
    """A refresh token the server no longer accepts → VehicleAuthError."""
    fake_tesla.refresh_token = "someone-else"
    with pytest.raises(VehicleAuthError):
        await control.list_vehicles()


async def test_unknown_car(control: TeslaChargeControl) -> None:
    """A VIN not on the account is an error, not a crash."""
    with pytest.raises(VehicleError, match="not on this account"):
        await control.read("5YJ3E1EA7KF999999")
