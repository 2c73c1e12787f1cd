"""Account identity: entries made when the e-mail was the unique id take the account's id."""

from __future__ import annotations

from datetime import timedelta
import logging
import time

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_EMAIL
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import (
    CONF_ACCESS_TOKEN,
    CONF_EXPIRATION,
    CONF_REFRESH_TOKEN,
    DOMAIN,
)
from custom_components.tesladr.identity import account_id
from tests.fake_tesla import FakeTesla, id_token

from .conftest import ACCOUNT, EMAIL, account_data


def legacy_entry(
    fake: FakeTesla, email: str = EMAIL, **data: object
) -> MockConfigEntry:
    """An account entry as tesladr made them before 1.2: the e-mail is its unique id."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=email,
        unique_id=email,
        version=1,
        minor_version=1,
        data={**account_data(fake), CONF_EMAIL: email, **data},
    )


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry; it must load."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (id_token("a-uuid"), "a-uuid"),
        (id_token(""), None),
        ("id-token", None),  # not a JWT
        ("", None),
        (None, None),
    ],
)
def test_account_id_is_the_id_tokens_subject(
    token: str | None, expected: str | None
) -> None:
    """Only a JWT with a subject names an account."""
    assert account_id(token) == expected


async def test_an_old_entry_takes_the_account_id_at_its_first_token_refresh(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """No stored access token: set-up refreshes, and the reply names the account."""
    entry = legacy_entry(tesla)
    await set_up(hass, entry)
    assert tesla.token_refreshes == 1
    assert (entry.unique_id, entry.minor_version) == (ACCOUNT, 2)


async def test_an_old_entry_with_a_valid_token_waits_for_the_next_refresh(
    hass: HomeAssistant, tesla: FakeTesla, freezer: FrozenDateTimeFactory
) -> None:
    """No refresh just to learn the id: the entry keeps its e-mail until the token expires."""
    entry = legacy_entry(
        tesla,
        **{
            CONF_ACCESS_TOKEN: tesla.access_token,
            CONF_EXPIRATION: int(time.time()) + 8 * 3600,
        },
    )
    await set_up(hass, entry)
    assert tesla.token_refreshes == 0
    assert (entry.unique_id, entry.minor_version) == (EMAIL, 1)
    freezer.tick(timedelta(hours=9))
    await entry.runtime_data.coordinator.async_refresh()
    assert tesla.token_refreshes == 1
    assert (entry.unique_id, entry.minor_version) == (ACCOUNT, 2)


async def test_one_account_set_up_twice_keeps_the_second_entry_as_it_was(
    hass: HomeAssistant, tesla: FakeTesla, caplog: pytest.LogCaptureFixture
) -> None:
    """Two old entries of one account (two spellings): the second is named, not renamed."""
    first = legacy_entry(tesla)
    await set_up(hass, first)
    second = legacy_entry(
        tesla, "owner.tesla@example.com", **{CONF_REFRESH_TOKEN: tesla.refresh_token}
    )
    with caplog.at_level(logging.WARNING):
        await set_up(hass, second)
    assert tesla.token_refreshes == 2
    assert (first.unique_id, first.minor_version) == (ACCOUNT, 2)
    assert (second.unique_id, second.minor_version) == ("owner.tesla@example.com", 1)
    warnings = [r for r in caplog.records if "also set up as" in r.getMessage()]
    assert len(warnings) == 1
    assert "already in use" not in caplog.text  # Home Assistant's own duplicate error


async def test_reauth_of_an_old_entry_takes_the_account_of_the_new_token(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """Before account ids there is nothing to compare with: the new token names it."""
    entry = legacy_entry(tesla, **{CONF_REFRESH_TOKEN: "spent"})
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_ERROR
    result = await entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_REFRESH_TOKEN: tesla.refresh_token}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    # 1.2 by the new token; the reload that follows migrates it on to 1.3 (no polling interval).
    assert (entry.unique_id, entry.minor_version) == (ACCOUNT, 3)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
