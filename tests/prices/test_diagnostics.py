"""Diagnostics of the prices entry."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.diagnostics import async_get_config_entry_diagnostics

from .conftest import NP15, SP15


async def test_diagnostics(hass: HomeAssistant, loaded_entry: MockConfigEntry) -> None:
    """Nodes, request count and the newest prices, nothing secret."""
    result = await async_get_config_entry_diagnostics(hass, loaded_entry)
    assert result["entry"]["options"]["nodes"] == [NP15, SP15]
    prices = result["prices"]
    assert prices["nodes"] == [NP15, SP15]
    assert prices["owners"] == 1
    assert prices["requests_made"] == 1
    assert prices["feed_down"] is False
    assert prices["latest"][NP15] == {
        "start": "2026-07-01T19:55:00+00:00",
        "price": 39.55,
        "fresh": True,
    }


async def test_price_diagnostics_keys(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """What other entries' diagnostics include: the feed's state, nothing secret."""
    result = loaded_entry.runtime_data.coordinator.diagnostics()
    assert set(result) == {
        "nodes",
        "owners",
        "requests_made",
        "feed_down",
        "publication_lag",
        "last_update",
        "latest",
    }
    assert result["last_update"] == "2026-07-01T20:00:20+00:00"
    # One answer is no bracket yet: the default lag, and the next request from it.
    lag = result["publication_lag"]
    assert lag["lag_s"] == 15.0 and lag["learned"] is False
    assert lag["next_request"] == "2026-07-01T20:05:15+00:00"
