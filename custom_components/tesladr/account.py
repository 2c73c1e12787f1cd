"""Set-up of a Tesla account entry (owner: Tesla account work)."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant


@dataclass(slots=True)
class AccountRuntimeData:
    """What an account entry holds while loaded."""


async def async_setup_account(
    hass: HomeAssistant, entry: ConfigEntry
) -> AccountRuntimeData:
    """Connect to the Tesla account and start its vehicle coordinator."""
    return AccountRuntimeData()


async def async_unload_account(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Stop the account's coordinator and demand response."""
