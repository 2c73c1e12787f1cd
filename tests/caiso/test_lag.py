"""The publication-lag estimator on its own: properties of its schedule and how it learns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import itertools
import json

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.tesladr.caiso.lag import (
    DEFAULT_LAG_S,
    INTERVAL_S,
    MAX_LAG_S,
    MAX_PROBE_AFTER,
    REQUESTS_PER_INTERVAL,
    PublicationLag,
    grid_floor,
)
from custom_components.tesladr.caiso.pacing import MIN_GAP_SECONDS

# An arbitrary second of an arbitrary day, not on an interval boundary.
T0 = 1_782_000_000.0 + 137.0
HOUR = 3600.0


def assert_within_rules(times: list[float]) -> None:
    """Never two requests within 5 s, never more than three in a 5-minute interval."""
    assert all(b - a >= MIN_GAP_SECONDS for a, b in itertools.pairwise(times)), times
    per_interval: dict[float, int] = {}
    for at in times:
        per_interval[grid_floor(at)] = per_interval.get(grid_floor(at), 0) + 1
    assert max(per_interval.values(), default=0) <= REQUESTS_PER_INTERVAL


@dataclass
class Oasis:
    """Publishes the interval ending at E at E + lag(E); intervals in `skipped` never."""

    lag: Callable[[float], float]
    skipped: set[float] = field(default_factory=set)

    def newest(self, at: float) -> float:
        """End of the newest interval visible at `at`."""
        end = grid_floor(at) + 3 * INTERVAL_S
        while end in self.skipped or end + self.lag(end) > at:
            end -= INTERVAL_S
        return end


@dataclass
class Run:
    """The estimator driven by its own schedule against an Oasis, as the coordinator does."""

    oasis: Oasis
    estimator: PublicationLag = field(default_factory=PublicationLag)
    now: float = T0
    sent: list[float] = field(default_factory=list)
    found: dict[float, float] = field(default_factory=dict)  # interval end -> found at

    def __post_init__(self) -> None:
        self._ask(self.now)  # set-up asks at once

    def _ask(self, at: float) -> None:
        self.estimator.sent(at)
        self.sent.append(at)
        newest = self.oasis.newest(at)
        self.estimator.answered(at, newest)
        for end in range(int(newest) - 12 * 300, int(newest) + 300, 300):
            self.found.setdefault(float(end), at)
        self.now = at

    def until(self, end: float) -> None:
        """Follow the schedule up to `end`."""
        while (at := self.estimator.next_request(self.now)) < end:
            self._ask(at)

    def requests_between(self, start: float, end: float) -> int:
        """Requests sent in a window."""
        return sum(1 for at in self.sent if start <= at < end)

    def delays(self, start: float, end: float) -> list[float]:
        """Seconds from publication to the first answer that had it, per interval."""
        return [
            at - (interval_end + self.oasis.lag(interval_end))
            for interval_end, at in self.found.items()
            if start <= interval_end < end and interval_end not in self.oasis.skipped
        ]


# --- properties ---------------------------------------------------------------------------

ANSWER = st.one_of(
    st.none(),  # failed request
    st.tuples(st.just("newest"), st.integers(-6, 2)),  # newest relative to the request
    st.just("empty"),  # an answer without any interval
)


@settings(max_examples=300, deadline=None)
@given(
    answers=st.lists(ANSWER, min_size=1, max_size=120),
    waits=st.lists(st.floats(0, 400), min_size=1, max_size=120),
    default=st.floats(-300, 1200),
)
def test_no_answers_make_it_break_the_rules(
    answers: list[object], waits: list[float], default: float
) -> None:
    """Whatever OASIS answers, and however late the caller gets to it, the rules hold."""
    estimator = PublicationLag(default)
    now = T0
    sent: list[float] = []
    for answer, wait in zip(answers, itertools.cycle(waits), strict=False):
        at = estimator.next_request(now)
        assert at >= now
        estimator.sent(at)
        sent.append(at)
        if answer is None:
            estimator.failed(at)
        elif answer == "empty":
            estimator.answered(at, None)
        else:
            assert isinstance(answer, tuple)
            estimator.answered(at, grid_floor(at) + answer[1] * INTERVAL_S)
        # The caller may come back late (a slow answer, a busy loop).
        now = at + wait
    assert_within_rules(sent)


@settings(max_examples=150, deadline=None)
@given(
    lags=st.lists(st.floats(-299, 900), min_size=1, max_size=40),
    skipped=st.sets(st.integers(0, 80), max_size=10),
)
def test_no_lag_pattern_makes_it_break_the_rules(
    lags: list[float], skipped: set[int]
) -> None:
    """Per-interval lags drawn at random, intervals never published: still within the rules."""
    base = grid_floor(T0)
    oasis = Oasis(
        lag=lambda end: lags[int((end - base) // INTERVAL_S) % len(lags)],
        skipped={base + k * INTERVAL_S for k in skipped},
    )
    run = Run(oasis)
    run.until(T0 + 8 * HOUR)
    assert_within_rules(run.sent)
    # It never stalls: the longest silence is bounded by the largest lag it accepts.
    gaps = [b - a for a, b in itertools.pairwise(run.sent)]
    assert max(gaps) <= MAX_LAG_S + 2 * INTERVAL_S


# --- learning -----------------------------------------------------------------------------


@pytest.mark.parametrize("lag", [0.0, 30.0, 120.0, 240.0, 480.0, -60.0, -200.0, 7.3])
def test_converges_on_a_fixed_lag(lag: float) -> None:
    """Within the first hour it finds each interval within 10 s, at about one request each."""
    run = Run(Oasis(lag=lambda _end: lag))
    run.until(T0 + 5 * HOUR)
    assert lag <= run.estimator.lag_s <= lag + 10
    delays = run.delays(T0 + HOUR, T0 + 4.5 * HOUR)
    assert len(delays) >= 3.5 * 12 - 1
    assert sorted(delays)[round(0.95 * len(delays)) - 1] <= 10
    assert max(delays) <= 30
    # Hours 1 to 5: one request per interval, plus the occasional probe.
    per_interval = run.requests_between(T0 + HOUR, T0 + 5 * HOUR) / (4 * 12)
    assert 1 <= per_interval <= 1.15
    assert_within_rules(run.sent)


def test_without_learning_it_asks_at_the_default() -> None:
    """Before anything is known the first request goes the default lag after a boundary."""
    estimator = PublicationLag()
    assert estimator.lag_s == DEFAULT_LAG_S
    first = estimator.next_request(T0)
    assert first == grid_floor(T0) + INTERVAL_S + DEFAULT_LAG_S


@pytest.mark.parametrize("jump", [120.0, -120.0, 240.0])
def test_recovers_after_a_jump(jump: float) -> None:
    """A lag that shifts at noon is followed within a few intervals, without a storm."""
    noon = grid_floor(T0) + 12 * HOUR
    oasis = Oasis(lag=lambda end: 60.0 + (jump if end >= noon else 0.0))
    run = Run(oasis)
    run.until(noon + 3 * HOUR)
    slow = [d for d in run.delays(noon, noon + 2 * HOUR) if d > 10]
    # A rise shows in the first miss; a fall only when the next probe looks earlier.
    assert len(slow) <= (6 if jump > 0 else MAX_PROBE_AFTER + 6), slow
    assert max(run.delays(noon + 2 * HOUR, noon + 3 * HOUR)) <= 10
    assert run.requests_between(noon, noon + HOUR) <= 2 * 12
    assert run.requests_between(noon + 2 * HOUR, noon + 3 * HOUR) <= 1.2 * 12
    assert_within_rules(run.sent)


def test_one_late_interval_does_not_move_the_estimate() -> None:
    """An interval published 2 minutes late is an outlier: the next ones are found on time."""
    late = grid_floor(T0) + 3 * HOUR
    oasis = Oasis(lag=lambda end: 30.0 + (120.0 if end == late else 0.0))
    run = Run(oasis)
    run.until(late - INTERVAL_S)
    before = run.estimator.lag_s
    run.until(late + 2 * HOUR)
    assert run.estimator.lag_s <= before + 6
    after = run.delays(late + INTERVAL_S, late + 2 * HOUR)
    assert max(after) <= 10
    # The late one costs at most the interval's budget, then the schedule is back to one.
    assert run.requests_between(late, late + INTERVAL_S) <= REQUESTS_PER_INTERVAL


def test_a_skipped_interval_does_not_delay_the_next() -> None:
    """An interval OASIS never publishes: the next is still found at its usual time."""
    skipped = grid_floor(T0) + 2 * HOUR
    oasis = Oasis(lag=lambda _end: 45.0, skipped={skipped})
    run = Run(oasis)
    run.until(skipped + HOUR)
    following = skipped + INTERVAL_S
    assert run.found[following] - (following + 45.0) <= 10
    assert run.requests_between(skipped, skipped + HOUR) <= 1.5 * 12


def test_an_interval_published_ahead_is_asked_for_before_its_end() -> None:
    """Real-time dispatch prices an interval ahead: requests move before the boundary."""
    run = Run(Oasis(lag=lambda _end: -120.0))
    run.until(T0 + 3 * HOUR)
    recent = {end: at for end, at in run.found.items() if end > T0 + 2 * HOUR}
    assert len(recent) >= 11
    assert all(end - 120 <= at <= end - 110 for end, at in recent.items()), recent


def test_outage_is_one_request_per_interval() -> None:
    """Failed requests are retried at the next interval, not at once."""
    estimator = PublicationLag()
    now = T0
    sent = []
    for _ in range(24):
        at = estimator.next_request(now)
        estimator.sent(at)
        estimator.failed(at)
        sent.append(at)
        now = at
    assert_within_rules(sent)
    assert len({grid_floor(at) for at in sent}) == len(sent)


def test_round_trip_keeps_what_was_learned() -> None:
    """A restart restores the estimate through JSON; junk falls back to the default."""
    run = Run(Oasis(lag=lambda _end: 200.0))
    run.until(T0 + 2 * HOUR)
    stored = json.loads(json.dumps(run.estimator.to_dict()))
    restored = PublicationLag.from_dict(stored)
    assert restored.lag_s == run.estimator.lag_s
    assert 200 <= restored.lag_s <= 210
    # After a restart it asks at the learned lag, not at the default.
    restored.answered(T0 + 2 * HOUR + 10, run.oasis.newest(T0 + 2 * HOUR + 10))
    at = restored.next_request(T0 + 2 * HOUR + 10)
    assert (at - grid_floor(at)) == pytest.approx(restored.lag_s % INTERVAL_S)
    for junk in (
        None,
        [],
        {"version": 99, "brackets": []},
        {"version": 1, "brackets": "x"},
        {"version": 1, "brackets": [{"end": "x", "upper": 1.0}]},
        {"version": 1, "brackets": [{"end": 1.0, "upper": float("nan")}]},
        {"version": 1, "brackets": [{"end": 1.0, "upper": 3.0, "lower": True}]},
        {"version": 1, "brackets": [7]},
    ):
        assert PublicationLag.from_dict(junk).lag_s == DEFAULT_LAG_S
