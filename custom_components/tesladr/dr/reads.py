"""How fresh a car's data must be for DR: a pure function of the price, settings and DR state.

Reading a car costs Fleet API money and keeps it awake, so a car is read only as closely as
the next DR decision about it needs:
- NONE: its node's price is at or below its start threshold; nothing DR does depends on the
  car until a price crosses, and then DR reads it at the crossing itself;
- DATA: an event at its node or a pause DR holds: read the car at each interval, so a car
  that plugs in, or an owner restarting a paused car, is seen within one interval.

Reading as a price approaches the threshold, or when the 15-minute or day-ahead market
expects a spike, was measured and left out: listing the account at each such interval cost a
ten-car fleet 0.17 USD per car-month in the replay and changed neither the reaction nor a
single decision, because the read at the crossing tells what the earlier reads would have.
"""

from __future__ import annotations

from enum import IntEnum

from .policy import CarDrState, DrSettings


class ReadNeed(IntEnum):
    """How closely to read a car; higher needs more."""

    NONE = 0
    DATA = 1


def read_need(settings: DrSettings, state: CarDrState, price: float | None) -> ReadNeed:
    """The need for one car from its node's newest 5-minute price."""
    if state.paused_by_dr:
        return ReadNeed.DATA
    if not settings.enabled or state.overridden or state.skipped or price is None:
        # DR will not pause the car during this event whatever it does.
        return ReadNeed.NONE
    if price > settings.start_threshold:
        return ReadNeed.DATA
    return ReadNeed.NONE
