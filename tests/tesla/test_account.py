"""The account entry: polling economy, token rotation, errors, entities and commands."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import httpx
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import CONF_REFRESH_TOKEN, DOMAIN
from custom_components.tesladr.vehicles.tesla import WAKE_POLL
from tests.fake_tesla import FLEET_FORBIDDEN, FakeTesla

from .conftest import CHARGING, SLEEPING

POWER = "sensor.model_3_charger_power"
SWITCH = "switch.model_3_charging"


async def poll(hass: HomeAssistant, entry: MockConfigEntry, times: int = 1) -> None:
    """Run the coordinator's poll `times` times.

    Called directly rather than by moving frozen time: httpx's connect timeout (anyio) does not
    survive freezegun's clock.
    """
    for _ in range(times):
        await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


async def test_entities_of_an_online_and_a_sleeping_car(
    hass: HomeAssistant, account: MockConfigEntry
) -> None:
    """The charging car shows live values; the sleeping one is known but not read."""
    assert account.state is ConfigEntryState.LOADED
    assert hass.states.get(POWER).state == "7.0"  # type: ignore[union-attr]
    assert hass.states.get("sensor.model_3_charging_state").state == "charging"  # type: ignore[union-attr]
    assert hass.states.get("sensor.model_3_battery").state == "60"  # type: ignore[union-attr]
    assert hass.states.get("sensor.model_3_pricing_node").state == "TH_NP15_GEN-APND"  # type: ignore[union-attr]
    assert hass.states.get("binary_sensor.model_3_plugged_in").state == "on"  # type: ignore[union-attr]
    assert hass.states.get("binary_sensor.model_y_online").state == "off"  # type: ignore[union-attr]
    assert hass.states.get(SWITCH).state == "on"  # type: ignore[union-attr]
    assert hass.states.get("sensor.model_y_battery").state == "unknown"  # type: ignore[union-attr]


@pytest.mark.parametrize("polling_policy", ["normal"])
async def test_a_sleeping_car_is_never_woken_or_read_over_a_day(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """288 polls: the sleeper costs nothing but its line in the product list."""
    await poll(hass, account, times=288)
    assert tesla.count(SLEEPING, "wake") == 0
    assert tesla.count(SLEEPING, "data") == 0
    assert tesla.count(CHARGING, "wake") == 0
    assert tesla.count(CHARGING, "data") == 289
    assert tesla.count("account", "data") == 289


async def test_expired_token_rotates_into_the_entry(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After the 8 h token lifetime the library refreshes; the entry gets the new token."""
    freezer.tick(timedelta(hours=9))
    await poll(hass, account)
    assert tesla.token_refreshes == 2
    assert account.data[CONF_REFRESH_TOKEN] == tesla.refresh_token == "refresh-2"


async def test_rotated_token_survives_a_restart(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """The first call rotated the token; a reload logs in with the stored one."""
    assert account.data[CONF_REFRESH_TOKEN] == tesla.refresh_token == "refresh-1"
    assert await hass.config_entries.async_reload(account.entry_id)
    await hass.async_block_till_done()
    assert account.state is ConfigEntryState.LOADED


async def test_401_starts_reauth_once(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A refused login → a reauth flow, not an error per poll."""
    tesla.access_token = "revoked"
    tesla.refresh_token = "issued-elsewhere"
    await poll(hass, account, times=3)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [f["context"]["source"] for f in flows] == [SOURCE_REAUTH]


async def test_rate_limit_keeps_data_and_logs_once(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """429: values stay, one warning for the whole episode."""
    caplog.set_level(logging.WARNING)
    tesla.fail_next(429, times=3)
    await poll(hass, account, times=3)
    assert hass.states.get(POWER).state == "7.0"  # type: ignore[union-attr]
    warnings = [r for r in caplog.records if "rate limit" in r.getMessage()]
    assert len(warnings) == 1


async def test_rate_limit_at_start_up_retries_the_set_up(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """A 429 on the first refresh: no account without cars, Home Assistant tries again."""
    from .conftest import account_entry

    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    tesla.fail_next(429)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert entry.error_reason_translation_key == "rate_limited"
    assert not dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert hass.states.get(POWER) is None
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(POWER).state == "7.0"  # type: ignore[union-attr]


@pytest.mark.parametrize("polling_policy", ["normal"])
async def test_rate_limit_backs_off_until_a_poll_succeeds(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each consecutive 429 doubles the interval, up to an hour; a success restores it."""
    caplog.set_level(logging.INFO, logger="custom_components.tesladr")
    coordinator = account.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(minutes=5)
    intervals = []
    tesla.fail_next(429, times=6)
    for _ in range(6):
        await poll(hass, account)
        intervals.append(coordinator.update_interval)
    assert intervals == [timedelta(minutes=m) for m in (10, 20, 40, 60, 60, 60)]
    assert coordinator.last_update_success
    assert hass.states.get(POWER).state == "7.0"  # type: ignore[union-attr]
    await poll(hass, account)
    assert coordinator.update_interval == timedelta(minutes=5)
    episode = [r for r in caplog.records if "rate limit" in r.getMessage()]
    assert [r.levelno for r in episode] == [logging.WARNING, logging.INFO]
    # Another episode starts from the configured interval again.
    tesla.fail_next(429)
    await poll(hass, account)
    assert coordinator.update_interval == timedelta(minutes=10)
    # Other failures neither start nor end a back-off.
    tesla.fail_next(404)
    await poll(hass, account)
    assert not coordinator.last_update_success
    assert coordinator.update_interval == timedelta(minutes=10)
    await poll(hass, account)
    assert coordinator.update_interval == timedelta(minutes=5)


async def test_forbidden_raises_a_repair_issue(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """403 "forbidden" → a repair issue explaining the Fleet API; cleared when it works."""
    tesla.fail_next(403, FLEET_FORBIDDEN, times=100)
    await account.runtime_data.coordinator.async_refresh()
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"fleet_api_required_{account.entry_id}"
    )
    assert issue is not None
    assert issue.translation_key == "fleet_api_required"
    assert hass.states.get(POWER).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    tesla._faults.clear()
    await account.runtime_data.coordinator.async_refresh()
    assert (
        ir.async_get(hass).async_get_issue(
            DOMAIN, f"fleet_api_required_{account.entry_id}"
        )
        is None
    )


async def test_charging_switch_and_wake_button(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """The switch stops and starts through the protocol; refusals are translated errors."""
    # The wake's wait between asking the car, recorded instead of spent.
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    account.runtime_data.control._sleep = wait
    await hass.services.async_call(
        "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
    )
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == "off"  # type: ignore[union-attr]
    await hass.services.async_call(
        "switch", "turn_on", {"entity_id": SWITCH}, blocking=True
    )
    assert tesla.cars[CHARGING].charging_state == "Charging"
    tesla.cars[CHARGING].charging_state = "Disconnected"
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_on", {"entity_id": SWITCH}, blocking=True
        )
    assert err.value.translation_key == "command_refused"
    assert err.value.translation_placeholders == {"reason": "disconnected"}
    tesla.fail_next(429)
    with pytest.raises(HomeAssistantError) as failed:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": SWITCH}, blocking=True
        )
    assert failed.value.translation_key == "command_failed"
    await hass.services.async_call(
        "button", "press", {"entity_id": "button.model_y_wake_up"}, blocking=True
    )
    assert tesla.count(SLEEPING, "wake") == 1
    assert tesla.cars[SLEEPING].state == "online"
    assert waits == [WAKE_POLL]  # it answered online at the first look after the wake


async def test_wake_button_errors(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A car that stays asleep, or an API error, is a translated error."""
    tesla.cars[SLEEPING].wakes_after = 1000
    account.runtime_data.control._wake_poll = 0.0
    account.runtime_data.control._wake_timeout = 0.0
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.model_y_wake_up"}, blocking=True
        )
    assert err.value.translation_placeholders == {"reason": "wake_timeout"}
    tesla.fail_next(429)
    with pytest.raises(HomeAssistantError):
        await hass.services.async_call(
            "button", "press", {"entity_id": "button.model_y_wake_up"}, blocking=True
        )


async def test_setup_fails_into_reauth_on_refused_token(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """A spent refresh token at start-up → set-up error and a reauth flow."""
    from .conftest import account_data

    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id="x",
        data={**account_data(tesla), CONF_REFRESH_TOKEN: "spent"},
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN)


async def test_immediate_refresh_of_chosen_cars(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """The DR side can re-read one car at once, without touching the others."""
    tesla.cars[CHARGING].charger_power = 11.0
    before = tesla.count("account", "data")
    await account.runtime_data.coordinator.async_refresh_cars(
        {CHARGING, "NOT-ON-ACCOUNT"}
    )
    await hass.async_block_till_done()
    assert hass.states.get(POWER).state == "11.0"  # type: ignore[union-attr]
    assert tesla.count("account", "data") == before
    assert tesla.count(SLEEPING, "data") == 0
    tesla.fail_next(429)
    await account.runtime_data.coordinator.async_refresh_cars({CHARGING})
    assert hass.states.get(POWER).state == "11.0"  # type: ignore[union-attr]


async def test_side_by_side_refreshes_keep_each_others_reads(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """DR re-reads an account's cars concurrently: no refresh may undo another's."""
    tesla.cars[SLEEPING].state = "online"
    await poll(hass, account)
    tesla.cars[CHARGING].charger_power = 11.0
    tesla.cars[SLEEPING].charging_state = "Charging"
    tesla.delay = 0.05
    coordinator = account.runtime_data.coordinator
    await asyncio.gather(
        coordinator.async_refresh_cars({CHARGING}),
        coordinator.async_refresh_cars({SLEEPING}),
    )
    assert coordinator.data[CHARGING].charger_power_kw == 11.0
    assert coordinator.data[SLEEPING].charging


async def test_car_leaving_the_account_loses_its_device(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A car no longer in the product list: its device is removed."""
    registry = dr.async_get(hass)
    assert (
        registry.async_get_device_by_identifier((DOMAIN, SLEEPING), account.entry_id)
        is not None
    )
    del tesla.cars[SLEEPING]
    await poll(hass, account)
    assert (
        registry.async_get_device_by_identifier((DOMAIN, SLEEPING), account.entry_id)
        is None
    )
    assert (
        registry.async_get_device_by_identifier((DOMAIN, CHARGING), account.entry_id)
        is not None
    )


async def test_car_joining_the_account_gets_its_entities_without_a_reload(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A car added to the account appears at the next poll, DR entities included."""
    assert hass.states.get("sensor.model_s_battery") is None
    tesla.add_car("5YJSA1E2XPF000003", "Model S", charging_state="Stopped")
    await poll(hass, account)
    assert hass.states.get("sensor.model_s_battery") is not None
    assert hass.states.get("sensor.model_s_dr_status") is not None
    assert hass.states.get("switch.model_s_demand_response") is not None


async def test_car_leaving_drops_its_dr_state(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A car that left the account: its DR settings and state go too (its ledger stays)."""
    manager = account.runtime_data.dr
    assert SLEEPING in manager.cars
    del tesla.cars[SLEEPING]
    await poll(hass, account)
    await hass.async_block_till_done()
    assert SLEEPING not in manager.cars
    assert hass.states.get("sensor.model_y_dr_status") is None


async def test_server_errors_make_entities_unavailable_with_one_log_line(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """5xx (after the library's own retries): unavailable, one error line, back when it works."""
    tesla.fail_next(503, times=1000)
    await poll(hass, account, times=2)
    assert hass.states.get(POWER).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and "Tesla" in r.getMessage()
    ]
    assert len(errors) == 1
    tesla._faults.clear()
    await poll(hass, account)
    assert hass.states.get(POWER).state == "7.0"  # type: ignore[union-attr]


async def test_slow_api_times_out_into_a_failed_poll(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A reply slower than the client's timeout is a failed poll, not a hang."""
    account.runtime_data.controller._Controller__connection.websession.timeout = (
        httpx.Timeout(0.2)
    )
    tesla.delay = 1.0
    await poll(hass, account)
    assert not account.runtime_data.coordinator.last_update_success


@pytest.mark.parametrize("polling_policy", ["normal"])
async def test_an_idle_online_car_is_left_to_fall_asleep(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Read once when idle, then not for 21 minutes; at once again when it woke up anew."""
    car = tesla.cars[CHARGING]
    car.charging_state = "Stopped"
    await poll(hass, account)  # reads it: idle from now on
    reads = tesla.count(CHARGING, "data")
    for _ in range(4):  # 5, 10, 15 and 20 minutes later: resting
        freezer.tick(timedelta(minutes=5))
        await poll(hass, account)
    assert tesla.count(CHARGING, "data") == reads
    freezer.tick(timedelta(minutes=5))  # 25 minutes: still awake, read again
    await poll(hass, account)
    assert tesla.count(CHARGING, "data") == reads + 1
    # It falls asleep, then wakes because the owner plugs in: read at the next poll.
    car.state = "asleep"
    freezer.tick(timedelta(minutes=5))
    await poll(hass, account)
    car.state, car.charging_state = "online", "Charging"
    freezer.tick(timedelta(minutes=5))
    await poll(hass, account)
    assert tesla.count(CHARGING, "data") == reads + 2
    assert hass.states.get(SWITCH).state == "on"  # type: ignore[union-attr]
    # A charging car is read at every poll.
    await poll(hass, account, times=3)
    assert tesla.count(CHARGING, "data") == reads + 5


@pytest.mark.parametrize(
    ("polling_policy", "rests"),
    [("normal", True), ("connected", False), ("always", False)],
)
async def test_polling_policy_keeps_reading_idle_cars(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
    rests: bool,
) -> None:
    """A plugged-in idle car rests under "normal", is read every poll otherwise."""
    tesla.cars[CHARGING].charging_state = "Stopped"  # plugged in, not charging
    await poll(hass, account)
    reads = tesla.count(CHARGING, "data")
    for _ in range(3):
        freezer.tick(timedelta(minutes=5))
        await poll(hass, account)
    assert (tesla.count(CHARGING, "data") == reads) is rests


@pytest.mark.parametrize("read_during", ["refresh", "poll"])
async def test_a_read_older_than_a_stop_does_not_put_charging_back(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    monkeypatch: pytest.MonkeyPatch,
    read_during: str,
) -> None:
    """A read answered before a stop but merged after it is older than the stop's read-back.

    Putting it back would show the car DR just stopped as charging again: DR would take
    that for the owner's override and leave the car stopped for the rest of the event.
    """
    coordinator = account.runtime_data.coordinator
    control = coordinator.control
    real_read = control.read
    answered, release = asyncio.Event(), asyncio.Event()

    async def read_then_wait(vin: str) -> object:
        car = await real_read(vin)
        answered.set()
        await release.wait()
        return car

    monkeypatch.setattr(control, "read", read_then_wait)
    if read_during == "refresh":
        reading = hass.async_create_task(coordinator.async_refresh_cars({CHARGING}))
    else:
        coordinator._read_all = True  # the poll an owner asks for: it reads the car
        reading = hass.async_create_task(coordinator.async_refresh())
    await answered.wait()
    monkeypatch.setattr(control, "read", real_read)
    result = await coordinator.async_stop(CHARGING)
    assert result.ok
    assert not coordinator.cars[CHARGING].charging
    release.set()
    await reading
    assert not coordinator.cars[CHARGING].charging
    assert tesla.cars[CHARGING].charging_state == "Stopped"


async def test_a_refused_login_during_a_refresh_for_dr_asks_for_reauth(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """Under "demand" the next poll may be 8 hours off: the refresh itself starts reauth."""
    tesla.access_token = "revoked"
    tesla.refresh_token = "issued-elsewhere"
    await account.runtime_data.coordinator.async_refresh_cars({CHARGING})
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_a_refused_access_token_is_renewed_once_for_the_calls_it_failed(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """Tesla refuses a token the library holds valid (it expired on Tesla's clock in flight).

    The refresh token is still good: the calls refused together renew it once, each call is
    answered, the entry keeps the new token and the owner is not asked to log in.
    """
    coordinator = account.runtime_data.coordinator
    tesla.access_token = "expired-on-teslas-clock"
    before = tesla.token_refreshes
    stop, poll_all = await asyncio.gather(
        coordinator.async_stop(CHARGING),
        coordinator.control.read(CHARGING),
    )
    await hass.async_block_till_done()
    assert stop.ok
    assert not poll_all.stale  # answered, not the last data kept
    assert tesla.token_refreshes == before + 1
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert account.data[CONF_REFRESH_TOKEN] == tesla.refresh_token
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
