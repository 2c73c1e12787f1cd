"""What a pause churn control holds kept the car from drawing is in the ledger.

At the default settings (minimum pause 60 minutes) DR holds a pause through prices below
the resume band; the car still draws nothing, and the ledger counts those intervals at their
own prices, also across a restart that left intervals no price request brought.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.dr import CarDrState, DrSettings, Ledger, Price
from custom_components.tesladr.dr_store import storage_key
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import account_entry

from .conftest import CHARGING, STATUS, PriceTable, advance_to, at, state

FIVE = timedelta(minutes=5)


async def test_a_pause_held_through_a_dip_counts_the_dip_at_its_prices(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Paused at 17:05 on 300, held through 60 and 50 (below 95) to 18:05, then resumed."""
    prices.set(0, 300, *[60.0] * 6, *[50.0] * 6)  # 17:00 … 18:00, then calm (40)
    await advance_to(hass, freezer, at(5).replace(second=15))
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    await advance_to(hass, freezer, at(50))
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "paused"
    assert status.attributes["reason"] == "holding_through_dip"
    await advance_to(hass, freezer, at(75))  # the 18:05 interval is published by then
    assert tesla.cars[CHARGING].charging_state == "Charging"
    [event] = account.runtime_data.dr.ledger.events
    assert event.ended is not None
    assert event.energy_needed_kwh is None or event.energy_needed_kwh > 8
    # Every interval the car stood still in, dips included, at that interval's price.
    expected = {at(5 * k).isoformat(): 60.0 if k <= 6 else 50.0 for k in range(1, 13)}
    expected[at(65).isoformat()] = 40.0  # resumed early in 18:05
    assert event.prices == expected
    hours = (event.ended - event.started).total_seconds() / 3600
    assert event.kwh == pytest.approx(event.power_kw * hours)
    usd = 0.0
    for key, value in expected.items():
        start = datetime.fromisoformat(key)
        paused = min(start + FIVE, event.ended) - max(start, event.started)
        usd += event.power_kw * paused.total_seconds() / 3600 * value / 1000
    assert event.usd == pytest.approx(usd)


def stored_held_pause() -> dict[str, Any]:
    """The Store of a pause held since 15:30, its prices accounted up to 15:50.

    Home Assistant stopped then and starts again at 17:00; its first request asks OASIS
    for the hour from 16:00, so the 15:55 interval is never fetched.
    """
    ledger = Ledger()
    event = ledger.start(CHARGING, "TH_NP15_GEN-APND", at(-90), 7.0, None)
    for minutes, value in ((-90, 300), (-85, 300), (-80, 70), (-75, 70), (-70, 60)):
        event.account(Price(value, at(minutes), at(minutes) + FIVE))
    return {
        "version": 1,
        "minor_version": 1,
        "key": storage_key("account01"),
        "data": {
            "cars": {
                CHARGING: {
                    "settings": asdict(DrSettings()),
                    "state": asdict(CarDrState(paused_by_dr=True)),
                }
            },
            "ledger": ledger.as_dict(),
        },
    }


async def test_an_interval_no_request_brought_after_a_restart_still_counts(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The held pause's 15:55 interval counts at the price before it (60).

    The 17:00 interval is not published yet at 17:01: the pause has 18 intervals so far.
    """
    hass_storage[storage_key("account01")] = stored_held_pause()
    tesla.cars[CHARGING].charging_state = "Stopped"
    prices.set(-60, *[200.0] * 13)  # 16:00 … 17:00: still paused
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    await advance_to(hass, freezer, at(1))
    assert state(hass, STATUS) == "paused"
    [event] = entry.runtime_data.dr.ledger.events
    assert event.prices[at(-65).isoformat()] == 60
    assert sorted(event.prices) == [at(m).isoformat() for m in range(-90, 0, 5)]
    assert event.kwh == pytest.approx(7.0 * 18 * 5 / 60)
