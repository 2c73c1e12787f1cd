"""When to ask OASIS for the next 5-minute price: a learned publication lag.

OASIS does not document how long after its end a 5-minute interval appears, and real-time
dispatch can price an interval before it ends, so the lag may be negative. This module learns
it from the answers themselves. Every answer says which interval is the newest; when a newer
one appears, it did so between the previous answer (the last that lacked it) and this one (the
first that had it): a bracket on its lag. Times are plain POSIX seconds, so the module is pure.

The estimate is the median of the upper bounds of the last three brackets. An upper bound is
what a request at that offset would have found, so asking at the median catches the interval at
once whenever two of the last three did; one interval published late (an outlier) does not move
it, and a lasting shift takes it over after two intervals. A high quantile over a long window
would be slower to follow a shift and no better against single outliers at three requests an
interval; a lag that varies widely from one interval to the next costs more retries with it.

Upper bounds only fall if someone asks earlier. A miss and a hit close together pin the lag; a
wider gap between a recent miss and the estimate is halved by the next first request (a probe).
After a run of first-try hits, one interval is probed a step earlier, the step doubling while
probes hit, so a fall is found in a few intervals. A failed probe is followed at once by a
request where the last interval was found, and probing then waits twice as long (at most an
hour): a stable lag costs one extra request every dozen intervals.

After a miss the retries move out 6, then 24, 48, 96... seconds: a small drift costs one retry
with a tight bracket, a large jump is reached in a few requests. While the lag is pinned, two
misses mean this one interval is late, so the schedule waits for the next interval's usual time
(which finds both) instead of spending the budget. Never later than that usual time either: an
interval OASIS skips does not delay the next. At most three requests fall in any 5-minute
interval and never two within 5 s, whatever the answers: anything later waits for the next
interval's budget.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
import math
import statistics
from typing import Any, TypeGuard

from .models import INTERVAL
from .pacing import MIN_GAP_SECONDS

INTERVAL_S = INTERVAL.total_seconds()
REQUESTS_PER_INTERVAL = 3
# Before anything is learned: a little after the end, where CAISO has published so far.
DEFAULT_LAG_S = 15.0
# An interval published more than one interval ahead, or 20 minutes late, is no lag to learn.
MIN_LAG_S = -INTERVAL_S
MAX_LAG_S = 1200.0
SAMPLES = 3
# Retries after a miss: offsets beyond the first request. The first is past the 5 s rule.
RETRY_GAP_S = MIN_GAP_SECONDS + 1.0
WIDE_GAP_S = 24.0
MAX_GAP_S = 240.0
PROBE_STEP_S = RETRY_GAP_S
MAX_PROBE_STEP_S = 120.0
PROBE_AFTER = 3  # first-try hits before a probe
MAX_PROBE_AFTER = 12  # an hour between probes once probes keep failing
FLOOR_KEEP = 12  # intervals a miss bounds the lag from below
STORAGE_VERSION = 1


def grid_floor(moment: float) -> float:
    """Start of the 5-minute interval containing a moment."""
    return math.floor(moment / INTERVAL_S) * INTERVAL_S


@dataclass(frozen=True, slots=True)
class Bracket:
    """When an interval first appeared, in seconds after its end."""

    end: float  # the interval's end, POSIX seconds
    lower: (
        float | None
    )  # offset of the last answer that lacked it (None: no such answer)
    upper: float  # offset of the first answer that had it


class PublicationLag:
    """Learns OASIS's publication lag and says when to ask; see the module docstring."""

    def __init__(self, default_s: float = DEFAULT_LAG_S) -> None:
        """Start from a default lag, as before anything is learned."""
        self.default_s = _clamp(default_s)
        self.brackets: deque[Bracket] = deque(maxlen=SAMPLES)
        self.newest_end: float | None = None
        self._last_answer_at: float | None = None
        self._sent: deque[float] = deque(maxlen=REQUESTS_PER_INTERVAL)
        self._misses = 0  # requests for the current target that lacked it
        self._last_miss_offset: float | None = None
        self._hits_in_a_row = 0
        self._probe_after = PROBE_AFTER
        self._probe_step = PROBE_STEP_S
        self._probing = False
        self._bisecting = False
        self._first_s = self.default_s
        self._floor_s: float | None = (
            None  # an offset at which a recent interval lacked
        )
        self._floor_age = 0
        self._last_found_first_try = False
        self._was_steady = False
        # Per recent interval: whether a request at the estimate (not a probe) missed it.
        self._missed_at_estimate: deque[bool] = deque(maxlen=FLOOR_KEEP)
        self._failed_until: float | None = None

    @property
    def lag_s(self) -> float:
        """The learned lag: median of the upper bounds of the last brackets."""
        if not self.brackets:
            return self.default_s
        return statistics.median_low(b.upper for b in self.brackets)

    def _known_good(self) -> float:
        """The earliest offset expected to find the interval: where the last one was found.

        Retrying a failed probe there (not at the median) keeps a successful probe's gain.
        """
        if not self.brackets:
            return self.default_s
        return min(self.lag_s, self.brackets[-1].upper)

    def _plan_first(self) -> None:
        """Fix the offset of the next target's first request, and whether it is a probe."""
        self._was_steady = self._steady()
        good = self._known_good()
        self._probing = True
        self._bisecting = False
        if self._floor_s is not None and good - self._floor_s > 2 * RETRY_GAP_S:
            # A miss and a hit bracket the lag: halve the bracket.
            self._bisecting = True
            self._first_s = (self._floor_s + good) / 2
        elif self._hits_in_a_row >= self._probe_after:
            # Found at once for a while: look a step earlier in case the lag fell.
            self._first_s = good - self._probe_step
        else:
            self._probing = False
            self._first_s = self.lag_s

    def _planned(self, now: float) -> float:
        """When the schedule wants the next request, before the budget and the 5 s rule."""
        lag = self.lag_s
        if self.newest_end is None:
            # Nothing seen yet: the first interval whose usual time is still ahead.
            planned = math.ceil((now - lag) / INTERVAL_S) * INTERVAL_S + lag
        else:
            planned = self._planned_for(self.newest_end + INTERVAL_S, lag)
        if self._failed_until is not None:
            planned = max(planned, self._failed_until)
        return planned

    def _planned_for(self, target: float, lag: float) -> float:
        last_miss = self._last_miss_offset
        if self._misses == 0 or last_miss is None:
            planned = target + self._first_s
        elif self._probing and self._misses == 1:
            # A failed probe: straight back to where the last interval was found,
            planned = target + max(self._known_good(), last_miss + RETRY_GAP_S)
        elif self._probing and self._misses == 2:
            # then to the estimate, which rests on more than the last interval.
            planned = target + max(lag, last_miss + RETRY_GAP_S)
        elif self._misses - 2 * self._probing >= 2 and self._was_steady:
            # Two misses while the lag holds still: most likely this one interval is late
            # (an outlier), so wait for the next interval's usual time, which finds both.
            planned = target + INTERVAL_S + lag
        else:
            planned = target + last_miss + _gap(self._misses - 2 * self._probing)
        # A skipped interval must not delay the next one: never wait past its usual time.
        return min(planned, target + INTERVAL_S + lag)

    def _steady(self) -> bool:
        """Whether the lag holds still: pinned by a miss just below, never missed at it."""
        return (
            self._last_found_first_try
            and not any(self._missed_at_estimate)
            and self._floor_s is not None
            and 0 < self.lag_s - self._floor_s <= 2 * RETRY_GAP_S
        )

    def next_request(self, now: float) -> float:
        """When to send the next real-time request: at or after `now`, within the rules."""
        when = max(now, self._planned(now))
        # The deque holds the last three requests: a fourth in their interval waits.
        if len(self._sent) == REQUESTS_PER_INTERVAL and grid_floor(
            self._sent[0]
        ) >= grid_floor(when):
            when = self._usual_after(self._sent[0])
        if self._sent:
            when = max(when, self._sent[-1] + MIN_GAP_SECONDS)
        return when

    def sent(self, at: float) -> None:
        """Count a request of any kind the instance sent (the budget and 5 s rule)."""
        self._sent.append(at)

    def failed(self, at: float) -> None:
        """A real-time request sent at `at` got no answer: retry at the next interval.

        Asking again at once would only repeat the failure; the next interval's usual time
        may well find two intervals at once.
        """
        self._failed_until = self._usual_after(at)

    def _usual_after(self, at: float) -> float:
        """The usual time of a first request, in the 5-minute interval after `at`'s."""
        return grid_floor(at) + INTERVAL_S + self.lag_s % INTERVAL_S

    def answered(self, at: float, newest_end: float | None) -> None:
        """A real-time answer at `at` whose newest interval ends at `newest_end`.

        `newest_end` is the oldest of the nodes' newest ends (every node must have it), or
        None when the answer had no interval at all.
        """
        self._failed_until = None
        previous_at, self._last_answer_at = self._last_answer_at, at
        if self.newest_end is None:
            self.newest_end = newest_end
            self._plan_first()
            return
        target = self.newest_end + INTERVAL_S
        if newest_end is None or newest_end < target:
            if self._misses == 0 and at < target + self._first_s:
                # Asked before the schedule's own first request (set-up, new nodes, a
                # person): not a miss of the schedule, which goes on as planned.
                return
            self._misses += 1
            self._last_miss_offset = offset = at - target
            if self._floor_s is None or offset > self._floor_s:
                self._floor_s, self._floor_age = offset, 0
            self._hits_in_a_row = 0
            self._probe_step = PROBE_STEP_S
            return
        # Something new: the newest is the tightest bracket (older ones only came earlier).
        lower = None if previous_at is None else previous_at - newest_end
        upper = _clamp(at - newest_end)
        if lower is not None and lower >= upper:
            lower = None
        self._learn(newest_end, lower, upper)
        self.newest_end = newest_end
        self._misses = 0
        self._last_miss_offset = None
        self._plan_first()

    def _learn(self, end: float, lower: float | None, upper: float) -> None:
        first_try = self._misses == 0
        if self._bisecting:
            pass  # the bracket, not the step, decides the next probe
        elif self._probing and first_try:
            self._probe_step = min(self._probe_step * 2, MAX_PROBE_STEP_S)
        elif self._probing:
            self._probe_after = min(self._probe_after * 2, MAX_PROBE_AFTER)
            self._probe_step = PROBE_STEP_S
        elif not first_try:
            # The lag rose: probe down again soon from the new level.
            self._probe_after = PROBE_AFTER
            self._probe_step = PROBE_STEP_S
        self._hits_in_a_row = self._hits_in_a_row + 1 if first_try else 0
        self._missed_at_estimate.append(not first_try and not self._probing)
        self._last_found_first_try = first_try
        self._floor_age += 1
        if self._floor_s is not None and (
            upper + RETRY_GAP_S <= self._floor_s or self._floor_age > FLOOR_KEEP
        ):
            # Found below an old miss (the lag fell), or the miss is an hour old.
            self._floor_s = None
        self.brackets.append(Bracket(end, lower, upper))

    def to_dict(self) -> dict[str, Any]:
        """What a restart needs: the last brackets (the schedule state rebuilds itself)."""
        return {
            "version": STORAGE_VERSION,
            "brackets": [
                {"end": b.end, "lower": b.lower, "upper": b.upper}
                for b in self.brackets
            ],
        }

    @classmethod
    def from_dict(
        cls, data: object, default_s: float = DEFAULT_LAG_S
    ) -> PublicationLag:
        """Restore what `to_dict` kept; anything unreadable starts from the default."""
        lag = cls(default_s)
        if not isinstance(data, dict) or data.get("version") != STORAGE_VERSION:
            return lag
        brackets = data.get("brackets")
        if not isinstance(brackets, list):
            return lag
        for item in brackets[-SAMPLES:]:
            if not isinstance(item, dict):
                return cls(default_s)
            end, lower, upper = item.get("end"), item.get("lower"), item.get("upper")
            if not _is_number(end) or not _is_number(upper):
                return cls(default_s)
            if lower is not None and not _is_number(lower):
                return cls(default_s)
            lag.brackets.append(
                Bracket(
                    float(end),
                    None if lower is None else float(lower),
                    _clamp(float(upper)),
                )
            )
        return lag

    def diagnostics(self) -> dict[str, Any]:
        """The estimate and what it rests on."""
        return {
            "lag_s": self.lag_s,
            "learned": bool(self.brackets),
            "brackets": [
                {"end": b.end, "lower": b.lower, "upper": b.upper}
                for b in self.brackets
            ],
            "probe_after": self._probe_after,
            "probe_step_s": self._probe_step,
        }


def _gap(misses: int) -> float:
    """How far past the last miss the next retry goes."""
    if misses <= 1:
        return RETRY_GAP_S
    return min(WIDE_GAP_S * 2.0 ** (misses - 2), MAX_GAP_S)


def _clamp(lag: float) -> float:
    return min(max(lag, MIN_LAG_S), MAX_LAG_S)


def _is_number(value: object) -> TypeGuard[float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )
