"""A linked car for the fault week: a generic-route charger over input helpers, and its car.

The generic route is the cheapest honest linked car: a real template switch, power, battery
and plug sensors over input helpers (the same charger as tests/sources/routes.py, with an
availability template so the charger can drop off the network), driven by a car whose energy
this module integrates. tesladr reaches it only through Home Assistant's switch service, as
it reaches any linked car; the owner's own switch calls carry a user, as the dashboard's do.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
import math
from typing import Any

from homeassistant.const import ATTR_ENTITY_ID, EVENT_CALL_SERVICE
from homeassistant.core import Context, Event, HomeAssistant, callback
from homeassistant.helpers.event import async_track_state_change_event
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.tesladr.sources import SOURCE_GENERIC, Role
from tests.sources.routes import HELPERS, TEMPLATES, linked_entry, template_charger

from .replay_sim import BATTERY_KWH, INTERVAL, SP15, local_minute

SWITCH = "switch.garage_charger"
RELAY = "input_boolean.relay"
PLUG = "input_boolean.plug"
REACHABLE = "input_boolean.charger_reachable"
WATTS = "input_number.watts"
SOC = "input_number.soc"
HARNESS = Context()  # the run's own fix-ups, neither tesladr's nor the owner's
POWER_KW = 7.2
ARRIVE_SOC = 50.0
LIMIT = 90.0
# Pacific local minutes: home before the first event, away in the morning like the fleet.
ARRIVE_MIN = 16 * 60 + 50
LEAVE_MIN = 7 * 60 + 40


def _helpers() -> dict[str, Any]:
    helpers = copy.deepcopy(HELPERS)
    # The charger boots plugged in, relay closed, idle: the car comes home in the evening.
    helpers["input_boolean"]["plug"] = {"initial": False}
    helpers["input_boolean"]["charger_reachable"] = {"initial": True}
    helpers["input_number"]["watts"]["initial"] = 0
    helpers["input_number"]["soc"]["initial"] = LIMIT
    return helpers


def _templates() -> dict[str, Any]:
    templates = copy.deepcopy(TEMPLATES)
    available = "{{ is_state('" + REACHABLE + "', 'on') }}"
    block = templates["template"][0]
    for platform in ("switch", "sensor", "binary_sensor"):
        for entity in block[platform]:
            entity["availability"] = available
    return templates


async def async_setup_charger(hass: HomeAssistant) -> dict[Role, str]:
    """The helpers, the template charger and a tracker in Los Angeles: role -> registry id."""
    return await template_charger(hass, _helpers(), _templates())


def charger_entry(roles: dict[Role, str]) -> MockConfigEntry:
    """The linked entry of the charger, as the config flow makes it."""
    return linked_entry(
        SOURCE_GENERIC,
        roles[Role.SWITCH],
        None,
        roles,
        title="Garage charger",
        entry_id="linked01",
    )


@dataclass
class LinkedCar:
    """The car on the charger: its day, its battery and what DR kept it from drawing.

    `car_id` is tesladr's id of the car (the switch's registry id), as its ledger keys it.
    """

    hass: HomeAssistant
    car_id: str
    now: datetime
    owner: Context  # the owner's dashboard: a context with the owner's user
    soc: float = LIMIT
    plugged: bool = False
    charged_kwh: float = 0.0
    paused_kwh: float = 0.0
    paused_usd: float = 0.0
    owner_stopped: bool = False
    dr_opened: bool = False  # tesladr opened the relay (it has not closed since)
    unreachable_until: datetime | None = None
    halted: bool = False  # Home Assistant is stopping: its switch calls do not count
    frozen_relay: bool | None = None  # the relay as it was when Home Assistant stopped
    tesladr_calls: list[tuple[datetime, str, str]] = field(default_factory=list)
    # Spans it did not draw for DR: start, end (None: still), kWh; to set beside the ledger.
    spans: list[list[Any]] = field(default_factory=list)
    calls_while_stopping: int = 0

    @property
    def vin(self) -> str:
        """The key the week's checks use for it."""
        return f"linked:{self.car_id}"

    @property
    def node(self) -> str:
        """Where it charges (Los Angeles)."""
        return SP15

    @property
    def relay_on(self) -> bool:
        """The charger's relay, as the physical charger has it."""
        if self.frozen_relay is not None:
            return self.frozen_relay
        state = self.hass.states.get(RELAY)
        return state is not None and state.state == "on"

    @property
    def charging_state(self) -> str:
        """In the fake Tesla's words, so the week checks it like the account cars."""
        if not self.plugged:
            return "Disconnected"
        if self.soc >= LIMIT - 1e-9:
            return "Complete"
        return "Charging" if self.relay_on else "Stopped"

    @property
    def reachable(self) -> bool:
        """Its entities are available."""
        state = self.hass.states.get(REACHABLE)
        return state is not None and state.state == "on"

    def _accrue(self, start: datetime, end: datetime, price_of: Any) -> None:
        state = self.charging_state
        if state == "Charging":
            kwh = POWER_KW * (end - start).total_seconds() / 3600
            self.charged_kwh += kwh
            self.soc = min(LIMIT, self.soc + kwh / BATTERY_KWH * 100)
        if state == "Stopped" and self.dr_opened:
            if not self.spans or self.spans[-1][1] is not None:
                self.spans.append([start, None, 0.0])
        elif self.spans and self.spans[-1][1] is None:
            self.spans[-1][1] = start
        if state == "Stopped" and self.dr_opened:
            moment = start
            while moment < end:
                boundary = _floor(moment) + INTERVAL
                piece_end = min(end, boundary)
                kwh = POWER_KW * (piece_end - moment).total_seconds() / 3600
                self.paused_kwh += kwh
                self.spans[-1][2] += kwh
                self.paused_usd += (
                    kwh * (price_of(self.node, _floor(moment)) or 0.0) / 1000
                )
                moment = piece_end

    async def advance(self, now: datetime, price_of: Any) -> None:
        """Integrate up to `now`, then plug in, fill up, leave, come back on the network."""
        if now <= self.now:
            return
        self._accrue(self.now, now, price_of)
        self.now = now
        if self.halted:
            return
        if self.unreachable_until is not None and now >= self.unreachable_until:
            self.unreachable_until = None
            await self._call("input_boolean", "turn_on", REACHABLE)
        minute = local_minute(now)
        home = minute >= ARRIVE_MIN or minute < LEAVE_MIN
        if home and not self.plugged:
            self.plugged = True
            self.soc = ARRIVE_SOC
            await self._call("input_number", "set_value", SOC, ARRIVE_SOC)
            await self._call("input_number", "set_value", WATTS, POWER_KW * 1000)
            await self._call("input_boolean", "turn_on", PLUG)
        elif not home and self.plugged:
            self.plugged = False
            self.owner_stopped = False
            await self._call("input_boolean", "turn_off", PLUG)
            await self._call("input_number", "set_value", WATTS, 0)
        if self.plugged and self.soc >= LIMIT - 1e-9:
            await self._set_number(WATTS, 0)
        await self._set_number(SOC, math.floor(self.soc))
        if self.charging_state != "Stopped":
            self.owner_stopped = False

    async def _set_number(self, entity_id: str, value: float) -> None:
        state = self.hass.states.get(entity_id)
        if state is not None and float(state.state) != value:
            await self._call("input_number", "set_value", entity_id, value)

    async def _call(
        self,
        domain: str,
        service: str,
        entity_id: str,
        value: float | None = None,
        context: Context | None = None,
    ) -> None:
        data: dict[str, Any] = {ATTR_ENTITY_ID: entity_id}
        if value is not None:
            data["value"] = value
        await self.hass.services.async_call(
            domain, service, data, blocking=True, context=context
        )

    # Faults

    async def drop_off(self, until: datetime) -> None:
        """The charger leaves the network: every entity unavailable until then."""
        self.unreachable_until = until
        await self._call("input_boolean", "turn_off", REACHABLE)

    async def owner_switch(self, on: bool) -> None:
        """The owner turns the charger on or off from the dashboard."""
        self.owner_stopped = not on and self.charging_state == "Charging"
        await self._call(
            "switch", "turn_on" if on else "turn_off", SWITCH, context=self.owner
        )

    async def restore_relay(self, on: bool) -> None:
        """Put the relay back as it was (a stopping Home Assistant switches nothing)."""
        if self.relay_on != on:
            await self._call(
                "input_boolean", "turn_on" if on else "turn_off", RELAY, context=HARNESS
            )

    def follow(self, on_call: Any, on_paused: Any) -> Any:
        """Report tesladr's switch calls (before they run) and each pause they make.

        `on_call(service, state before)`; `on_paused()` once the relay opened on a car that
        wanted to charge. Whatever a stopping Home Assistant does is counted, not reported.
        """

        @callback
        def call(event: Event[Any]) -> None:
            if (
                event.data["domain"] != "switch"
                or event.context.user_id == self.owner.user_id
            ):
                return
            targets = event.data.get("service_data", {}).get(ATTR_ENTITY_ID, [])
            if isinstance(targets, str):
                targets = [targets]
            if SWITCH not in targets:
                return
            if self.halted:
                self.calls_while_stopping += 1
                return
            self.tesladr_calls.append(
                (self.now, event.data["service"], self.charging_state)
            )
            on_call(event.data["service"], self.charging_state)

        @callback
        def relay(event: Event[Any]) -> None:
            old, new = event.data.get("old_state"), event.data.get("new_state")
            context = event.context
            if (
                self.halted
                or old is None
                or new is None
                or HARNESS.id in (context.id, context.parent_id)
            ):
                return
            if new.state == "on":
                self.dr_opened = False
                return
            if old.state != "on" or new.state != "off":
                return
            # Opened by tesladr (not the owner): what the car does not draw now is DR's.
            self.dr_opened = context.user_id != self.owner.user_id
            if self.dr_opened and self.charging_state == "Stopped":
                on_paused()

        unsubs = [
            self.hass.bus.async_listen(EVENT_CALL_SERVICE, call),
            async_track_state_change_event(self.hass, RELAY, relay),
        ]
        return lambda: [unsub() for unsub in unsubs]


def _floor(moment: datetime) -> datetime:
    return moment.replace(
        minute=moment.minute - moment.minute % 5, second=0, microsecond=0
    )
