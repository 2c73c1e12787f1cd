"""Tell the owner what DR does with a car, through the notify target of the car's entry.

Off until the entry's options name a target: a `notify` entity, or a notify service such as
`notify.mobile_app_<phone>`. Only a mobile app's service carries the one-tap "Skip this event"
action (notify entities send a title and a message, nothing more); tapping it comes back as
Home Assistant's `mobile_app_notification_action` event, which skips the car's event. Other
targets are told where the car's "Skip this event" button is; in Home Assistant's own
notifications panel (`notify.persistent_notification`) each car has one notification, the
latest replacing the earlier, dismissed when the owner skips.

This module only listens: to the `tesladr_dr_event` bus event DR fires for each pause started
and ended, and to the DR coordinator's updates for a command that failed. It sends at most one
message per event and kind, remembered in a Store so a restart that settles a pause again does
not repeat it, and none about an event the owner skipped or overrode: they did that themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.components import persistent_notification as pn
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.helpers.translation import async_get_translations
from homeassistant.util import dt as dt_util

from .actuator import car_name
from .caiso.forecast import quarter_forecast
from .const import DOMAIN, LOGGER
from .dr import DrEvent, Reason
from .dr.event import Cause
from .dr.outlook import expected_end
from .dr_actions import EVENT_DR
from .dr_coordinator import DrCoordinator

EVENT_ACTION = "mobile_app_notification_action"
SKIP_ACTION = "TESLADR_SKIP_"
STORAGE_VERSION = 1
# Keys of the messages sent: events outlive a restart by hours, not by this many messages.
KEEP_SENT = 200
# Home Assistant's own notifications panel, through the notify service of that name.
PANEL = "persistent_notification"

# The messages are translations (`exceptions` in translations/en.json, the category core
# integrations use for words built in code), keyed by what happened.
ENDED = {
    Reason.PRICE_BELOW_RESUME: "notify_resumed_price",
    Reason.PRICES_STALE: "notify_resumed_stale",
    Reason.UNLOADING: "notify_resumed_unloading",
}

# A pause a grid signal caused is told by its signal: its price may well be low.
STARTED_BY_SIGNAL = {
    Reason.FLEX_ALERT: "notify_paused_flex_alert",
    Reason.HIGH_EMISSIONS: "notify_paused_high_emissions",
}
ENDED_SIGNAL = {
    Cause.FLEX_ALERT: "notify_resumed_flex_alert",
    Cause.EMISSIONS: "notify_resumed_emissions",
}
# The reasons a pause ends with once neither the price nor a signal calls for it.
SIGNAL_MAY_HAVE_ENDED = {Reason.PRICE_BELOW_RESUME, Reason.PRICE_BELOW_THRESHOLD}


def notify_targets(hass: HomeAssistant) -> list[str]:
    """What the options offer: notify entities, then notify services (mobile apps first)."""
    entities = sorted(hass.states.async_entity_ids("notify"))
    services = sorted(
        (
            f"notify.{name}"
            for name in hass.services.async_services_for_domain("notify")
        ),
        key=lambda name: (not name.startswith("notify.mobile_app_"), name),
    )
    # send_message is the entities' own service, not a target.
    return [*entities, *(s for s in services if s != "notify.send_message")]


def panel_id(device_id: str) -> str:
    """The id of the car's notification in Home Assistant's notifications panel."""
    return f"{DOMAIN}_{device_id}"


def skip_action(device_id: str) -> str:
    """The mobile app action id that skips the event of the car with this device."""
    return f"{SKIP_ACTION}{device_id}"


def _local_time(moment: datetime) -> str:
    return dt_util.as_local(moment).strftime("%H:%M")


def _price_text(price: float | None) -> str | None:
    if price is None:
        return None
    return f"{price / 1000:.3f} USD/kWh ({price:.0f} USD/MWh)"


def notified_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, list[str]]]:
    """What was sent for the entry's cars (kept across restarts, removed with the entry)."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.notified.{entry_id}")


async def async_remove_notified(hass: HomeAssistant, entry_id: str) -> None:
    """Forget what was sent for a removed entry."""
    await notified_store(hass, entry_id).async_remove()


class DrNotifier:
    """The notifications of one car entry's DR."""

    def __init__(
        self, hass: HomeAssistant, entry: ConfigEntry, dr: DrCoordinator, target: str
    ) -> None:
        """Send to `target` what `dr` does; call async_start next."""
        self.hass = hass
        self.entry = entry
        self.dr = dr
        self.target = target
        self._store = notified_store(hass, entry.entry_id)
        self._texts: dict[str, str] = {}
        self._sent: list[str] = []
        # Cars whose command failure was told, until their commands work again.
        self._failing: set[str] = set()

    async def async_start(self) -> Callable[[], None]:
        """Load what was sent and the words, and listen; return what stops listening."""
        # Home Assistant's language, English where a translation lacks a key.
        self._texts = await async_get_translations(
            self.hass, self.hass.config.language, "exceptions", {DOMAIN}
        )
        stored = await self._store.async_load()
        self._sent = list(stored.get("sent", [])) if stored else []
        unsubs = [
            self.hass.bus.async_listen(EVENT_DR, self._on_dr_event),
            self.hass.bus.async_listen(EVENT_ACTION, self._on_action),
            self.dr.async_add_listener(self._on_update),
        ]

        @callback
        def stop() -> None:
            for unsub in unsubs:
                unsub()

        return stop

    # What DR did

    @callback
    def _on_dr_event(self, event: Event[dict[str, Any]]) -> None:
        data = event.data
        car_id = self.dr.car_for_device(data.get("device_id") or "")
        if car_id is None:
            return
        kind, reason = data["type"], data["reason"]
        if kind == "started" and (pause := self.dr.ledger.active(car_id)):
            self._send(
                f"{car_id}/{pause.event_id}/started",
                self._started(car_id, data),
                data,
                skip=True,
            )
        elif kind == "ended" and reason == Reason.SKIPPED:
            # A notification panel keeps the pause's message, Skip hint and all: the owner
            # acted on it, so it goes.
            if self._in_panel() and data.get("device_id"):
                pn.async_dismiss(self.hass, panel_id(data["device_id"]))
        elif kind == "ended":
            if (pause := self._last_event(car_id)) is None:
                return
            if reason == Reason.READY_BY:
                message = self._text("notify_ready_by", data)
                self._send(f"{car_id}/{pause.event_id}/ready_by", message, data)
            else:
                key = ENDED.get(reason, "notify_resumed")
                if key == "notify_resumed_price" and data.get("price") is None:
                    key = "notify_resumed"
                if reason in SIGNAL_MAY_HAVE_ENDED:
                    # "The price fell" would be wrong for the end of a signal's pause.
                    key = ENDED_SIGNAL.get(pause.cause, key)
                message = self._text(key, data)
                self._send(f"{car_id}/{pause.event_id}/ended", message, data)

    @callback
    def _on_update(self) -> None:
        for car_id in self.dr.managed_cars():
            car = self.dr.car(car_id)
            if car.command_error is None or car.state.skipped:
                self._failing.discard(car_id)
                continue
            if car_id in self._failing:
                continue
            self._failing.add(car_id)
            # During a pause, once per event across restarts; a stop that failed has no
            # event yet: once until the car's commands work again.
            pause = self.dr.ledger.active(car_id)
            data = {
                "car": car_name(self.dr.source, car_id),
                "device_id": self.dr.source.device_id(car_id),
                "error": str(car.command_error),
            }
            self._send(
                f"{car_id}/{pause.event_id}/command_failed" if pause else None,
                self._text("notify_command_failed", data),
                data,
            )

    def _last_event(self, car_id: str) -> DrEvent | None:
        return next(
            (e for e in reversed(self.dr.ledger.events) if e.vin == car_id), None
        )

    def _started(self, car_id: str, data: dict[str, Any]) -> str:
        if (signal_key := STARTED_BY_SIGNAL.get(data["reason"])) is not None:
            # The price forecast says nothing of when a signal ends.
            message = self._text(signal_key, data)
        else:
            key = (
                "notify_paused"
                if data.get("price") is not None
                else "notify_paused_high"
            )
            # A forecast already below the band disagrees with the price now: it tells nothing.
            until = self._expected_end(car_id)
            if until is not None and until > dt_util.utcnow():
                key += "_until"
            message = self._text(key, {**data, "end": until and _local_time(until)})
        if not self._carries_actions():
            # Only a phone shows the Skip action: elsewhere the message says where it is.
            message += " " + self._text("notify_skip_hint", data)
        return message

    def _carries_actions(self) -> bool:
        return self.target.removeprefix("notify.").startswith("mobile_app_")

    def _in_panel(self) -> bool:
        return self.target == f"notify.{PANEL}"

    def _text(self, key: str, data: dict[str, Any]) -> str:
        """The translation of `key`, its placeholders filled from DR's event data."""
        template = self._texts.get(f"component.{DOMAIN}.exceptions.{key}.message", key)
        return template.format(
            car=data.get("car") or "",
            node=data.get("node") or "",
            price=_price_text(data.get("price")) or "",
            end=data.get("end") or "",
            error=data.get("error") or "",
        )

    def _expected_end(self, car_id: str) -> datetime | None:
        prices = self.dr.prices
        node = self.dr.car(car_id).node
        if prices is None or node is None:
            return None
        now = dt_util.utcnow()
        forecast = quarter_forecast(
            prices.data.fifteen_minute.get(node, []),
            prices.data.day_ahead.get(node, []),
            after=now,
        )
        return expected_end(forecast, self.dr.car(car_id).settings, now)

    # Sending

    @callback
    def _send(
        self,
        key: str | None,
        message: str,
        data: dict[str, Any],
        *,
        skip: bool = False,
    ) -> None:
        """Send once per key (stored), or unkeyed; `skip` offers the Skip action."""
        if key is not None:
            if key in self._sent:
                return
            self._sent = [*self._sent, key][-KEEP_SENT:]
        actions = (
            [
                {
                    "action": skip_action(data["device_id"]),
                    "title": self._text("notify_skip_action", data),
                }
            ]
            if skip and data.get("device_id")
            else None
        )
        self.entry.async_create_task(
            self.hass,
            self._async_send(
                self._text("notify_title", data),
                message,
                actions,
                key is not None,
                data.get("device_id"),
            ),
            f"{DOMAIN} notify",
        )

    async def _async_send(
        self,
        title: str,
        message: str,
        actions: list[dict[str, str]] | None,
        persist: bool,
        device_id: str | None,
    ) -> None:
        if persist:
            await self._store.async_save({"sent": self._sent})
        target = self.target
        try:
            if target.startswith("notify.") and self.hass.states.get(target):
                await self.hass.services.async_call(
                    "notify",
                    "send_message",
                    {"entity_id": target, "title": title, "message": message},
                    blocking=True,
                )
                return
            service = target.removeprefix("notify.")
            payload: dict[str, Any] = {"title": title, "message": message}
            if actions and self._carries_actions():
                payload["data"] = {"actions": actions}
            elif self._in_panel() and device_id:
                # One notification per car, the latest news replacing the earlier.
                payload["data"] = {"notification_id": panel_id(device_id)}
            await self.hass.services.async_call(
                "notify", service, payload, blocking=True
            )
        except HomeAssistantError as err:
            LOGGER.warning("Could not notify %s: %s", target, err)

    # What the owner tapped

    async def _on_action(self, event: Event[dict[str, Any]]) -> None:
        action = str(event.data.get("action", ""))
        if not action.startswith(SKIP_ACTION):
            return
        car_id = self.dr.car_for_device(action.removeprefix(SKIP_ACTION))
        if car_id is None:
            return
        try:
            await self.dr.async_skip(car_id)
        except HomeAssistantError as err:
            # The event may have ended, or the skip budget run out, before the tap.
            LOGGER.info("Skip from a notification not done: %s", err)
