"""Fault cases of demand response, each against the fake OASIS and the fake Tesla."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.tesladr.const import CONF_REFRESH_TOKEN, DOMAIN
from custom_components.tesladr.dr import CarDrState, DrSettings, Ledger, Outcome
from custom_components.tesladr.dr.settle import StopInFlight, stopped_as_sent
from custom_components.tesladr.dr_coordinator import EVENT_DR
from custom_components.tesladr.dr_store import left_paused_issue_id, storage_key
from custom_components.tesladr.vehicles import ChargeState, VehicleState
from tests.fake_oasis import FakeOasis
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import account_entry

from .conftest import (
    CHARGING,
    CHARGING_SWITCH,
    SLEEPING,
    STATUS,
    PriceTable,
    advance_to,
    at,
    state,
    step_seconds_until,
)

# Written for DR without churn control: each crossing pauses, each dip resumes.
pytestmark = pytest.mark.usefixtures("churn_control_off")


# 17:00 interval high: published at 17:05, acted on at 17:05:15.
PAUSED_AT = at(5).replace(second=15)


async def pause_on_spike(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    prices: PriceTable,
    tesla: FakeTesla,
    *values: float,
) -> None:
    """A spike from 17:00 that pauses the Model 3 at 17:05:15."""
    prices.set(0, *values)
    await advance_to(hass, freezer, PAUSED_AT)
    assert state(hass, STATUS) == "paused"
    assert tesla.cars[CHARGING].charging_state == "Stopped"


async def test_oasis_down_mid_event_resumes_after_15_minutes(
    hass: HomeAssistant,
    account: MockConfigEntry,
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No car stays paused on prices it cannot see: the newest ended 17:05, resume after 17:20."""
    await pause_on_spike(hass, freezer, prices, tesla, *[300.0] * 12)
    oasis.fail_next("http_500", times=100)
    await advance_to(hass, freezer, at(19).replace(second=55))
    assert state(hass, STATUS) == "paused"
    await advance_to(hass, freezer, at(20).replace(second=30))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "monitoring"
    assert status.attributes["reason"] == "prices_stale"
    outage = [r for r in caplog.records if "OASIS is unavailable" in r.getMessage()]
    assert len(outage) == 1
    assert tesla.count(CHARGING, "command") == 2


async def test_an_outage_longer_than_the_event_still_fills_its_ledger(
    hass: HomeAssistant,
    account: MockConfigEntry,
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """OASIS is down from 17:05 for 45 minutes; the fail-safe resumes the car at 17:20.

    The prices of the paused intervals arrive when OASIS is back, half an hour after the
    event ended, and still reach its ledger entry.
    """
    await pause_on_spike(hass, freezer, prices, tesla, *[300.0] * 12)
    oasis.fail_next("http_500", times=1000)
    await advance_to(hass, freezer, at(21))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    [event] = account.runtime_data.dr.ledger.events
    assert event.ended is not None
    assert event.prices == {}  # nothing after the pause was published
    await advance_to(hass, freezer, at(50))
    assert event.prices == {}
    oasis._faults.clear()
    await advance_to(hass, freezer, at(56))
    assert sorted(event.prices) == [at(m).isoformat() for m in (5, 10, 15, 20)]
    paused_h = (event.ended - PAUSED_AT).total_seconds() / 3600
    assert event.kwh == pytest.approx(event.power_kw * paused_h)


def stored(paused: bool) -> dict[str, Any]:
    """What the Store held when Home Assistant stopped mid-event (paused at 16:50)."""
    ledger = Ledger()
    if paused:
        ledger.start(CHARGING, "TH_NP15_GEN-APND", at(-10), 7.0, None)
    return {
        "version": 1,
        "minor_version": 1,
        "key": storage_key("account01"),
        "data": {
            "cars": {
                CHARGING: {
                    "settings": asdict(DrSettings(threshold=120)),
                    "state": asdict(CarDrState(paused_by_dr=paused)),
                }
            },
            "ledger": ledger.as_dict(),
        },
    }


def stored_stop_in_flight(sent_at: datetime) -> dict[str, Any]:
    """The Store with a stop sent at `sent_at` and unanswered, no pause yet.

    The car's read before the stop, 20 s earlier at 7 kW, showed 3.2 kWh added.
    """
    data = stored(paused=False)
    data["data"]["stops_in_flight"] = {
        CHARGING: {
            "sent_at": sent_at.isoformat(),
            "power_kw": 7.0,
            "needed_kwh": None,
            "energy_added_kwh": 3.2,
            "read_at": (sent_at - timedelta(seconds=20)).isoformat(),
        }
    }
    return data


def stored_paused_seen_at(energy_kwh: float) -> dict[str, Any]:
    """The Store of a paused car last read paused at 16:55, with `energy_kwh` added."""
    data = stored(paused=True)
    data["data"]["ledger"]["events"][0].update(
        seen_paused_at=at(-5).isoformat(), seen_paused_energy_kwh=energy_kwh
    )
    return data


async def start_account(hass: HomeAssistant, tesla: FakeTesla) -> MockConfigEntry:
    """Set the account entry up (as Home Assistant does at start)."""
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def test_restart_mid_event_restores_without_a_second_stop(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The Store says DR paused the car; prices are still high: hold, then resume once."""
    hass_storage[storage_key("account01")] = stored(paused=True)
    tesla.cars[CHARGING].charging_state = "Stopped"
    prices.set(-15, 200, 200, 200, 200, 40)  # 16:45 … 17:05
    await start_account(hass, tesla)
    assert state(hass, STATUS) == "paused"
    assert state(hass, "number.model_3_price_threshold") == "120.0"
    await advance_to(hass, freezer, at(10))
    assert state(hass, STATUS) == "paused"
    assert tesla.count(CHARGING, "command") == 0
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert state(hass, STATUS) == "monitoring"
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert tesla.count(CHARGING, "command") == 1  # the start, never a second stop
    # The event paused at 16:50 ended at 17:10:15 and kept its value across the restart.
    saved = hass_storage[storage_key("account01")]["data"]["ledger"]["events"]
    assert saved[0]["outcome"] == "resumed"
    assert saved[0]["kwh"] > 0


async def test_restart_finds_the_owner_restarted_charging(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
) -> None:
    """Charging again after the restart means the owner took over: an override, no command."""
    hass_storage[storage_key("account01")] = stored(paused=True)
    prices.set(-15, 200, 200, 200, 200)
    events = async_capture_events(hass, EVENT_DR)
    await start_account(hass, tesla)
    assert state(hass, STATUS) == "overridden"
    assert tesla.count(CHARGING, "command") == 0
    assert [e.data["type"] for e in events] == ["overridden"]


@pytest.mark.parametrize("took", [True, False])
async def test_a_stop_unanswered_at_shutdown_is_settled_by_the_car_at_start(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    took: bool,
) -> None:
    """Home Assistant stopped with a stop on its way (saved as in flight, no pause yet).

    Took: the car is stopped, having added nothing since its read before the stop, so the
    pause is DR's from when the stop was sent, and the car is resumed when the price falls.
    Lost: the car charges; the event is still on, so DR stops it now, and the pause counts
    from now.
    """
    sent_at = at(-10)
    hass_storage[storage_key("account01")] = stored_stop_in_flight(sent_at)
    # 20 s at 7 kW from the read to the stop: the count the car shows if the stop took.
    tesla.cars[CHARGING].energy_added = 3.24
    if took:
        tesla.cars[CHARGING].charging_state = "Stopped"
    prices.set(-15, 200, 200, 200, 200, 40, 40, 40)
    events = async_capture_events(hass, EVENT_DR)
    entry = await start_account(hass, tesla)
    ledger = entry.runtime_data.dr.ledger
    if not took:
        assert tesla.count(CHARGING, "command") == 1
        assert state(hass, STATUS) == "paused"
        [event] = ledger.events
        assert event.started > sent_at
    else:
        assert tesla.count(CHARGING, "command") == 0
        assert state(hass, STATUS) == "paused"
        [event] = ledger.events
        assert event.started == sent_at
        assert [e.data["type"] for e in events] == ["started"]
        await advance_to(hass, freezer, at(10).replace(second=30))
        assert tesla.cars[CHARGING].charging_state == "Charging"
        assert tesla.count(CHARGING, "command") == 1
        assert event.ended is not None
    await hass.async_block_till_done()
    assert entry.runtime_data.dr.actuator.in_flight.stops == {}


@pytest.mark.parametrize(
    ("charging_state", "energy_added", "took"),
    [
        ("Charging", 3.3, True),  # it took
        ("Stopped", 3.21, True),  # it took, and the owner stopped it seconds later
        ("Stopped", 3.2, False),  # it was lost: the car is as DR left it
    ],
)
async def test_a_start_unanswered_at_shutdown_is_settled_by_the_car_at_start(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    charging_state: str,
    energy_added: float,
    took: bool,
) -> None:
    """Home Assistant stopped with a start on its way; the Store still says DR paused the car.

    A car charging, or stopped with a count that moved since DR last saw it paused, got the
    start: the event ended when it was sent, and no command follows. A car just as DR left
    it did not, and is resumed.
    """
    data = stored_paused_seen_at(3.2)
    sent_at = at(-2)
    data["data"]["starts_in_flight"] = {
        CHARGING: {"sent_at": sent_at.isoformat(), "reason": "price_below_resume"}
    }
    hass_storage[storage_key("account01")] = data
    car = tesla.cars[CHARGING]
    car.charging_state, car.energy_added = charging_state, energy_added
    prices.set(-15, 40, 40, 40)
    events = async_capture_events(hass, EVENT_DR)
    entry = await start_account(hass, tesla)
    await advance_to(hass, freezer, at(5))
    [event] = entry.runtime_data.dr.ledger.events
    assert event.outcome == "resumed"
    assert [e.data["type"] for e in events] == ["ended"]
    if took:
        assert event.ended == sent_at
        assert tesla.count(CHARGING, "command") == 0
        assert car.charging_state == charging_state
    else:
        assert event.ended is not None
        assert event.ended > sent_at
        assert tesla.count(CHARGING, "command") == 1
        assert car.charging_state == "Charging"
    await hass.async_block_till_done()
    assert entry.runtime_data.dr.actuator.in_flight.starts == {}
    assert "starts_in_flight" in hass_storage[storage_key("account01")]["data"]


async def test_a_stop_whose_answer_was_lost_is_a_pause_when_the_retry_finds_it_stopped(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The car stopped, its answer was a 504, and the library's retry was told "not charging".

    The car stopped as the stop was sent, so the pause is DR's: held, recorded, and resumed
    when the price falls (found by the fault week, where the car stayed stopped for good).
    """
    tesla.lose_next_answer = 504
    prices.set(0, 300, 300, 40)
    await advance_to(hass, freezer, at(5))
    # The library waits a second or two before its retry, on the frozen clock.
    await step_seconds_until(
        hass,
        freezer,
        lambda: (
            tesla.count(CHARGING, "command") >= 2 and state(hass, STATUS) == "paused"
        ),
        at(6),
    )
    await hass.async_block_till_done()
    assert tesla.count(CHARGING, "command") == 2  # the stop, and the retry
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert state(hass, STATUS) == "paused"
    [event] = account.runtime_data.dr.ledger.events
    assert PAUSED_AT <= event.started < at(6)
    await advance_to(hass, freezer, at(15).replace(second=30))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert event.outcome == "resumed"


def _stop(read_at: datetime, energy: float | None = 3.2) -> StopInFlight:
    return StopInFlight(at(0), 7.0, None, energy, read_at)


def _read(energy: float | None, charging_state: str = "Stopped") -> ChargeState:
    return ChargeState(
        CHARGING,
        "Model 3",
        VehicleState.ONLINE,
        charging_state=charging_state,
        charge_energy_added_kwh=energy,
    )


@pytest.mark.parametrize(
    ("stop", "read", "ours"),
    [
        (_stop(at(0)), _read(3.2), True),  # read as the stop went: it stopped then
        (_stop(at(-2)), _read(3.43), True),  # charged up to the stop, 2 minutes on
        (_stop(at(-2)), _read(3.3), False),  # stopped a minute before the stop
        (_stop(at(-2)), _read(3.8), False),  # charged on past the stop
        (_stop(at(0)), _read(0.0), False),  # a new session since: the count went down
        (_stop(at(0)), _read(3.2, "Complete"), False),  # it finished by itself
        (_stop(at(0), energy=None), _read(3.2), False),  # no count to tell by
        (_stop(at(0)), None, False),  # not read back
    ],
)
def test_a_stop_told_not_charging_is_dr_s_only_if_the_car_stopped_as_it_was_sent(
    stop: StopInFlight, read: ChargeState | None, ours: bool
) -> None:
    """The energy added since the read before the stop dates when the car stopped."""
    assert stopped_as_sent(stop, read) is ours


async def test_a_start_on_its_way_when_home_assistant_stops_is_answered_before_the_write(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant stops while a start waits for its answer (found by the fault week).

    Home Assistant does not wait for the tasks running when it stops, so the answer would
    miss the final write and leave the start in flight: if the owner then stopped the car
    within seconds, the next start could not tell the start took. The stop waits for it.
    """
    hass_storage[storage_key("account01")] = stored(paused=True)
    tesla.cars[CHARGING].charging_state = "Stopped"
    prices.set(-15, 200, 200, 200, 200, 40)  # 16:45 … 17:05: resumed at 17:10:15
    await start_account(hass, tesla)
    await advance_to(hass, freezer, at(10))
    tesla.slow_turns = 300
    await step_seconds_until(
        hass, freezer, lambda: tesla.count(CHARGING, "command") > 0, at(11)
    )
    assert tesla.cars[CHARGING].charging_state == "Stopped"  # not carried out yet
    await hass.async_stop()
    assert tesla.cars[CHARGING].charging_state == "Charging"
    saved = hass_storage[storage_key("account01")]["data"]
    assert saved["starts_in_flight"] == {}
    assert saved["cars"][CHARGING]["state"]["paused_by_dr"] is False
    [event] = saved["ledger"]["events"]
    assert event["outcome"] == "resumed"


@pytest.mark.parametrize(
    ("energy_added", "why"),
    [(3.5, "charged two minutes past the stop"), (0.4, "a new session began since")],
)
async def test_a_car_stopped_after_an_unanswered_stop_is_not_taken_for_a_pause(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    energy_added: float,
    why: str,
) -> None:
    """The stop was lost as Home Assistant stopped, and the owner stopped the car later.

    The car is stopped at the next start, but its energy count says it charged on after the
    stop: the stop is not what stopped it, so DR holds nothing and never starts it.
    """
    sent_at = at(-10)
    hass_storage[storage_key("account01")] = stored_stop_in_flight(sent_at)
    tesla.cars[CHARGING].charging_state = "Stopped"
    tesla.cars[CHARGING].energy_added = energy_added
    prices.set(-15, 200, 200, 200, 200, 40, 40, 40)
    events = async_capture_events(hass, EVENT_DR)
    entry = await start_account(hass, tesla)
    dr = entry.runtime_data.dr
    assert dr.ledger.events == [], why
    assert dr.cars[CHARGING].state.paused_by_dr is False
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert tesla.count(CHARGING, "command") == 0
    assert events == []
    await hass.async_block_till_done()
    assert dr.actuator.in_flight.stops == {}


@pytest.mark.parametrize("remove", [False, True])
async def test_unload_or_removal_mid_event_resumes_the_car(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    remove: bool,
) -> None:
    """Whatever takes the entry away first starts the cars DR stopped."""
    await pause_on_spike(hass, freezer, prices, tesla, *[300.0] * 12)
    if remove:
        await hass.config_entries.async_remove(account.entry_id)
    else:
        assert await hass.config_entries.async_unload(account.entry_id)
    await hass.async_block_till_done()
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert tesla.count(CHARGING, "command") == 2
    if remove:
        assert storage_key(account.entry_id) not in hass_storage
    else:
        data = hass_storage[storage_key(account.entry_id)]["data"]
        assert data["cars"][CHARGING]["state"]["paused_by_dr"] is False
        assert data["ledger"]["events"][0]["outcome"] == "unloaded"


async def test_a_car_a_removal_left_paused_is_taken_over_when_the_account_returns(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The car is out of reach as the owner removes the account mid-event: it stays stopped.

    The owner is told, and the account added again holds the car as DR's, in the same event,
    and resumes it when the price falls.
    """
    await pause_on_spike(hass, freezer, prices, tesla, 300, 300, 300, 40, 40, 40)
    tesla.fail_next(408)
    await hass.config_entries.async_remove(account.entry_id)
    await hass.async_block_till_done()
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    issue_id = left_paused_issue_id(account.unique_id or "")
    issue = ir.async_get(hass).async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_placeholders == {"entry": account.title, "count": "1"}
    assert storage_key(account.entry_id) not in hass_storage

    again = MockConfigEntry(
        domain=DOMAIN,
        title=account.title,
        unique_id=account.unique_id,
        version=account.version,
        minor_version=account.minor_version,
        data={**account.data, CONF_REFRESH_TOKEN: tesla.refresh_token},
        entry_id="account02",
    )
    again.add_to_hass(hass)
    assert await hass.config_entries.async_setup(again.entry_id)
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "paused"
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id) is None
    await advance_to(hass, freezer, at(20).replace(second=30))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    [event] = again.runtime_data.dr.ledger.events
    assert event.started == PAUSED_AT
    assert event.outcome is Outcome.RESUMED


async def test_a_removal_that_resumed_every_car_keeps_nothing(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The usual removal: nothing left behind, no repair issue, a new entry starts afresh."""
    await pause_on_spike(hass, freezer, prices, tesla, 300, 300, 300)
    await hass.config_entries.async_remove(account.entry_id)
    await hass.async_block_till_done()
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert not [key for key in hass_storage if key.startswith(f"{DOMAIN}.dr")]
    assert not ir.async_get(hass).issues


async def test_owner_restarting_charging_is_an_override_not_a_fight(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Charging restarted from the Tesla app mid-event: left alone until the event ends."""
    events = async_capture_events(hass, EVENT_DR)
    await pause_on_spike(hass, freezer, prices, tesla, 300, 300, 300, 300, 40, 40, 300)
    tesla.cars[CHARGING].charging_state = "Charging"  # the owner, from the app
    await advance_to(hass, freezer, at(15))  # a vehicle poll sees it
    assert state(hass, STATUS) == "overridden"
    await advance_to(hass, freezer, at(20).replace(second=30))
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert tesla.count(CHARGING, "command") == 1  # only the first stop
    # 17:20 and 17:25 are calm: the event is over, and the next spike (17:30) pauses again.
    await advance_to(hass, freezer, at(30))
    assert state(hass, STATUS) == "monitoring"
    await advance_to(hass, freezer, at(35).replace(second=30))
    assert state(hass, STATUS) == "paused"
    assert [e.data["type"] for e in events] == ["started", "overridden", "started"]


@pytest.mark.parametrize("energy_reported", [True, False])
async def test_an_override_ends_the_ledger_event_when_the_car_restarted(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    energy_reported: bool,
) -> None:
    """Tesla does not say when the owner restarted charging; the energy added since does.

    Ending the event when the read that saw the car charging came in would count the energy
    the car drew since the restart as not drawn (found by the fault week). The car added
    0.35 kWh at 7 kW: it restarted 3 minutes before that read. A car that reports no energy
    added is taken to have restarted halfway between the two reads.
    """
    car = tesla.cars[CHARGING]
    await pause_on_spike(hass, freezer, prices, tesla, *[300.0] * 6)
    await advance_to(hass, freezer, at(12))  # the reads still see the car paused
    car.charging_state = "Charging"  # the owner, from the app
    car.energy_added = car.energy_added + 0.35 if energy_reported else None
    await advance_to(hass, freezer, at(25))
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "overridden"
    event = account.runtime_data.dr.ledger.events[-1]
    assert event.outcome == "overridden"
    assert event.ended is not None
    seen_charging = account.runtime_data.coordinator.cars[CHARGING].updated_at
    assert seen_charging is not None
    if energy_reported:
        assert event.ended == seen_charging - timedelta(minutes=3)
    else:
        assert seen_charging - timedelta(minutes=5) < event.ended < seen_charging
    # Intervals accounted before the restart was seen count only up to the end.
    paused_h = (event.ended - event.started).total_seconds() / 3600
    assert event.kwh == pytest.approx(7.0 * paused_h)


async def test_a_car_started_and_stopped_again_between_reads_is_left_to_its_owner(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Mid-event the owner starts the car from the app and stops it again before a read.

    The next read sees it stopped, as DR left it, but its energy count moved: it charged in
    between, so the pause is over and the stop is the owner's. DR never starts it, and the
    event ends between the last paused read and the charging the count dates.
    """
    car = tesla.cars[CHARGING]
    events = async_capture_events(hass, EVENT_DR)
    await pause_on_spike(hass, freezer, prices, tesla, *[300.0] * 4, *[40.0] * 4)
    await advance_to(hass, freezer, at(12))  # the reads still see the car paused
    event = account.runtime_data.dr.ledger.events[-1]
    assert event.seen_paused_at is not None
    last_paused = event.seen_paused_at
    car.energy_added = car.energy_added + 0.35  # 3 minutes at 7 kW, stopped again since
    await advance_to(hass, freezer, at(30))
    assert state(hass, STATUS) != "paused"
    assert car.charging_state == "Stopped"
    assert tesla.count(CHARGING, "command") == 1  # the stop only: no start
    assert [e.data["type"] for e in events] == ["started", "overridden"]
    assert event.outcome == "overridden"
    seen = account.runtime_data.coordinator.cars[CHARGING].updated_at
    assert event.ended is not None
    assert seen is not None
    latest = seen - timedelta(minutes=3)
    assert event.ended == last_paused + (latest - last_paused) / 2


async def test_a_car_the_owner_started_and_stopped_across_a_restart_stays_stopped(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: FakeOasis,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The Store says DR paused the car and saw it at 3.2 kWh; it is stopped at 3.6 now.

    The last paused read is kept with the event across the restart, so the new start still
    sees that the car charged in between: the owner's, not a pause to resume.
    """
    hass_storage[storage_key("account01")] = stored_paused_seen_at(3.2)
    car = tesla.cars[CHARGING]
    car.charging_state, car.energy_added = "Stopped", 3.6
    prices.set(-15, 200, 200, 40, 40, 40)
    entry = await start_account(hass, tesla)
    await advance_to(hass, freezer, at(10).replace(second=30))
    [event] = entry.runtime_data.dr.ledger.events
    assert event.outcome == "overridden"
    assert car.charging_state == "Stopped"
    assert tesla.count(CHARGING, "command") == 0


async def test_a_car_asleep_when_the_spike_starts_is_left_asleep(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """DR never wakes a car: no wake, no read, no command for it during a spike."""
    car = tesla.cars[CHARGING]
    car.state, car.charging_state = "asleep", "Stopped"
    await account.runtime_data.coordinator.async_refresh()
    data_before = tesla.count(CHARGING, "data")
    prices.set(0, *[300.0] * 6)
    await advance_to(hass, freezer, at(30))
    assert state(hass, STATUS) == "monitoring"
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.attributes["reason"] == "asleep"
    for kind in ("wake", "command"):
        assert tesla.count(CHARGING, kind) == 0
    assert tesla.count(CHARGING, "data") == data_before


async def test_refused_stop_shows_its_reason_and_is_retried_once(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`result: false` is not believed: the status says why, the next interval tries again."""
    tesla.command_refusals.append("charger_busy")
    prices.set(0, *[300.0] * 4)
    await advance_to(hass, freezer, PAUSED_AT)
    status = hass.states.get(STATUS)
    assert status is not None
    assert status.state == "command_failed"
    # The reason is a translated word; the car's own words stand beside it.
    assert status.attributes["reason"] == "command_failed"
    assert status.attributes["command_error"] == "charger_busy"
    assert tesla.cars[CHARGING].charging_state == "Charging"
    await advance_to(hass, freezer, at(10).replace(second=30))
    assert state(hass, STATUS) == "paused"
    assert tesla.count(CHARGING, "command") == 2
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert sum("Could not pause" in r.getMessage() for r in warnings) == 1


async def test_stop_refused_twice_is_not_tried_a_third_time(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two refusals end DR's attempts for this event; the next event starts afresh."""
    tesla.command_refusals.extend(["charger_busy", "charger_busy"])
    prices.set(0, 300, 300, 300, 300, 40, 300)
    await advance_to(hass, freezer, at(20).replace(second=30))
    assert tesla.count(CHARGING, "command") == 2
    assert state(hass, STATUS) == "command_failed"
    await advance_to(hass, freezer, at(25).replace(second=30))  # 17:20 is calm: over
    assert state(hass, STATUS) == "monitoring"
    await advance_to(hass, freezer, at(30).replace(second=30))  # 17:25 spikes again
    assert state(hass, STATUS) == "paused"
    assert tesla.count(CHARGING, "command") == 3


async def test_refused_tokens_mid_event_reauth_then_resume(
    hass: HomeAssistant,
    account: MockConfigEntry,
    tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 401 mid-event asks for a new login; the car is resumed once auth is back."""
    await pause_on_spike(hass, freezer, prices, tesla, 300, 300, 40, 40, 40, 40)
    tesla.access_token = tesla.refresh_token = "revoked"
    await advance_to(hass, freezer, at(15).replace(second=30))
    assert any(
        flow["context"]["source"] == SOURCE_REAUTH
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    )
    # The price fell at 17:15:15 but the start could not be sent: still paused, kept.
    assert tesla.cars[CHARGING].charging_state == "Stopped"
    assert state(hass, STATUS) == "paused"
    tesla.refresh_token = "issued-again"
    flow = next(
        f
        for f in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if f["context"]["source"] == SOURCE_REAUTH
    )
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {CONF_REFRESH_TOKEN: "issued-again"}
    )
    assert result["type"] is FlowResultType.ABORT
    await hass.async_block_till_done()
    assert account.state is ConfigEntryState.LOADED
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert state(hass, STATUS) == "monitoring"
    assert state(hass, CHARGING_SWITCH) == "on"


async def test_two_accounts_three_cars_two_nodes_one_request_per_interval(
    hass: HomeAssistant,
    oasis: FakeOasis,
    fake_tesla: FakeTesla,
    prices: PriceTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Cars in Palo Alto (NP15) and Los Angeles (SP15) on two accounts share one request."""
    fake_tesla.add_car(CHARGING, "Model 3")
    fake_tesla.add_car(SLEEPING, "Model Y", latitude=34.05, longitude=-118.25)
    first = account_entry(fake_tesla)
    first.add_to_hass(hass)
    assert await hass.config_entries.async_setup(first.entry_id)
    second = MockConfigEntry(
        domain=DOMAIN,
        title="second@example.com",
        unique_id="second@example.com",
        data={**first.data, "email": "second@example.com"},
        entry_id="account02",
    )
    second.add_to_hass(hass)
    assert await hass.config_entries.async_setup(second.entry_id)
    await hass.async_block_till_done()
    prices.set(0, *[300.0] * 6)
    oasis.requests.clear()
    await advance_to(hass, freezer, at(30).replace(second=30))
    realtime = [
        r for r in oasis.requests if r.query.get("queryname") == "PRC_INTVL_LMP"
    ]
    # 17:05 … 17:30, one each, and one more where the learned schedule probes earlier.
    assert 6 <= len(realtime) <= 7
    assert all(
        set(r.nodes) == {"TH_NP15_GEN-APND", "TH_SP15_GEN-APND"} for r in realtime
    )
    # Both accounts paused both of their charging cars: one stop each, on both nodes.
    assert fake_tesla.count(CHARGING, "command") == 2
    assert fake_tesla.count(SLEEPING, "command") == 2
