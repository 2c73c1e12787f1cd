"""Each car's "Event in progress" and "Participation" through an evening of prices."""

from __future__ import annotations

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.components.switch import SERVICE_TURN_OFF
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.fake_tesla import FakeTesla

from .conftest import CHARGING, PriceTable, advance_to, at, state

IN_EVENT = "binary_sensor.model_3_event_in_progress"
IN_EVENT_Y = "binary_sensor.model_y_event_in_progress"
TAKING = "sensor.model_3_participation"
TAKING_Y = "sensor.model_y_participation"


def reason(hass: HomeAssistant, entity_id: str) -> str | None:
    """The participation sensor's reason attribute."""
    found = hass.states.get(entity_id)
    assert found is not None
    value: str | None = found.attributes["reason"]
    return value


async def test_taking_part_then_skipped_then_no_event(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The charging car takes part, then is skipped; the sleeping one is not eligible."""
    prices.set(0, 300, 300, 40, 40)
    assert state(hass, IN_EVENT) == "off"
    assert state(hass, TAKING) == "no_event"

    await advance_to(hass, freezer, at(5).replace(second=30))
    assert state(hass, IN_EVENT) == "on"
    assert state(hass, TAKING) == "taking_part"
    assert reason(hass, TAKING) is None
    # The asleep Model Y sees the same event and cannot take part: the policy says why.
    assert state(hass, IN_EVENT_Y) == "on"
    assert state(hass, TAKING_Y) == "not_eligible"
    assert reason(hass, TAKING_Y) == "asleep"

    await hass.services.async_call(
        "button",
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: "button.model_3_skip_this_event"},
        blocking=True,
    )
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert state(hass, TAKING) == "skipped"
    assert state(hass, IN_EVENT) == "on"

    # 17:10 is calm: the event and the skip are over.
    await advance_to(hass, freezer, at(15).replace(second=30))
    assert state(hass, IN_EVENT) == "off"
    assert state(hass, TAKING) == "no_event"
    assert state(hass, TAKING_Y) == "no_event"
    assert reason(hass, TAKING_Y) is None


async def test_opted_out_car_sees_the_event_and_does_not_take_part(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Opted out: the event shows, participation says so, the car keeps charging."""
    await hass.services.async_call(
        "switch",
        SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: "switch.model_3_demand_response"},
        blocking=True,
    )
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, at(5).replace(second=30))
    assert state(hass, IN_EVENT) == "on"
    assert state(hass, TAKING) == "opted_out"
    assert tesla.cars[CHARGING].charging_state == "Charging"
