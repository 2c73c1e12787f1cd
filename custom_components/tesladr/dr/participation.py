"""Whether a DR event is on for a car, and how the car takes part: what the owner sees.

Following Home Assistant's `axle_energy` ("Event in progress", "Participation"), with more
than opted in or out, because DR knows more: a car skipped, overridden, or not eligible now
(and why). Derived from what DR already keeps; nothing here is stored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from .policy import STALE_AFTER, CarDrState, DrSettings, Price, Reason


class Participation(StrEnum):
    """How a car takes part in the event on now."""

    TAKING_PART = "taking_part"  # DR holds it paused
    SKIPPED = "skipped"
    OVERRIDDEN = "overridden"
    OPTED_OUT = "opted_out"
    NOT_ELIGIBLE = "not_eligible"  # an event is on, the policy cannot pause the car
    NO_EVENT = "no_event"


# Why a car cannot take part: the policy's reasons about the car, not about the price.
NOT_ELIGIBLE_REASONS = frozenset(
    {
        Reason.OUTSIDE_CAISO,
        Reason.ASLEEP,
        Reason.NOT_PLUGGED_IN,
        Reason.DC_FAST_CHARGING,
        Reason.NOT_CHARGING,
        Reason.BELOW_BATTERY_FLOOR,
    }
)


def event_in_progress(
    price: Price | None, settings: DrSettings, state: CarDrState, now: datetime
) -> bool:
    """Whether an event is on for the car, whether or not it takes part.

    On while a fresh price is above the car's start threshold, and for as long as DR keeps
    the car's part in it (a pause, a skip or an override lasts until the price falls below
    the resume band or goes stale: `policy.next_state` forgets them then).
    """
    fresh = price is not None and now - price.end <= STALE_AFTER
    above = fresh and price is not None and price.value > settings.start_threshold
    return above or state.paused_by_dr or state.skipped or state.overridden


def participation(
    settings: DrSettings,
    state: CarDrState,
    reason: Reason | None,
    in_event: bool,
) -> tuple[Participation, Reason | None]:
    """The car's participation, and for a car not eligible the policy's reason when known.

    `reason` is that of the policy's last decision for the car, if any.
    """
    if not settings.enabled:
        return Participation.OPTED_OUT, None
    if state.paused_by_dr:
        return Participation.TAKING_PART, None
    if state.skipped:
        return Participation.SKIPPED, None
    if state.overridden:
        return Participation.OVERRIDDEN, None
    if not in_event:
        return Participation.NO_EVENT, None
    return Participation.NOT_ELIGIBLE, (
        reason if reason in NOT_ELIGIBLE_REASONS else None
    )
