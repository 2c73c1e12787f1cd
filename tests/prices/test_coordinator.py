"""The shared price coordinator against the fake OASIS, with time moved by freezer."""

from __future__ import annotations

import asyncio
from datetime import timedelta
import itertools
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.caiso.lag import REQUESTS_PER_INTERVAL
from custom_components.tesladr.const import CONF_NODES, DOMAIN
from custom_components.tesladr.price_coordinator import (
    DATA_PRICES,
    PriceData,
    async_acquire_price_coordinator,
    async_release_price_coordinator,
)
from custom_components.tesladr.price_feed import async_declare_nodes
from tests.fake_oasis import FakeOasis

from .conftest import NP15, SP15, START, prices_entry

RT_PRICE = "sensor.caiso_prices_np15_hub_real_time_price"
ZP26 = "TH_ZP26_GEN-APND"


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move time in 5-second steps so every timer fires when due."""
    end = dt_util.utcnow() + delta
    while dt_util.utcnow() < end:
        freezer.tick(timedelta(seconds=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


def assert_paced(oasis: FakeOasis) -> None:
    """Never two requests within 5 s; at most the budget per 5-minute interval."""
    times = [r.at for r in oasis.requests]
    assert all(b - a >= timedelta(seconds=5) for a, b in itertools.pairwise(times))
    per_interval: dict[object, int] = {}
    for at in times:
        key = at.replace(minute=at.minute - at.minute % 5, second=0, microsecond=0)
        per_interval[key] = per_interval.get(key, 0) + 1
    assert max(per_interval.values()) <= REQUESTS_PER_INTERVAL


async def test_setup_reads_prices_of_every_node_in_one_request(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, oasis: FakeOasis
) -> None:
    """Set-up makes one request for both nodes and shows the newest interval."""
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert len(oasis.requests) == 1
    assert oasis.requests[0].nodes == [NP15, SP15]
    state = hass.states.get(RT_PRICE)
    assert state is not None
    # The newest published interval at 20:00:20 is 19:55-20:00: price 20 + 19 + 0.55.
    assert float(state.state) == pytest.approx(39.55)
    assert state.attributes["interval_start"] == "2026-07-01T19:55:00+00:00"
    sp15 = hass.states.get("sensor.caiso_prices_sp15_hub_real_time_price")
    assert sp15 is not None and float(sp15.state) == pytest.approx(49.55)


async def test_wakes_after_boundary_and_retries_late_publication(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A late interval is retried briefly, within the budget; then the lag is learned."""
    oasis.publish_lag = timedelta(seconds=35)
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=5))  # to 20:05:20
    rtm = oasis.requests_for(Market.RTM)
    # Nothing learned yet: the first look, at the default lag, finds nothing new.
    assert [r.at.strftime("%H:%M:%S") for r in rtm] == ["20:05:15"]
    await advance(hass, freezer, timedelta(seconds=30))
    rtm = oasis.requests_for(Market.RTM)
    assert 2 <= len(rtm) <= REQUESTS_PER_INTERVAL
    state = hass.states.get(RT_PRICE)
    assert state is not None
    assert state.attributes["interval_start"] == "2026-07-01T20:00:00+00:00"
    await advance(hass, freezer, timedelta(hours=1))
    assert_paced(oasis)
    # Learned: each of the last intervals is found by one request soon after publication.
    coordinator = hass.data[DATA_PRICES]
    assert 35 <= coordinator.lag.lag_s <= 45
    recent = [
        r.at
        for r in oasis.requests_for(Market.RTM)
        if r.at >= dt_util.utcnow() - timedelta(minutes=30)
    ]
    assert len(recent) <= 6 + 1  # one interval may spend a probe
    assert all(35 <= at.minute % 5 * 60 + at.second <= 50 for at in recent), recent


async def test_naive_timer_would_drift_but_we_do_not(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every real-time request stays within a minute of a boundary (probes go before it)."""
    await advance(hass, freezer, timedelta(hours=2))
    for record in oasis.requests_for(Market.RTM)[1:]:
        offset = record.at.minute % 5 * 60 + record.at.second
        assert min(offset, 300 - offset) <= 60, record.at
    assert_paced(oasis)


async def test_day_ahead_once_and_fifteen_minute_each_quarter(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Day-ahead is fetched once it is there, not every 5 minutes; RTPD once a quarter."""
    await advance(hass, freezer, timedelta(hours=2))
    assert len(oasis.requests_for(Market.DAM)) == 1
    # One 15-minute request covers the current and the next quarter (published ahead).
    rtpd = oasis.requests_for(Market.RTPD)
    assert 3 <= len(rtpd) <= 5
    data = hass.data[DATA_PRICES].data
    assert PriceData.covering(data.fifteen_minute[NP15], dt_util.utcnow()) is not None
    day_ahead = hass.states.get("sensor.caiso_prices_np15_hub_day_ahead_price")
    assert day_ahead is not None
    assert float(day_ahead.state) == pytest.approx(20.0 + 22 + 0.5)
    assert len(day_ahead.attributes["raw_today"]) == 24
    assert len(day_ahead.attributes["raw_tomorrow"]) == 24
    assert day_ahead.attributes["raw_today"][0]["start"] == "2026-07-01T00:00:00-07:00"


async def test_outage_goes_unavailable_after_15_minutes_with_one_log_line_each_way(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failed request keeps the price; 15 minutes without a fresh interval do not."""
    caplog.set_level(logging.INFO, logger="custom_components.tesladr")
    oasis.fail_next("http_500", times=100)
    await advance(hass, freezer, timedelta(minutes=5))
    assert hass.states.get(RT_PRICE).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    await advance(hass, freezer, timedelta(minutes=15))
    assert hass.states.get(RT_PRICE).state == STATE_UNAVAILABLE  # type: ignore[union-attr]
    last_update = hass.states.get("sensor.caiso_prices_np15_hub_last_update")
    assert last_update is not None and last_update.state != STATE_UNAVAILABLE
    oasis._faults.clear()
    await advance(hass, freezer, timedelta(minutes=5))
    assert hass.states.get(RT_PRICE).state != STATE_UNAVAILABLE  # type: ignore[union-attr]
    ours = [r for r in caplog.records if r.name == "custom_components.tesladr"]
    warnings = [r for r in ours if "unavailable" in r.getMessage()]
    recovered = [r for r in ours if "available again" in r.getMessage()]
    assert not [r for r in ours if r.levelno >= logging.ERROR]
    assert [r.levelname for r in warnings] == ["WARNING"]
    assert [r.levelname for r in recovered] == ["INFO"]


async def test_bad_request_is_logged_as_a_bug_once(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """OASIS rejecting our request is an error naming the request."""
    oasis.fail_next(1001)
    await advance(hass, freezer, timedelta(minutes=5))
    errors = [
        r
        for r in caplog.records
        if r.levelname == "ERROR" and "please report" in r.getMessage()
    ]
    assert len(errors) == 1
    assert "queryname=PRC_INTVL_LMP" in errors[0].getMessage()


async def test_owners_share_one_request_and_the_last_closes(
    hass: HomeAssistant, oasis: FakeOasis, freezer: FrozenDateTimeFactory
) -> None:
    """Three owners, one request with the union of their nodes; released with the last."""
    assert await async_setup_component(hass, DOMAIN, {})
    first = await async_acquire_price_coordinator(hass, "a", {NP15})
    second = await async_acquire_price_coordinator(hass, "b", {SP15})
    third = await async_acquire_price_coordinator(hass, "c", {NP15})
    assert first is second is third
    # The second owner's new node triggers one refresh, 5 s (and the pacer's clock margin)
    # after the first request; the third adds nothing.
    assert len(oasis.requests) == 1
    await advance(hass, freezer, timedelta(seconds=6))
    assert len(oasis.requests) == 2
    assert oasis.requests[1].nodes == [NP15, SP15]
    gap = oasis.requests[1].at - oasis.requests[0].at
    assert timedelta(seconds=5) < gap <= timedelta(seconds=5.01)
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=5))
    rtm = oasis.requests_for(Market.RTM)
    assert len(rtm) == 1 and rtm[0].nodes == [NP15, SP15]
    async_release_price_coordinator(hass, "b")
    async_release_price_coordinator(hass, "a")
    assert DATA_PRICES in hass.data
    async_release_price_coordinator(hass, "c")
    assert DATA_PRICES not in hass.data
    async_release_price_coordinator(hass, "c")
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=10))
    assert oasis.requests == []


async def test_setup_retries_when_oasis_is_down(
    hass: HomeAssistant, oasis: FakeOasis
) -> None:
    """No first prices → the entry is retried later, with a translated reason."""
    assert await async_setup_component(hass, DOMAIN, {})
    oasis.fail_next("html")
    entry = prices_entry()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert DATA_PRICES not in hass.data


async def test_unload_and_reload(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Unloading releases the coordinator; the entry loads again."""
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert DATA_PRICES not in hass.data
    assert await hass.config_entries.async_setup(loaded_entry.entry_id)
    assert DATA_PRICES in hass.data
    assert START.tzinfo is not None


async def test_failed_secondary_request_keeps_prices_and_is_retried(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failed 15-minute request is quiet, leaves the 5-minute price up, and is retried."""
    coordinator = hass.data[DATA_PRICES]
    failed: list[object] = []
    end = dt_util.utcnow() + timedelta(hours=1)
    while dt_util.utcnow() < end:
        before = len(oasis.requests)
        freezer.tick(timedelta(seconds=5))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        new = oasis.requests[before:]
        # Fail the one request that follows a real-time request when a secondary is due.
        if new and coordinator._unsub_secondary is not None and not failed:
            oasis.fail_next("http_500")
            failed.append(new[-1].at)
    assert failed
    rtpd = oasis.requests_for(Market.RTPD)
    assert [r for r in oasis.requests if r.at > failed[0]][0].market is not Market.RTM
    assert any(r.at > failed[0] for r in rtpd)
    state = hass.states.get(RT_PRICE)
    assert state is not None and state.state != STATE_UNAVAILABLE
    assert "CAISO OASIS is unavailable" not in caplog.text
    assert_paced(oasis)


async def test_reload_keeps_the_5_second_rule(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A reload re-creates the coordinator; its first request still waits for the slot."""
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    # The newest interval is already in: the new coordinator starts from the kept prices.
    assert len(oasis.requests) == 1
    assert hass.states.get(RT_PRICE).state == "39.55"  # type: ignore[union-attr]
    hass.config_entries.async_update_entry(
        loaded_entry,
        options={**loaded_entry.options, CONF_NODES: [NP15, SP15, ZP26]},
    )
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert len(oasis.requests) == 2
    assert oasis.requests[1].nodes == [NP15, SP15, ZP26]
    await advance(hass, freezer, timedelta(minutes=10))
    assert_paced(oasis)


def per_interval(oasis: FakeOasis) -> dict[str, int]:
    """Requests OASIS saw in each 5-minute interval, by the time they arrived."""
    counts: dict[str, int] = {}
    for record in oasis.requests:
        at = record.at
        key = at.replace(minute=at.minute - at.minute % 5, second=0).strftime("%H:%M")
        counts[key] = counts.get(key, 0) + 1
    return counts


async def test_throttle_retries_count_toward_the_interval_budget(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two throttled answers at a wake use the interval's budget: no late-publication retry."""
    oasis.publish_lag = timedelta(seconds=35)
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=4, seconds=50))  # to 20:05:10
    oasis.fail_next("throttle", times=2)
    await advance(hass, freezer, timedelta(minutes=5, seconds=10))
    # 20:05:15 and 20:05:20 throttled, 20:05:25 answered but not published yet: three,
    # so the retry that would have followed at 20:05:40 is not made.
    assert [r.at.strftime("%H:%M:%S") for r in oasis.requests][:4] == [
        "20:05:15",
        "20:05:20",
        "20:05:25",
        "20:10:15",
    ]
    await advance(hass, freezer, timedelta(minutes=30))
    assert per_interval(oasis)["20:05"] == REQUESTS_PER_INTERVAL
    assert_paced(oasis)
    state = hass.states.get(RT_PRICE)
    assert state is not None and state.state != STATE_UNAVAILABLE


async def test_throttled_retry_stops_at_the_budget_and_is_one_outage(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A throttled late-publication retry gets one paced retry, not two: the third request.

    The retry follows the miss by 6 s (fired at :25 by this test's 5 s steps).
    """
    caplog.set_level(logging.INFO, logger="custom_components.tesladr")
    oasis.publish_lag = timedelta(seconds=35)
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=5))  # 20:05:15 finds nothing new
    oasis.fail_next("throttle", times=5)
    await advance(hass, freezer, timedelta(seconds=40))
    assert [r.at.strftime("%H:%M:%S") for r in oasis.requests] == [
        "20:05:15",
        "20:05:25",
        "20:05:30",
    ]
    oasis._faults.clear()
    await advance(hass, freezer, timedelta(minutes=10))
    assert per_interval(oasis)["20:05"] == REQUESTS_PER_INTERVAL
    assert_paced(oasis)
    ours = [r for r in caplog.records if r.name == "custom_components.tesladr"]
    assert [r.levelname for r in ours if "unavailable" in r.getMessage()] == ["WARNING"]
    assert [r.levelname for r in ours if "available again" in r.getMessage()] == [
        "INFO"
    ]


async def test_unexpected_error_keeps_the_timer_chain_and_logs_once(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug past the request (not an OasisError) is one traceback, and the feed goes on."""
    caplog.set_level(logging.INFO, logger="custom_components.tesladr")
    client = hass.data[DATA_PRICES].client
    real_fetch = client.fetch
    broken = [True]

    async def fetch(*args: Any, **kwargs: Any) -> Any:
        result = await real_fetch(*args, **kwargs)
        if broken[0]:
            # As if parsing tripped over a column it does not know.
            raise KeyError("LMP_TYPE")
        return result

    monkeypatch.setattr(client, "fetch", fetch)
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=15))
    assert [r.at.strftime("%H:%M:%S") for r in oasis.requests_for(Market.RTM)] == [
        "20:05:15",
        "20:10:15",
        "20:15:15",
    ]
    broken[0] = False
    await advance(hass, freezer, timedelta(minutes=5))
    ours = [r for r in caplog.records if r.name == "custom_components.tesladr"]
    errors = [r for r in ours if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info is not None and errors[0].exc_info[0] is KeyError
    assert [r.levelname for r in ours if "available again" in r.getMessage()] == [
        "INFO"
    ]
    state = hass.states.get(RT_PRICE)
    assert state is not None
    assert state.attributes["interval_start"] == "2026-07-01T20:15:00+00:00"


async def test_unload_during_a_wake_ends_the_timer_chain(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wake whose request is in flight at unload does not re-arm a released coordinator."""
    client = hass.data[DATA_PRICES].client
    real_fetch = client.fetch
    in_flight = asyncio.Event()
    answer = asyncio.Event()

    async def fetch(*args: Any, **kwargs: Any) -> Any:
        in_flight.set()
        await answer.wait()
        return await real_fetch(*args, **kwargs)

    monkeypatch.setattr(client, "fetch", fetch)
    freezer.move_to(dt_util.utcnow().replace(minute=5, second=15))
    async_fire_time_changed(hass)
    await in_flight.wait()
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    answer.set()
    await hass.async_block_till_done()
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=15))
    assert oasis.requests == []


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """Our log lines at INFO and above: (level, message)."""
    return [
        (r.levelname, r.getMessage())
        for r in caplog.records
        if r.name == "custom_components.tesladr" and r.levelno >= logging.INFO
    ]


async def test_outage_seen_first_by_a_refresh_is_still_one_outage(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refresh fails, wakes fail, a refresh recovers: one warning, one info, nothing else."""
    assert await async_setup_component(hass, "homeassistant", {})
    caplog.set_level(logging.INFO, logger="custom_components.tesladr")
    oasis.fail_next("http_500", times=100)

    async def update_entity() -> None:
        await hass.services.async_call(
            "homeassistant", "update_entity", {"entity_id": RT_PRICE}, blocking=True
        )
        await hass.async_block_till_done()

    await advance(hass, freezer, timedelta(seconds=10))
    await update_entity()
    assert hass.data[DATA_PRICES].diagnostics()["feed_down"] is True
    await advance(hass, freezer, timedelta(minutes=10))
    oasis._faults.clear()
    await advance(hass, freezer, timedelta(seconds=10))
    await update_entity()
    await advance(hass, freezer, timedelta(minutes=5))
    lines = outage_lines(caplog)
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert "unavailable" in lines[0][1] and "available again" in lines[1][1]
    assert_paced(oasis)


async def test_setup_retries_through_an_outage_warn_once(
    hass: HomeAssistant,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Each set-up retry builds a new coordinator; one warning, and still the budget."""
    caplog.set_level(logging.INFO, logger="custom_components.tesladr")
    assert await async_setup_component(hass, DOMAIN, {})
    oasis.fail_next("html", times=3)
    entry = prices_entry()
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    for _ in range(3):
        assert entry.state is ConfigEntryState.SETUP_RETRY
        await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()
    # Three failed requests spent the 20:00 budget: the fourth attempt did not ask.
    assert len(oasis.requests) == REQUESTS_PER_INTERVAL
    assert entry.state is ConfigEntryState.SETUP_RETRY
    freezer.tick(timedelta(minutes=5))
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert len(oasis.requests) == REQUESTS_PER_INTERVAL + 1
    # Home Assistant's own "not ready yet" lines report the entry's state, not the feed's.
    lines = [
        line for line in outage_lines(caplog) if not line[1].startswith("Config entry")
    ]
    assert [level for level, _ in lines] == ["WARNING", "INFO"], lines
    assert_paced(oasis)


async def test_asked_refreshes_keep_the_budget_even_for_a_new_node(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """update_entity is a person asking: counted, paced, and within the interval's budget.

    A request past the budget would add nothing the next interval does not bring (after a
    restart, set-up retries asked a fourth in the fault week). A new node gets its price
    from the next interval's request.
    """
    assert await async_setup_component(hass, "homeassistant", {})
    for _ in range(REQUESTS_PER_INTERVAL):
        await hass.services.async_call(
            "homeassistant", "update_entity", {"entity_id": RT_PRICE}, blocking=True
        )
        # Past the refresh debouncer's cooldown, so each call is a request.
        await advance(hass, freezer, timedelta(seconds=10))
    times = [r.at for r in oasis.requests]
    assert len(times) == REQUESTS_PER_INTERVAL
    assert all(b - a >= timedelta(seconds=5) for a, b in itertools.pairwise(times))
    assert hass.states.get(RT_PRICE).state == "39.55"  # type: ignore[union-attr]
    hass.config_entries.async_update_entry(
        loaded_entry, options={**loaded_entry.options, CONF_NODES: [NP15, SP15, ZP26]}
    )
    assert await hass.config_entries.async_reload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.LOADED
    assert len(oasis.requests) == REQUESTS_PER_INTERVAL
    # The feed's own schedule goes on: the wake after 20:05 asks for the new node too.
    await advance(hass, freezer, START.replace(minute=5, second=20) - dt_util.utcnow())
    assert [r.at.strftime("%H:%M:%S") for r in oasis.requests[len(times) :]] == [
        "20:05:15"
    ]
    assert oasis.requests[-1].nodes == [NP15, SP15, ZP26]
    assert per_interval(oasis) == {"20:00": REQUESTS_PER_INTERVAL, "20:05": 1}


async def test_each_update_is_new_data_and_what_listeners_hold_stays(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A listener keeps the prices it was handed: an update is a new object, not an edit."""
    coordinator = hass.data[DATA_PRICES]
    handed: list[PriceData] = []
    unsub = coordinator.async_add_listener(lambda: handed.append(coordinator.data))
    first = coordinator.data
    first_np15 = list(first.realtime[NP15])
    await advance(hass, freezer, timedelta(minutes=20))
    unsub()
    assert len({id(data) for data in handed}) >= 4
    assert first not in handed
    # The object set-up produced still says what it said: 19:55-20:00 as the newest.
    assert first.realtime[NP15] == first_np15
    assert first.latest(NP15).start.strftime("%H:%M") == "19:55"  # type: ignore[union-attr]
    newest = coordinator.data.latest(NP15)
    assert newest is not None and newest.start > first_np15[-1].start


async def test_a_declared_node_is_asked_for_soon_once(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An entry declares a node (as DR does): the coordinator asks for it soon, paced, once."""
    coordinator = hass.data[DATA_PRICES]
    oasis.requests.clear()
    async_declare_nodes(hass, "dr-entry", {ZP26})
    async_declare_nodes(hass, "other-entry", {ZP26, NP15})  # nothing new: no second ask
    await advance(hass, freezer, timedelta(seconds=10))
    rtm = oasis.requests_for(Market.RTM)
    assert [r.nodes for r in rtm] == [[NP15, SP15, ZP26]]
    assert coordinator.data.latest(ZP26) is not None
    assert coordinator.owners["dr-entry"] == {ZP26}
    # Declaring the same nodes again asks nothing more.
    async_declare_nodes(hass, "dr-entry", {ZP26})
    await advance(hass, freezer, timedelta(seconds=10))
    assert len(oasis.requests_for(Market.RTM)) == 1
    assert_paced(oasis)
    for owner in ("dr-entry", "other-entry"):
        async_release_price_coordinator(hass, owner)
