"""Churn control: when a price spike is worth a stop, and when a pause is worth ending.

Real CAISO 5-minute prices spike for one interval and dip between spikes; pausing on every
crossing stops and starts a charger up to 18 times a day (docs/churn.md). Three knobs, each
off at 0 (today's behaviour), measured side by side on three real years:

- `min_pause_minutes`: a pause DR starts lasts at least this long; a dip below the resume
  band inside it is held through instead of resuming and stopping again;
- `rearm_minutes`: after DR resumes a car it does not stop it again for this long;
- `pauses_per_24h`: a budget of pauses per rolling 24 h; a pause beyond the first ones of
  the window needs a dearer price (the k-th needs T_on × ESCALATION^k, k from 0), so the
  budget goes to the most expensive intervals rather than the first.

Only price-driven starts and ends are ruled here; the fail-safes (stale prices, opt-out,
skip, the ready-by guarantee, an unplugged car, the owner's restart) end a pause whatever
its age.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Each pause beyond the first of a 24 h window needs a price this many times dearer
# (measured: 1.0, 1.1, 1.25, 1.5, 2.0; docs/churn.md).
ESCALATION = 1.25
RECOMMENDED_MIN_PAUSE_MINUTES = 60
RECOMMENDED_PAUSES_PER_24H = 5
# USD/MWh: the least the bar's step is scaled by (a threshold of 0 still rises).
BAR_SCALE = 10.0


@dataclass(frozen=True, slots=True)
class PauseHistory:
    """DR's recent pauses of one car, from its ledger events."""

    paused_since: datetime | None = None  # start of the pause DR holds now
    last_resumed: datetime | None = None  # end of DR's last pause of the car
    pauses_24h: int = 0  # pauses that started in the last 24 h


def hold_through(
    min_pause_minutes: int, history: PauseHistory | None, now: datetime
) -> bool:
    """Whether a pause DR holds stays on through a price below the resume band."""
    if history is None or history.paused_since is None:
        return False
    return now - history.paused_since < timedelta(minutes=min_pause_minutes)


def rearming(rearm_minutes: int, history: PauseHistory | None, now: datetime) -> bool:
    """Whether DR just resumed the car and waits before it may stop it again."""
    if history is None or history.last_resumed is None:
        return False
    return now - history.last_resumed < timedelta(minutes=rearm_minutes)


def budget_price(
    start_threshold: float, pauses_per_24h: int, history: PauseHistory | None
) -> float:
    """The price above which a new pause is worth its stop, given the pauses of the window.

    No budget (0) or no history: the start threshold. Within the budget, each pause already
    taken multiplies the bar by ESCALATION; with the budget spent, no price is high enough.
    The step grows from at least BAR_SCALE, so that a threshold at or near zero rises too.
    """
    if pauses_per_24h <= 0 or history is None:
        return start_threshold
    taken = history.pauses_24h
    if taken >= pauses_per_24h:
        return float("inf")
    scale = max(abs(start_threshold), BAR_SCALE)
    return start_threshold + (ESCALATION**taken - 1) * scale
