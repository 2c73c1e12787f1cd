"""The grid signal entities of the prices entry, fed by the real MIDAS client and the fake MIDAS.

The fake's day (START is 13:00 Pacific daylight time): a Flex Alert from 14:00 to 16:00, an
emissions rate that climbs with the minute of the hour, and a time-of-use rate at 0.55 USD/kWh
from 16:00 to 21:00 and 0.30 otherwise.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.tesladr import async_remove_config_entry_device
from custom_components.tesladr.const import CONF_FLEX_ALERT, CONF_MOER_REGION, CONF_RIN
from custom_components.tesladr.diagnostics import async_get_config_entry_diagnostics
from custom_components.tesladr.grid_entities import (
    DIRTIEST_SHARE,
    DirtiestShareSensor,
    MarginalEmissionsSensor,
)
from custom_components.tesladr.grid_signals import GRID_DEVICE
from custom_components.tesladr.midas_coordinator import DATA_MIDAS
from tests.fake_midas import FakeMidas, fake_midas, pacific_midnight, row  # noqa: F401
from tests.fake_oasis import FakeOasis

from .conftest import NP15, START, prices_entry

RATE = "USCA-PGPG-ETOU-0000"
ALERT_START = datetime(2026, 7, 1, 21, 0, tzinfo=START.tzinfo)
ALERT = "binary_sensor.california_grid_signals_flex_alert"
EMISSIONS = "sensor.california_grid_signals_marginal_emissions"
PRICE = "sensor.california_grid_signals_retail_price"
PRICE_NEXT = "sensor.california_grid_signals_retail_price_next"
DIRTIEST = "binary_sensor.california_grid_signals_dirtiest_share_of_the_day"


def emissions(_region: str, start: datetime) -> float:
    return 250.0 + start.minute


def tou_rows() -> list[dict[str, object]]:
    """Hourly rows over the fake's 3-day window: peak 16:00-21:00 Pacific."""
    midnight = pacific_midnight(START.date())
    rows = []
    for hour in range(72):
        start = midnight + timedelta(hours=hour)
        peak = 16 <= hour % 24 < 21
        rows.append(
            row(
                start,
                start + timedelta(hours=1),
                0.55 if peak else 0.30,
                "Peak" if peak else "Off-Peak",
                "$/kWh",
            )
        )
    return rows


@pytest.fixture
def midas(fake_midas: FakeMidas, oasis: FakeOasis) -> FakeMidas:  # noqa: F811
    """The fake MIDAS on Home Assistant's frozen clock, holding the day above."""
    fake_midas.clock = dt_util.utcnow
    fake_midas.moer_fn = emissions
    fake_midas.add_alert(ALERT_START, ALERT_START + timedelta(hours=2))
    fake_midas.add_rate(RATE, tou_rows(), "E-TOU-C")
    return fake_midas


def grid_entry(**signals: object) -> MockConfigEntry:
    entry = prices_entry([NP15])
    options = {
        **entry.options,
        CONF_FLEX_ALERT: True,
        CONF_MOER_REGION: "PGE",
        CONF_RIN: RATE,
        **signals,
    }
    return MockConfigEntry(
        domain=entry.domain,
        title=entry.title,
        unique_id=entry.unique_id,
        data=dict(entry.data),
        options=options,
        entry_id=entry.entry_id,
    )


async def load(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


async def advance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Move time a minute at a time, each wake's requests answered before the next."""
    end = dt_util.utcnow() + delta
    while dt_util.utcnow() < end:
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)


def state(hass: HomeAssistant, entity_id: str) -> str:
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("platform", [Platform.SENSOR, Platform.BINARY_SENSOR])
async def test_entities(
    hass: HomeAssistant,
    midas: FakeMidas,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    platform: Platform,
    setup_domain,
) -> None:
    """The prices entry's entities with every grid signal chosen."""
    await setup_domain()
    entry = grid_entry()
    with patch("custom_components.tesladr.PLATFORMS", [platform]):
        await load(hass, entry)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_an_alert_starting_and_ending(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory, setup_domain
) -> None:
    """Off before, on for its two hours, off after; the attributes name the alert ahead."""
    await setup_domain()
    await load(hass, grid_entry())
    alert = hass.states.get(ALERT)
    assert alert is not None and alert.state == "off"
    assert alert.attributes["next_start"] == ALERT_START.isoformat()
    assert (
        alert.attributes["next_end"] == (ALERT_START + timedelta(hours=2)).isoformat()
    )
    await advance(hass, freezer, timedelta(hours=1))
    assert state(hass, ALERT) == "on"
    await advance(hass, freezer, timedelta(hours=1, minutes=30))
    assert state(hass, ALERT) == "on"
    await advance(hass, freezer, timedelta(minutes=30))
    alert = hass.states.get(ALERT)
    assert alert is not None and alert.state == "off"
    assert alert.attributes["next_start"] is None


async def test_an_alert_midas_adds_later_turns_the_sensor_on_within_5_minutes(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory, setup_domain
) -> None:
    await setup_domain()
    await load(hass, grid_entry())
    midas.add_alert(dt_util.utcnow(), dt_util.utcnow() + timedelta(minutes=30))
    assert state(hass, ALERT) == "off"
    await advance(hass, freezer, timedelta(minutes=5))
    assert state(hass, ALERT) == "on"


async def test_emissions_and_retail_price_now_and_next(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory, setup_domain
) -> None:
    """Current values, the next hour of emissions, and the next different price."""
    await setup_domain()
    await load(hass, grid_entry())
    co2 = hass.states.get(EMISSIONS)
    assert co2 is not None and float(co2.state) == 250.0
    assert co2.attributes["unit_of_measurement"] == "g/kWh"
    assert co2.attributes["region"] == "PGE"
    forecast = co2.attributes["forecast"]
    assert len(forecast) == 12
    assert forecast[0] == {"start": "2026-07-01T20:05:00+00:00", "value": 255.0}
    assert "forecast" in MarginalEmissionsSensor._unrecorded_attributes
    price = hass.states.get(PRICE)
    assert price is not None and float(price.state) == 0.30
    assert price.attributes["period"] == "Off-Peak"
    assert price.attributes["unit_of_measurement"] == "USD/kWh"
    upcoming = hass.states.get(PRICE_NEXT)
    assert upcoming is not None and float(upcoming.state) == 0.55
    assert upcoming.attributes["start"] == "2026-07-01T23:00:00+00:00"
    await advance(hass, freezer, timedelta(hours=3))
    assert float(state(hass, EMISSIONS)) == 250.0
    assert float(state(hass, PRICE)) == 0.55
    assert float(state(hass, PRICE_NEXT)) == 0.30


async def test_dirtiest_share_of_the_day(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory, setup_domain
) -> None:
    """Every hour climbs 250 to 305 g/kWh: its last quarter (295 and up) is the dirtiest 25 %."""
    await setup_domain()
    await load(hass, grid_entry())
    dirtiest = hass.states.get(DIRTIEST)
    assert dirtiest is not None and dirtiest.state == "off"
    assert dirtiest.attributes["share"] == 25
    assert dirtiest.attributes["cutoff"] == 295.0
    assert dirtiest.attributes["rank"] == 100.0  # 250: every interval is as dirty
    await advance(hass, freezer, timedelta(minutes=44))
    assert state(hass, DIRTIEST) == "off"
    await advance(hass, freezer, timedelta(minutes=1))
    dirtiest = hass.states.get(DIRTIEST)
    assert dirtiest is not None and dirtiest.state == "on"
    assert dirtiest.attributes["rank"] == 25.0
    await advance(hass, freezer, timedelta(minutes=15))
    assert state(hass, DIRTIEST) == "off"


async def test_dirtiest_share_without_emissions_rows_is_unknown(
    hass: HomeAssistant, midas: FakeMidas, setup_domain
) -> None:
    midas.moer_fn = lambda _region, _start: None
    await setup_domain()
    await load(hass, grid_entry())
    dirtiest = hass.states.get(DIRTIEST)
    assert dirtiest is not None and dirtiest.state == STATE_UNKNOWN
    assert dirtiest.attributes["cutoff"] is None
    assert dirtiest.attributes["rank"] is None


async def test_a_rate_without_rows_is_unknown(
    hass: HomeAssistant, midas: FakeMidas, setup_domain
) -> None:
    """A season not uploaded yet: the sensors have no value, but MIDAS answered."""
    midas.add_rate(RATE, [], "E-TOU-C")
    await setup_domain()
    await load(hass, grid_entry())
    assert state(hass, PRICE) == STATE_UNKNOWN
    assert state(hass, PRICE_NEXT) == STATE_UNKNOWN
    assert hass.states.get(PRICE_NEXT).attributes["start"] is None  # type: ignore[union-attr]


async def test_an_outage_keeps_the_last_values_then_goes_unavailable(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory, setup_domain
) -> None:
    """503s keep the last values 15 minutes (the rate 6 hours); MIDAS back, all is back."""
    await setup_domain()
    await load(hass, grid_entry())
    midas.fail_next("unavailable", times=1000)
    await advance(hass, freezer, timedelta(minutes=10))
    assert float(state(hass, EMISSIONS)) > 0
    assert state(hass, ALERT) == "off"
    await advance(hass, freezer, timedelta(minutes=10))
    assert state(hass, EMISSIONS) == STATE_UNAVAILABLE
    assert state(hass, ALERT) == STATE_UNAVAILABLE
    assert float(state(hass, PRICE)) == 0.30
    midas._faults.clear()
    await advance(hass, freezer, timedelta(minutes=30))
    assert float(state(hass, EMISSIONS)) > 0
    assert state(hass, ALERT) == "off"


async def test_only_chosen_signals_get_entities_and_the_device_stays_in_use(
    hass: HomeAssistant, midas: FakeMidas, setup_domain
) -> None:
    """Emissions alone: one grid entity; its device cannot be deleted while chosen."""
    await setup_domain()
    entry = grid_entry(**{CONF_FLEX_ALERT: False, CONF_RIN: ""})
    await load(hass, entry)
    assert hass.states.get(EMISSIONS) is not None
    assert hass.states.get(ALERT) is None
    assert hass.states.get(PRICE) is None
    assert hass.data[DATA_MIDAS].rins == {"USCA-SGIP-MOER-PGE"}
    (device,) = [
        device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if GRID_DEVICE in device.identifiers
    ]
    assert not await async_remove_config_entry_device(hass, entry, device)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert diagnostics["midas"]["rins"] == ["USCA-SGIP-MOER-PGE"]
    assert diagnostics["midas"]["signals"]["USCA-SGIP-MOER-PGE"]["fresh"] is True
    # Signals switched off: the reload drops the device and gives the feed back.
    hass.config_entries.async_update_entry(
        entry, options={**entry.options, CONF_MOER_REGION: "off"}
    )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert all(
        GRID_DEVICE not in device.identifiers
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
    )
    assert DATA_MIDAS not in hass.data


async def test_midas_down_at_set_up_does_not_fail_the_entry(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory, setup_domain
) -> None:
    """Prices load; the grid sensors are unavailable until MIDAS first answers."""
    midas.fail_next("unavailable", times=3)
    await setup_domain()
    entry = grid_entry()
    await load(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    for entity_id in (ALERT, EMISSIONS, PRICE, PRICE_NEXT, DIRTIEST):
        assert state(hass, entity_id) == STATE_UNAVAILABLE
    # Nothing read yet: the dirtiest-share rule has nothing to say either.
    unread = DirtiestShareSensor(
        hass.data[DATA_MIDAS], "USCA-SGIP-MOER-PGE", DIRTIEST_SHARE
    )
    assert unread.is_on is None
    assert unread.extra_state_attributes == {"share": 25, "cutoff": None, "rank": None}
    await advance(hass, freezer, timedelta(minutes=6))
    assert state(hass, ALERT) == "off"
    assert float(state(hass, EMISSIONS)) > 0
    assert float(state(hass, PRICE)) == 0.30


async def test_a_simulated_day_of_the_prices_entry(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory, setup_domain
) -> None:
    """Every signal chosen: the requests MIDAS receives in 24 hours, per endpoint and RIN."""
    await setup_domain()
    await load(hass, grid_entry())
    await advance(hass, freezer, timedelta(hours=24))
    per_rin: dict[str | None, int] = {}
    for record in midas.requests:
        per_rin[record.rin] = per_rin.get(record.rin, 0) + 1
    assert {record.endpoint for record in midas.requests} == {"values"}
    assert per_rin == {
        "USCA-FLEX-ALRT-0000": 1 + 288,
        "USCA-SGIP-MOER-PGE": 1 + 288,
        RATE: 1 + 24,
    }
