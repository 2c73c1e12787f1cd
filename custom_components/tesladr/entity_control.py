"""The charge-control backend over the entities another Home Assistant integration provides.

Tesla Fleet, Teslemetry, Tessie, Tesla Custom or any charger switch: tesladr calls the switch's
own services (so the owner's integration makes every Tesla call, none is tesladr's own) and
believes the charging-state and charger-power entities, not the switch's optimistic state.

Three rules from how those switches behave (see the README's per-integration notes):
- a command is confirmed only by charging signals the integration wrote after it: tesladr asks
  for a fresh read right after the command, and until the signals change (or a later read
  reports them unchanged) they predate the command and count as stale; DR holds the car
  meanwhile;
- a sleeping car is not charging: it is never woken to be stopped. Tesla Fleet does not wake a
  car whose cached state says online, so a start presses its wake button first when its status
  is not online, and once more after a start refused with "not online";
- the switch turned on by someone else (a person, an automation: Home Assistant's `Context`
  carries a user or a parent) is the owner's override; one turned on by the integration's own
  refresh is the car starting by itself.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import replace
from datetime import datetime, timedelta

from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    EventStateReportedData,
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_state_report_event,
)
from homeassistant.util import dt as dt_util

from .sources import SOURCE_GENERIC, Role, entity_id_of, read_charge_state
from .vehicles import ChargeState, CommandResult, Refusal, VehicleState

# Integrations whose switch does not wake the car itself when its cached state is stale.
WAKE_BEFORE_START = {"tesla_fleet"}
OUR_CONTEXTS = 32
# An unchanged value reported this long after a command comes from a read made after it.
REPORT_AFTER = timedelta(seconds=10)


class EntityChargeControl:
    """ChargeControl over one car's entities (see car_source for the DR side)."""

    def __init__(
        self,
        hass: HomeAssistant,
        source: str,
        entities: Mapping[Role, str],
        car_id: str,
        name: str,
    ) -> None:
        """Bind to the car's entities (registry ids, so renamed entities still work)."""
        self.hass = hass
        self.source = source
        self.entities = dict(entities)
        self.car_id = car_id
        self.name = name
        self._ours: deque[str] = deque(maxlen=OUR_CONTEXTS)
        # When a command was sent whose effect the charging signals have not shown yet.
        self._awaiting_since: datetime | None = None
        self._owner_started_at: datetime | None = None
        # When a start went out whose effect the signals have not shown yet.
        self._start_sent: datetime | None = None
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsubs: list[CALLBACK_TYPE] = []

    # What the car shows

    def entity_id(self, role: Role) -> str | None:
        """The entity of a role under its current entity_id."""
        registry_id = self.entities.get(role)
        return entity_id_of(self.hass, registry_id) if registry_id else None

    def _signals(self) -> set[str]:
        """The entities whose change tells what charging really does."""
        signals = {
            entity_id
            for role in (Role.CHARGING_STATE, Role.CHARGER_POWER)
            if (entity_id := self.entity_id(role)) is not None
        }
        if not signals and (switch := self.entity_id(Role.SWITCH)) is not None:
            # A bare charger switch is its own only signal.
            signals.add(switch)
        return signals

    def current(self) -> ChargeState:
        """The car as its entities show it; stale while they predate tesladr's command."""
        car = read_charge_state(
            self.hass, self.source, self.entities, self.car_id, self.name
        )
        if self._awaiting_since is not None:
            car = replace(car, stale=True)
        return replace(car, owner_started_at=self._owner_started_at)

    async def read(self, vin: str) -> ChargeState:
        """The car as its entities show it (the integration keeps them fresh)."""
        return self.current()

    # Following the entities

    @callback
    def async_start_tracking(self) -> None:
        """Follow the car's entities; again after one is renamed."""
        self.async_stop_tracking()
        tracked = {
            entity_id
            for role in Role
            if (entity_id := self.entity_id(role)) is not None
        }
        self._unsubs = [
            async_track_state_change_event(
                self.hass, sorted(tracked), self._async_state_changed
            ),
            # A read that found the same values writes no change, but it is news all the same.
            async_track_state_report_event(
                self.hass, sorted(self._signals()), self._async_reported
            ),
        ]

    @callback
    def async_stop_tracking(self) -> None:
        """Stop following the entities."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs = []

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call back on every change of the car's entities."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def _async_reported(self, event: Event[EventStateReportedData]) -> None:
        since = self._awaiting_since
        # A report right after the command can come from a read already under way before it.
        if since is not None and event.time_fired - since >= REPORT_AFTER:
            self._awaiting_since = None
            self._notify()

    @callback
    def _notify(self) -> None:
        for update in list(self._listeners):
            update()

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        if entity_id in self._signals():
            self._awaiting_since = None
        if entity_id == self.entity_id(Role.SWITCH) and self._owner_turned_on(event):
            self._owner_started_at = dt_util.utcnow()
        self._notify()

    def _owner_turned_on(self, event: Event[EventStateChangedData]) -> bool:
        old, new = event.data["old_state"], event.data["new_state"]
        if new is None or new.state != STATE_ON:
            return False
        if old is not None and old.state not in (STATE_OFF, STATE_UNKNOWN):
            return False
        context = event.context
        if context.id in self._ours:
            return False
        # A person (user id) or an automation or script (parent context) turned it on; a
        # plain context is the integration writing what it read.
        return context.user_id is not None or context.parent_id is not None

    # Commands

    async def _switch(self, service: str) -> str | None:
        """Call the switch's service, blocking; the error text, or None when it went out."""
        entity_id = self.entity_id(Role.SWITCH)
        state = self.hass.states.get(entity_id) if entity_id else None
        if entity_id is None or state is None or state.state == STATE_UNAVAILABLE:
            # Home Assistant skips unavailable entities silently: that is no command.
            return "unavailable"
        context = Context()
        self._ours.append(context.id)
        self._awaiting_since = dt_util.utcnow()
        try:
            await self.hass.services.async_call(
                "switch",
                service,
                {ATTR_ENTITY_ID: entity_id},
                blocking=True,
                context=context,
            )
        except HomeAssistantError as err:
            self._awaiting_since = None
            return str(err) or type(err).__name__
        except Exception as err:  # noqa: BLE001 - tesla_custom lets its library's errors through
            self._awaiting_since = None
            return str(err) or type(err).__name__
        return None

    async def _ask_fresh_read(self) -> None:
        """After a command, one refresh through the integration's own entity update.

        Confirmation would otherwise wait for the integration's next poll (ten minutes on
        Tesla Fleet). A bare charger's helpers update by themselves.
        """
        if self.source == SOURCE_GENERIC:
            return
        entity_ids = sorted(self._signals())
        if not entity_ids:
            return
        # Whether anything arrived, the bounded wait that follows tells.
        with contextlib.suppress(HomeAssistantError):
            await self.hass.services.async_call(
                "homeassistant",
                "update_entity",
                {ATTR_ENTITY_ID: entity_ids},
                blocking=True,
            )

    def _judge(
        self, done: Callable[[ChargeState], bool]
    ) -> tuple[bool | None, ChargeState]:
        """Whether the command had its effect: None while the signals have not changed."""
        car = self.current()
        if self._awaiting_since is not None:
            return None, car
        return done(car), car

    async def stop_charging(self, vin: str) -> CommandResult:
        """Stop without waking; believe the charging signals, not the switch."""
        if self.current().state is not VehicleState.ONLINE:
            # Tesla Fleet's switch wakes a car even to stop it; a sleeping car is not charging.
            return CommandResult(ok=False, reason=Refusal.ASLEEP)
        if (error := await self._switch("turn_off")) is not None:
            return CommandResult(ok=False, reason=error)
        await self._ask_fresh_read()
        stopped, car = self._judge(lambda car: not car.charging)
        if stopped is None:
            # Sent, and nothing says otherwise yet: DR holds the car, which reads as stale
            # until its signals change or the confirmation window has passed.
            return CommandResult(ok=True, reason=Refusal.UNCONFIRMED, state=car)
        if not stopped:
            return CommandResult(ok=False, reason=Refusal.STILL_CHARGING, state=car)
        return CommandResult(ok=True, state=car)

    async def _wake(self) -> bool:
        entity_id = self.entity_id(Role.WAKE)
        if entity_id is None:
            return True
        try:
            await self.hass.services.async_call(
                "button", "press", {ATTR_ENTITY_ID: entity_id}, blocking=True
            )
        except HomeAssistantError:
            return False
        return True

    async def start_charging(self, vin: str) -> CommandResult:
        """Start, waking the car first where the integration needs that; then confirm.

        A start whose effect has not shown yet is not sent again: the caller asks again, and
        gets the answer once the integration has read the car.
        """
        before = self.current()
        if (sent := self._start_sent) is not None:
            if self._awaiting_since is not None:
                return CommandResult(ok=False, reason=Refusal.UNCONFIRMED, state=before)
            self._start_sent = None
            return replace(_start_result(before), sent_at=sent)
        if not before.stale and before.state is VehicleState.ONLINE and before.charging:
            # The owner (or the car's schedule) started it already; a sleeping car's last
            # values do not count.
            return CommandResult(ok=True, reason=Refusal.IS_CHARGING, state=before)
        woken = False
        if self.source in WAKE_BEFORE_START and before.state is not VehicleState.ONLINE:
            if not await self._wake():
                return CommandResult(ok=False, reason=Refusal.WAKE_FAILED)
            woken = True
        error = await self._switch("turn_on")
        if error is not None and not woken and self.source in WAKE_BEFORE_START:
            if _not_online(error):
                # Its cached state said online, but the car fell asleep since: a fresh read
                # tells the integration, whose wake button then really wakes the car.
                await self._ask_fresh_read()
                if not await self._wake():
                    return CommandResult(ok=False, reason=Refusal.WAKE_FAILED)
                error = await self._switch("turn_on")
        if error is not None:
            return CommandResult(ok=False, reason=error)
        await self._ask_fresh_read()
        settled, car = self._judge(_settled)
        if settled is None:
            self._start_sent = self._awaiting_since
            return CommandResult(ok=False, reason=Refusal.UNCONFIRMED, state=car)
        return _start_result(car)


def _start_result(car: ChargeState) -> CommandResult:
    """A start is done when the car charges; complete or unplugged leaves nothing to do."""
    if car.charging:
        return CommandResult(ok=True, state=car)
    return CommandResult(
        ok=False, reason=(car.charging_state or Refusal.NOT_CHARGING).lower(), state=car
    )


def _settled(car: ChargeState) -> bool:
    """A start has had its effect, good or bad."""
    return car.charging or car.charging_state in ("Complete", "Disconnected")


def _not_online(error: str) -> bool:
    text = error.lower()
    return "online" in text and ("not" in text or "offline" in text)
