"""tesladr is set up from the UI only: YAML for its domain is refused as core refuses it."""

from __future__ import annotations

from homeassistant.core import DOMAIN as HOMEASSISTANT_DOMAIN, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest

from custom_components.tesladr.caiso import DEFAULT_BASE_URL
from custom_components.tesladr.const import DOMAIN
from custom_components.tesladr.price_coordinator import DATA_PRICES, async_oasis_client

ISSUE = f"config_entry_only_{DOMAIN}"


async def test_yaml_is_refused_with_a_repair_issue(
    hass: HomeAssistant,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A `tesladr:` section logs an error and raises core's repair issue; it sets nothing."""
    url = "http://127.0.0.1:8124/oasisapi/SingleZip"
    assert await async_setup_component(hass, DOMAIN, {DOMAIN: {"oasis_url": url}})

    assert "The tesladr integration does not support YAML setup" in caplog.text
    issue = issue_registry.async_get_issue(HOMEASSISTANT_DOMAIN, ISSUE)
    assert issue is not None
    assert issue.translation_key == "config_entry_only"
    # The services still come from async_setup; the address given is not used anywhere.
    assert hass.services.has_service(DOMAIN, "skip_event")
    assert DATA_PRICES not in hass.data
    assert str(async_oasis_client(hass)._base_url) == DEFAULT_BASE_URL


async def test_without_yaml_there_is_no_issue(
    hass: HomeAssistant, issue_registry: ir.IssueRegistry
) -> None:
    """Set up as the UI does, without YAML: no repair issue."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert issue_registry.async_get_issue(HOMEASSISTANT_DOMAIN, ISSUE) is None
