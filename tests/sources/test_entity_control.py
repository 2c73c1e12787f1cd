"""The switch backend on its own: the edges DR rarely reaches, against the real integrations."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.tesladr.entity_control import EntityChargeControl
from custom_components.tesladr.sources import (
    SOURCE_GENERIC,
    Role,
    async_find_car_entities,
)

from .cars import NOT_ONLINE, LinkedCar


@pytest.fixture(autouse=True)
async def core_services(hass: HomeAssistant) -> None:
    """update_entity, as every real instance has it."""
    assert await async_setup_component(hass, "homeassistant", {})


def control_of(hass: HomeAssistant, car: LinkedCar) -> EntityChargeControl:
    """The backend over the car's entities, following them."""
    source, entities = async_find_car_entities(hass, car.device_id)
    control = EntityChargeControl(hass, source, entities, car.vin, car.name)
    control.async_start_tracking()
    return control


async def test_stop_is_confirmed_by_the_fresh_read(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """Tesla Fleet's switch, then its fresh read: the car shows stopped."""
    control = control_of(hass, fleet_car)
    result = await control.stop_charging(fleet_car.vin)
    assert result.ok
    assert result.state is not None
    assert result.state.charging_state == "Stopped"
    assert (await control.read(fleet_car.vin)).charging_state == "Stopped"
    control.async_stop_tracking()


async def test_stop_that_did_not_take_is_still_charging(
    hass: HomeAssistant, tessie_car: LinkedCar
) -> None:
    """The command went out, the fresh read shows the car charging: not believed."""
    tessie_car.obeys_commands = False
    tessie_car.set_charging(6.5)  # the read after the command writes a change
    control = control_of(hass, tessie_car)
    result = await control.stop_charging(tessie_car.vin)
    assert (result.ok, result.reason) == (False, "still_charging")
    control.async_stop_tracking()


async def test_asleep_car_is_never_stopped(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """No switch call at all for a sleeping car."""
    fleet_car.set_asleep()
    await fleet_car.async_poll()
    control = control_of(hass, fleet_car)
    result = await control.stop_charging(fleet_car.vin)
    assert (result.ok, result.reason) == (False, "asleep")
    assert fleet_car.commands == []
    control.async_stop_tracking()


async def test_start_of_a_charging_car_sends_nothing(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """Already charging (the owner started it): done without a command."""
    control = control_of(hass, fleet_car)
    result = await control.start_charging(fleet_car.vin)
    assert (result.ok, result.reason) == (True, "is_charging")
    assert fleet_car.commands == []
    control.async_stop_tracking()


async def test_start_when_the_wake_fails(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """Tesla Fleet asleep and its cloud down: the wake fails, no start is sent."""
    fleet_car.set_stopped()
    await fleet_car.async_poll()
    fleet_car.set_asleep()
    await fleet_car.async_poll()
    fleet_car.set_cloud_down(True)
    control = control_of(hass, fleet_car)
    result = await control.start_charging(fleet_car.vin)
    assert (result.ok, result.reason) == (False, "wake_failed")
    assert "charge_start" not in fleet_car.commands
    control.async_stop_tracking()


async def test_library_error_through_tesla_custom(
    hass: HomeAssistant, custom_car: LinkedCar
) -> None:
    """tesla_custom lets teslajsonpy's exception through: it is the command's error."""
    custom_car.fail_next_command(NOT_ONLINE)
    control = control_of(hass, custom_car)
    result = await control.stop_charging(custom_car.vin)
    assert not result.ok
    assert result.reason
    control.async_stop_tracking()


async def test_bare_switch_is_its_own_signal(
    hass: HomeAssistant, charger: dict[Role, str]
) -> None:
    """A charger given as a switch alone: the switch's own change confirms the stop."""
    control = EntityChargeControl(
        hass, SOURCE_GENERIC, {Role.SWITCH: charger[Role.SWITCH]}, "relay", "Relay"
    )
    control.async_start_tracking()
    result = await control.stop_charging("relay")
    assert result.ok
    assert result.reason == ""
    assert hass.states.get("input_boolean.relay").state == "off"  # type: ignore[union-attr]
    control.async_stop_tracking()


async def test_sleeping_cars_last_values_do_not_count_as_charging(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """Asleep with its last read saying charging: woken and started, not taken as done."""
    fleet_car.set_asleep()
    await fleet_car.async_poll()  # Tesla Fleet keeps the last values of a sleeping car
    control = control_of(hass, fleet_car)
    await control.start_charging(fleet_car.vin)
    assert fleet_car.commands[:2] == ["wake_up", "charge_start"]
    control.async_stop_tracking()


async def test_a_start_not_seen_yet_is_not_sent_again(
    hass: HomeAssistant, tessie_car: LinkedCar
) -> None:
    """The start went out and the car's signals have not moved: asked again, it waits.

    A second `turn_on` would be a second command for one start; the answer comes once the
    integration reads the car charging, dated when the start was sent.
    """
    tessie_car.set_stopped()
    await tessie_car.async_poll()
    tessie_car.obeys_commands = False  # the car takes its time
    control = control_of(hass, tessie_car)
    first = await control.start_charging(tessie_car.vin)
    assert (first.ok, first.reason) == (False, "unconfirmed")
    commands = list(tessie_car.commands)
    again = await control.start_charging(tessie_car.vin)
    assert (again.ok, again.reason) == (False, "unconfirmed")
    assert tessie_car.commands == commands
    # The car starts, the integration reads it: the start is done, from when it was sent.
    tessie_car.set_charging()
    await tessie_car.async_poll()
    done = await control.start_charging(tessie_car.vin)
    assert done.ok
    assert done.sent_at is not None
    assert tessie_car.commands == commands
    control.async_stop_tracking()
