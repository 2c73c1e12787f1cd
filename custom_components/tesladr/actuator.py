"""DR's actuator: stop and start a car through its source, with attempts, back-off and a record.

Every command DR sends goes through here, and here alone DR knows a command is on its way: it
is written to the Store before it goes out (`dr.settle.InFlight`), so that a restart before its
answer settles it with the car instead of losing a pause or a start. Each command returns a
typed outcome; DR's state and ledger are the caller's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum

from homeassistant.util import dt as dt_util

from .car_source import CarSource
from .const import LOGGER
from .dr import Reason
from .dr.settle import InFlight, StartInFlight, StopInFlight, stopped_as_sent
from .vehicles import ChargeState, CommandResult, Refusal, VehicleError

# A stop the car refused is tried once more (at the next price interval), then left alone.
MAX_STOP_ATTEMPTS = 2
# Stop refusals that mean there is nothing to stop: the car stopped since it was read.
NOTHING_TO_STOP = frozenset({Refusal.NOT_CHARGING})
# A failed resume is retried, but not so often that wake-ups (billed) pile up. The first
# retry comes within the minute and the next ones every two, so that a refusal or an outage
# ending does not keep a car paused past the interval the fail-safe allows (the fault week
# saw a car resumed 5 minutes after its Tesla outage ended, under a 5-minute retry).
FIRST_RESUME_RETRY = timedelta(minutes=1)
RESUME_RETRY = timedelta(minutes=2)
# Start refusals that mean there is nothing left to resume.
NOTHING_TO_RESUME = frozenset(
    {Refusal.IS_CHARGING, Refusal.COMPLETE, Refusal.DISCONNECTED}
)


@dataclass(slots=True)
class CommandAttempts:
    """What one car's commands have done during the current event."""

    error: str | None = None
    stop_attempts: int = 0
    stop_tried_for: datetime | None = None
    next_resume_try: datetime | None = None
    resume_failures: int = 0

    def reset(self) -> None:
        """The event is over: a later one gets fresh attempts."""
        self.error = None
        self.stop_attempts = 0
        self.stop_tried_for = None
        self.resume_failures = 0

    def stop_due(self, interval: datetime | None) -> bool:
        """Whether a stop would be sent now (attempts left, not yet tried for this interval)."""
        if self.stop_attempts >= MAX_STOP_ATTEMPTS:
            return False
        # A refused stop is retried at the next interval, not at once.
        return interval is None or self.stop_tried_for != interval

    def start_due(self, now: datetime, now_or_never: bool) -> bool:
        """Whether a start would be sent now (no retry waiting, or the entry goes away)."""
        return (
            now_or_never or self.next_resume_try is None or now >= self.next_resume_try
        )


class Stopped(Enum):
    """What a stop did."""

    NOT_SENT = "not_sent"  # attempts used up, or already tried for this interval
    FAILED = "failed"
    NOT_CHARGING = "not_charging"  # it stopped since it was read: no pause of DR's
    STOPPED = (
        "stopped"  # by this stop, or by an earlier try of it whose answer was lost
    )


@dataclass(frozen=True, slots=True)
class StopOutcome:
    """A stop's outcome, with the record the pause's ledger event needs."""

    kind: Stopped
    stop: StopInFlight | None = None


class Started(Enum):
    """What a start did."""

    WAITING = "waiting"  # a retry waits: nothing sent
    UNCONFIRMED = "unconfirmed"  # sent, its effect not seen yet
    FAILED = "failed"
    STARTED = "started"  # or nothing left to resume


def _still_to_resume(result: CommandResult) -> bool:
    """The refusal says there is nothing to resume, but the car read after it disagrees.

    A car plugged in, stopped and below its limit still waits for the start: believing the
    reason would leave it stopped with nothing holding it.
    """
    car = result.state
    return (
        car is not None
        and not car.stale
        and car.charging_state == "Stopped"
        and (
            car.battery_level is None
            or car.charge_limit_soc is None
            or car.battery_level < car.charge_limit_soc
        )
    )


def car_name(source: CarSource, car_id: str) -> str:
    """The car's name for the log."""
    car = source.cars.get(car_id)
    return car.name if car is not None else "a car no longer on the account"


async def _run(command: Callable[[], Awaitable[CommandResult]]) -> CommandResult:
    try:
        return await command()
    except VehicleError as err:
        return CommandResult(ok=False, reason=str(err) or type(err).__name__)


class Actuator:
    """The commands of one entry's cars, and the record of those on their way."""

    def __init__(
        self,
        source: CarSource,
        save: Callable[[], Awaitable[None]],
        save_soon: Callable[[], None],
    ) -> None:
        """Send through `source`; `save` writes the Store now, `save_soon` batches a write."""
        self.source = source
        self.in_flight = InFlight()
        self._save = save
        self._save_soon = save_soon

    def take_unsettled(
        self, car_id: str
    ) -> tuple[StopInFlight | None, StartInFlight | None]:
        """The stop and the start the stopped instance left for the car, now settled here."""
        stop = self.in_flight.stops.pop(car_id, None)
        start = self.in_flight.starts.get(car_id)
        if start is None or not start.restored:
            start = None
        else:
            del self.in_flight.starts[car_id]
        if stop is not None or start is not None:
            self._save_soon()
        return stop, start

    async def async_stop(
        self,
        car_id: str,
        attempts: CommandAttempts,
        read: ChargeState,
        interval: datetime | None,
        now: datetime,
    ) -> StopOutcome:
        """Stop, at most MAX_STOP_ATTEMPTS times per event and once per price interval.

        A car that answers it is not charging uses no attempt: it is STOPPED when its count
        says an earlier try of this stop went through, NOT_CHARGING otherwise.
        """
        if not attempts.stop_due(interval):
            return StopOutcome(Stopped.NOT_SENT)
        power = read.charger_power_kw or 0.0
        needed = (
            read.time_to_full_h * power
            if read.time_to_full_h and read.charger_power_kw
            else None
        )
        stops = self.in_flight.stops
        stop = stops[car_id] = StopInFlight(
            now, power, needed, read.charge_energy_added_kwh, read.updated_at
        )
        await self._save()
        attempts.stop_tried_for = interval
        try:
            result = await _run(lambda: self.source.async_stop(car_id))
        finally:
            stops.pop(car_id, None)
        if not result.ok:
            # No new pause to save: the stop's mark must go from the disk all the same.
            self._save_soon()
        if result.ok or result.reason in NOTHING_TO_STOP:
            attempts.stop_attempts = 0
            attempts.error = None
        else:
            attempts.stop_attempts += 1
            attempts.error = result.reason or "unknown"
        if not result.ok and result.reason in NOTHING_TO_STOP:
            if not stopped_as_sent(stop, result.state):
                # It stopped since it was read: no pause, no event; the read-back shows it.
                LOGGER.debug("%s was no longer charging when paused", read.name)
                return StopOutcome(Stopped.NOT_CHARGING, stop)
            # An earlier try of this stop went through, its answer lost (a timeout or a 5xx,
            # then the library's retry): the pause is DR's.
            LOGGER.debug("%s stopped as the stop was sent", read.name)
            return StopOutcome(Stopped.STOPPED, stop)
        if not result.ok:
            LOGGER.warning(
                "Could not pause charging of %s (attempt %d): %s",
                read.name,
                attempts.stop_attempts,
                attempts.error,
            )
            return StopOutcome(Stopped.FAILED, stop)
        return StopOutcome(Stopped.STOPPED, stop)

    async def async_start(
        self,
        car_id: str,
        attempts: CommandAttempts,
        reason: Reason,
        now: datetime,
        *,
        now_or_never: bool = False,
    ) -> Started:
        """Start, retrying a failure after FIRST_RESUME_RETRY, then every RESUME_RETRY.

        A refusal that leaves nothing to resume (already charging, complete, unplugged) counts
        as done, unless the car read after it is still stopped below its limit. A start still
        unconfirmed stays on its way and is asked again at once. `now_or_never`: the entry goes
        away, so a waiting retry goes now.
        """
        if not attempts.start_due(now, now_or_never):
            return Started.WAITING
        starts = self.in_flight.starts
        if (start := starts.get(car_id)) is None:
            # Saved before it goes out, as a stop is (see dr.settle.start_took).
            starts[car_id] = StartInFlight(dt_util.utcnow(), reason)
            await self._save()
        elif start.restored:
            # Sent again now: the stopped instance's start is this one's business.
            starts[car_id] = replace(start, restored=False)
        result = await _run(lambda: self.source.async_start(car_id))
        if not result.ok and result.reason == Refusal.UNCONFIRMED:
            attempts.next_resume_try = None
            LOGGER.debug("Start of %s sent, not seen yet", self._name(car_id))
            return Started.UNCONFIRMED
        # Answered: no longer on its way.
        starts.pop(car_id, None)
        if not result.ok and (
            result.reason not in NOTHING_TO_RESUME or _still_to_resume(result)
        ):
            attempts.error = result.reason or "unknown"
            attempts.next_resume_try = now + (
                RESUME_RETRY if attempts.resume_failures else FIRST_RESUME_RETRY
            )
            attempts.resume_failures += 1
            retry = attempts.next_resume_try
            LOGGER.warning(
                "Could not resume charging of %s%s: %s",
                self._name(car_id),
                "" if now_or_never else f", retrying in {retry - now}",
                attempts.error,
            )
            return Started.FAILED
        attempts.error = None
        attempts.next_resume_try = None
        attempts.resume_failures = 0
        # The answer's `sent_at` (a start confirmed a call later) is not passed on: the event
        # ends when the start is seen, as it always has (see the caller).
        return Started.STARTED

    def _name(self, car_id: str) -> str:
        return car_name(self.source, car_id)
