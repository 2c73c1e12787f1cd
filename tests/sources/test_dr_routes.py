"""Demand response of linked cars: the real integrations' switches, driven by tesladr's DR.

Every Tesla route runs against the real core integration (tesla_fleet, teslemetry, tessie) or
the tesla_custom stand-in, faked at its library; the generic route against a template charger
over input helpers. Prices come from the fake OASIS on the frozen evening clock.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import Context, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.tesladr.const import CONF_DEVICE_ID, CONF_ENTITIES, DOMAIN
from custom_components.tesladr.diagnostics import async_get_config_entry_diagnostics
from custom_components.tesladr.dr_coordinator import EVENT_DR
from custom_components.tesladr.dr_store import STORAGE_VERSION, storage_key
from custom_components.tesladr.sources import (
    SOURCE_GENERIC,
    Role,
    async_find_car_entities,
    entity_id_of,
)
from tests.dr_harness import PriceTable, advance_to, at, state
from tests.fake_oasis import FakeOasis

from .cars import LinkedCar
from .routes import linked_entry as make_linked_entry

# Written for DR without churn control: each crossing pauses, each dip resumes.
pytestmark = pytest.mark.usefixtures("churn_control_off")


CARS = ["fleet_car", "teslemetry_car", "tessie_car", "custom_car"]
PAUSED_AT = at(5).replace(second=30)  # the 17:00 interval is read at 17:05:15
ENTRY_ID = "linked01"


@pytest.fixture(autouse=True)
async def core_services(hass: HomeAssistant) -> None:
    """Home Assistant's own services (update_entity), as every real instance has them."""
    assert await async_setup_component(hass, "homeassistant", {})


@pytest.fixture(params=CARS)
def car(request: pytest.FixtureRequest, oasis: FakeOasis) -> LinkedCar:
    """Each integration's car in turn, set up after the frozen evening clock."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def linked_entry(
    source: str, unique_id: str, device_id: str | None, entities: dict[Role, str]
) -> MockConfigEntry:
    """The linked-car entry of these tests."""
    return make_linked_entry(
        source, unique_id, device_id, entities, title="Linked car", entry_id=ENTRY_ID
    )


async def add_linked(hass: HomeAssistant, car: LinkedCar) -> MockConfigEntry:
    """Link the car's device to tesladr and load the entry."""
    source, entities = async_find_car_entities(hass, car.device_id)
    entry = linked_entry(source, car.device_id, car.device_id, entities)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def dr_entity(
    hass: HomeAssistant, entry: MockConfigEntry, domain: str, key: str
) -> str:
    """A DR entity of the linked car, found by unique id (its entity_id is the source's name)."""
    entity_id = er.async_get(hass).async_get_entity_id(
        domain, DOMAIN, f"{entry.unique_id}_{key}"
    )
    assert entity_id is not None, key
    return entity_id


async def next_read(
    hass: HomeAssistant, car: LinkedCar, freezer: FrozenDateTimeFactory
) -> None:
    """The integration's next read of the car (its poll, at the latest), then a minute."""
    await car.async_poll()
    await advance_to(hass, freezer, dt_util.utcnow() + timedelta(minutes=1))


def switch_of(hass: HomeAssistant, car: LinkedCar) -> str:
    """The car's charge switch (the source integration's entity)."""
    _, entities = async_find_car_entities(hass, car.device_id)
    entity_id = entity_id_of(hass, entities[Role.SWITCH])
    assert entity_id is not None
    return entity_id


async def test_spike_pauses_and_the_fall_resumes(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One stop through the car's own switch at the first high interval, one start after."""
    entry = await add_linked(hass, car)
    status = dr_entity(hass, entry, "sensor", "dr_status")
    events = async_capture_events(hass, EVENT_DR)
    prices.set(0, 300, 250, 90)
    await advance_to(hass, freezer, PAUSED_AT)
    assert state(hass, status) == "paused"
    assert car.commands == ["charge_stop"]
    assert car.charge["charging_state"] == "Stopped"
    assert state(hass, dr_entity(hass, entry, "binary_sensor", "dr_active")) == "on"
    await advance_to(hass, freezer, at(15).replace(second=30))
    assert car.commands == ["charge_stop", "charge_start"]
    assert car.charge["charging_state"] == "Charging"
    # DR believes the car once the integration has read it charging.
    await next_read(hass, car, freezer)
    assert state(hass, status) == "monitoring"
    assert [e.data["type"] for e in events] == ["started", "ended"]
    started = events[0].data
    assert started["utility"] == "PG&E"
    assert started["dlap"] == "DLAP_PGAE-APND"
    assert started["device_id"] == car.device_id
    ledger = entry.runtime_data.dr.ledger
    (event,) = ledger.events
    assert event.outcome == "resumed"
    assert event.utility == "PG&E"
    # 7 kW from 17:05:15 to 17:15:00, the end of the last interval published so far.
    assert event.kwh == pytest.approx(7.0 * 9.75 / 60, rel=0.01)


async def test_switch_turned_on_from_the_ui_is_an_override(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """The owner's own turn_on (a user's context) is theirs for the rest of the event.

    The switch's change dates the restart, so the ledger event ends exactly then.
    """
    entry = await add_linked(hass, car)
    status = dr_entity(hass, entry, "sensor", "dr_status")
    prices.set(0, 300, 300, 300, 300)
    await advance_to(hass, freezer, PAUSED_AT)
    assert state(hass, status) == "paused"
    await advance_to(hass, freezer, at(12))
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": switch_of(hass, car)},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await hass.async_block_till_done()
    await advance_to(hass, freezer, at(20).replace(second=30))
    assert state(hass, status) == "overridden"
    assert car.commands == ["charge_stop", "charge_start"]  # the owner's start only
    [event] = entry.runtime_data.dr.ledger.events
    assert event.outcome == "overridden"
    assert event.ended == at(12)


async def test_car_restarting_by_itself_is_paused_again(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Scheduled charging starts the car mid-event: no owner did it, so DR stops it again."""
    entry = await add_linked(hass, car)
    status = dr_entity(hass, entry, "sensor", "dr_status")
    prices.set(0, 300, 300, 300, 300)
    await advance_to(hass, freezer, PAUSED_AT)
    car.set_charging(7.0)
    await car.async_poll()
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert state(hass, status) == "paused"
    assert car.commands == ["charge_stop", "charge_stop"]
    assert len(entry.runtime_data.dr.ledger.events) == 1


async def test_asleep_car_is_not_woken_to_stop(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A sleeping car is not charging: no command, no wake."""
    car.set_asleep()
    await car.async_poll()
    entry = await add_linked(hass, car)
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert car.commands == []
    status = hass.states.get(dr_entity(hass, entry, "sensor", "dr_status"))
    assert status is not None
    assert status.state == "monitoring"
    assert status.attributes["reason"] == "asleep"


async def test_command_error_shows_its_reason(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A refused stop is shown with the integration's message and tried at the next interval."""
    entry = await add_linked(hass, car)
    car.fail_next_command("charger_busy")
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, PAUSED_AT)
    if car.integration == "tesla_custom":
        # It drops the car's refusal silently (teslajsonpy ignores `result: false`): DR sees
        # it when the integration's next read shows the car still charging, and stops again
        # at the next interval.
        await next_read(hass, car, freezer)
        await advance_to(hass, freezer, at(10).replace(second=30))
        assert car.commands == ["charge_stop", "charge_stop"]
        assert car.charge["charging_state"] == "Stopped"
        return
    status = hass.states.get(dr_entity(hass, entry, "sensor", "dr_status"))
    assert status is not None
    assert status.state == "command_failed"
    assert status.attributes["reason"] == "command_failed"
    assert "charger_busy" in status.attributes["command_error"]
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert state(hass, dr_entity(hass, entry, "sensor", "dr_status")) == "paused"
    assert car.commands == ["charge_stop", "charge_stop"]


async def test_renamed_switch_still_works(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The owner renames the charge switch mid-event: the resume still reaches the car."""
    entry = await add_linked(hass, car)
    prices.set(0, 300, 90)
    await advance_to(hass, freezer, PAUSED_AT)
    er.async_get(hass).async_update_entity(
        switch_of(hass, car), new_entity_id="switch.garage_car_charging"
    )
    await hass.async_block_till_done()
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert car.commands == ["charge_stop", "charge_start"]
    await next_read(hass, car, freezer)
    assert state(hass, dr_entity(hass, entry, "sensor", "dr_status")) == "monitoring"


async def test_source_reloading_mid_event_does_not_strand_the_car(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Entities gone while the integration reloads: DR holds, then resumes once they are back."""
    entry = await add_linked(hass, car)
    prices.set(0, 300, 300, 90)
    await advance_to(hass, freezer, PAUSED_AT)
    assert await hass.config_entries.async_unload(car.entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, switch_of(hass, car)) == STATE_UNAVAILABLE
    # 17:10: still high; 17:15: the price falls while the integration is still down.
    await advance_to(hass, freezer, at(15).replace(second=30))
    status = dr_entity(hass, entry, "sensor", "dr_status")
    assert state(hass, status) == "paused"
    assert car.commands == ["charge_stop"]
    assert await hass.config_entries.async_setup(car.entry.entry_id)
    await hass.async_block_till_done()
    # The failed start is retried five minutes later, now that the switch is back.
    await advance_to(hass, freezer, at(21))
    assert car.commands == ["charge_stop", "charge_start"]
    await next_read(hass, car, freezer)
    assert state(hass, status) == "monitoring"


async def test_fleet_not_online_start_is_woken_and_retried_once(
    hass: HomeAssistant,
    oasis: FakeOasis,
    fleet_car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Tesla Fleet's cached state said online; the car fell asleep: wake, then one retry."""
    entry = await add_linked(hass, fleet_car)
    prices.set(0, 300, 90)
    await advance_to(hass, freezer, PAUSED_AT)
    # Asleep since Tesla Fleet's last poll: its cached state still says online.
    fleet_car.set_asleep()
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert fleet_car.commands == [
        "charge_stop",
        "charge_start",
        "wake_up",
        "charge_start",
    ]
    await next_read(hass, fleet_car, freezer)
    await next_read(hass, fleet_car, freezer)
    assert state(hass, dr_entity(hass, entry, "sensor", "dr_status")) == "monitoring"


async def test_restart_mid_event_holds_without_a_second_stop(
    hass: HomeAssistant,
    car: LinkedCar,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """DR paused the car before the restart: held, no second stop, resumed when it falls."""
    car.set_stopped()
    await car.async_poll()
    hass_storage[storage_key(ENTRY_ID)] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": storage_key(ENTRY_ID),
        "data": {
            "cars": {
                car.device_id: {
                    "settings": {},
                    "state": {
                        "paused_by_dr": True,
                        "overridden": False,
                        "skipped": False,
                    },
                }
            },
            "ledger": {},
        },
    }
    prices.set(-5, 300, 300, 90)  # high before the restart, falls at 17:05
    entry = await add_linked(hass, car)
    status = dr_entity(hass, entry, "sensor", "dr_status")
    await advance_to(hass, freezer, PAUSED_AT)
    assert state(hass, status) == "paused"
    assert car.commands == []
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert car.commands == ["charge_start"]
    await next_read(hass, car, freezer)
    assert state(hass, status) == "monitoring"


# The generic route: a template charger switch whose hardware the test plays.


class Charger:
    """The template charger of the `charger` fixture, with a charger behind its relay."""

    def __init__(self, hass: HomeAssistant, roles: dict[Role, str]) -> None:
        """Record what the relay does (the template power sensor follows it)."""
        self.hass = hass
        self.roles = roles
        self.relay_changes: list[str] = []
        hass.bus.async_listen("state_changed", self._changed)

    @callback
    def _changed(self, event: Any) -> None:
        if event.data["entity_id"] == "input_boolean.relay":
            self.relay_changes.append(event.data["new_state"].state)


@pytest.fixture
async def garage(
    hass: HomeAssistant, oasis: FakeOasis, charger: dict[Role, str]
) -> tuple[Charger, MockConfigEntry]:
    """The template charger linked to tesladr."""
    driver = Charger(hass, charger)
    entry = linked_entry(SOURCE_GENERIC, charger[Role.SWITCH], None, charger)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return driver, entry


async def test_generic_charger_pauses_and_resumes(
    hass: HomeAssistant,
    garage: tuple[Charger, MockConfigEntry],
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Any charger switch: off at the spike, on after; the power sensor confirms both."""
    driver, entry = garage
    status = dr_entity(hass, entry, "sensor", "dr_status")
    prices.set(0, 300, 90)
    # The charger is in Los Angeles: SP15 and SCE.
    await advance_to(hass, freezer, PAUSED_AT)
    assert state(hass, status) == "paused"
    assert driver.relay_changes == ["off"]
    assert float(state(hass, "sensor.charger_power")) == 0
    assert hass.states.get(status).attributes["utility"] == "SCE"  # type: ignore[union-attr]
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert driver.relay_changes == ["off", "on"]
    assert state(hass, status) == "monitoring"


async def test_the_fail_safe_ticks_with_every_dr_entity_disabled(
    hass: HomeAssistant,
    oasis: FakeOasis,
    charger: dict[Role, str],
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nothing listens to DR's coordinator, yet it evaluates every minute, and acts.

    The base class ticks only while it has listeners; DR's stale-price fail-safe must tick
    all the same. Between two price publications nothing else calls DR on this charger.
    """
    driver = Charger(hass, charger)
    entry = linked_entry(SOURCE_GENERIC, charger[Role.SWITCH], None, charger)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, pref_disable_new_entities=True)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    dr = entry.runtime_data.dr
    assert dr.data is not None
    for minute in (2, 3):
        shown = dr.data
        await advance_to(hass, freezer, at(minute))
        assert dr.data is not shown, minute  # a fresh view: DR evaluated
    prices.set(0, *[300.0] * 12)
    await advance_to(hass, freezer, PAUSED_AT)
    assert driver.relay_changes == ["off"]
    oasis.fail_next("http_500", times=100)
    await advance_to(hass, freezer, at(20).replace(second=30))
    assert driver.relay_changes == ["off", "on"]


async def test_generic_charger_override_and_rename(
    hass: HomeAssistant,
    garage: tuple[Charger, MockConfigEntry],
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    hass_admin_user: MockUser,
) -> None:
    """A renamed switch is still followed; the owner turning it on overrides DR."""
    driver, entry = garage
    prices.set(0, 300, 300, 300)
    await advance_to(hass, freezer, PAUSED_AT)
    er.async_get(hass).async_update_entity(
        "switch.garage_charger", new_entity_id="switch.ev_relay"
    )
    await hass.async_block_till_done()
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": "switch.ev_relay"},
        blocking=True,
        context=Context(user_id=hass_admin_user.id),
    )
    await advance_to(hass, freezer, at(15).replace(second=30))
    assert state(hass, dr_entity(hass, entry, "sensor", "dr_status")) == "overridden"
    assert driver.relay_changes == ["off", "on"]


async def test_generic_charger_unavailable_switch_is_a_command_error(
    hass: HomeAssistant,
    garage: tuple[Charger, MockConfigEntry],
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A switch that is unavailable cannot be commanded: the status says so, nothing is lost."""
    driver, entry = garage
    hass.states.async_set("switch.garage_charger", STATE_UNAVAILABLE)
    prices.set(0, 300)
    await advance_to(hass, freezer, PAUSED_AT)
    # Unavailable signals are stale: DR does not act on them at all.
    assert driver.relay_changes == []
    status = hass.states.get(dr_entity(hass, entry, "sensor", "dr_status"))
    assert status is not None
    assert status.attributes["reason"] == "asleep"


async def test_diagnostics_of_a_linked_car(
    hass: HomeAssistant,
    fleet_car: LinkedCar,
    oasis: FakeOasis,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The same DR diagnostics as an account car; device, entities and place redacted."""
    entry = await add_linked(hass, fleet_car)
    prices.set(0, 300)
    await advance_to(hass, freezer, PAUSED_AT)
    result = await async_get_config_entry_diagnostics(hass, entry)
    data = result["entry"]["data"]
    assert data[CONF_DEVICE_ID] == "**REDACTED**"
    assert data[CONF_ENTITIES] == "**REDACTED**"
    (car,) = result["vehicles"]
    assert car["latitude"] == "**REDACTED**"
    assert car["vin"] == "**REDACTED**"
    (dr_car,) = result["demand_response"]["cars"]
    assert dr_car["status"] == "paused"
    assert dr_car["utility"] == "PG&E"
    assert "last_update_success" not in result


async def test_generic_charger_command_error_shows_its_reason(
    hass: HomeAssistant,
    garage: tuple[Charger, MockConfigEntry],
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The charger's own action fails: its message is the DR status's command error."""
    _, entry = garage

    async def stuck(_call: Any) -> None:
        raise HomeAssistantError("relay stuck")

    hass.services.async_register("input_boolean", "turn_off", stuck)
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, PAUSED_AT)
    status = hass.states.get(dr_entity(hass, entry, "sensor", "dr_status"))
    assert status is not None
    assert status.state == "command_failed"
    assert "relay stuck" in status.attributes["command_error"]


async def test_generic_charger_unavailable_mid_event_does_not_strand_it(
    hass: HomeAssistant,
    garage: tuple[Charger, MockConfigEntry],
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unavailable (its integration reloading) when the price falls: resumed once back."""
    driver, entry = garage
    status = dr_entity(hass, entry, "sensor", "dr_status")
    prices.set(0, 300, 90)
    await advance_to(hass, freezer, PAUSED_AT)
    hass.states.async_set("switch.garage_charger", STATE_UNAVAILABLE)
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert driver.relay_changes == ["off"]
    assert state(hass, status) == "paused"
    # Back: the template renders its switch again; the start is retried 5 minutes later.
    await hass.services.async_call(
        "homeassistant",
        "update_entity",
        {"entity_id": "switch.garage_charger"},
        blocking=True,
    )
    await advance_to(hass, freezer, at(15).replace(second=30))
    assert driver.relay_changes == ["off", "on"]
    assert state(hass, status) == "monitoring"


async def test_the_linked_car_keeps_its_device_an_unused_one_can_go(
    hass: HomeAssistant,
    garage: tuple[Charger, MockConfigEntry],
    device_registry: dr.DeviceRegistry,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """The device the car's DR entities are on is refused; another of the entry is deleted."""
    _, entry = garage
    assert await async_setup_component(hass, "config", {})
    client = await hass_ws_client(hass)
    source = entry.runtime_data.dr.source
    in_use = source.device_id(next(iter(source.cars)))
    assert in_use is not None
    response = await client.remove_device(in_use)
    assert not response["success"]
    assert device_registry.async_get(in_use) is not None

    unused = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, "old")},
        name="Old charger",
    )
    response = await client.remove_device(unused.id)
    assert response["success"]
    assert device_registry.async_get(unused.id) is None


async def test_a_failed_set_up_stops_following_the_car(
    hass: HomeAssistant,
    oasis: FakeOasis,
    charger: dict[Role, str],
    hass_storage: dict[str, Any],
) -> None:
    """DR data from a newer tesladr (a downgrade) fails the set-up; nothing keeps listening."""
    entry = linked_entry(SOURCE_GENERIC, charger[Role.SWITCH], None, charger)
    hass_storage[storage_key(ENTRY_ID)] = {
        "version": STORAGE_VERSION + 1,
        "minor_version": 1,
        "key": storage_key(ENTRY_ID),
        "data": {},
    }
    listening = hass.bus.async_listeners().get(er.EVENT_ENTITY_REGISTRY_UPDATED, 0)
    entry.add_to_hass(hass)
    assert not await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    assert (
        hass.bus.async_listeners().get(er.EVENT_ENTITY_REGISTRY_UPDATED, 0) == listening
    )
