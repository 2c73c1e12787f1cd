"""What DR does with one car at an evaluation: settle, read first, decide, act, record.

The coordinator runs this for each of its cars side by side; the commands go through its
actuator, the pauses into its ledger, and each start and end of a pause onto the bus.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from homeassistant.core import callback
from homeassistant.util import dt as dt_util

from .actuator import Started, Stopped, car_name
from .const import DOMAIN, LOGGER
from .dr import Action, Decision, Price, Reason, decide, next_state
from .dr.reads import ReadFirst, read_ahead_fresh, read_first
from .dr.settle import (
    charged_since_pause,
    override_at,
    settleable,
    start_took,
    stop_took,
)
from .dr_car import OUTCOMES, CarDr, charge_need, snapshot
from .dr_grid import car_signal
from .price_coordinator import INTERVAL
from .vehicles import ChargeState, VehicleState

if TYPE_CHECKING:
    from .dr_coordinator import DrCoordinator

EVENT_DR = f"{DOMAIN}_dr_event"
# Right after start-up a node may not have been fetched yet; don't read that as "stale".
NO_PRICE_GRACE = timedelta(minutes=2)


class CarActions:
    """The evaluation of one car, for a DR coordinator."""

    def __init__(self, dr: DrCoordinator) -> None:
        """Act for `dr`: its source, prices, actuator and ledger."""
        self.dr = dr

    def _paused_at(self, car_id: str) -> datetime | None:
        event = self.dr.ledger.active(car_id)
        return event.started if event is not None else None

    def _read_now(self, car: CarDr) -> ChargeState:
        read = self.dr.source.cars[car.car_id]
        car.see(read)
        car.choice = self.dr.resolve(car.car_id)
        return read

    async def async_decide_and_act(self, car: CarDr, now: datetime) -> None:
        """Settle what a restart left, read the car where a crossing needs it, then act."""
        car_id = car.car_id
        read = self._read_now(car)
        self._settle(car, read, now)
        event = car.pause_event(self.dr.ledger)
        charged = charged_since_pause(event, read)
        if event is not None and not charged and not read.charging and read.updated_at:
            event.seen_paused_at = read.updated_at
            event.seen_paused_energy_kwh = read.charge_energy_added_kwh
        price = self.dr.price(car.node or "")
        if price is None and now - self.dr.started < NO_PRICE_GRACE:
            return

        def decide_now() -> Decision:
            read = self.dr.source.cars[car_id]
            event = car.pause_event(self.dr.ledger)
            known = snapshot(
                read,
                car.choice is not None and car.choice.in_caiso,
                self._paused_at(car_id),
                self.dr.source.tells_overrides,
                charged_since_pause(event, read),
                need=charge_need(
                    read, car.settings, event, now, dt_util.get_default_time_zone()
                ),
            )
            return decide(
                price,
                car.settings,
                known,
                car.state,
                now,
                history=self.dr.ledger.pause_history(car_id, now),
                signal=car_signal(self.dr.hass, car.settings, now),
            )

        decision = decide_now()
        # A car is looked at first once per price interval, and once more when a grid signal
        # starts or ends within it: a car resumed earlier in the interval is shown stale.
        refresh_key = None if price is None else (price.start, decision.signal)
        first = read_first(
            decision.reason,
            online=self.dr.source.cars[car_id].state is VehicleState.ONLINE,
            reads_on_demand=self.dr.source.reads_on_demand,
            need=lambda: self.dr.read_need(car, price),
        )
        if (
            price is not None
            and car.refreshed_for != refresh_key
            and first is not ReadFirst.NO
        ):
            car.refreshed_for = refresh_key
            # The price just crossed this car's threshold, or is about to: look at the car
            # before acting, unless it was read for the interval before. Then DR acts on
            # that read, and a car it did not show charging is read at the next interval,
            # as any car of an event.
            ahead = first is ReadFirst.AHEAD
            if ahead or not self._read_ahead(car, price, now):
                await self.dr.source.async_refresh_cars({car_id})
                if ahead:
                    car.read_ahead_for, car.read_ahead_at = price.start, now
                # The read may have moved the car to another node.
                car.see(self.dr.source.cars.get(car_id))
                car.choice = self.dr.resolve(car_id)
                if (moved := self.dr.price(car.choice.node)) is not None:
                    price = moved
                decision = decide_now()
        car.price = price
        car.record(decision, now)
        await self._async_act(car, decision, price, now)
        self._draw(car, price)

    def _draw(self, car: CarDr, price: Price | None) -> None:
        """Count what the car draws back after DR's pauses, once per price interval.

        At the power it charges at now (a car just started reads 0 kW until it is read
        again: then at its power before the stop) over the newest interval, at that
        interval's price: the net value of a pause is what it avoided less that cost.
        """
        read = self.dr.source.cars[car.car_id]
        if (
            price is None
            or car.state.paused_by_dr
            or not read.charging
            or car.drawn_for == price.start
        ):
            return
        car.drawn_for = price.start
        owing = [
            e for e in self.dr.ledger.events if e.vin == car.car_id and e.owed_kwh > 0
        ]
        if not owing:
            return
        power = read.charger_power_kw or owing[-1].power_kw
        hours = (price.end - price.start).total_seconds() / 3600
        self.dr.ledger.draw(car.car_id, price, power * hours)
        self.dr.async_save_soon()

    async def _async_act(
        self, car: CarDr, decision: Decision, price: Price | None, now: datetime
    ) -> None:
        match decision.action:
            case Action.PAUSE:
                await self._async_pause(car, decision, price, now)
            case Action.RESUME:
                if price is not None:
                    # The start is this interval's business with the car, and is not read
                    # back: a read ahead of the next crossing waits for the next interval.
                    car.refreshed_for = (price.start, decision.signal)
                await self.async_resume(car, decision, now)
            case Action.RELEASE:
                ended = now
                if decision.reason is Reason.USER_OVERRIDE:
                    ended = override_at(
                        self.dr.ledger.active(car.car_id),
                        self.dr.source.cars[car.car_id],
                        now,
                        tells_overrides=self.dr.source.tells_overrides,
                    )
                self.dr.ledger.end(car.car_id, ended, OUTCOMES[decision.reason])
                car.state = next_state(car.state, decision, price, car.settings, now)
                if decision.reason is Reason.USER_OVERRIDE:
                    self.fire("overridden", car, decision.reason)
                else:
                    self.fire("ended", car, decision.reason)
            case Action.HOLD | Action.IGNORE:
                car.state = next_state(car.state, decision, price, car.settings, now)
                if decision.reason in (
                    Reason.PRICE_BELOW_THRESHOLD,
                    Reason.PRICES_STALE,
                ):
                    # The event is over for this car: a later one gets fresh attempts.
                    car.attempts.reset()

    def _read_ahead(self, car: CarDr, price: Price, now: datetime) -> bool:
        """Whether the car was read ahead for the interval just before this price's."""
        read = self.dr.source.cars[car.car_id]
        return read_ahead_fresh(
            car.read_ahead_for,
            car.read_ahead_at,
            price.start - INTERVAL,
            now,
            online=read.state is VehicleState.ONLINE,
            stale=read.stale,
            updated_at=read.updated_at,
        )

    def _settle(self, car: CarDr, read: ChargeState, now: datetime) -> None:
        """Commands unanswered when Home Assistant stopped: the car tells whether they took.

        A stop took when the car is stopped with no more energy added than up to the stop:
        the pause is DR's from when it was sent; a car stopped later (by its owner, in the
        meantime) is not DR's to start. A start took when the car charges, or its count moved
        since it was seen paused: the event ended when it was sent; otherwise the car is
        resumed as any paused car. A car not read yet is asked again later.
        """
        if not settleable(read):
            return
        stop, start = self.dr.actuator.take_unsettled(car.car_id)
        if (
            stop is not None
            and not car.state.paused_by_dr
            and read.charging_state == "Stopped"
        ):
            if stop_took(stop, read):
                car.state = replace(car.state, paused_by_dr=True)
                car.open_event(
                    self.dr.ledger, stop.sent_at, stop.power_kw, stop.needed_kwh
                )
                LOGGER.info("Paused charging of %s before the restart", read.name)
                self.fire("started", car, Reason.PRICE_ABOVE_THRESHOLD)
            else:
                LOGGER.debug(
                    "%s charged on after the stop: it is not DR's pause", read.name
                )
        event = self.dr.ledger.active(car.car_id)
        if (
            start is None
            or not car.state.paused_by_dr
            or event is None
            or not start_took(event, read)
        ):
            return
        decision = Decision(Action.RESUME, start.reason)
        car.state = next_state(car.state, decision, car.price, car.settings, now)
        self.dr.ledger.end(car.car_id, start.sent_at, OUTCOMES[decision.reason])
        LOGGER.info("Resumed charging of %s before the restart", read.name)
        self.fire("ended", car, decision.reason)

    async def _async_pause(
        self, car: CarDr, decision: Decision, price: Price | None, now: datetime
    ) -> None:
        read = self.dr.source.cars[car.car_id]
        outcome = await self.dr.actuator.async_stop(
            car.car_id,
            car.attempts,
            read,
            price.start if price is not None else None,
            now,
        )
        if outcome.kind is Stopped.NOT_SENT:
            return
        if car.state.paused_by_dr:
            # No new pause to save: the stop's mark must go from the disk all the same.
            self.dr.async_save_soon()
        if outcome.kind is not Stopped.STOPPED or outcome.stop is None:
            return
        if car.state.paused_by_dr:
            # It restarted by itself during the event: the same event goes on, from the
            # count it stops at now.
            if (event := self.dr.ledger.active(car.car_id)) is not None:
                event.seen_paused_at = event.seen_paused_energy_kwh = None
            LOGGER.info("Paused charging of %s again: %s", read.name, decision.reason)
            return
        car.state = next_state(car.state, decision, price, car.settings, now)
        # When the stop went through: the evaluation's other reads may have come first.
        stop = outcome.stop
        car.open_event(
            self.dr.ledger, max(now, dt_util.utcnow()), stop.power_kw, stop.needed_kwh
        )
        LOGGER.info("Paused charging of %s: %s", read.name, decision.reason)
        self.fire("started", car, decision.reason)

    async def async_resume(
        self,
        car: CarDr,
        decision: Decision,
        now: datetime,
        *,
        now_or_never: bool = False,
    ) -> None:
        """Start the car DR paused; end its event once the start took."""
        started = await self.dr.actuator.async_start(
            car.car_id, car.attempts, decision.reason, now, now_or_never=now_or_never
        )
        if started is not Started.STARTED:
            return
        car.state = next_state(car.state, decision, car.price, car.settings, now)
        # Ended when the start is seen to have taken, also one confirmed a call after it
        # was sent (the actuator does not pass the answer's `sent_at` on).
        self.dr.ledger.end(car.car_id, now, OUTCOMES[decision.reason])
        LOGGER.info(
            "Resumed charging of %s: %s",
            car_name(self.dr.source, car.car_id),
            decision.reason,
        )
        self.fire("ended", car, decision.reason)

    @callback
    def fire(self, kind: str, car: CarDr, reason: Reason | str) -> None:
        """Tell automations and the logbook what DR did with the car."""
        self.dr.hass.bus.async_fire(
            EVENT_DR,
            {
                "type": kind,
                "device_id": self.dr.source.device_id(car.car_id),
                "car": car_name(self.dr.source, car.car_id),
                "node": car.node,
                "utility": car.utility.name if car.utility else None,
                "dlap": car.utility.dlap if car.utility else None,
                "price": car.price.value if car.price else None,
                "reason": str(reason),
            },
        )
