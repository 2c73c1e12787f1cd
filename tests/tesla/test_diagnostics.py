"""Account diagnostics redact tokens, VINs, email and location."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.diagnostics import async_get_config_entry_diagnostics

from .conftest import CHARGING, EMAIL


async def test_account_diagnostics_redact(
    hass: HomeAssistant, account: MockConfigEntry
) -> None:
    """Useful for a bug report, with nothing that identifies the owner or the car."""
    result = await async_get_config_entry_diagnostics(hass, account)
    text = json.dumps(result, default=str)
    for secret in (CHARGING, EMAIL, "refresh-1", "access-1", "37.4419", "-122.143"):
        assert secret not in text
    assert result["entry"]["data"]["refresh_token"] == "**REDACTED**"
    cars = {car["name"]: car for car in result["vehicles"]}
    assert cars["Model 3"]["charger_power_kw"] == 7.0
    assert cars["Model 3"]["vin"] == "**REDACTED**"
    assert cars["Model Y"]["stale"] is True
    assert result["last_update_success"] is True
    assert "prices" not in result
