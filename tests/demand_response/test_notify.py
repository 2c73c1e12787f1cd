"""DR notifications through Home Assistant's notify, and the Skip action a phone sends back."""

from __future__ import annotations

import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import persistent_notification as pn
from homeassistant.components.notify import NotifyEntity, NotifyEntityFeature
from homeassistant.config_entries import ConfigEntry, ConfigFlow
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION, Platform
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockModule,
    async_mock_service,
    mock_config_flow,
    mock_integration,
    mock_platform,
    setup_test_component_platform,
)

from custom_components.tesladr.caiso import Market
from custom_components.tesladr.const import CONF_NOTIFY_TARGET, DOMAIN
from custom_components.tesladr.dr_actions import EVENT_DR
from custom_components.tesladr.notify_dr import DrNotifier, notify_targets
from tests.fake_tesla import FakeTesla
from tests.tesla.conftest import account_entry

from .conftest import CHARGING, STATUS, advance_to, at, state
from .test_calendar import ForecastTable

# Written for a pause on each crossing and a resume on the first dip: not about churn control.
pytestmark = pytest.mark.usefixtures("churn_control_off")

PHONE = "notify.mobile_app_pixel"
ACTION = "mobile_app_notification_action"
# Where a target without actions (a notify entity) tells the owner to skip.
SKIP_HINT = (
    "To let Model 3 charge through this event, press its Skip this event button "
    "(on its device page or your dashboard)."
)


@pytest.fixture
def prices() -> ForecastTable:
    """Real-time prices, and forecasts where a test sets them."""
    return ForecastTable()


class Phone(NotifyEntity):
    """A notify entity as any integration provides one: it keeps what it was sent."""

    _attr_supported_features = NotifyEntityFeature.TITLE
    _attr_name = "Kitchen display"
    _attr_unique_id = "kitchen_display"

    def __init__(self) -> None:
        """Nothing sent yet."""
        self.sent: list[tuple[str | None, str]] = []

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Keep the message."""
        self.sent.append((title, message))


async def notify_entity(hass: HomeAssistant) -> Phone:
    """A notify entity set up through Home Assistant's notify component."""

    async def setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool | None:
        await hass.config_entries.async_forward_entry_setups(entry, [Platform.NOTIFY])
        # 2026.11 refuses a boolean from a core-like integration ("test"); 2026.10 needs one.
        return True if (MAJOR_VERSION, MINOR_VERSION) < (2026, 11) else None

    mock_integration(hass, MockModule("test", async_setup_entry=setup_entry))
    phone = Phone()
    setup_test_component_platform(hass, "notify", [phone], from_config_entry=True)
    mock_platform(hass, "test.config_flow")
    with mock_config_flow("test", ConfigFlow):
        entry = MockConfigEntry(domain="test")
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    return phone


async def car_entry(hass: HomeAssistant, tesla: FakeTesla, target: str) -> ConfigEntry:
    """The account entry, notifying `target`."""
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(entry, options={CONF_NOTIFY_TARGET: target})
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def paused_on_phone(
    hass: HomeAssistant,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> tuple[list[ServiceCall], ConfigEntry]:
    """The account notifying the phone, its Model 3 paused by the 17:00 spike at 17:05:30."""
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await car_entry(hass, tesla, PHONE)
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, at(5).replace(second=30))
    await hass.async_block_till_done()
    return calls, entry


def device_id(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """The Model 3's device id."""
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, CHARGING), entry.entry_id
    )
    assert device is not None
    return device.id


async def test_pause_message_with_skip_that_skips_the_event(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The phone gets the price, the likely end and Skip; tapping Skip lets the car charge."""
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await car_entry(hass, tesla, PHONE)
    prices.forecast[Market.RTPD, at(0)] = 280.0
    prices.forecast[Market.RTPD, at(15)] = 250.0
    prices.set(0, 300, 300, 300, 300, 40)
    await advance_to(hass, freezer, at(5).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "paused"
    [call] = calls
    assert call.data["title"] == "Model 3: demand response"
    assert call.data["message"].startswith(
        "Charging paused: the price at TH_NP15_GEN-APND is 0.300 USD/kWh (300 USD/MWh)."
    )
    # A phone carries the action: no words about where else to find it.
    assert "Skip this event button" not in call.data["message"]
    car = device_id(hass, entry)
    assert call.data["data"] == {
        "actions": [{"action": f"TESLADR_SKIP_{car}", "title": "Skip this event"}]
    }

    # Another car's action and other apps' actions are not tesladr's.
    hass.bus.async_fire(ACTION, {"action": "TESLADR_SKIP_elsewhere"})
    hass.bus.async_fire(ACTION, {"action": "OPEN_GARAGE"})
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "paused"

    # The phone reports the tap as Home Assistant's mobile app does.
    hass.bus.async_fire(ACTION, {"action": f"TESLADR_SKIP_{car}", "tag": None})
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "skipped"
    assert tesla.cars[CHARGING].charging_state == "Charging"

    # Nothing during the skip, nor when the event it skipped ends.
    await advance_to(hass, freezer, at(25).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "monitoring"
    assert len(calls) == 1


async def test_tap_after_the_event_is_logged_not_raised(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A late tap finds no event to skip: the owner's phone gets no error, the log says why."""
    async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await car_entry(hass, tesla, PHONE)
    await advance_to(hass, freezer, at(5).replace(second=30))
    with caplog.at_level(logging.INFO):
        hass.bus.async_fire(
            ACTION, {"action": f"TESLADR_SKIP_{device_id(hass, entry)}"}
        )
        await hass.async_block_till_done()
    assert "Skip from a notification not done" in caplog.text
    assert state(hass, STATUS) == "monitoring"


async def test_entity_target_gets_start_and_end_once_each_across_a_restart(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A notify entity gets the start (without Skip) and the end; a restart repeats none."""
    phone = await notify_entity(hass)
    entry = await car_entry(hass, tesla, "notify.kitchen_display")
    # The day-ahead and 15-minute prices: high until 18:00, calm then.
    prices.forecast[Market.DAM, at(0)] = 250.0
    for minutes in range(0, 60, 15):
        prices.forecast[Market.RTPD, at(minutes)] = 250.0
    prices.set(0, 300, 300, 40, 40, 40, 40, 300, 300)
    await advance_to(hass, freezer, at(5).replace(second=30))
    await hass.async_block_till_done()
    assert phone.sent == [
        (
            "Model 3: demand response",
            (
                "Charging paused: the price at TH_NP15_GEN-APND is 0.300 USD/kWh "
                f"(300 USD/MWh). {SKIP_HINT}"
            ),
        )
    ]
    # A restart settling the same pause tells DR's bus again: no second message.
    again = DrNotifier(hass, entry, entry.runtime_data.dr, "notify.kitchen_display")
    stop = await again.async_start()
    hass.bus.async_fire(
        EVENT_DR,
        {
            "type": "started",
            "device_id": device_id(hass, entry),
            "car": "Model 3",
            "price": 300.0,
            "reason": "price_above_threshold",
        },
    )
    await hass.async_block_till_done()
    assert len(phone.sent) == 1
    stop()

    await advance_to(hass, freezer, at(15).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "monitoring"
    assert phone.sent[1:] == [
        (
            "Model 3: demand response",
            (
                "Charging resumed: the price at TH_NP15_GEN-APND fell to 0.040 USD/kWh "
                "(40 USD/MWh)."
            ),
        )
    ]

    # By the next spike the day-ahead prices are in: the message says when it likely ends.
    await advance_to(hass, freezer, at(35).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "paused"
    assert phone.sent[2:] == [
        (
            "Model 3: demand response",
            (
                "Charging paused: the price at TH_NP15_GEN-APND is 0.300 USD/kWh "
                f"(300 USD/MWh). Likely to resume at 18:00. {SKIP_HINT}"
            ),
        )
    ]


async def test_command_failure_is_told_once_though_retried(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop refused at two intervals is one message, without Skip."""
    calls: list[ServiceCall] = async_mock_service(hass, "notify", "mobile_app_pixel")
    entry = await car_entry(hass, tesla, PHONE)
    tesla.command_refusals.extend(["charger_busy", "charger_busy"])
    prices.set(0, 300, 300, 300, 300)
    await advance_to(hass, freezer, at(10).replace(second=30))
    await hass.async_block_till_done()
    assert tesla.count(CHARGING, "command") == 2
    assert state(hass, STATUS) == "command_failed"
    assert [c.data for c in calls] == [
        {
            "title": "Model 3: demand response",
            "message": "A charging command failed: charger_busy",
        }
    ]
    # An end DR never paused for (nothing in its ledger) is nothing to tell.
    hass.bus.async_fire(
        EVENT_DR,
        {
            "type": "ended",
            "device_id": device_id(hass, entry),
            "car": "Model 3",
            "price": None,
            "reason": "prices_stale",
        },
    )
    await hass.async_block_till_done()
    assert len(calls) == 1


async def test_ready_by_and_stale_ends_have_their_own_words_once(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """DR reports the ready-by guarantee's end as any end, with its reason: told once."""
    calls, entry = await paused_on_phone(hass, tesla, prices, freezer)
    assert state(hass, STATUS) == "paused"
    ended = {
        "type": "ended",
        "device_id": device_id(hass, entry),
        "car": "Model 3",
        "price": None,
        "reason": "ready_by",
    }
    stale = {**ended, "reason": "prices_stale"}
    for data in (ended, ended, stale, stale):
        hass.bus.async_fire(EVENT_DR, data)
    await hass.async_block_till_done()
    assert [c.data["message"] for c in calls[1:]] == [
        (
            "Charging resumed while the price is still high, so the car is ready by its "
            "departure."
        ),
        "Charging resumed: prices are out of date, so the car is not held back.",
    ]


async def test_an_end_without_a_price_says_only_that_the_pause_is_over(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An end whose price is unknown does not name a price it does not have."""
    calls, entry = await paused_on_phone(hass, tesla, prices, freezer)
    hass.bus.async_fire(
        EVENT_DR,
        {
            "type": "ended",
            "device_id": device_id(hass, entry),
            "car": "Model 3",
            "node": "TH_NP15_GEN-APND",
            "price": None,
            "reason": "price_below_resume",
        },
    )
    await hass.async_block_till_done()
    assert [c.data["message"] for c in calls[1:]] == [
        "Charging resumed: the pause is over."
    ]


async def test_removing_the_entry_forgets_what_was_sent(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The Store of messages sent goes with the entry, as DR's own Store does."""
    _calls, entry = await paused_on_phone(hass, tesla, prices, freezer)
    key = f"{DOMAIN}.notified.{entry.entry_id}"
    assert hass_storage[key]["data"]["sent"]
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


def panel(hass: HomeAssistant) -> dict[str, pn.Notification]:
    """Home Assistant's notifications panel, kept up to date as the frontend's is."""
    shown: dict[str, pn.Notification] = {}

    @callback
    def update(kind: pn.UpdateType, notes: dict[str, pn.Notification]) -> None:
        if kind is pn.UpdateType.REMOVED:
            for key in notes:
                shown.pop(key, None)
        else:
            shown.update(notes)

    pn.async_register_callback(hass, update)
    return shown


async def test_panel_message_and_skip_button_in_one_tap(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a phone: the panel tells the price, the likely end and the Skip button.

    Pressing the button skips the event: the car charges, the message goes, and neither
    the skip nor the end of the event it skipped is told.
    """
    assert await async_setup_component(hass, "notify", {})
    shown = panel(hass)
    await car_entry(hass, tesla, "notify.persistent_notification")
    # The day-ahead and 15-minute prices: high until 18:00, calm then.
    prices.forecast[Market.DAM, at(0)] = 250.0
    for minutes in range(0, 60, 15):
        prices.forecast[Market.RTPD, at(minutes)] = 250.0
    prices.set(0, 300, 300, 40, 40, 40, 40, 300, 300, 300, 300)
    await advance_to(hass, freezer, at(15).replace(second=30))
    await hass.async_block_till_done()
    # One notification per car: the resume replaced the pause.
    [note] = shown.values()
    assert note["message"].startswith("Charging resumed")

    await advance_to(hass, freezer, at(35).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "paused"
    [note] = shown.values()
    assert note["title"] == "Model 3: demand response"
    assert note["message"] == (
        "Charging paused: the price at TH_NP15_GEN-APND is 0.300 USD/kWh (300 USD/MWh). "
        f"Likely to resume at 18:00. {SKIP_HINT}"
    )

    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": "button.model_3_skip_this_event"},
        blocking=True,
    )
    await hass.async_block_till_done()
    assert state(hass, "sensor.model_3_participation") == "skipped"
    assert tesla.cars[CHARGING].charging_state == "Charging"
    assert shown == {}

    await advance_to(hass, freezer, at(55).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "monitoring"
    assert shown == {}


async def test_a_target_gone_is_a_warning_and_others_cars_are_ignored(
    hass: HomeAssistant,
    oasis: object,
    tesla: FakeTesla,
    prices: ForecastTable,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A removed phone fails the send, not DR; a device not of this entry is no car."""
    await car_entry(hass, tesla, "notify.mobile_app_gone")
    hass.bus.async_fire(
        EVENT_DR, {"type": "started", "device_id": "other", "reason": "x"}
    )
    prices.set(0, 300, 300)
    await advance_to(hass, freezer, at(5).replace(second=30))
    await hass.async_block_till_done()
    assert state(hass, STATUS) == "paused"
    assert "Could not notify notify.mobile_app_gone" in caplog.text


async def test_options_offer_notify_entities_and_mobile_apps_first(
    hass: HomeAssistant, oasis: object, tesla: FakeTesla
) -> None:
    """The option lists what can be notified; it is saved only when chosen."""
    await notify_entity(hass)
    async_mock_service(hass, "notify", "mobile_app_pixel")
    assert notify_targets(hass) == [
        "notify.kitchen_display",
        "notify.mobile_app_pixel",
        "notify.persistent_notification",
    ]
    entry = account_entry(tesla)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "polling_policy": "demand",
            "vehicles": list(tesla.cars),
            CONF_NOTIFY_TARGET: PHONE,
        },
    )
    await hass.async_block_till_done()
    options: dict[str, Any] = dict(entry.options)
    assert options[CONF_NOTIFY_TARGET] == PHONE
