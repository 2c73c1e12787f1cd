"""Set-up of the "CAISO prices" entry."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.update_coordinator import UpdateFailed

from .caiso import DEFAULT_NODE, nearest_node
from .const import CONF_NODES, CONF_THRESHOLD, DEFAULT_THRESHOLD, DOMAIN
from .price_coordinator import (
    CaisoPriceCoordinator,
    async_acquire_price_coordinator,
    async_release_price_coordinator,
)


@dataclass(slots=True)
class PricesRuntimeData:
    """What a prices entry holds while loaded."""

    coordinator: CaisoPriceCoordinator
    nodes: list[str]
    threshold: float


def default_node(hass: HomeAssistant) -> str:
    """The node nearest Home Assistant's home, or NP15 when home is outside CAISO."""
    node = nearest_node(hass.config.latitude, hass.config.longitude)
    return node.name if node else DEFAULT_NODE


async def async_setup_prices(
    hass: HomeAssistant, entry: ConfigEntry
) -> PricesRuntimeData:
    """Acquire the shared price coordinator for this entry's nodes."""
    nodes = list(entry.options.get(CONF_NODES) or [default_node(hass)])
    try:
        coordinator = await async_acquire_price_coordinator(
            hass, entry.entry_id, set(nodes)
        )
    except UpdateFailed as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="oasis_unavailable",
            translation_placeholders={"error": str(err)},
        ) from err
    return PricesRuntimeData(
        coordinator, nodes, float(entry.options.get(CONF_THRESHOLD, DEFAULT_THRESHOLD))
    )


async def async_unload_prices(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Release this entry's share of the price coordinator."""
    async_release_price_coordinator(hass, entry.entry_id)
