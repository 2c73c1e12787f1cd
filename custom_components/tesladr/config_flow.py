"""Config flow for tesladr: one entry for CAISO prices, one per Tesla account."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN, ENTRY_TYPE_ACCOUNT, ENTRY_TYPE_PRICES


class TeslaDrConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for tesladr."""

    VERSION = 1

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose what to add."""
        return self.async_show_menu(
            step_id="user", menu_options=[ENTRY_TYPE_PRICES, ENTRY_TYPE_ACCOUNT]
        )
