"""The prices config flow: menu, form, errors, single instance, options and reconfigure."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.const import (
    CONF_ENTRY_TYPE,
    CONF_FLEX_ALERT,
    CONF_MOER_REGION,
    CONF_NODES,
    CONF_THRESHOLD,
    DOMAIN,
    ENTRY_TYPE_PRICES,
    MOER_OFF,
)
from tests.fake_oasis import FakeOasis, Fault

from .conftest import NP15, SP15, prices_entry

ZP26 = "TH_ZP26_GEN-APND"


async def test_user_menu_then_prices_form_creates_entry(
    hass: HomeAssistant, oasis: FakeOasis, setup_domain
) -> None:
    """The menu leads to a node form preselecting the node nearest home."""
    await setup_domain()
    hass.config.latitude, hass.config.longitude = 34.05, -118.24  # Los Angeles
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    # The account steps add their own option; the prices option comes first.
    assert result["menu_options"][0] == ENTRY_TYPE_PRICES
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "prices"
    schema = result["data_schema"].schema  # type: ignore[union-attr]
    defaults = {str(key): key.default() for key in schema}
    assert defaults[CONF_NODES] == [SP15]
    assert defaults[CONF_THRESHOLD] == 100.0
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [SP15, NP15], CONF_THRESHOLD: 150}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "CAISO prices"
    assert result["data"] == {CONF_ENTRY_TYPE: ENTRY_TYPE_PRICES}
    assert result["options"] == {CONF_NODES: [SP15, NP15], CONF_THRESHOLD: 150.0}
    await hass.async_block_till_done()
    assert hass.states.get("sensor.caiso_prices_sp15_hub_real_time_price") is not None


async def test_outside_caiso_home_defaults_to_np15(hass: HomeAssistant) -> None:
    """A home outside CAISO still gets a sensible default."""
    hass.config.latitude, hass.config.longitude = 40.71, -74.0  # New York
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    schema = result["data_schema"].schema  # type: ignore[union-attr]
    assert {str(key): key.default() for key in schema}[CONF_NODES] == [NP15]


async def test_empty_node_list_is_an_error_then_recovers(
    hass: HomeAssistant, oasis: FakeOasis, setup_domain
) -> None:
    """No node chosen → a translated form error; fixing it creates the entry."""
    await setup_domain()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [], CONF_THRESHOLD: 100}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_NODES: "no_nodes"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [NP15], CONF_THRESHOLD: 100}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


@pytest.mark.parametrize("fault", ["http_500", "corrupt", "html", 1001])
async def test_prices_step_checks_that_oasis_answers(
    hass: HomeAssistant, oasis: FakeOasis, setup_domain, fault: Fault
) -> None:
    """The chosen nodes are asked for once; a failing OASIS is a form error, then it works."""
    await setup_domain()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    oasis.fail_next(fault)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [SP15, NP15], CONF_THRESHOLD: 100}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    (check,) = oasis.requests
    assert check.market is Market.RTM
    assert sorted(check.nodes) == [NP15, SP15]
    assert not hass.config_entries.async_entries(DOMAIN)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [SP15, NP15], CONF_THRESHOLD: 100}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert oasis.requests[1].nodes == check.nodes


async def test_prices_step_when_oasis_is_unreachable(
    hass: HomeAssistant, oasis: FakeOasis, setup_domain
) -> None:
    """Nothing listening at the address: the same form error, and no entry."""
    await setup_domain()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    await oasis.stop()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [NP15], CONF_THRESHOLD: 100}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "cannot_connect"}
    assert not hass.config_entries.async_entries(DOMAIN)


async def test_prices_entry_is_found_by_its_unique_id(
    hass: HomeAssistant, oasis: FakeOasis, setup_domain
) -> None:
    """The flow gives the entry a fixed unique id, and a second flow aborts on it."""
    await setup_domain()
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [NP15], CONF_THRESHOLD: 100}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "caiso_prices"
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_second_prices_entry_aborts(hass: HomeAssistant) -> None:
    """Prices are a single instance."""
    prices_entry().add_to_hass(hass)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_PRICES}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "single_instance_allowed"


async def test_options_change_nodes_and_threshold_and_reload(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Options reload the entry with the new nodes and threshold."""
    result = await hass.config_entries.options.async_init(loaded_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_NODES: [], CONF_THRESHOLD: 80}
    )
    assert result["errors"] == {CONF_NODES: "no_nodes"}
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            CONF_NODES: [ZP26],
            CONF_THRESHOLD: 80,
            CONF_MOER_REGION: MOER_OFF,
            CONF_FLEX_ALERT: False,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.options == {
        CONF_NODES: [ZP26],
        CONF_THRESHOLD: 80.0,
        CONF_MOER_REGION: MOER_OFF,
        CONF_FLEX_ALERT: False,
    }
    state = hass.states.get("binary_sensor.caiso_prices_zp26_hub_price_above_threshold")
    assert state is not None and state.attributes["threshold"] == 80.0


async def test_reconfigure_changes_nodes(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Reconfigure edits the node list and keeps the threshold."""
    result = await loaded_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: []}
    )
    assert result["errors"] == {CONF_NODES: "no_nodes"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_NODES: [ZP26, NP15]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert loaded_entry.options[CONF_NODES] == [ZP26, NP15]
    assert loaded_entry.options[CONF_THRESHOLD] == 35.0
