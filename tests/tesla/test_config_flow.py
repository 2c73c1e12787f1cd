"""The account config flow: create, errors, already configured, reauth and reconfigure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_EMAIL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import (
    CONF_API_PROXY_URL,
    CONF_REFRESH_TOKEN,
    DOMAIN,
    ENTRY_TYPE_ACCOUNT,
)
from tests.fake_tesla import COMMAND_PROTOCOL_REQUIRED, FLEET_FORBIDDEN, FakeTesla

from .conftest import ACCOUNT, CHARGING, EMAIL, SLEEPING, account_entry

OTHER_ACCOUNT = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"


def form(fake: FakeTesla, token: str | None = None) -> dict[str, Any]:
    """What the user types, with the advanced section pointing at the fake."""
    return {
        CONF_EMAIL: f" {EMAIL.upper()} ",
        CONF_REFRESH_TOKEN: token or fake.refresh_token,
        "advanced": {
            "auth_domain": fake.url,
            "api_proxy_url": fake.url,
            "api_proxy_cert": "",
            "client_id": "tesladr-tests",
        },
    }


def reconfigure_form(fake: FakeTesla, token: str | None = None) -> dict[str, Any]:
    """The reconfigure form: the same without the e-mail, which names the entry."""
    typed = form(fake, token)
    del typed[CONF_EMAIL]
    return typed


async def start(hass: HomeAssistant) -> str:
    """Open the flow and choose the account path."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": ENTRY_TYPE_ACCOUNT}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "account"
    return result["flow_id"]


async def test_account_created_with_the_rotated_token(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """Validation reads the product list; the entry keeps the token Tesla rotated to."""
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == EMAIL.upper()
    # The account's own id, not the e-mail as typed.
    assert result["result"].unique_id == tesla.account_id
    assert result["result"].minor_version == 3
    assert result["data"][CONF_REFRESH_TOKEN] == tesla.refresh_token == "refresh-1"
    assert result["data"][CONF_API_PROXY_URL] == tesla.url
    await hass.async_block_till_done()
    assert hass.states.get("sensor.model_3_charger_power") is not None


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (None, None, "invalid_auth"),
        (429, None, "rate_limited"),
        (404, None, "cannot_connect"),
        (403, FLEET_FORBIDDEN, "fleet_required"),
        (403, COMMAND_PROTOCOL_REQUIRED, "fleet_required"),
    ],
    ids=[
        "invalid_auth",
        "rate_limited",
        "cannot_connect",
        "fleet_forbidden",
        "command_protocol",
    ],
)
async def test_account_errors(
    hass: HomeAssistant,
    tesla: FakeTesla,
    status: int | None,
    body: dict[str, Any] | None,
    error: str,
) -> None:
    """Each failure is a translated form error, and the form can be sent again."""
    flow_id = await start(hass)
    if status is None:
        result = await hass.config_entries.flow.async_configure(
            flow_id, form(tesla, "wrong")
        )
    else:
        tesla.fail_next(status, body, times=100)
        result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
        tesla._faults.clear()
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_unexpected_error_is_unknown(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """A reply neither the library nor the protocol expects → "unknown"."""
    flow_id = await start(hass)
    # A 200 without "response" or "error": teslajsonpy passes it on, and nothing maps it.
    tesla.fail_next(200, {"unexpected": True})
    result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_token_reply_without_an_account_id_is_an_error(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """An id_token without a subject names no account: a form error, no entry."""
    flow_id = await start(hass)
    tesla.account_id = ""
    result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_account_id"}
    assert not hass.config_entries.async_entries(DOMAIN)
    tesla.account_id = ACCOUNT
    result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == ACCOUNT


async def test_same_account_twice_aborts(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """Unique per Tesla account, whatever e-mail is typed; another account is welcome."""
    assert account.unique_id == tesla.account_id
    flow_id = await start(hass)
    typed = {**form(tesla), CONF_EMAIL: "Owner.Tesla@Example.com"}
    result = await hass.config_entries.flow.async_configure(flow_id, typed)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    tesla.account_id = OTHER_ACCOUNT
    flow_id = await start(hass)
    result = await hass.config_entries.flow.async_configure(flow_id, form(tesla))
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == OTHER_ACCOUNT


def suggested(result: Any) -> dict[str, Any]:
    """The values a re-shown account form offers: top level and its advanced section."""
    offered: dict[str, Any] = {}
    for key, value in result["data_schema"].schema.items():
        fields = value.schema.schema.items() if key == "advanced" else [(key, value)]
        for field, _ in fields:
            if (field.description or {}).get("suggested_value") is not None:
                offered[str(field)] = field.description["suggested_value"]
    return offered


async def test_account_form_keeps_what_was_typed_after_an_error(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """Proxy URL, certificate and client id come back; the spent token does not."""
    flow_id = await start(hass)
    typed = form(tesla, "wrong")
    typed["advanced"]["api_proxy_cert"] = "tesla_proxy.pem"
    result = await hass.config_entries.flow.async_configure(flow_id, typed)
    assert result["errors"] == {"base": "invalid_proxy_cert"}
    assert suggested(result) == {
        CONF_EMAIL: EMAIL.upper(),
        "auth_domain": tesla.url,
        "api_proxy_url": tesla.url,
        "api_proxy_cert": "tesla_proxy.pem",
        "client_id": "tesladr-tests",
    }
    section = result["data_schema"].schema["advanced"]  # type: ignore[index]
    assert section.options["collapsed"] is False


async def test_reauth_with_another_accounts_token_aborts(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A valid token of another account must not replace this entry's credentials."""
    stored = dict(account.data)
    tesla.account_id = OTHER_ACCOUNT
    result = await account.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REFRESH_TOKEN: tesla.refresh_token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert result["description_placeholders"] == {"email": EMAIL}
    assert dict(account.data) == stored
    assert account.unique_id == ACCOUNT


async def test_reconfigure_with_another_accounts_token_aborts(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """Reconfigure refuses another account's token the same way."""
    stored = dict(account.data)
    tesla.account_id = OTHER_ACCOUNT
    result = await account.start_reconfigure_flow(hass)
    new = reconfigure_form(tesla)
    new["advanced"]["client_id"] = "another-app"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert dict(account.data) == stored
    assert account.unique_id == ACCOUNT


async def test_reconfigure_form_shows_the_entry_then_what_was_typed(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """The stored proxy settings are offered; after an error, the typed ones."""
    result = await account.start_reconfigure_flow(hass)
    assert suggested(result) == {
        "auth_domain": tesla.url,
        "api_proxy_url": tesla.url,
        "client_id": "tesladr-tests",
    }
    new = reconfigure_form(tesla, "bad")
    new["advanced"]["client_id"] = "another-app"
    new["advanced"]["api_proxy_cert"] = "proxy.pem"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["errors"] == {"base": "invalid_proxy_cert"}
    assert suggested(result) == {
        "auth_domain": tesla.url,
        "api_proxy_url": tesla.url,
        "api_proxy_cert": "proxy.pem",
        "client_id": "another-app",
    }


async def test_reauth(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """A new refresh token replaces the refused one and reloads the entry."""
    tesla.refresh_token = "issued-again"
    result = await account.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REFRESH_TOKEN: "wrong"}
    )
    assert result["errors"] == {"base": "invalid_auth"}
    tesla.fail_next(404)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REFRESH_TOKEN: "issued-again"}
    )
    assert result["errors"] == {"base": "cannot_connect"}
    # The failed attempt spent the typed token (Tesla rotated it); the user types the new one.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REFRESH_TOKEN: tesla.refresh_token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert account.data[CONF_REFRESH_TOKEN] == tesla.refresh_token


async def test_reconfigure_account(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """Proxy settings and token can change; the account stays the same."""
    result = await account.start_reconfigure_flow(hass)
    assert result["step_id"] == "reconfigure_account"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], reconfigure_form(tesla, "bad")
    )
    assert result["errors"] == {"base": "invalid_auth"}
    tesla.fail_next(404)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], reconfigure_form(tesla)
    )
    assert result["errors"] == {"base": "cannot_connect"}
    assert account.data["client_id"] == "tesladr-tests"
    new = reconfigure_form(tesla)
    new["advanced"]["client_id"] = "another-app"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], new)
    assert result["reason"] == "reconfigure_successful"
    assert account.data["client_id"] == "another-app"
    assert account.data[CONF_EMAIL] == EMAIL


async def test_account_options_choose_cars_and_policy(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """Unmanaged cars are not read at all; a fresh-dashboard policy polls every 5 minutes.

    The form offers no polling interval: Home Assistant does not let users set one.
    """
    result = await hass.config_entries.options.async_init(account.entry_id)
    assert result["step_id"] == "account_options"
    schema = result["data_schema"].schema  # type: ignore[union-attr]
    defaults = {str(k): k.default() for k in schema if str(k) != "notify_target"}
    assert defaults == {
        "polling_policy": "demand",
        "vehicles": [CHARGING, SLEEPING],
    }
    assert account.runtime_data.coordinator.update_interval == timedelta(hours=8)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {"polling_policy": "normal", "vehicles": [SLEEPING]},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    coordinator = account.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(minutes=5)
    assert list(coordinator.data) == [SLEEPING]
    before = tesla.count(CHARGING, "data")
    await coordinator.async_refresh()
    assert tesla.count(CHARGING, "data") == before
    assert hass.states.get("sensor.model_3_charger_power") is None


async def test_account_options_while_the_entry_is_not_loaded(
    hass: HomeAssistant, account: MockConfigEntry, tesla: FakeTesla
) -> None:
    """After a failed set-up the cars come from their devices, and the options are saved.

    Here the set-up failed on refused tokens, with a reauth flow pending.
    """
    assert await hass.config_entries.async_unload(account.entry_id)
    tesla.access_token = "revoked"
    tesla.refresh_token = "issued-elsewhere"
    await hass.config_entries.async_setup(account.entry_id)
    await hass.async_block_till_done()
    assert account.state is ConfigEntryState.SETUP_ERROR
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    result = await hass.config_entries.options.async_init(account.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "account_options"
    schema = result["data_schema"].schema  # type: ignore[union-attr]
    defaults = {str(k): k.default() for k in schema if str(k) != "notify_target"}
    assert defaults == {
        "polling_policy": "demand",
        "vehicles": [CHARGING, SLEEPING],
    }
    selector = next(value for key, value in schema.items() if key == "vehicles")
    assert selector.config["options"] == [
        {"value": CHARGING, "label": "Model 3"},
        {"value": SLEEPING, "label": "Model Y"},
    ]
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"vehicles": [CHARGING]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert account.options == {
        "polling_policy": "demand",
        "vehicles": [CHARGING],
    }


async def test_account_options_without_any_known_car_abort(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """An account that never loaded has no cars to offer: a translated abort, no crash."""
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "no_cars_known"
