"""The prices options' grid signals: MOER region, Flex Alert, the owner's RIN and its search.

The RIN is checked by the real MidasClient against the fake MIDAS on 127.0.0.1.
"""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import (
    CONF_FLEX_ALERT,
    CONF_MOER_REGION,
    CONF_NODES,
    CONF_RIN,
    CONF_RIN_SEARCH,
    CONF_THRESHOLD,
    MOER_OFF,
)
from custom_components.tesladr.midas import FLEX_ALERT_RIN
from custom_components.tesladr.midas_coordinator import DATA_MIDAS
from tests.fake_midas import FakeMidas, fake_midas  # noqa: F401 - the fixture

from .conftest import NP15

RATE = "USCA-PGPG-ETOU-0000"
OTHER = "USCA-SCSC-TOUD-0000"


@pytest.fixture
def midas(fake_midas: FakeMidas) -> FakeMidas:  # noqa: F811
    """The fake with two retail rates listed."""
    fake_midas.add_rate(RATE, [], "E-TOU-C Residential")
    fake_midas.add_rate(OTHER, [], "TOU-D-PRIME")
    return fake_midas


def defaults(result: FlowResult) -> dict[str, Any]:
    schema = result["data_schema"].schema  # type: ignore[index]
    return {str(key): key.default() for key in schema if callable(key.default)}


def suggested(result: FlowResult) -> dict[str, Any]:
    schema = result["data_schema"].schema  # type: ignore[index]
    return {str(key): (key.description or {}).get("suggested_value") for key in schema}


def form(**extra: Any) -> dict[str, Any]:
    return {CONF_NODES: [NP15], CONF_THRESHOLD: 100, **extra}


async def open_options(hass: HomeAssistant, entry: MockConfigEntry) -> FlowResult:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    return result


async def test_defaults_come_from_the_home_utility_and_a_typed_rin_is_checked_once(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, midas: FakeMidas
) -> None:
    """Los Angeles is SCE: its MOER region is offered; the RIN is normalised and read once."""
    hass.config.latitude, hass.config.longitude = 34.05, -118.24
    result = await open_options(hass, loaded_entry)
    assert defaults(result)[CONF_MOER_REGION] == "SCE"
    assert defaults(result)[CONF_FLEX_ALERT] is True
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        form(**{CONF_RIN: " usca-pgpg-etou-0000 ", CONF_MOER_REGION: "PGE"}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.options == {
        CONF_NODES: [NP15],
        CONF_THRESHOLD: 100.0,
        CONF_MOER_REGION: "PGE",
        CONF_FLEX_ALERT: True,
        CONF_RIN: RATE,
    }
    assert midas.requests_for("values", RATE)[0].path == "/api/valuedata"
    # The reload took a share of the MIDAS feed with the chosen signals.
    assert hass.data[DATA_MIDAS].rins == {
        FLEX_ALERT_RIN,
        "USCA-SGIP-MOER-PGE",
        RATE,
    }
    assert await hass.config_entries.async_unload(loaded_entry.entry_id)
    assert DATA_MIDAS not in hass.data


async def test_a_home_without_an_sgip_region_defaults_to_off(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Outside CAISO (New York) there is no utility to take a region from."""
    hass.config.latitude, hass.config.longitude = 40.71, -74.0
    result = await open_options(hass, loaded_entry)
    assert defaults(result)[CONF_MOER_REGION] == MOER_OFF


async def test_no_signal_chosen_asks_midas_nothing(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, midas: FakeMidas
) -> None:
    result = await open_options(hass, loaded_entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        form(**{CONF_MOER_REGION: MOER_OFF, CONF_FLEX_ALERT: False}),
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert CONF_RIN not in loaded_entry.options
    assert DATA_MIDAS not in hass.data
    assert midas.requests == []


@pytest.mark.parametrize(
    ("rin", "fault", "errors", "placeholder"),
    [
        ("not a rin", None, {CONF_RIN: "invalid_rin"}, None),
        ("USCA-PGPG-NONE-0000", None, {CONF_RIN: "invalid_rin"}, None),
        (RATE, 400, {CONF_RIN: "invalid_rin"}, None),
        ("USCA-SGIP-SGRT-PGE", None, {CONF_RIN: "retired_rin"}, "USCA-SGIP-MOER-PGE"),
        ("USCA-XXXX-SGRT-PGE", 410, {CONF_RIN: "retired_rin"}, "-"),
        (RATE, "unavailable", {"base": "cannot_connect"}, None),
        (RATE, "malformed", {"base": "cannot_connect"}, None),
    ],
)
async def test_a_rin_midas_refuses_is_a_form_error(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    midas: FakeMidas,
    rin: str,
    fault: str | int | None,
    errors: dict[str, str],
    placeholder: str | None,
) -> None:
    """Nothing is saved; the form keeps what was typed, and a corrected RIN saves."""
    result = await open_options(hass, loaded_entry)
    if fault is not None:
        midas.fail_next(fault)  # type: ignore[arg-type]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(**{CONF_RIN: rin})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == errors
    if placeholder is not None:
        assert result["description_placeholders"]["replacement"] == placeholder  # type: ignore[index]
    assert suggested(result)[CONF_RIN] == rin
    assert CONF_RIN not in loaded_entry.options
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(**{CONF_RIN: RATE})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.options[CONF_RIN] == RATE


async def test_search_lists_matches_and_the_pick_is_saved(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, midas: FakeMidas
) -> None:
    """A query lists the matching rates; the list is fetched once per flow."""
    result = await open_options(hass, loaded_entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(**{CONF_RIN_SEARCH: "nothing like it"})
    )
    assert result["step_id"] == "init"
    assert result["errors"] == {CONF_RIN_SEARCH: "no_rates_found"}
    assert result["description_placeholders"]["query"] == "nothing like it"  # type: ignore[index]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(**{CONF_RIN_SEARCH: "e-tou"})
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "rin_pick"
    selector = result["data_schema"].schema[CONF_RIN]  # type: ignore[index]
    assert [option["value"] for option in selector.config["options"]] == [RATE]
    assert len(midas.requests_for("list")) == 1
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_RIN: RATE}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert loaded_entry.options[CONF_RIN] == RATE
    assert len(midas.requests_for("values", RATE)) >= 1


async def test_search_without_midas_is_a_form_error(
    hass: HomeAssistant, loaded_entry: MockConfigEntry, midas: FakeMidas
) -> None:
    result = await open_options(hass, loaded_entry)
    midas.fail_next("unavailable")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(**{CONF_RIN_SEARCH: "tou"})
    )
    assert result["step_id"] == "init"
    assert result["errors"] == {"base": "cannot_connect"}
    # The pick step is reached only through a search.
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], form(**{CONF_RIN_SEARCH: "tou"})
    )
    assert result["step_id"] == "rin_pick"
    flow = hass.config_entries.options._progress[result["flow_id"]]
    result = await flow.async_step_rin_pick(None)
    assert result["step_id"] == "init"
