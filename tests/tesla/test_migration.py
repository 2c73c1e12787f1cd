"""Entries from before 1.3 lose the polling interval option Home Assistant does not allow."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.const import (
    CONF_ENTRY_TYPE,
    CONF_NODES,
    CONF_POLLING_POLICY,
    CONF_SCAN_MINUTES,
    CONF_VEHICLES,
    DOMAIN,
    ENTRY_TYPE_PRICES,
)
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla

from .conftest import ACCOUNT, CHARGING, EMAIL, account_data

OLD_OPTIONS = {
    CONF_SCAN_MINUTES: 10,
    CONF_POLLING_POLICY: "normal",
    CONF_VEHICLES: [CHARGING],
}


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Add and set up an entry; it must load."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def test_an_account_entry_drops_its_polling_interval(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """1.2 → 1.3: the interval goes, the other options stay; the policy's 5 minutes apply."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=ACCOUNT,
        version=1,
        minor_version=2,
        data=account_data(tesla),
        options=OLD_OPTIONS,
    )
    await set_up(hass, entry)
    assert (entry.version, entry.minor_version) == (1, 3)
    assert dict(entry.options) == {
        CONF_POLLING_POLICY: "normal",
        CONF_VEHICLES: [CHARGING],
    }
    assert entry.runtime_data.coordinator.update_interval == timedelta(minutes=5)


async def test_an_entry_awaiting_its_account_id_drops_the_interval_and_stays_1_1(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """1.1 keeps telling identity that its unique id is still the e-mail.

    Set-up refreshes the token, which names the account (1.2); the next start takes it on.
    """
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=EMAIL,
        version=1,
        minor_version=1,
        data=account_data(tesla),
        options=OLD_OPTIONS,
    )
    entry.add_to_hass(hass)
    assert await entry.async_migrate(hass)
    assert entry.minor_version == 1
    assert CONF_SCAN_MINUTES not in entry.options
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert (entry.unique_id, entry.minor_version) == (ACCOUNT, 2)
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.unique_id, entry.minor_version) == (ACCOUNT, 3)


async def test_a_prices_entry_moves_to_1_3(
    hass: HomeAssistant, fake_oasis: FakeOasis
) -> None:
    """An entry that never had the option only changes its minor version."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        version=1,
        minor_version=1,
        data={CONF_ENTRY_TYPE: ENTRY_TYPE_PRICES},
        options={CONF_NODES: ["TH_NP15_GEN-APND"]},
    )
    await set_up(hass, entry)
    assert entry.minor_version == 3
    assert dict(entry.options) == {CONF_NODES: ["TH_NP15_GEN-APND"]}


async def test_a_newer_minor_version_is_left_as_it_is(
    hass: HomeAssistant, tesla: FakeTesla
) -> None:
    """A later tesladr's 1.4 entry reads the same here: no change, no downgrade."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=EMAIL,
        unique_id=ACCOUNT,
        version=1,
        minor_version=4,
        data=account_data(tesla),
        options={CONF_POLLING_POLICY: "normal"},
    )
    await set_up(hass, entry)
    assert entry.minor_version == 4
    assert dict(entry.options) == {CONF_POLLING_POLICY: "normal"}
