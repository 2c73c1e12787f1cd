"""Energy not consumed and net value avoided reach the recorder's long-term statistics."""

from __future__ import annotations

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import (
    list_statistic_ids,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.tesladr.dr import Ledger, Outcome
from custom_components.tesladr.dr_car import CarDr
from custom_components.tesladr.pricing import NodeChoice

from .conftest import PriceTable, advance_to, at, state

# Written for a pause on each crossing and a resume on the first dip: not about churn control.
pytestmark = pytest.mark.usefixtures("churn_control_off")

ENERGY = "sensor.model_3_energy_not_consumed"
NET = "sensor.model_3_net_value_avoided"


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
