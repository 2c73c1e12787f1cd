"""The shared MIDAS coordinator on Home Assistant's clock, against the fake MIDAS on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
import logging

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.tesladr.midas import FLEX_ALERT_RIN, MidasNotFoundError
from custom_components.tesladr.midas_coordinator import (
    DATA_MIDAS,
    MidasCoordinator,
    MidasNeeds,
    async_acquire_midas,
    async_release_midas,
)
from tests.fake_midas import FakeMidas

from .conftest import MIDNIGHT, NOW, RATE

PGE = "USCA-SGIP-MOER-PGE"
SCE = "USCA-SGIP-MOER-SCE"
ALL = MidasNeeds(
    flex_alert=True, moer_regions=frozenset({"PGE"}), rate_rins=frozenset({RATE})
)


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move time a minute at a time so every timer fires when due.

    The interval timer runs its refresh as a background task: waiting for it keeps the next
    minute from firing the request's 30 s timeout while it is on its way.
    """
    end = dt_util.utcnow() + delta
    while dt_util.utcnow() < end:
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def per_rin(fake: FakeMidas) -> Counter[str | None]:
    return Counter(record.rin for record in fake.requests)


async def test_owners_share_one_coordinator_and_read_only_new_rins(
    hass: HomeAssistant, midas: FakeMidas
) -> None:
    """The first owner's three RINs are read at once; a second owner's new RIN alone after."""
    first = await async_acquire_midas(hass, "a", ALL)
    assert per_rin(midas) == {FLEX_ALERT_RIN: 1, PGE: 1, RATE: 1}
    assert (
        first.data.flex_alert is not None and len(first.data.flex_alert.intervals) == 72
    )
    assert first.data.moer("PGE") is not None
    assert first.data.values[RATE].at(NOW).value == 0.3  # type: ignore[union-attr]
    assert all(first.data.is_fresh(rin, NOW) for rin in ALL.rins)

    second = await async_acquire_midas(
        hass, "b", MidasNeeds(flex_alert=True, moer_regions=frozenset({"SCE"}))
    )
    assert second is first is hass.data[DATA_MIDAS]
    assert per_rin(midas) == {FLEX_ALERT_RIN: 1, PGE: 1, RATE: 1, SCE: 1}
    assert first.rins == {FLEX_ALERT_RIN, PGE, SCE, RATE}
    # Needs already read cost nothing, whenever asked.
    await async_acquire_midas(hass, "c", MidasNeeds(flex_alert=True))
    await first.async_refresh()
    assert len(midas.requests) == 4
    assert first.last_update_success
    for owner in "abc":
        async_release_midas(hass, owner)


async def test_a_simulated_day(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory
) -> None:
    """Alert and emissions every 5 minutes, the rate hourly: the requests MIDAS gets in a day."""
    coordinator = await async_acquire_midas(hass, "a", ALL)
    await advance(hass, freezer, timedelta(hours=24))
    assert per_rin(midas) == {FLEX_ALERT_RIN: 1 + 288, PGE: 1 + 288, RATE: 1 + 24}
    assert {record.endpoint for record in midas.requests} == {"values"}
    assert coordinator.client.requests_made == len(midas.requests)
    async_release_midas(hass, "a")
    await advance(hass, freezer, timedelta(minutes=30))
    assert DATA_MIDAS not in hass.data
    assert len(midas.requests) == 289 + 289 + 25


async def test_an_alert_reaches_the_data_within_a_tick(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory
) -> None:
    """An alert MIDAS starts showing is in the coordinator's data within 5 minutes."""
    coordinator = await async_acquire_midas(hass, "a", MidasNeeds(flex_alert=True))
    start = MIDNIGHT + timedelta(hours=16)
    assert coordinator.data.flex_alert.at(start).value == 0  # type: ignore[union-attr]
    midas.add_alert(start, start + timedelta(hours=2))
    await advance(hass, freezer, timedelta(minutes=5))
    assert coordinator.data.flex_alert.at(start).value == 1  # type: ignore[union-attr]
    async_release_midas(hass, "a")


async def test_outage_keeps_values_backs_off_and_recovers(
    hass: HomeAssistant,
    midas: FakeMidas,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """503s: the last values stay, requests thin out 5, 10, 20 minutes, one warning, one info."""
    coordinator = await async_acquire_midas(
        hass, "a", MidasNeeds(moer_regions=frozenset({"PGE"}))
    )
    before = coordinator.data.moer("PGE")
    midas.fail_next("unavailable", 3)
    await advance(hass, freezer, timedelta(minutes=5))
    assert not coordinator.last_update_success
    assert coordinator.data.moer("PGE") is before
    assert coordinator.data.errors[PGE].status == 503  # type: ignore[attr-defined]
    await advance(hass, freezer, timedelta(minutes=20))
    failed_at = [r.at - NOW for r in midas.requests[1:]]
    assert failed_at == [timedelta(minutes=m) for m in (5, 10, 20)]
    # 25 minutes without a read: the values are kept, but no longer fresh.
    assert not coordinator.data.is_fresh(PGE, dt_util.utcnow())
    assert not coordinator.last_update_success
    await advance(hass, freezer, timedelta(minutes=15))
    # The fourth try, 40 minutes on, gets through.
    assert midas.requests[-1].at - NOW == timedelta(minutes=40)
    assert coordinator.last_update_success
    assert coordinator.data.is_fresh(PGE, dt_util.utcnow())
    assert PGE not in coordinator.data.errors
    ours = [r for r in caplog.records if r.name == "custom_components.tesladr"]
    warnings = [r for r in ours if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "keeping the last values" in warnings[0].message
    assert sum("available again" in r.message for r in ours) == 1
    async_release_midas(hass, "a")


async def test_429_waits_its_retry_after(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory
) -> None:
    """A 429 stops every request, the other RINs' too, for the Retry-After it gave."""
    coordinator = await async_acquire_midas(hass, "a", ALL)
    midas.retry_after = "900"
    midas.fail_next("throttle")
    await advance(hass, freezer, timedelta(minutes=5))
    assert len(midas.requests) == 4  # three at set-up, then the 429
    assert not coordinator.last_update_success
    await advance(hass, freezer, timedelta(minutes=14))
    assert len(midas.requests) == 4
    await advance(hass, freezer, timedelta(minutes=6))
    assert len(midas.requests) > 4
    assert coordinator.last_update_success
    assert coordinator.diagnostics()["throttled_until"] is None
    async_release_midas(hass, "a")


async def test_one_bad_rin_is_no_outage(
    hass: HomeAssistant, midas: FakeMidas, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown RIN is an error of that RIN; the others read, the coordinator is fine."""
    needs = MidasNeeds(flex_alert=True, rate_rins=frozenset({"USCA-XXXX-NONE-0000"}))
    coordinator = await async_acquire_midas(hass, "a", needs)
    assert coordinator.last_update_success
    assert isinstance(
        coordinator.data.errors["USCA-XXXX-NONE-0000"], MidasNotFoundError
    )
    assert coordinator.data.flex_alert is not None
    midas.reply_next(b"<html>", content_type="text/html")
    coordinator.async_set_needs("a", MidasNeeds(rate_rins=frozenset({RATE})))
    await coordinator.async_refresh()
    assert "please report" in caplog.text
    assert coordinator.data.errors.keys() == {RATE}
    assert coordinator.data.flex_alert is None  # no longer needed: forgotten
    diagnostics = coordinator.diagnostics()
    assert diagnostics["rins"] == [RATE]
    assert diagnostics["signals"][RATE]["error"].startswith("not JSON")
    assert diagnostics["signals"][RATE]["fetched_at"] is None
    async_release_midas(hass, "a")
    async_release_midas(hass, "a")  # twice is harmless


async def test_diagnostics_and_staleness(hass: HomeAssistant, midas: FakeMidas) -> None:
    coordinator: MidasCoordinator = await async_acquire_midas(hass, "a", ALL)
    diagnostics = coordinator.diagnostics()
    assert diagnostics["owners"] == 1
    assert diagnostics["requests_made"] == 3
    assert diagnostics["down"] is False
    assert diagnostics["signals"][FLEX_ALERT_RIN] == {
        "fetched_at": NOW.isoformat(),
        "fresh": True,
        "intervals": 72,
        "error": None,
    }
    later = NOW + timedelta(hours=1)
    assert not coordinator.data.is_fresh(FLEX_ALERT_RIN, later)
    assert coordinator.data.is_fresh(RATE, later)
    assert not coordinator.data.is_fresh(RATE, NOW + timedelta(hours=7))
    assert not coordinator.data.is_fresh("USCA-NONE-NONE-0000", NOW)
    async_release_midas(hass, "a")


async def test_released_while_reading(hass: HomeAssistant, midas: FakeMidas) -> None:
    """An owner gone before its first read ends leaves no coordinator and no timer behind."""
    acquiring = hass.async_create_task(async_acquire_midas(hass, "a", ALL))
    await asyncio.sleep(0)
    assert hass.data[DATA_MIDAS].owners == {"a": ALL}
    async_release_midas(hass, "a")
    coordinator = await acquiring
    assert DATA_MIDAS not in hass.data
    assert coordinator._unsub_tick is None


def test_needs() -> None:
    assert MidasNeeds().rins == set()
    assert ALL.rins == {FLEX_ALERT_RIN, PGE, RATE}
    with pytest.raises(ValueError, match="unknown MOER region"):
        _ = MidasNeeds(moer_regions=frozenset({"XX"})).rins
