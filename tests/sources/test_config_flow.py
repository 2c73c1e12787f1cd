"""Adding a car from another integration, or any charger switch, from the UI."""

from __future__ import annotations

from collections.abc import Generator
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import DOMAIN
from custom_components.tesladr.sources import Role, async_find_car_entities

from .cars import LinkedCar

CARS = [
    "fleet_car",
    "teslemetry_car",
    "teslemetry_streaming_car",
    "tessie_car",
    "custom_car",
]


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Generator[AsyncMock]:
    """Linked entries are set up by code outside this flow."""
    with patch(
        "custom_components.tesladr.async_setup_entry", return_value=True
    ) as setup:
        yield setup


@pytest.fixture(params=CARS)
def car(request: pytest.FixtureRequest) -> LinkedCar:
    """Each integration's car in turn."""
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


async def _menu(hass: HomeAssistant, step: str) -> str:
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert step in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    return result["flow_id"]


async def test_linked_car(hass: HomeAssistant, car: LinkedCar) -> None:
    """The car's device becomes an entry holding its entities' registry ids."""
    flow_id = await _menu(hass, "linked_car")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"device_id": car.device_id}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Test Model 3"
    source, entities = async_find_car_entities(hass, car.device_id)
    assert result["data"] == {
        "entry_type": "linked",
        "source": car.integration,
        "device_id": car.device_id,
        "entities": {role.value: registry_id for role, registry_id in entities.items()},
    }
    assert source == car.integration
    assert result["result"].unique_id == car.device_id


async def test_linked_car_title_is_the_users_name(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """A device renamed by its owner keeps that name as the entry's title."""
    dr.async_get(hass).async_update_device(fleet_car.device_id, name_by_user="Blue car")
    flow_id = await _menu(hass, "linked_car")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"device_id": fleet_car.device_id}
    )
    assert result["title"] == "Blue car"


async def test_linked_car_disabled_entity(hass: HomeAssistant, car: LinkedCar) -> None:
    """A disabled charging-state entity is named in the form's error."""
    _, entities = async_find_car_entities(hass, car.device_id)
    registry = er.async_get(hass)
    entry = registry.async_get(entities[Role.CHARGING_STATE])
    assert entry is not None
    registry.async_update_entity(
        entry.entity_id, disabled_by=er.RegistryEntryDisabler.USER
    )

    flow_id = await _menu(hass, "linked_car")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"device_id": car.device_id}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "disabled_entity"}
    assert result["description_placeholders"] == {"entity": "Charging"}

    registry.async_update_entity(entry.entity_id, disabled_by=None)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"device_id": car.device_id}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_linked_car_missing_switch(
    hass: HomeAssistant, tessie_car: LinkedCar
) -> None:
    """A car without a charge switch is named as missing."""
    _, entities = async_find_car_entities(hass, tessie_car.device_id)
    registry = er.async_get(hass)
    entry = registry.async_get(entities[Role.SWITCH])
    assert entry is not None
    registry.async_remove(entry.entity_id)

    flow_id = await _menu(hass, "linked_car")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"device_id": tessie_car.device_id}
    )
    assert result["errors"] == {"base": "missing_entity"}
    assert result["description_placeholders"] == {"entity": "Charge"}


async def test_linked_car_already_configured(
    hass: HomeAssistant, fleet_car: LinkedCar
) -> None:
    """The same car twice is refused."""
    MockConfigEntry(
        domain=DOMAIN,
        unique_id=fleet_car.device_id,
        data={"entry_type": "linked"},
    ).add_to_hass(hass)
    flow_id = await _menu(hass, "linked_car")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"device_id": fleet_car.device_id}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("charger")
async def test_charger(hass: HomeAssistant) -> None:
    """Any switch, with the optional entities picked, becomes a generic entry."""
    registry = er.async_get(hass)
    picked = {
        "switch": "switch.garage_charger",
        "charger_power": "sensor.charger_power",
        "plugged_in": "binary_sensor.charger_plug",
        "battery": "sensor.ev_battery",
    }
    flow_id = await _menu(hass, "charger")
    result = await hass.config_entries.flow.async_configure(flow_id, picked)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Garage charger"
    switch = registry.async_get("switch.garage_charger")
    assert switch is not None
    assert result["result"].unique_id == switch.id
    expected = {}
    for role, entity_id in picked.items():
        entry = registry.async_get(entity_id)
        assert entry is not None
        expected[role] = entry.id
    assert result["data"] == {
        "entry_type": "linked",
        "source": "generic",
        "device_id": None,
        "entities": expected,
    }


@pytest.mark.usefixtures("charger")
async def test_charger_switch_only_and_twice(hass: HomeAssistant) -> None:
    """The switch alone is enough; the same switch twice is refused."""
    flow_id = await _menu(hass, "charger")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"switch": "switch.garage_charger"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert set(result["data"]["entities"]) == {"switch"}

    flow_id = await _menu(hass, "charger")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"switch": "switch.garage_charger"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("charger")
async def test_charger_entity_without_unique_id(hass: HomeAssistant) -> None:
    """An entity outside the registry cannot be followed through renames: named error."""
    hass.states.async_set("sensor.yaml_power", "1200", {"device_class": "power"})
    flow_id = await _menu(hass, "charger")
    result = await hass.config_entries.flow.async_configure(
        flow_id,
        {"switch": "switch.garage_charger", "charger_power": "sensor.yaml_power"},
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"charger_power": "not_in_registry"}
    assert result["description_placeholders"] == {"entity": "sensor.yaml_power"}
