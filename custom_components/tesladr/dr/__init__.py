"""Demand-response core: a pure policy and an event ledger.

No Home Assistant imports and no I/O; the caller passes the clock. Each new price interval the
caller asks `decide` what to do with each car, sends the command, then stores `next_state`.
Optional inputs turn on the ready-by-departure guarantee (a car's `ChargeNeed`) and churn
control (its `PauseHistory`); docs/churn.md measures them on three real CAISO years.
"""

from .churn import PauseHistory
from .event import Cause, DrEvent, Outcome
from .ledger import Ledger, SkipBudgetExceeded, with_skipped
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
from .ready_by import ChargeNeed

__all__ = [
    "STALE_AFTER",
    "Action",
    "CarDrState",
    "CarSnapshot",
    "Cause",
    "ChargeNeed",
    "Decision",
    "DrEvent",
    "DrSettings",
    "Ledger",
    "Outcome",
    "PauseHistory",
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
