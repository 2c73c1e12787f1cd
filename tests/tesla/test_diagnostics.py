"""Account diagnostics redact tokens, VINs, email and location."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.diagnostics import async_get_config_entry_diagnostics

from .conftest import CHARGING, EMAIL, SLEEPING


async def test_account_diagnostics_redact(
    hass: HomeAssistant, account: MockConfigEntry
) -> None:
    """Useful for a bug report, with nothing that identifies the owner or the car."""
    # The account options name the managed cars by VIN.
    hass.config_entries.async_update_entry(
        account, options={**account.options, "vehicles": [CHARGING, SLEEPING]}
    )
    result = await async_get_config_entry_diagnostics(hass, account)
    text = json.dumps(result, default=str)
    for secret in (
        CHARGING,
        CHARGING[-6:],
        SLEEPING,
        SLEEPING[-6:],
        "tesladr-tests",
        EMAIL,
        "refresh-1",
        "access-1",
        "37.4419",
        "-122.143",
    ):
        assert secret not in text
    assert result["entry"]["data"]["refresh_token"] == "**REDACTED**"
    assert result["entry"]["data"]["api_proxy_url"] == "**REDACTED**"
    assert result["entry"]["data"]["client_id"] == "**REDACTED**"
    assert result["entry"]["options"]["vehicles"] == "**REDACTED**"
    cars = {car["name"]: car for car in result["vehicles"]}
    assert cars["Model 3"]["charger_power_kw"] == 7.0
    assert cars["Model 3"]["vin"] == "**REDACTED**"
    assert cars["Model Y"]["stale"] is True
    assert result["last_update_success"] is True
    # Under the default policy no car is read at each price while prices are calm, and the
    # account is listed every 8 hours.
    assert result["reads"]["on_demand"] is True
    assert result["reads"]["update_interval_s"] == 8 * 3600
    assert result["reads"]["cars_read_at_each_price"] == 0
    assert result["reads"]["last_list"] is not None
    # The account shares the price feed and reports it, with its DR state per car.
    # The sleeping car was never read: it is priced at the home location (the test home
    # is San Diego, SP15).
    assert result["prices"]["nodes"] == ["TH_NP15_GEN-APND", "TH_SP15_GEN-APND"]
    dr_cars = result["demand_response"]["cars"]
    assert [car["status"] for car in dr_cars] == ["monitoring", "monitoring"]
    assert dr_cars[0]["decisions"][-1]["reason"] == "price_below_threshold"
