"""The command runner of DR: stop and start with their attempts and back-off, per car."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .vehicles import CommandResult, VehicleError

# A stop the car refused is tried once more (at the next price interval), then left alone.
MAX_STOP_ATTEMPTS = 2
# Stop refusals that mean there is nothing to stop: the car stopped since it was read.
NOTHING_TO_STOP = {"not_charging"}
# A failed resume is retried, but not so often that wake-ups (billed) pile up. The first
# retry comes within the minute and the next ones every two, so that a refusal or an outage
# ending does not keep a car paused past the interval the fail-safe allows (the fault week
# saw a car resumed 5 minutes after its Tesla outage ended, under a 5-minute retry).
FIRST_RESUME_RETRY = timedelta(minutes=1)
RESUME_RETRY = timedelta(minutes=2)
# Start refusals that mean there is nothing left to resume.
NOTHING_TO_RESUME = {"is_charging", "complete", "disconnected"}
# A start sent whose effect the car's source has not seen yet: ask again at once (the source
# sends nothing twice), not after the retry delay.
UNCONFIRMED = "unconfirmed"


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


async def _run(command: Callable[[], Awaitable[CommandResult]]) -> CommandResult:
    try:
        return await command()
    except VehicleError as err:
        return CommandResult(ok=False, reason=str(err) or type(err).__name__)


def stop_due(attempts: CommandAttempts, interval: datetime | None) -> bool:
    """Whether a stop would be sent now (attempts left, not yet tried for this interval)."""
    if attempts.stop_attempts >= MAX_STOP_ATTEMPTS:
        return False
    # A refused stop is retried at the next interval, not at once.
    return interval is None or attempts.stop_tried_for != interval


async def async_try_stop(
    attempts: CommandAttempts,
    command: Callable[[], Awaitable[CommandResult]],
    interval: datetime | None,
) -> CommandResult | None:
    """Stop, at most MAX_STOP_ATTEMPTS times per event and once per price interval.

    None: not tried now (attempts used up, or already tried for this interval). A car that
    answers it is not charging is no failure and uses no attempt; the caller sees the refusal.
    """
    if not stop_due(attempts, interval):
        return None
    attempts.stop_tried_for = interval
    result = await _run(command)
    if result.ok or result.reason in NOTHING_TO_STOP:
        attempts.stop_attempts = 0
        attempts.error = None
    else:
        attempts.stop_attempts += 1
        attempts.error = result.reason or "unknown"
    return result


def start_due(attempts: CommandAttempts, now: datetime, now_or_never: bool) -> bool:
    """Whether a start would be sent now (no retry waiting, or the entry goes away)."""
    return (
        now_or_never
        or attempts.next_resume_try is None
        or now >= attempts.next_resume_try
    )


async def async_try_start(
    attempts: CommandAttempts,
    command: Callable[[], Awaitable[CommandResult]],
    now: datetime,
    *,
    now_or_never: bool = False,
) -> CommandResult | None:
    """Start, retrying a failure after FIRST_RESUME_RETRY, then every RESUME_RETRY.

    None while a retry waits.

    A refusal that leaves nothing to resume (already charging, complete, unplugged) counts as
    done, unless the car read after it is still stopped below its limit. `now_or_never`: the
    entry goes away, so a waiting retry goes now.
    """
    if not start_due(attempts, now, now_or_never):
        return None
    result = await _run(command)
    if not result.ok and result.reason == UNCONFIRMED:
        attempts.next_resume_try = None
        return result
    if not result.ok and (
        result.reason not in NOTHING_TO_RESUME or _still_to_resume(result)
    ):
        attempts.error = result.reason or "unknown"
        attempts.next_resume_try = now + (
            RESUME_RETRY if attempts.resume_failures else FIRST_RESUME_RETRY
        )
        attempts.resume_failures += 1
        return result
    attempts.error = None
    attempts.next_resume_try = None
    attempts.resume_failures = 0
    return CommandResult(ok=True, reason=result.reason, state=result.state)
