"""Demand-response core: a pure policy and an event ledger.

No Home Assistant imports and no I/O; the caller passes the clock. Each new price interval the
caller asks `decide` what to do with each car, sends the command, then stores `next_state`.
"""

from .ledger import DrEvent, Ledger, Outcome, SkipBudgetExceeded, with_skipped
from .policy import (
    STALE_AFTER,
    Action,
    CarDrState,
    CarSnapshot,
    Decision,
    DrSettings,
    Price,
    Reason,
    decide,
    decide_unload,
    next_state,
)
from .reads import ReadNeed, read_need

__all__ = [
    "STALE_AFTER",
    "Action",
    "CarDrState",
    "CarSnapshot",
    "Decision",
    "DrEvent",
    "DrSettings",
    "Ledger",
    "Outcome",
    "Price",
    "ReadNeed",
    "Reason",
    "SkipBudgetExceeded",
    "decide",
    "decide_unload",
    "next_state",
    "read_need",
    "with_skipped",
]
