"""A linked car's own scheduled departure, read from its integration's entity, guards it.

Only tesla_custom (the HACS integration, through its stand-in) shows Tesla's schedule: its
scheduled departure binary sensor carries the schedule's fields as attributes. The core
integrations expose no departure (teslemetry streams the schedule's mode alone).
"""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest

from custom_components.tesladr.const import DOMAIN
from custom_components.tesladr.sources import Role, async_find_car_entities
from tests.dr_harness import PriceTable, advance_to, at, state
from tests.fake_oasis import FakeOasis

from .routes import linked_entry
from .tesla_custom import CustomCar

pytestmark = pytest.mark.usefixtures("churn_control_off")


@pytest.fixture
async def car(
    hass: HomeAssistant, oasis: FakeOasis, custom_car: CustomCar
) -> CustomCar:
    """The tesla_custom car, its scheduled departure at 18:20 every day."""
    assert await async_setup_component(hass, "homeassistant", {})
    custom_car.charge.update(
        scheduled_charging_mode="DepartBy",
        scheduled_departure_time_minutes=18 * 60 + 20,
    )
    await custom_car.async_poll()
    return custom_car


def dr_entity(hass: HomeAssistant, unique_id: str, domain: str, key: str) -> str:
    """A DR entity of the linked car, by unique id."""
    entity_id = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"{unique_id}_{key}"
    )
    assert entity_id is not None, key
    return entity_id


@pytest.mark.parametrize("stored_before", [False, True])
async def test_the_linked_cars_schedule_keeps_dr_from_pausing(
    hass: HomeAssistant,
    car: CustomCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    stored_before: bool,
) -> None:
    """Leaving at 18:20 by the car's schedule: a high evening does not pause the car.

    An entry stored before tesladr read the schedule finds the schedule's entity at set-up.
    """
    source, entities = async_find_car_entities(hass, car.device_id)
    assert Role.DEPARTURE in entities
    if stored_before:
        del entities[Role.DEPARTURE]
    entry = linked_entry(
        source, car.device_id, car.device_id, entities, title="Car", entry_id="l1"
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    departure = hass.states.get(dr_entity(hass, car.device_id, "time", "departure"))
    assert departure is not None
    assert (departure.state, departure.attributes["source"]) == (
        "18:20:00",
        "car_schedule",
    )
    status = dr_entity(hass, car.device_id, "sensor", "dr_status")
    prices.set(0, 300, 300, 300)
    await advance_to(hass, freezer, at(12))
    assert car.commands == []
    reading = hass.states.get(status)
    assert reading is not None
    assert (reading.state, reading.attributes["reason"]) == ("monitoring", "ready_by")

    # Scheduled departure turned off in the car: nothing guards the evening any more.
    car.charge.update(scheduled_charging_mode="Off")
    await car.async_poll()
    await advance_to(hass, freezer, at(17))
    assert car.commands == ["charge_stop"]
    assert state(hass, status) == "paused"
