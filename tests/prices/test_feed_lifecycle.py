"""One price feed per instance: entries set up side by side, stopping, and the stored lag."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr import price_coordinator
from custom_components.tesladr.caiso import Market, OasisClient
from custom_components.tesladr.const import DOMAIN
from custom_components.tesladr.price_coordinator import (
    DATA_PRICES,
    LAG_STORAGE_KEY,
    CaisoPriceCoordinator,
)
from custom_components.tesladr.price_feed import async_declare_nodes
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import CHARGING, account_data, account_entry

from .conftest import NP15, SP15, prices_entry
from .test_coordinator import RT_PRICE, advance, assert_paced

OTHER_VIN = "5YJYGDEE0MF000009"
LAG_SENSOR = "sensor.caiso_prices_np15_hub_oasis_publication_lag"


async def test_entries_set_up_side_by_side_share_one_coordinator(
    hass: HomeAssistant,
    oasis: FakeOasis,
    fake_tesla: FakeTesla,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As Home Assistant starts: the first OASIS answer is held until every entry asked.

    One coordinator, the nodes merged, and nothing polled once every entry is unloaded.
    """
    created: list[CaisoPriceCoordinator] = []
    real_init = CaisoPriceCoordinator.__init__

    def counting_init(self: CaisoPriceCoordinator, *args: Any) -> None:
        created.append(self)
        real_init(self, *args)

    monkeypatch.setattr(CaisoPriceCoordinator, "__init__", counting_init)
    gate = asyncio.Event()
    real_get = OasisClient._get

    async def held_get(self: OasisClient, *args: Any) -> Any:
        await gate.wait()
        return await real_get(self, *args)

    monkeypatch.setattr(OasisClient, "_get", held_get)
    fake_tesla.add_car(CHARGING, "Model 3")  # Palo Alto: NP15
    other_tesla = FakeTesla()  # an account of its own: its tokens rotate separately
    await other_tesla.start()
    other_tesla.add_car(OTHER_VIN, "Model Y", latitude=34.05, longitude=-118.25)  # SP15
    first = account_entry(fake_tesla)
    second = MockConfigEntry(
        domain=DOMAIN,
        title="second@example.com",
        unique_id="second@example.com",
        data={**account_data(other_tesla), "email": "second@example.com"},
        entry_id="account02",
    )
    entries = [prices_entry([SP15]), first, second]
    for entry in entries:
        entry.add_to_hass(hass)
    setup = hass.async_create_task(async_setup_component(hass, DOMAIN, {}))
    # Every entry reaches the price feed while its first answer is still held.
    try:
        # The loop's clock is frozen here: yield to it (and its sockets) instead of sleeping.
        for _ in range(50_000):
            await asyncio.sleep(0)
            coordinator = hass.data.get(DATA_PRICES)
            if coordinator is not None and len(coordinator.owners) == len(entries):
                break
        assert coordinator is not None and len(coordinator.owners) == len(entries)
    finally:
        gate.set()
    assert await setup
    await hass.async_block_till_done()
    assert all(entry.runtime_data is not None for entry in entries)
    assert len(created) == 1
    # The first request carries the nodes of whoever came first; one paced request adds
    # the rest, and from then on every request asks for the union.
    await advance(hass, freezer, timedelta(seconds=10))
    rtm = oasis.requests_for(Market.RTM)
    assert len(rtm) <= 2
    assert set(rtm[-1].nodes) == {NP15, SP15}
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=10))
    assert all(set(r.nodes) == {NP15, SP15} for r in oasis.requests)
    assert_paced(oasis)
    for entry in entries:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert DATA_PRICES not in hass.data
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=15))
    assert oasis.requests == []
    await other_tesla.stop()


async def test_no_debounced_refresh_fires_after_release(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refreshes deferred or asked for after the last owner left do not run."""
    coordinator = hass.data[DATA_PRICES]
    refreshes: list[object] = []
    real_update = coordinator._async_update_data

    async def counted_update() -> Any:
        refreshes.append(dt_util.utcnow())
        return await real_update()

    monkeypatch.setattr(coordinator, "_async_update_data", counted_update)
    await coordinator.async_request_refresh()
    await coordinator.async_request_refresh()  # within the cooldown: deferred
    await hass.async_block_till_done()
    assert len(refreshes) == 1
    before = len(oasis.requests)
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await advance(hass, freezer, timedelta(minutes=1))
    # A late request (an entity update still in flight) is ignored once shut down.
    await coordinator.async_request_refresh()
    await advance(hass, freezer, timedelta(seconds=30))
    # Neither a request nor a refresh without one (a released feed has no nodes to ask).
    assert len(refreshes) == 1
    assert len(oasis.requests) == before


async def test_failed_first_fetch_is_a_translated_update_failed(
    hass: HomeAssistant, oasis: FakeOasis, setup_domain: Any
) -> None:
    """The coordinator's own refresh raises UpdateFailed with the translation key."""
    await setup_domain()
    oasis.fail_next("http_500")
    coordinator = CaisoPriceCoordinator(hass)
    async_declare_nodes(hass, "owner", {NP15})
    await coordinator.async_refresh()
    assert coordinator.last_update_success is False
    error = coordinator.last_exception
    assert error is not None
    assert getattr(error, "translation_key", None) == "oasis_unavailable"
    assert getattr(error, "translation_domain", None) == DOMAIN
    coordinator.async_stop()


async def test_learned_lag_is_stored_and_shown(
    hass: HomeAssistant,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    setup_domain: Any,
) -> None:
    """OASIS publishing 70 s late: learned, shown as a sensor, written at unload."""
    await setup_domain()
    oasis.publish_lag = timedelta(seconds=70)
    entry = prices_entry([NP15])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await advance(hass, freezer, timedelta(hours=1))
    state = hass.states.get(LAG_SENSOR)
    assert state is not None
    assert 70 <= float(state.state) <= 80
    assert state.attributes["unit_of_measurement"] == "s"
    assert await hass.config_entries.async_unload(entry.entry_id)
    await advance(hass, freezer, timedelta(seconds=10))
    stored = hass_storage[LAG_STORAGE_KEY]["data"]
    assert stored["brackets"]
    assert all(70 <= bracket["upper"] <= 80 for bracket in stored["brackets"])


async def test_restart_asks_at_the_stored_lag(
    hass: HomeAssistant,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
    setup_domain: Any,
) -> None:
    """A stored lag of 100 s: the first scheduled request goes 100 s after the boundary."""
    hass_storage[LAG_STORAGE_KEY] = {
        "version": price_coordinator.LAG_STORAGE_VERSION,
        "minor_version": 1,
        "key": LAG_STORAGE_KEY,
        "data": {
            "version": 1,
            "brackets": [
                {"end": 0.0, "lower": 94.0, "upper": 100.0},
                {"end": 300.0, "lower": None, "upper": 100.0},
                {"end": 600.0, "lower": None, "upper": 100.0},
            ],
        },
    }
    oasis.publish_lag = timedelta(seconds=95)
    await setup_domain()
    entry = prices_entry([NP15])
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    state = hass.states.get(LAG_SENSOR)
    assert state is not None and float(state.state) == 100.0
    oasis.requests.clear()
    await advance(hass, freezer, timedelta(minutes=5))
    # Set up at 20:00:20, where 19:55 is not out yet; the schedule asks for it at 20:01:40.
    rtm = oasis.requests_for(Market.RTM)
    assert [r.at.strftime("%H:%M:%S") for r in rtm][:1] == ["20:01:40"]
    assert hass.states.get(RT_PRICE) is not None
    assert dt_util.utcnow() > rtm[0].at


async def test_stopped_at_home_assistant_stop_then_unloaded(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    oasis: FakeOasis,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The feed stopped first (as Home Assistant stops), the entry's unload stops it again."""
    coordinator = hass.data[DATA_PRICES]
    coordinator.async_stop()
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    await hass.async_block_till_done()
    assert loaded_entry.state is ConfigEntryState.NOT_LOADED
    assert DATA_PRICES not in hass.data
    before = len(oasis.requests)
    await advance(hass, freezer, timedelta(minutes=10))
    assert len(oasis.requests) == before
