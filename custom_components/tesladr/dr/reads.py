"""How fresh a car's data must be for DR: a pure function of prices, settings and DR state.

Reading a car costs Fleet API money and keeps it awake, so a car is read only as closely as
the next DR decision about it needs:
- NONE: every price of its node is far from its start threshold; nothing DR does depends on
  the car, and the account can be listed at a slow cadence;
- STATE: the price is near the threshold, or the 15-minute or day-ahead market expects it
  above: know at each interval which cars are awake, so a crossing costs one read, not two;
- DATA: an event at its node or a pause DR holds: read the car at each interval, so a car
  that plugs in, or an owner restarting a paused car, is seen within one interval.
"""

from __future__ import annotations

from enum import IntEnum

from .policy import CarDrState, DrSettings

# "Near" is this fraction of the start threshold below it, and never less than APPROACH_MIN:
# a 5-minute price moves tens of USD/MWh between intervals on an ordinary evening.
APPROACH_FRACTION = 0.1
APPROACH_MIN = 10.0


class ReadNeed(IntEnum):
    """How closely to read a car; higher needs more."""

    NONE = 0
    STATE = 1
    DATA = 2


def read_need(
    settings: DrSettings,
    state: CarDrState,
    price: float | None,
    outlook: float | None,
) -> ReadNeed:
    """The need for one car from its node's newest price and the forecast's highest price.

    `outlook` is the highest 15-minute or day-ahead price over the next intervals, or None
    when no forecast covers them.
    """
    if state.paused_by_dr:
        return ReadNeed.DATA
    if not settings.enabled or state.overridden or state.skipped or price is None:
        # DR will not pause the car during this event whatever it does.
        return ReadNeed.NONE
    start = settings.start_threshold
    if price > start:
        return ReadNeed.DATA
    near = start - max(APPROACH_MIN, APPROACH_FRACTION * abs(start))
    if price >= near or (outlook is not None and outlook > start):
        return ReadNeed.STATE
    return ReadNeed.NONE
