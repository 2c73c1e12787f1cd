"""The charge-control backend over the entities another Home Assistant integration provides.

Tesla Fleet, Teslemetry, Tessie, Tesla Custom or any charger switch: tesladr calls the switch's
own services (so the owner's integration makes every Tesla call, none is tesladr's own) and
believes the charging-state and charger-power entities, not the switch's optimistic state.

Three rules from how those switches behave (see the README's per-integration notes):
- a command is confirmed only by charging signals that changed after it, within a bounded
  wait; until they change, what they show predates the command and counts as stale;
- a sleeping car is not charging: it is never woken to be stopped. Tesla Fleet does not wake a
  car whose cached state says online, so a start presses its wake button first when its status
  is not online, and once more after a start refused with "not online";
- the switch turned on by someone else (a person, an automation: Home Assistant's `Context`
  carries a user or a parent) is the owner's override; one turned on by the integration's own
  refresh is the car starting by itself.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
import contextlib
from dataclasses import replace
from datetime import datetime

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
    HomeAssistant,
    callback,
)
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.event import async_track_state_change_event
from homeassistant.util import dt as dt_util

from .sources import Role, entity_id_of, read_charge_state
from .vehicles import ChargeState, CommandResult, VehicleState

# Bounded waits for the charging signals to show a command's effect, in seconds.
STOP_CONFIRM = 60.0
START_CONFIRM = 90.0
# Integrations whose car data is polled slowly (Tesla Fleet every 10 minutes, Tesla Custom
# every 11): after a command tesladr asks them for one fresh read instead of waiting for it.
SLOW_POLLED = {"tesla_fleet", "tesla_custom"}
# Integrations whose switch does not wake the car itself when its cached state is stale.
WAKE_BEFORE_START = {"tesla_fleet"}
OUR_CONTEXTS = 32


class EntityChargeControl:
    """ChargeControl over one car's entities (see car_source for the DR side)."""

    def __init__(
        self,
        hass: HomeAssistant,
        source: str,
        entities: Mapping[Role, str],
        car_id: str,
        name: str,
        *,
        stop_confirm: float = STOP_CONFIRM,
        start_confirm: float = START_CONFIRM,
    ) -> None:
        """Bind to the car's entities (registry ids, so renamed entities still work)."""
        self.hass = hass
        self.source = source
        self.entities = dict(entities)
        self.car_id = car_id
        self.name = name
        self._stop_confirm = stop_confirm
        self._start_confirm = start_confirm
        self._ours: deque[str] = deque(maxlen=OUR_CONTEXTS)
        # A command was sent and the charging signals have not changed since.
        self._awaiting = False
        self._owner_started_at: datetime | None = None
        self._changed = asyncio.Event()
        self._listeners: list[CALLBACK_TYPE] = []
        self._unsub: CALLBACK_TYPE | None = None

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
        if self._awaiting:
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
        self._unsub = async_track_state_change_event(
            self.hass, sorted(tracked), self._async_state_changed
        )

    @callback
    def async_stop_tracking(self) -> None:
        """Stop following the entities."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def async_add_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call back on every change of the car's entities."""
        self._listeners.append(update)
        return lambda: self._listeners.remove(update)

    @callback
    def _async_state_changed(self, event: Event[EventStateChangedData]) -> None:
        entity_id = event.data["entity_id"]
        if entity_id in self._signals():
            self._awaiting = False
        if entity_id == self.entity_id(Role.SWITCH) and self._owner_turned_on(event):
            self._owner_started_at = dt_util.utcnow()
        self._changed.set()
        for update in list(self._listeners):
            update()

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
        self._awaiting = True
        self._changed.clear()
        try:
            await self.hass.services.async_call(
                "switch",
                service,
                {ATTR_ENTITY_ID: entity_id},
                blocking=True,
                context=context,
            )
        except HomeAssistantError as err:
            self._awaiting = False
            return str(err) or type(err).__name__
        except Exception as err:  # noqa: BLE001 - tesla_custom lets its library's errors through
            self._awaiting = False
            return str(err) or type(err).__name__
        return None

    async def _ask_fresh_read(self) -> None:
        """One refresh of a slowly polled integration, through its own entity update."""
        if self.source not in SLOW_POLLED:
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

    async def _confirm(
        self, done: Callable[[ChargeState], bool], wait: float
    ) -> ChargeState | None:
        """The car once its signals changed and show `done`; None when the wait runs out."""
        await self._ask_fresh_read()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            if not self._awaiting:
                car = self.current()
                if done(car):
                    return car
            remaining = deadline - loop.time()
            if remaining <= 0:
                return None if self._awaiting else self.current()
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return None if self._awaiting else self.current()

    async def stop_charging(self, vin: str) -> CommandResult:
        """Stop without waking; believe the charging signals, within a bounded wait."""
        if self.current().state is not VehicleState.ONLINE:
            return CommandResult(ok=False, reason="asleep")
        if (error := await self._switch("turn_off")) is not None:
            return CommandResult(ok=False, reason=error)
        after = await self._confirm(lambda car: not car.charging, self._stop_confirm)
        if after is None:
            # Sent, and nothing says otherwise yet: DR holds the car, and reads it as stale
            # until its signals change.
            return CommandResult(ok=True, reason="unconfirmed", state=self.current())
        if after.charging:
            return CommandResult(ok=False, reason="still_charging", state=after)
        return CommandResult(ok=True, state=after)

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
        """Start, waking the car first where the integration needs that; then confirm."""
        woken = False
        if (
            self.source in WAKE_BEFORE_START
            and self.current().state is not VehicleState.ONLINE
        ):
            if not await self._wake():
                return CommandResult(ok=False, reason="wake_failed")
            woken = True
        error = await self._switch("turn_on")
        if error is not None and not woken and self.source in WAKE_BEFORE_START:
            if _not_online(error):
                # Its cached state said online, but the car fell asleep since.
                if not await self._wake():
                    return CommandResult(ok=False, reason="wake_failed")
                error = await self._switch("turn_on")
        if error is not None:
            return CommandResult(ok=False, reason=error)
        after = await self._confirm(_settled, self._start_confirm)
        if after is None:
            return CommandResult(ok=False, reason="unconfirmed", state=self.current())
        if after.charging:
            return CommandResult(ok=True, state=after)
        return CommandResult(
            ok=False,
            reason=(after.charging_state or "not_charging").lower(),
            state=after,
        )


def _settled(car: ChargeState) -> bool:
    """A start has had its effect, good or bad."""
    return car.charging or car.charging_state in ("Complete", "Disconnected")


def _not_online(error: str) -> bool:
    text = error.lower()
    return "online" in text and ("not" in text or "offline" in text)
