"""Demand response of a Tesla account car against the fake OASIS and the fake Tesla."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.dr_harness import (
    CALM,
    EVENING,
    START,
    PriceTable,
    advance_to,
    at,
    state,
    step_seconds_until,
)
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import CHARGING, SLEEPING, account_entry

STATUS = "sensor.model_3_dr_status"
STATUS_Y = "sensor.model_y_dr_status"
CHARGING_SWITCH = "switch.model_3_charging"

__all__ = [
    "CALM",
    "CHARGING",
    "EVENING",
    "SLEEPING",
    "START",
    "PriceTable",
    "advance_to",
    "at",
    "state",
    "step_seconds_until",
]


@pytest.fixture
def tesla(fake_tesla: FakeTesla) -> FakeTesla:
    """A Model 3 charging at 7 kW at 60 % in Palo Alto (NP15) and a sleeping Model Y."""
    fake_tesla.add_car(CHARGING, "Model 3")
    fake_tesla.add_car(SLEEPING, "Model Y", state="asleep", charging_state="Stopped")
    return fake_tesla


@pytest.fixture
async def account(
    hass: HomeAssistant, oasis: FakeOasis, tesla: FakeTesla, polling_policy: str | None
) -> MockConfigEntry:
    """A loaded account entry with demand response running."""
    entry = account_entry(tesla, polling_policy)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


# The fake MIDAS, for the grid-signal tests of this folder.
from tests.fake_midas import fake_midas  # noqa: E402, F401
