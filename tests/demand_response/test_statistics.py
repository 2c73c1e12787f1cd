"""A car's DR totals reach the recorder's long-term statistics.

Energy not consumed, net wholesale value, and (with the prices entry's MIDAS signals) the net
CO2 and retail bill avoided: sensors with state class total, compiled by the real recorder.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.tesladr.const import CONF_MOER_REGION, CONF_RIN, DOMAIN
from custom_components.tesladr.dr import Ledger, Outcome
from custom_components.tesladr.dr_car import CarDr
from custom_components.tesladr.pricing import NodeChoice
from tests.fake_midas import FakeMidas, row
from tests.fake_oasis import FakeOasis
from tests.prices.conftest import prices_entry

from .conftest import PriceTable, advance_to, at, state
from .test_services import car_device

# Written for a pause on each crossing and a resume on the first dip: not about churn control.
pytestmark = pytest.mark.usefixtures("churn_control_off")

ENERGY = "sensor.model_3_energy_not_consumed"
NET = "sensor.model_3_net_value_avoided"
CO2 = "sensor.model_3_co2_avoided"
RETAIL = "sensor.model_3_retail_bill_avoided"
RIN = "USCA-PGPG-ETOU-0000"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_mock: Recorder, enable_custom_integrations: None
) -> None:
    """The recorder must start before Home Assistant's fixture: it comes first here."""


async def test_pause_totals_become_long_term_statistics(
    hass: HomeAssistant,
    account: MockConfigEntry,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a pause, both totals have 5-minute statistics with a growing sum."""
    prices.set(0, 300, 300, 40)
    await advance_to(hass, freezer, at(30))
    kwh, usd = float(state(hass, ENERGY)), float(state(hass, NET))
    assert kwh > 1
    assert (
        usd > 0.1
    )  # net: the energy drawn back at 40 USD/MWh after the resume costs some
    await async_wait_recording_done(hass)
    do_adhoc_statistics(hass, start=at(25))
    await async_wait_recording_done(hass)
    listed = await hass.async_add_executor_job(list_statistic_ids, hass)
    kinds = {item["statistic_id"]: item for item in listed}
    assert kinds[ENERGY]["has_sum"] is True
    assert kinds[ENERGY]["statistics_unit_of_measurement"] == "kWh"
    assert kinds[NET]["has_sum"] is True
    assert kinds[NET]["statistics_unit_of_measurement"] == "USD"
    stats = await hass.async_add_executor_job(
        statistics_during_period,
        hass,
        at(25),
        at(25) + timedelta(minutes=5),
        {ENERGY, NET},
        "5minute",
        None,
        {"state", "sum"},
    )
    assert stats[ENERGY][0]["state"] == pytest.approx(kwh)
    assert stats[NET][0]["state"] == pytest.approx(usd)


@pytest.fixture
async def signals(
    hass: HomeAssistant, fake_midas: FakeMidas, oasis: FakeOasis
) -> MockConfigEntry:
    """A prices entry reading PG&E's emissions and the owner's rate from the fake MIDAS.

    500 g CO2/kWh and 0.55 USD/kWh until 17:15 Pacific, then 200 g and 0.31 USD: the car
    draws its energy back at cleaner and cheaper rates than its pause avoided.
    """
    fake_midas.clock = dt_util.utcnow
    fake_midas.moer_fn = lambda _region, start: 500.0 if start < at(15) else 200.0
    fake_midas.add_rate(
        RIN,
        [
            row(at(-60), at(15), 0.55, "Peak", "$/kWh"),
            row(at(15), at(240), 0.31, "Off-Peak", "$/kWh"),
        ],
    )
    entry = prices_entry()
    entry = MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options={**entry.options, CONF_MOER_REGION: "PGE", CONF_RIN: RIN},
        entry_id=entry.entry_id,
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_net_co2_and_retail_become_long_term_statistics(
    hass: HomeAssistant,
    signals: MockConfigEntry,
    account: MockConfigEntry,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A price pause drawn back later: net CO2 and retail below gross, with statistics."""
    prices.set(0, 300, 300, 40)
    await advance_to(hass, freezer, at(40))
    [event] = account.runtime_data.dr.ledger.events
    assert event.owed_kwh == 0  # drawn back in full at 40 USD/MWh
    assert event.kg_co2 is not None and event.net_kg_co2 is not None
    assert event.retail_usd is not None and event.net_retail_usd is not None
    # Paused at 500 g and 0.55 USD (its last seconds past 17:15 at the lower rates), and
    # drawn back after 17:15 at 200 g and 0.31 USD.
    assert event.kwh * 0.45 < event.kg_co2 <= event.kwh * 0.5
    assert event.kwh * 0.5 < event.retail_usd <= event.kwh * 0.55
    assert min(event.draws) >= at(15).isoformat()
    assert event.net_kg_co2 == pytest.approx(event.kg_co2 - event.drawn_kwh * 0.2)
    assert event.net_retail_usd == pytest.approx(
        event.retail_usd - event.drawn_kwh * 0.31
    )
    co2 = hass.states.get(CO2)
    retail = hass.states.get(RETAIL)
    assert co2 is not None and retail is not None
    assert float(co2.state) == pytest.approx(event.net_kg_co2, abs=1e-4)
    assert co2.attributes["gross"] == pytest.approx(event.kg_co2, abs=1e-4)
    assert co2.attributes["events_net_unknown"] == 0
    assert float(retail.state) == pytest.approx(event.net_retail_usd, abs=1e-4)
    assert retail.attributes["gross"] == pytest.approx(event.retail_usd, abs=1e-4)
    # The get_events service totals the period's figures the same way.
    response: Any = await hass.services.async_call(
        DOMAIN,
        "get_events",
        {"device_id": car_device(hass, account)},
        blocking=True,
        return_response=True,
    )
    assert response["net_kg_co2"] == pytest.approx(event.net_kg_co2, abs=1e-4)
    assert response["kg_co2"] == pytest.approx(event.kg_co2, abs=1e-4)
    assert response["net_retail_usd"] == pytest.approx(event.net_retail_usd, abs=1e-4)
    assert response["retail_usd"] == pytest.approx(event.retail_usd, abs=1e-4)

    await async_wait_recording_done(hass)
    do_adhoc_statistics(hass, start=at(35))
    await async_wait_recording_done(hass)
    listed = await hass.async_add_executor_job(list_statistic_ids, hass)
    kinds = {item["statistic_id"]: item for item in listed}
    for entity_id, unit in ((CO2, "kg"), (RETAIL, "USD")):
        assert kinds[entity_id]["has_sum"] is True
        assert kinds[entity_id]["statistics_unit_of_measurement"] == unit
    stats = await hass.async_add_executor_job(
        statistics_during_period,
        hass,
        at(35),
        at(40),
        {CO2, RETAIL},
        "5minute",
        None,
        {"state", "sum"},
    )
    assert stats[CO2][0]["state"] == pytest.approx(float(co2.state))
    assert stats[RETAIL][0]["state"] == pytest.approx(float(retail.state))


def test_net_value_is_what_the_pauses_avoided_less_what_drawing_back_cost() -> None:
    """Net goes down as a car draws its energy back; the gross value does not."""
    ledger = Ledger()
    event = ledger.start("car", "TH_NP15_GEN-APND", at(5), 7.0, None)
    event.kwh, event.usd = 1.0, 0.3
    ledger.end("car", at(15), Outcome.RESUMED)
    event.drawn_kwh, event.drawn_usd = 1.0, 0.05
    other = ledger.start("other", "TH_NP15_GEN-APND", at(5), 7.0, None)
    other.drawn_usd = 1.0
    choice = NodeChoice("TH_NP15_GEN-APND", True, None, "car", False)
    view = CarDr("car").view(choice, ledger, at(30))
    assert view.usd_not_consumed == pytest.approx(0.3)
    assert view.net_usd == pytest.approx(0.25)
