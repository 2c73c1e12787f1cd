"""Set-up of the "CAISO prices" entry."""

from __future__ import annotations

from dataclasses import dataclass, field

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.update_coordinator import UpdateFailed

from .caiso import DEFAULT_NODE, nearest_node
from .const import CONF_NODES, CONF_THRESHOLD, DEFAULT_THRESHOLD, DOMAIN
from .grid_signals import (
    GRID_DEVICE,
    GridSignals,
    async_setup_grid_signals,
    async_unload_grid_signals,
)
from .midas_coordinator import MidasCoordinator
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
    # The California grid signals the options choose, and the MIDAS feed when any is chosen.
    signals: GridSignals = field(default_factory=GridSignals)
    midas: MidasCoordinator | None = None


def node_identifier(node: str) -> tuple[str, str]:
    """The device identifier of a node's "CAISO prices" device."""
    return (DOMAIN, f"node_{node}")


def nodes_in_use(entry: ConfigEntry) -> set[tuple[str, str]]:
    """Device identifiers of the nodes the entry's options choose, and its grid signals'."""
    nodes = {node_identifier(node) for node in entry.options.get(CONF_NODES, [])}
    return (
        nodes | {GRID_DEVICE}
        if GridSignals.from_options(entry.options).chosen
        else nodes
    )


def default_node(hass: HomeAssistant) -> str:
    """The node nearest Home Assistant's home, or NP15 when home is outside CAISO."""
    node = nearest_node(hass.config.latitude, hass.config.longitude)
    return node.name if node else DEFAULT_NODE


async def async_setup_prices(
    hass: HomeAssistant, entry: ConfigEntry
) -> PricesRuntimeData:
    """Acquire the shared price coordinator for this entry's nodes."""
    nodes = list(entry.options.get(CONF_NODES) or [default_node(hass)])
    # Options and reconfigure reload the entry: a node taken out loses its device here.
    registry = dr.async_get(hass)
    wanted = {node_identifier(node) for node in nodes} | nodes_in_use(entry)
    for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
        if not device.identifiers & wanted:
            registry.async_remove_device(device.id)
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
        coordinator,
        nodes,
        float(entry.options.get(CONF_THRESHOLD, DEFAULT_THRESHOLD)),
        GridSignals.from_options(entry.options),
        await async_setup_grid_signals(hass, entry),
    )


async def async_unload_prices(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Release this entry's share of the price and MIDAS coordinators."""
    async_release_price_coordinator(hass, entry.entry_id)
    async_unload_grid_signals(hass, entry)
