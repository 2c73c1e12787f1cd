"""Options flows of tesladr: the prices entry (nodes, threshold, grid signals) and accounts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigFlowResult,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    TextSelector,
)
import probatio

from .config_flow import _nodes_error, _prices_schema
from .const import (
    CONF_FLEX_ALERT,
    CONF_MOER_REGION,
    CONF_NODES,
    CONF_NOTIFY_TARGET,
    CONF_POLLING_POLICY,
    CONF_RIN,
    CONF_RIN_SEARCH,
    CONF_THRESHOLD,
    CONF_VEHICLES,
    DEFAULT_POLLING_POLICY,
    DEFAULT_THRESHOLD,
    DOMAIN,
    LOGGER,
    MOER_OFF,
    POLLING_POLICIES,
)
from .grid_signals import async_check_rin, async_rate_list, default_region
from .midas import MOER_REGIONS, MidasError, RateListing, search_rates
from .notify_dr import notify_targets

MOER_REGION_SELECTOR = SelectSelector(
    SelectSelectorConfig(
        options=[
            SelectOptionDict(value=MOER_OFF, label="-"),
            *(
                SelectOptionDict(value=code, label=f"{name} ({code})")
                for code, name in MOER_REGIONS.items()
            ),
        ],
        translation_key=CONF_MOER_REGION,
    )
)
# The rate list is tens of thousands of entries: the search shows the first ones.
RIN_MATCHES_SHOWN = 50


class PricesOptionsFlow(OptionsFlowWithReload):
    """Nodes, threshold and California grid signals (MIDAS) of the prices entry.

    The owner's RIN is typed, or found by a search over MIDAS's rate list (step rin_pick);
    either way it is read from MIDAS once before the options are saved.
    """

    def __init__(self) -> None:
        """Nothing searched yet."""
        self._values: dict[str, Any] = {}
        self._rates: list[RateListing] | None = None

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the options; search the rate list, or check the RIN and save."""
        if user_input is None:
            return self._show_init({}, {})
        self._values = dict(user_input)
        if errors := _nodes_error(user_input):
            return self._show_init(errors, {})
        if query := str(user_input.get(CONF_RIN_SEARCH) or "").strip():
            return await self._async_search(query)
        return await self._async_save()

    async def async_step_rin_pick(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The owner picked a rate among the search's matches."""
        if user_input is None:  # the form is shown by the search only
            return self._show_init({}, {})
        self._values[CONF_RIN] = user_input[CONF_RIN]
        return await self._async_save()

    async def _async_search(self, query: str) -> ConfigFlowResult:
        if self._rates is None:
            try:
                self._rates = await async_rate_list(self.hass)
            except MidasError as err:
                LOGGER.debug("MIDAS did not answer the rate list: %s", err)
                return self._show_init({"base": "cannot_connect"}, {})
        if not (found := search_rates(self._rates, query, RIN_MATCHES_SHOWN)):
            return self._show_init(
                {CONF_RIN_SEARCH: "no_rates_found"}, {"query": query}
            )
        return self.async_show_form(
            step_id="rin_pick",
            data_schema=probatio.Schema(
                {
                    probatio.Required(CONF_RIN, default=found[0].rin): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(
                                    value=rate.rin,
                                    label=f"{rate.description} ({rate.rin})",
                                )
                                for rate in found
                            ]
                        )
                    )
                }
            ),
            description_placeholders={"query": query, "count": str(len(found))},
        )

    async def _async_save(self) -> ConfigFlowResult:
        values = self._values
        options: dict[str, Any] = {
            CONF_NODES: values[CONF_NODES],
            CONF_THRESHOLD: float(values[CONF_THRESHOLD]),
            CONF_MOER_REGION: values.get(CONF_MOER_REGION, MOER_OFF),
            CONF_FLEX_ALERT: bool(values.get(CONF_FLEX_ALERT, False)),
        }
        if text := str(values.get(CONF_RIN) or "").strip():
            rin, errors, placeholders = await async_check_rin(self.hass, text)
            if errors:
                return self._show_init(errors, placeholders)
            options[CONF_RIN] = rin
        return self.async_create_entry(data=options)

    def _show_init(
        self, errors: dict[str, str], placeholders: dict[str, str]
    ) -> ConfigFlowResult:
        options = self.config_entry.options
        schema = probatio.Schema(
            {
                **_prices_schema(
                    options[CONF_NODES], options.get(CONF_THRESHOLD, DEFAULT_THRESHOLD)
                ).schema,
                probatio.Required(
                    CONF_MOER_REGION,
                    default=options.get(CONF_MOER_REGION, default_region(self.hass)),
                ): MOER_REGION_SELECTOR,
                probatio.Required(
                    CONF_FLEX_ALERT, default=options.get(CONF_FLEX_ALERT, True)
                ): BooleanSelector(),
                probatio.Optional(CONF_RIN): TextSelector(),
                probatio.Optional(CONF_RIN_SEARCH): TextSelector(),
            }
        )
        # What the owner typed comes back (the search query does not: it was spent).
        suggested = {CONF_RIN: options.get(CONF_RIN, "")} | {
            key: value for key, value in self._values.items() if key != CONF_RIN_SEARCH
        }
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, suggested),
            errors=errors,
            description_placeholders={"query": "", "replacement": "", **placeholders},
        )


def _notify_field(
    hass: HomeAssistant, options: Mapping[str, Any]
) -> dict[Any, SelectSelector]:
    """The optional notify target of a car entry, as a schema's field."""
    # The mobile app's notify service carries the Skip action; the notify entities do not,
    # hence services beside entities.
    return {
        probatio.Optional(
            CONF_NOTIFY_TARGET,
            description={"suggested_value": options.get(CONF_NOTIFY_TARGET)},
        ): SelectSelector(
            SelectSelectorConfig(options=notify_targets(hass), custom_value=True)
        )
    }


class LinkedOptionsFlow(OptionsFlowWithReload):
    """The notify target of a car another integration provides.

    Its DR settings are its entities; where to tell the owner is Home Assistant's side, so an
    option, as for an account's cars.
    """

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the notify target (none if left empty)."""
        if user_input is not None:
            notify = user_input.get(CONF_NOTIFY_TARGET)
            return self.async_create_entry(
                data={CONF_NOTIFY_TARGET: notify} if notify else {}
            )
        return self.async_show_form(
            step_id="linked_options",
            data_schema=probatio.Schema(
                _notify_field(self.hass, self.config_entry.options)
            ),
        )

    async def async_step_linked_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The form's step id; the same as init."""
        return await self.async_step_init(user_input)


class AccountOptionsFlow(OptionsFlowWithReload):
    """Polling policy, and which cars of an account tesladr manages.

    No polling interval: Home Assistant does not let users configure one (an owner who wants
    another pace turns polling off and calls `homeassistant.update_entity`).
    """

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the options."""
        if user_input is not None:
            notify = user_input.get(CONF_NOTIFY_TARGET)
            return self.async_create_entry(
                data={
                    CONF_POLLING_POLICY: user_input[CONF_POLLING_POLICY],
                    CONF_VEHICLES: list(user_input[CONF_VEHICLES]),
                    **({CONF_NOTIFY_TARGET: notify} if notify else {}),
                }
            )
        options = self.config_entry.options
        if not (cars := self._known_cars()):
            return self.async_abort(reason="no_cars_known")
        return self.async_show_form(
            step_id="account_options",
            data_schema=probatio.Schema(
                {
                    probatio.Required(
                        CONF_POLLING_POLICY,
                        default=options.get(
                            CONF_POLLING_POLICY, DEFAULT_POLLING_POLICY
                        ),
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=POLLING_POLICIES,
                            translation_key=CONF_POLLING_POLICY,
                        )
                    ),
                    probatio.Required(
                        CONF_VEHICLES, default=options.get(CONF_VEHICLES, list(cars))
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=[
                                SelectOptionDict(value=vin, label=name)
                                for vin, name in cars.items()
                            ],
                            multiple=True,
                        )
                    ),
                    **_notify_field(self.hass, options),
                }
            ),
        )

    async def async_step_account_options(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The form's step id; the same as init."""
        return await self.async_step_init(user_input)

    def _known_cars(self) -> dict[str, str]:
        """VIN → name of the account's cars, also while the entry is not loaded.

        During reauth or after a failed set-up there is no runtime data; the chosen VINs and the
        cars' devices still say which cars there are (cars never read lack a name).
        """
        entry = self.config_entry
        if entry.state is ConfigEntryState.LOADED:
            names: dict[str, str] = entry.runtime_data.coordinator.control.names
            return dict(names)
        cars = {vin: vin[-6:] for vin in entry.options.get(CONF_VEHICLES, [])}
        for device in dr.async_entries_for_config_entry(
            dr.async_get(self.hass), entry.entry_id
        ):
            for domain, vin in device.identifiers:
                if domain == DOMAIN:
                    cars[vin] = device.name_by_user or device.name or vin[-6:]
        return cars
