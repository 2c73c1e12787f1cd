"""A Flex Alert hour pauses a car whose owner asked for it, and its end resumes the car.

The real MIDAS client of the prices entry reads the fake MIDAS on 127.0.0.1; DR reads the
prices entry's MIDAS feed; the real teslajsonpy stops and starts the fake Tesla's car.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import DATA_DISPATCHER, async_dispatcher_connect
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.tesladr.const import (
    CONF_FLEX_ALERT,
    CONF_MOER_REGION,
    CONF_NOTIFY_TARGET,
    CONF_RIN,
)
from custom_components.tesladr.dr import Cause, Outcome
from custom_components.tesladr.midas_coordinator import SIGNAL_MIDAS_UPDATED
from tests.fake_midas import PACIFIC, FakeMidas, pacific_midnight, row
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla
from tests.prices.conftest import prices_entry

from .conftest import CHARGING, STATUS, PriceTable, advance_to, at, state

FLEX_SWITCH = "switch.model_3_pause_during_flex_alerts"
EMISSIONS_LIMIT = "number.model_3_emissions_limit"
MINIMUM_PAUSE = "number.model_3_minimum_pause"
ALERT_START = at(60)  # 18:00 Pacific
ALERT_END = at(120)


@pytest.fixture
async def midas(
    hass: HomeAssistant, fake_midas: FakeMidas, oasis: FakeOasis
) -> MockConfigEntry:
    """The fake MIDAS with a Flex Alert 18:00-19:00 Pacific, and a prices entry reading it."""
    fake_midas.clock = dt_util.utcnow
    fake_midas.add_alert(ALERT_START, ALERT_END)
    entry = prices_entry()
    entry = MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={**entry.options, CONF_FLEX_ALERT: True},
        entry_id=entry.entry_id,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def step_until(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    done: Callable[[], bool],
    limit: datetime,
) -> datetime:
    """Advance in 5 s steps until `done` holds (or `limit`); return when."""
    while not done() and dt_util.utcnow() < limit:
        await advance_to(hass, freezer, dt_util.utcnow() + timedelta(seconds=5))
    return dt_util.utcnow()


def reason(hass: HomeAssistant) -> str | None:
    current = hass.states.get(STATUS)
    assert current is not None
    return current.attributes.get("reason")


async def test_flex_alert_pauses_and_its_end_resumes(
    hass: HomeAssistant,
    midas: MockConfigEntry,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The owner turns the setting on; the alert hour pauses the car, its end resumes it."""
    vin = CHARGING
    assert state(hass, FLEX_SWITCH) == "off"
    assert state(hass, EMISSIONS_LIMIT) == "0"
    # Off by default: the hour before the alert and the alert's first minutes pass untouched
    # only for an owner who has not asked; this owner asks now.
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: FLEX_SWITCH}, blocking=True
    )
    assert state(hass, FLEX_SWITCH) == "on"
    await advance_to(hass, freezer, ALERT_START - timedelta(minutes=5))
    assert state(hass, STATUS) == "monitoring"
    assert tesla.cars[vin].charging_state == "Charging"

    stopped = await step_until(
        hass,
        freezer,
        lambda: tesla.cars[vin].charging_state == "Stopped",
        ALERT_START + timedelta(minutes=20),
    )
    assert tesla.cars[vin].charging_state == "Stopped"
    delay = stopped - ALERT_START
    print(f"Flex Alert start to car stop: {delay.total_seconds():.0f} s simulated")
    await advance_to(hass, freezer, stopped + timedelta(seconds=5))
    assert state(hass, STATUS) == "paused"
    assert reason(hass) == "flex_alert"
    event = account.runtime_data.dr.ledger.active(vin)
    assert event is not None
    assert event.cause is Cause.FLEX_ALERT

    # Held through the hour on calm prices; resumed once the alert is over.
    await advance_to(hass, freezer, ALERT_END - timedelta(minutes=5))
    assert tesla.cars[vin].charging_state == "Stopped"
    assert reason(hass) == "flex_alert"
    started = await step_until(
        hass,
        freezer,
        lambda: tesla.cars[vin].charging_state == "Charging",
        ALERT_END + timedelta(minutes=20),
    )
    assert tesla.cars[vin].charging_state == "Charging"
    print(f"Flex Alert end to car start: {(started - ALERT_END).total_seconds():.0f} s")
    await advance_to(hass, freezer, started + timedelta(seconds=5))
    assert state(hass, STATUS) == "monitoring"
    assert event.outcome is Outcome.RESUMED
    assert event.cause is Cause.FLEX_ALERT
    assert event.kwh > 0


async def test_flex_alert_leaves_a_car_whose_owner_did_not_ask(
    hass: HomeAssistant,
    midas: MockConfigEntry,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The setting is off by default: the alert hour changes nothing."""
    # An emissions limit without an emissions region in the prices options asks nothing.
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: EMISSIONS_LIMIT, "value": 400},
        blocking=True,
    )
    assert state(hass, EMISSIONS_LIMIT) == "400"
    assert (
        account.runtime_data.dr.car(CHARGING).settings.emissions_above_g_per_kwh == 400
    )
    await advance_to(hass, freezer, ALERT_START + timedelta(minutes=15))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert state(hass, STATUS) == "monitoring"
    assert account.runtime_data.dr.ledger.events == []


def seconds_to_next_tick(account: MockConfigEntry) -> float:
    """Seconds until the DR coordinator's own minute tick fires (Home Assistant's timer)."""
    cancel = account.runtime_data.dr._unsub_refresh
    assert cancel is not None
    handle = cancel.__self__  # type: ignore[attr-defined]
    return float(handle.when() - asyncio.get_running_loop().time())


async def test_an_alert_midas_starts_reporting_stops_the_car_at_once(
    hass: HomeAssistant,
    midas: MockConfigEntry,
    fake_midas: FakeMidas,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An alert hour MIDAS reports only once it has begun stops the car on that read.

    DR listens to the MIDAS feed: the stop does not wait for DR's minute tick nor for the next
    price. Time moves a second at a time; the delay is printed for docs/midas.md.
    """
    vin = CHARGING
    fake_midas.alerts.clear()  # no alert known ahead: the one below is called mid-hour
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: FLEX_SWITCH}, blocking=True
    )
    called = ALERT_START + timedelta(minutes=2)
    await advance_to(hass, freezer, called)
    fake_midas.add_alert(called, ALERT_END)
    feed = midas.runtime_data.midas
    reported: list[datetime] = []

    @callback
    def on_midas() -> None:
        values = feed.data.flex_alert
        now = dt_util.utcnow()
        hour = values.at(now) if values is not None else None
        if not reported and hour is not None and hour.value == 1:
            reported.append(now)

    unsub = async_dispatcher_connect(hass, SIGNAL_MIDAS_UPDATED, on_midas)
    tick_before = 0.0
    while tesla.cars[vin].charging_state == "Charging":
        assert dt_util.utcnow() < called + timedelta(minutes=10)
        tick_before = seconds_to_next_tick(account)
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    unsub()
    stopped = dt_util.utcnow()
    assert reported, "the car stopped before MIDAS reported the alert"
    seen = reported[0]
    delay = (stopped - seen).total_seconds()
    print(
        f"MIDAS reports the alert {(seen - called).total_seconds():.0f} s after it was"
        f" called; car stopped {delay:.0f} s after that read (DR's own tick was"
        f" {tick_before:.0f} s away)"
    )
    # The stop came with the MIDAS read, in the same one-second step, and DR's own minute tick
    # was not due within that step.
    assert delay == 0
    assert tick_before > 1
    await advance_to(hass, freezer, stopped + timedelta(seconds=5))
    assert reason(hass) == "flex_alert"
    # Unloading the car entry takes DR's listener away with it.
    assert await hass.config_entries.async_unload(account.entry_id)
    assert not hass.data[DATA_DISPATCHER].get(SIGNAL_MIDAS_UPDATED)


DIRTIEST_SHARE = "number.model_3_dirtiest_share_of_the_day"
RATE = "USCA-PGPG-TOU4-0000"


def climbing_day(_region: str, start: datetime) -> float:
    """Emissions that climb through the Pacific day: its last quarter (18:00-24:00) is dirtiest."""
    midnight = pacific_midnight(start.astimezone(PACIFIC).date())
    return 100.0 + 2 * ((start - midnight) // timedelta(minutes=5))


async def test_the_dirtiest_share_of_the_day_pauses_a_car_that_asks(
    hass: HomeAssistant,
    fake_midas: FakeMidas,
    oasis: FakeOasis,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The owner sets 25 %: charging through 17:xx, paused from 18:00 for the emissions."""
    fake_midas.clock = dt_util.utcnow
    fake_midas.moer_fn = climbing_day
    entry = prices_entry()
    entry = MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={**entry.options, CONF_MOER_REGION: "PGE"},
        entry_id=entry.entry_id,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, DIRTIEST_SHARE) == "0"
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: DIRTIEST_SHARE, "value": 25},
        blocking=True,
    )
    assert account.runtime_data.dr.car(CHARGING).settings.dirtiest_share_percent == 25
    await advance_to(hass, freezer, ALERT_START - timedelta(minutes=5))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    stopped = await step_until(
        hass,
        freezer,
        lambda: tesla.cars[CHARGING].charging_state == "Stopped",
        ALERT_START + timedelta(minutes=10),
    )
    assert stopped - ALERT_START < timedelta(minutes=2)
    await advance_to(hass, freezer, stopped + timedelta(seconds=5))
    assert state(hass, STATUS) == "paused"
    assert reason(hass) == "high_emissions"
    event = account.runtime_data.dr.ledger.active(CHARGING)
    assert event is not None and event.cause is Cause.EMISSIONS


async def test_a_simulated_day_of_midas_requests_with_dr_listening(
    hass: HomeAssistant,
    fake_midas: FakeMidas,
    oasis: FakeOasis,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every signal chosen and DR listening: what MIDAS receives in 24 hours, per endpoint.

    DR re-evaluates at each MIDAS read but asks MIDAS nothing: the counts are the feed's own
    cadence (docs/midas.md).
    """
    fake_midas.clock = dt_util.utcnow
    fake_midas.add_alert(ALERT_START, ALERT_END)
    midnight = pacific_midnight(dt_util.utcnow().astimezone(PACIFIC).date())
    fake_midas.add_rate(
        RATE,
        [
            row(
                midnight + n * timedelta(hours=1),
                midnight + (n + 1) * timedelta(hours=1),
                0.3,
                "Off-Peak",
                "$/kWh",
            )
            for n in range(24 * 4)
        ],
    )
    entry = prices_entry()
    entry = MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={
            **entry.options,
            CONF_FLEX_ALERT: True,
            CONF_MOER_REGION: "PGE",
            CONF_RIN: RATE,
        },
        entry_id=entry.entry_id,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: FLEX_SWITCH}, blocking=True
    )
    end = dt_util.utcnow() + timedelta(hours=24)
    while dt_util.utcnow() < end:
        freezer.tick(timedelta(minutes=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    per_endpoint = Counter(
        (record.endpoint, record.path, record.rin) for record in fake_midas.requests
    )
    for (endpoint, path, rin), count in sorted(per_endpoint.items()):
        print(f"MIDAS {endpoint} GET {path} {rin}: {count} requests in a simulated day")
    assert per_endpoint == {
        ("values", "/api/valuedata", "USCA-FLEX-ALRT-0000"): 1 + 288,
        ("values", "/api/valuedata", "USCA-SGIP-MOER-PGE"): 1 + 288,
        ("values", "/api/valuedata", RATE): 1 + 24,
    }
    # The alert hour paused the car on the way.
    assert any(
        e.cause is Cause.FLEX_ALERT for e in account.runtime_data.dr.ledger.events
    )


async def test_an_alert_in_the_interval_of_a_resume_still_stops_the_car_at_once(
    hass: HomeAssistant,
    midas: MockConfigEntry,
    fake_midas: FakeMidas,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An alert MIDAS reports in the price interval of a resume stops the car on that read.

    A price pause ends at 18:05, the start taken at its word (the car shown stale); DR reads
    the car once more for the new signal instead of waiting for the next price interval.
    """
    vin = CHARGING
    fake_midas.alerts.clear()
    prices.set(55, 250.0)  # published at 18:00, the next (40) at 18:05
    await hass.services.async_call(
        "number",
        "set_value",
        {ATTR_ENTITY_ID: MINIMUM_PAUSE, "value": 0},
        blocking=True,
    )
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: FLEX_SWITCH}, blocking=True
    )
    called = ALERT_START + timedelta(minutes=2)
    await advance_to(hass, freezer, called)
    assert tesla.cars[vin].charging_state == "Stopped"
    assert reason(hass) == "waiting_for_price_drop"
    fake_midas.add_alert(called, ALERT_END)
    feed = midas.runtime_data.midas
    seen: list[datetime] = []
    resumed: list[datetime] = []

    @callback
    def on_midas() -> None:
        values = feed.data.flex_alert
        hour = values.at(dt_util.utcnow()) if values is not None else None
        if not seen and hour is not None and hour.value == 1:
            seen.append(dt_util.utcnow())

    unsub = async_dispatcher_connect(hass, SIGNAL_MIDAS_UPDATED, on_midas)
    while not seen or tesla.cars[vin].charging_state == "Charging":
        assert dt_util.utcnow() < ALERT_START + timedelta(minutes=9)
        if not resumed and tesla.cars[vin].charging_state == "Charging":
            resumed.append(dt_util.utcnow())
        freezer.tick(timedelta(seconds=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    unsub()
    # Resumed for the price, then stopped for the alert, within one price interval.
    assert resumed and resumed[0] < seen[0] < at(65) + timedelta(minutes=5)
    assert dt_util.utcnow() - seen[0] < timedelta(seconds=1)
    await advance_to(hass, freezer, dt_util.utcnow() + timedelta(seconds=5))
    assert reason(hass) == "flex_alert"


async def test_a_flex_alert_pause_is_told_as_the_alert_not_as_a_price(
    hass: HomeAssistant,
    midas: MockConfigEntry,
    account: MockConfigEntry,
    tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The phone hears of the alert and of its end; the calm price is not the reason."""
    calls = async_mock_service(hass, "notify", "mobile_app_pixel")
    hass.config_entries.async_update_entry(
        account,
        options={**account.options, CONF_NOTIFY_TARGET: "notify.mobile_app_pixel"},
    )
    # As the options flow does: it reloads the entry.
    assert await hass.config_entries.async_reload(account.entry_id)
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch", SERVICE_TURN_ON, {ATTR_ENTITY_ID: FLEX_SWITCH}, blocking=True
    )
    vin = CHARGING
    await advance_to(hass, freezer, ALERT_START - timedelta(minutes=5))
    stopped = await step_until(
        hass,
        freezer,
        lambda: tesla.cars[vin].charging_state == "Stopped",
        ALERT_START + timedelta(minutes=20),
    )
    await advance_to(hass, freezer, stopped + timedelta(seconds=5))
    assert reason(hass) == "flex_alert"
    messages = [call.data["message"] for call in calls]
    assert len(messages) == 1
    assert messages[0].startswith("Charging paused: a Flex Alert is on")
    assert "price" not in messages[0]
    assert [a["title"] for a in calls[0].data["data"]["actions"]] == ["Skip this event"]

    started = await step_until(
        hass,
        freezer,
        lambda: tesla.cars[vin].charging_state == "Charging",
        ALERT_END + timedelta(minutes=20),
    )
    await advance_to(hass, freezer, started + timedelta(seconds=5))
    messages = [call.data["message"] for call in calls]
    assert messages[1:] == ["Charging resumed: the Flex Alert is over."]
