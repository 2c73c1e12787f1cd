"""The developer-only YAML settings of the domain."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from custom_components.tesladr.const import DOMAIN
from custom_components.tesladr.price_coordinator import DATA_OASIS_URL


async def test_without_yaml_the_real_oasis_is_used(hass: HomeAssistant) -> None:
    """No `oasis_url` in YAML leaves the client on its default address."""
    assert await async_setup_component(hass, DOMAIN, {})
    assert DATA_OASIS_URL not in hass.data


async def test_yaml_oasis_url_is_kept(hass: HomeAssistant) -> None:
    """A fake's address from YAML is what the shared coordinator will use."""
    url = "http://127.0.0.1:8123/oasisapi/SingleZip"
    assert await async_setup_component(hass, DOMAIN, {DOMAIN: {"oasis_url": url}})
    assert hass.data[DATA_OASIS_URL] == url


async def test_yaml_rejects_a_non_url(hass: HomeAssistant) -> None:
    """A malformed address fails the domain's set-up instead of being used."""
    assert not await async_setup_component(
        hass, DOMAIN, {DOMAIN: {"oasis_url": "not a url"}}
    )
