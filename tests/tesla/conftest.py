"""A Tesla account entry against the fake Tesla server."""

from __future__ import annotations

from homeassistant.const import CONF_EMAIL
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import (
    CONF_API_PROXY_URL,
    CONF_AUTH_DOMAIN,
    CONF_CLIENT_ID,
    CONF_ENTRY_TYPE,
    CONF_POLLING_POLICY,
    CONF_REFRESH_TOKEN,
    DOMAIN,
    ENTRY_TYPE_ACCOUNT,
)
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla

CHARGING = "5YJ3E1EA7KF000001"
SLEEPING = "5YJYGDEE0MF000002"
EMAIL = "owner@example.com"
ACCOUNT = FakeTesla.account_id  # the fake account's id, the entries' unique id


@pytest.fixture(autouse=True)
async def oasis_domain(
    hass: HomeAssistant, fake_oasis: FakeOasis, instant_pacer: object
) -> FakeOasis:
    """Account entries join the price feed: point it at a fake OASIS with calm prices."""
    fake_oasis.clock = dt_util.utcnow
    fake_oasis.price_fn = lambda *_: 40.0
    assert await async_setup_component(hass, DOMAIN, {})
    return fake_oasis


@pytest.fixture
def tesla(fake_tesla: FakeTesla) -> FakeTesla:
    """An account with a car charging at home and a sleeping car."""
    fake_tesla.add_car(CHARGING, "Model 3")
    fake_tesla.add_car(SLEEPING, "Model Y", state="asleep", charging_state="Stopped")
    return fake_tesla


def account_data(fake: FakeTesla) -> dict[str, str]:
    """Entry data pointing both auth and API at the fake."""
    return {
        CONF_ENTRY_TYPE: ENTRY_TYPE_ACCOUNT,
        CONF_EMAIL: EMAIL,
        CONF_REFRESH_TOKEN: fake.refresh_token,
        CONF_AUTH_DOMAIN: fake.url,
        CONF_API_PROXY_URL: fake.url,
        CONF_CLIENT_ID: "tesladr-tests",
    }


def account_entry(
    fake: FakeTesla, polling_policy: str | None = None
) -> MockConfigEntry:
    """An account entry for the fake (not yet added), under the default polling policy."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=ACCOUNT,
        version=1,
        minor_version=2,
        data=account_data(fake),
        options={CONF_POLLING_POLICY: polling_policy} if polling_policy else {},
        entry_id="account01",
    )


@pytest.fixture
async def account(
    hass: HomeAssistant, tesla: FakeTesla, polling_policy: str | None
) -> MockConfigEntry:
    """A loaded account entry."""
    entry = account_entry(tesla, polling_policy)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry
