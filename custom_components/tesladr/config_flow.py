"""Config flow for tesladr: one entry for CAISO prices, one per Tesla account."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, override

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import CONF_EMAIL
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.selector import (
    DeviceFilterSelectorConfig,
    DeviceSelector,
    DeviceSelectorConfig,
    EntityFilterSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    EntityWithDeviceFilterSelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
)
from homeassistant.util import dt as dt_util
import probatio

from .account_form import (
    PASSWORD,
    _account_schema,
    _flatten,
    _form_values,
    _has_proxy,
    _validate_account,
)
from .caiso import INTERVAL, NODES, Market, OasisError
from .const import (
    CONF_ACCESS_TOKEN,
    CONF_DEVICE_ID,
    CONF_ENTITIES,
    CONF_ENTRY_TYPE,
    CONF_EXPIRATION,
    CONF_NODES,
    CONF_REFRESH_TOKEN,
    CONF_SOURCE,
    CONF_THRESHOLD,
    DEFAULT_THRESHOLD,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ENTRY_TYPE_ACCOUNT,
    ENTRY_TYPE_LINKED,
    ENTRY_TYPE_PRICES,
    LOGGER,
)
from .identity import async_adopt_account_id
from .price_coordinator import async_oasis_client
from .prices import default_node
from .sources import (
    SOURCE_DOMAINS,
    SOURCE_GENERIC,
    MissingEntityError,
    Role,
    async_find_car_entities,
)

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


# The last few 5-minute intervals: a small answer, and one OASIS has (or has just published).
OASIS_CHECK_SPAN = 3 * INTERVAL


async def _oasis_error(hass: HomeAssistant, nodes: list[str]) -> dict[str, str]:
    """Ask OASIS once for the chosen nodes' latest prices; the form errors when it fails."""
    end = dt_util.utcnow()
    try:
        await async_oasis_client(hass).fetch(
            Market.RTM, nodes, end - OASIS_CHECK_SPAN, end
        )
    except OasisError as err:
        LOGGER.debug("CAISO OASIS did not answer the set-up check: %s", err)
        return {"base": "cannot_connect"}
    return {}


LINKED_CAR_SCHEMA = probatio.Schema(
    {
        probatio.Required(CONF_DEVICE_ID): DeviceSelector(
            DeviceSelectorConfig(
                filter=[
                    DeviceFilterSelectorConfig(integration=domain)
                    for domain in SOURCE_DOMAINS
                ],
                entity=[EntityFilterSelectorConfig(domain="switch")],
            )
        )
    }
)


def _entity_selector(domain: str, device_class: str | None = None) -> EntitySelector:
    entity_filter = EntityWithDeviceFilterSelectorConfig(domain=domain)
    if device_class is not None:
        entity_filter["device_class"] = device_class
    return EntitySelector(EntitySelectorConfig(filter=entity_filter))


CHARGER_SCHEMA = probatio.Schema(
    {
        probatio.Required(Role.SWITCH.value): _entity_selector("switch"),
        probatio.Optional(Role.CHARGER_POWER.value): _entity_selector(
            "sensor", "power"
        ),
        probatio.Optional(Role.PLUGGED_IN.value): _entity_selector(
            "binary_sensor", "plug"
        ),
        probatio.Optional(Role.BATTERY.value): _entity_selector("sensor", "battery"),
        probatio.Optional(Role.LOCATION.value): _entity_selector("device_tracker"),
    }
)
CHARGER_ROLES = (
    Role.SWITCH,
    Role.CHARGER_POWER,
    Role.PLUGGED_IN,
    Role.BATTERY,
    Role.LOCATION,
)


def _linked_data(
    source: str, device_id: str | None, entities: Mapping[Role, str]
) -> dict[str, Any]:
    return {
        CONF_ENTRY_TYPE: ENTRY_TYPE_LINKED,
        CONF_SOURCE: source,
        CONF_DEVICE_ID: device_id,
        CONF_ENTITIES: {
            role.value: registry_id for role, registry_id in entities.items()
        },
    }


class TeslaDrConfigFlow(ConfigFlow, domain=DOMAIN):
    """Handle a config flow for tesladr."""

    VERSION = 1
    # 1.2: an account entry's unique id is the Tesla account's id, no longer the e-mail.
    # Older entries take it at their next token refresh (identity.async_adopt_account_id).
    # 1.3: no polling interval option (async_migrate_entry drops it).
    MINOR_VERSION = ENTRY_MINOR_VERSION

    @staticmethod
    @callback
    @override
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Options differ between the prices entry, account entries and linked cars."""
        # options_flow builds on this module's schemas: imported when first asked for.
        from .options_flow import (
            AccountOptionsFlow,
            LinkedOptionsFlow,
            PricesOptionsFlow,
        )

        if config_entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_PRICES:
            return PricesOptionsFlow()
        if config_entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_LINKED:
            return LinkedOptionsFlow()
        return AccountOptionsFlow()

    async def async_step_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a Tesla account: email, refresh token, and the Fleet API proxy if used."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        if user_input is not None:
            data, account, errors = await _validate_account(
                self.hass, _flatten(user_input)
            )
            if not errors:
                # The same account under another spelling of its e-mail is still the same.
                await self.async_set_unique_id(account)
                self._abort_if_unique_id_configured()
                return self.async_create_entry(title=data[CONF_EMAIL], data=data)
            values = _form_values(data)
        return self.async_show_form(
            step_id="account",
            data_schema=self.add_suggested_values_to_schema(
                _account_schema(with_email=True, proxy=_has_proxy(values)),
                values,
            ),
            errors=errors,
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Tesla refused the stored tokens."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for a new refresh token."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            data = {
                **entry.data,
                CONF_REFRESH_TOKEN: user_input[CONF_REFRESH_TOKEN].strip(),
                CONF_ACCESS_TOKEN: None,
                CONF_EXPIRATION: 0,
            }
            data, account, errors = await _validate_account(self.hass, data)
            if not errors:
                return await self._async_update_account(entry, account, data)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=probatio.Schema(
                {probatio.Required(CONF_REFRESH_TOKEN): PASSWORD}
            ),
            description_placeholders={"email": entry.data[CONF_EMAIL]},
            errors=errors,
        )

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Let the user choose what to add."""
        return self.async_show_menu(
            step_id="user",
            menu_options=[
                ENTRY_TYPE_PRICES,
                ENTRY_TYPE_ACCOUNT,
                "linked_car",
                "charger",
            ],
        )

    async def async_step_linked_car(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add a car that Tesla Fleet, Teslemetry, Tessie or Tesla Custom provides."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            device_id = user_input[CONF_DEVICE_ID]
            try:
                source, entities = async_find_car_entities(self.hass, device_id)
            except MissingEntityError as err:
                errors["base"] = "disabled_entity" if err.disabled else "missing_entity"
                placeholders["entity"] = err.name
            else:
                await self.async_set_unique_id(device_id)
                self._abort_if_unique_id_configured()
                device = dr.async_get(self.hass).async_get(device_id)
                return self.async_create_entry(
                    title=(device and (device.name_by_user or device.name)) or source,
                    data=_linked_data(source, device_id, entities),
                )
        return self.async_show_form(
            step_id="linked_car",
            data_schema=self.add_suggested_values_to_schema(
                LINKED_CAR_SCHEMA, user_input
            ),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_charger(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add any charger switch, with optional power, plug, battery and location."""
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None:
            registry = er.async_get(self.hass)
            picked: dict[Role, er.RegistryEntry] = {}
            for role in CHARGER_ROLES:
                if not (entity_id := user_input.get(role)):
                    continue
                if (entry := registry.async_get(entity_id)) is None:
                    # Without a registry entry a rename would lose the entity.
                    errors[role] = "not_in_registry"
                    placeholders["entity"] = entity_id
                    continue
                picked[role] = entry
            if not errors:
                switch = picked[Role.SWITCH]
                await self.async_set_unique_id(switch.id)
                self._abort_if_unique_id_configured()
                state = self.hass.states.get(switch.entity_id)
                return self.async_create_entry(
                    title=state.name if state else switch.entity_id,
                    data=_linked_data(
                        SOURCE_GENERIC,
                        switch.device_id,
                        {role: entry.id for role, entry in picked.items()},
                    ),
                )
        return self.async_show_form(
            step_id="charger",
            data_schema=self.add_suggested_values_to_schema(CHARGER_SCHEMA, user_input),
            errors=errors,
            description_placeholders=placeholders,
        )

    async def async_step_prices(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add the single CAISO prices entry."""
        # Account entries share the domain, so the manifest's single_config_entry can't
        # express "one prices entry"; the prices entry's fixed unique id does.
        await self.async_set_unique_id(PRICES_UNIQUE_ID)
        self._abort_if_unique_id_configured(error="single_instance_allowed")
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = _nodes_error(user_input) or await _oasis_error(
                self.hass, user_input[CONF_NODES]
            )
            if not errors:
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
        """Change the nodes of the prices entry, or an account's token and proxy."""
        entry = self._get_reconfigure_entry()
        if entry.data[CONF_ENTRY_TYPE] == ENTRY_TYPE_ACCOUNT:
            return await self.async_step_reconfigure_account(user_input)
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

    async def async_step_reconfigure_account(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change an account's refresh token or Fleet API proxy settings."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        values = _form_values(entry.data)
        if user_input is not None:
            data = {**_flatten(user_input), CONF_EMAIL: entry.data[CONF_EMAIL]}
            data, account, errors = await _validate_account(self.hass, data)
            if not errors:
                return await self._async_update_account(entry, account, data)
            values = _form_values(data)
        return self.async_show_form(
            step_id="reconfigure_account",
            data_schema=self.add_suggested_values_to_schema(
                _account_schema(with_email=False, proxy=_has_proxy(values)),
                values,
            ),
            errors=errors,
        )

    async def _async_update_account(
        self, entry: ConfigEntry, account: str, data: dict[str, Any]
    ) -> ConfigFlowResult:
        """Store new credentials of the entry's own account; refuse another account's."""
        # An entry made before account ids were known takes the account of its new token.
        async_adopt_account_id(self.hass, entry, account)
        await self.async_set_unique_id(account)
        self._abort_if_unique_id_mismatch(
            reason="wrong_account",
            description_placeholders={"email": entry.data[CONF_EMAIL]},
        )
        return self.async_update_reload_and_abort(entry, data=data)
