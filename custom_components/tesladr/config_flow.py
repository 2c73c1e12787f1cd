"""Config flow for tesladr: one entry for CAISO prices, one per Tesla account."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
)
import probatio

from .caiso import NODES
from .const import (
    CONF_ENTRY_TYPE,
    CONF_NODES,
    CONF_THRESHOLD,
    DEFAULT_THRESHOLD,
    DOMAIN,
    ENTRY_TYPE_PRICES,
)
from .prices import default_node

PRICES_UNIQUE_ID = "caiso_prices"
NODE_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[
            SelectOptionDict(value=node.name, label=f"{node.label} ({node.name})")
            for node in NODES.values()
        ],
        multiple=True,
    )
)
THRESHOLD_SELECTOR = NumberSelector(
    NumberSelectorConfig(
        min=-150,
        max=2000,
        step=1,
        unit_of_measurement="USD/MWh",
        mode=NumberSelectorMode.BOX,
    )
)


def _nodes_schema(nodes: list[str]) -> dict[probatio.Marker, Any]:
    return {probatio.Required(CONF_NODES, default=nodes): NODE_SELECTOR}


def _prices_schema(nodes: list[str], threshold: float) -> probatio.Schema:
    return probatio.Schema(
        {
            **_nodes_schema(nodes),
            probatio.Required(CONF_THRESHOLD, default=threshold): THRESHOLD_SELECTOR,
        }
    )


def _nodes_error(user_input: dict[str, Any]) -> dict[str, str]:
    return {} if user_input.get(CONF_NODES) else {CONF_NODES: "no_nodes"}


class TeslaDrConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for tesladr."""

    VERSION = 1

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options of the prices entry."""
        return PricesOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose what to add."""
        return self.async_show_menu(step_id="user", menu_options=[ENTRY_TYPE_PRICES])

    async def async_step_prices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the single CAISO prices entry."""
        # Account entries share the domain, so the manifest's single_config_entry can't
        # express "one prices entry"; look for one by its type instead.
        if any(
            existing.data.get(CONF_ENTRY_TYPE) == ENTRY_TYPE_PRICES
            for existing in self._async_current_entries(include_ignore=False)
        ):
            return self.async_abort(reason="single_instance_allowed")
        await self.async_set_unique_id(PRICES_UNIQUE_ID)
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (errors := _nodes_error(user_input)):
                return self.async_create_entry(
                    title="CAISO prices",
                    data={CONF_ENTRY_TYPE: ENTRY_TYPE_PRICES},
                    options={
                        CONF_NODES: user_input[CONF_NODES],
                        CONF_THRESHOLD: float(user_input[CONF_THRESHOLD]),
                    },
                )
        return self.async_show_form(
            step_id="prices",
            data_schema=self.add_suggested_values_to_schema(
                _prices_schema([default_node(self.hass)], DEFAULT_THRESHOLD), user_input
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the nodes of the prices entry."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (errors := _nodes_error(user_input)):
                return self.async_update_reload_and_abort(
                    entry, options={**entry.options, CONF_NODES: user_input[CONF_NODES]}
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=probatio.Schema(_nodes_schema(entry.options[CONF_NODES])),
            errors=errors,
        )


class PricesOptionsFlow(OptionsFlowWithReload):
    """Nodes and the "price above threshold" threshold of the prices entry."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (errors := _nodes_error(user_input)):
                return self.async_create_entry(
                    data={
                        CONF_NODES: user_input[CONF_NODES],
                        CONF_THRESHOLD: float(user_input[CONF_THRESHOLD]),
                    }
                )
        options = self.config_entry.options
        return self.async_show_form(
            step_id="init",
            data_schema=_prices_schema(
                options[CONF_NODES], options.get(CONF_THRESHOLD, DEFAULT_THRESHOLD)
            ),
            errors=errors,
        )
