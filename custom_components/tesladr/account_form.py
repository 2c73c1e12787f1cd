"""The Tesla account form of the config flow: its schema, values and the check of a token."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.const import CONF_EMAIL
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)
import probatio

from .account import ProxyCertError, async_create_controller
from .const import (
    CONF_ACCESS_TOKEN,
    CONF_ADVANCED,
    CONF_API_PROXY_CERT,
    CONF_API_PROXY_URL,
    CONF_AUTH_DOMAIN,
    CONF_CLIENT_ID,
    CONF_ENTRY_TYPE,
    CONF_EXPIRATION,
    CONF_REFRESH_TOKEN,
    DEFAULT_AUTH_DOMAIN,
    DEFAULT_CLIENT_ID,
    ENTRY_TYPE_ACCOUNT,
)
from .identity import account_id
from .vehicles import (
    VehicleAuthError,
    VehicleError,
    VehicleForbiddenError,
    VehicleRateLimitedError,
)
from .vehicles.tesla import TeslaChargeControl

ADVANCED_KEYS = (
    CONF_AUTH_DOMAIN,
    CONF_API_PROXY_URL,
    CONF_API_PROXY_CERT,
    CONF_CLIENT_ID,
)
PASSWORD = TextSelector(TextSelectorConfig(type=TextSelectorType.PASSWORD))


def _account_schema(*, with_email: bool, proxy: bool) -> probatio.Schema:
    """The account form, its advanced section open when a proxy is set.

    What the user typed (or the entry holds) comes back as suggested values, so a field can
    also be emptied again.
    """
    email = {probatio.Required(CONF_EMAIL): str} if with_email else {}
    return probatio.Schema(
        {
            **email,
            probatio.Required(CONF_REFRESH_TOKEN): PASSWORD,
            probatio.Required(CONF_ADVANCED): section(
                probatio.Schema(
                    {
                        probatio.Optional(
                            CONF_AUTH_DOMAIN, default=DEFAULT_AUTH_DOMAIN
                        ): str,
                        probatio.Optional(CONF_API_PROXY_URL): str,
                        probatio.Optional(CONF_API_PROXY_CERT): str,
                        probatio.Optional(
                            CONF_CLIENT_ID, default=DEFAULT_CLIENT_ID
                        ): str,
                    }
                ),
                {"collapsed": not proxy},
            ),
        }
    )


def _form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """Flat entry data in the form's shape, without the refresh token.

    A token that was sent is spent or refused, so it is never offered again.
    """
    return {
        CONF_EMAIL: data.get(CONF_EMAIL, ""),
        CONF_ADVANCED: {key: data[key] for key in ADVANCED_KEYS if data.get(key)},
    }


def _has_proxy(values: Mapping[str, Any]) -> bool:
    return bool(values.get(CONF_ADVANCED, {}).get(CONF_API_PROXY_URL))


async def _validate_account(
    hass: Any, data: dict[str, Any]
) -> tuple[dict[str, Any], str, dict[str, str]]:
    """Read the product list with the given credentials.

    Returns the data with the rotated tokens, the account's id, and the form errors. The data
    never holds an access token here, so the library always refreshes and the reply's id_token
    tells the account.
    """
    try:
        controller = await async_create_controller(hass, data)
    except ProxyCertError:
        return data, "", {"base": "invalid_proxy_cert"}
    try:
        await TeslaChargeControl(controller).list_vehicles()
    except VehicleAuthError:
        return data, "", {"base": "invalid_auth"}
    except VehicleForbiddenError:
        return data, "", {"base": "fleet_required"}
    except VehicleRateLimitedError:
        return data, "", {"base": "rate_limited"}
    except VehicleError:
        return data, "", {"base": "cannot_connect"}
    except Exception:  # noqa: BLE001 - the library can raise anything; show "unknown"
        return data, "", {"base": "unknown"}
    tokens = controller.get_tokens()
    if (account := account_id(tokens.get("id_token"))) is None:
        return data, "", {"base": "no_account_id"}
    # Tesla rotates refresh tokens on use: keep the new one, the given one is spent.
    return (
        {
            **data,
            CONF_REFRESH_TOKEN: tokens["refresh_token"],
            CONF_ACCESS_TOKEN: tokens["access_token"],
            CONF_EXPIRATION: tokens.get("expiration", 0),
        },
        account,
        {},
    )


def _flatten(user_input: dict[str, Any]) -> dict[str, Any]:
    advanced = user_input.get(CONF_ADVANCED, {})
    return {
        CONF_ENTRY_TYPE: ENTRY_TYPE_ACCOUNT,
        CONF_EMAIL: user_input.get(CONF_EMAIL, "").strip(),
        CONF_REFRESH_TOKEN: user_input[CONF_REFRESH_TOKEN].strip(),
        **{key: (advanced.get(key) or "").strip() for key in ADVANCED_KEYS},
    }
