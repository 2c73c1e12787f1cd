"""One pacing rule for the whole process: never two OASIS requests within `min_gap` seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import time

# CAISO's acceptable-use policy throttles clients that ask more often than every 5 s.
MIN_GAP_SECONDS = 5.0
# The wait is on the monotonic clock, OASIS judges on its wall clock: clock slewing (up to
# 500 ppm, 2.5 ms in 5 s) and timestamp rounding must not bring two requests under 5 s.
CLOCK_MARGIN_SECONDS = 0.01


class RequestPacer:
    """Hands out request slots at least `min_gap` seconds apart, whoever asks."""

    def __init__(
        self,
        min_gap: float = MIN_GAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """Create a pacer; clock and sleep are injectable for tests."""
        self.min_gap = min_gap
        self._clock = clock
        self._sleep = sleep
        self._next_slot: float | None = None

    def delay(self) -> float:
        """Seconds until the next free slot (0 when one is free now)."""
        if self._next_slot is None:
            return 0.0
        return max(0.0, self._next_slot - self._clock())

    async def wait(self) -> None:
        """Wait for, and take, the next free slot."""
        now = self._clock()
        slot = now if self._next_slot is None else max(now, self._next_slot)
        # Reserve before sleeping so concurrent callers queue behind each other.
        self._next_slot = (
            slot + self.min_gap + (CLOCK_MARGIN_SECONDS if self.min_gap else 0)
        )
        if slot > now:
            await self._sleep(slot - now)


PACER = RequestPacer()
