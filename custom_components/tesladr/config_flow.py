"""Config flow for tesladr: one entry for CAISO prices, one per Tesla account."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback

from .const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_ACCOUNT, ENTRY_TYPE_PRICES


class TeslaDrConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for tesladr."""

    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options differ between the prices entry and account entries."""
        if config_entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
            return PricesOptionsFlow()
        return AccountOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose what to add."""
        return self.async_show_menu(
            step_id="user", menu_options=[ENTRY_TYPE_PRICES, ENTRY_TYPE_ACCOUNT]
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Reconfigure the entry this flow was started for."""
        if self._get_reconfigure_entry().data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
            return await self.async_step_reconfigure_prices()
        return await self.async_step_reconfigure_account()

    # --- CAISO prices (owner: price feed work) ---

    async def async_step_prices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the single CAISO prices entry."""
        raise NotImplementedError

    async def async_step_reconfigure_prices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the nodes of the prices entry."""
        raise NotImplementedError

    # --- Tesla account (owner: Tesla account work) ---

    async def async_step_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a Tesla account."""
        raise NotImplementedError

    async def async_step_reconfigure_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the token or proxy settings of an account."""
        raise NotImplementedError


class PricesOptionsFlow(OptionsFlow):
    """Options of the prices entry (owner: price feed work)."""


class AccountOptionsFlow(OptionsFlow):
    """Options of an account entry (owner: Tesla account work)."""
