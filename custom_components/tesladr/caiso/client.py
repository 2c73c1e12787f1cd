"""Async OASIS client: one request for many nodes, paced, with bounded throttle retries."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from urllib.parse import urlencode

import aiohttp

from .errors import (
    OasisBudgetError,
    OasisConnectionError,
    OasisResponseError,
    OasisThrottledError,
)
from .models import Market, PriceInterval
from .pacing import PACER, RequestPacer
from .parse import parse_payload

DEFAULT_BASE_URL = "https://oasis.caiso.com/oasisapi/SingleZip"
# The edge answers throttled requests with this page, with status 429 or sometimes 200.
THROTTLE_MARKER = b"Acceptable Use Policy Violation"
THROTTLE_RETRIES = 2


def oasis_time(moment: datetime) -> str:
    """OASIS's `startdatetime`/`enddatetime` format, in UTC."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H:%M-0000")


class OasisClient:
    """Fetch LMPs from OASIS on a caller-owned aiohttp session."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str = DEFAULT_BASE_URL,
        pacer: RequestPacer | None = None,
        timeout: float = 30.0,
        throttle_retries: int = THROTTLE_RETRIES,
    ) -> None:
        """Create a client; the pacer defaults to the process-wide one."""
        self._session = session
        self._base_url = base_url
        self.pacer = pacer or PACER
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._throttle_retries = throttle_retries
        self.requests_made = 0

    async def fetch(
        self,
        market: Market,
        nodes: Iterable[str],
        start: datetime,
        end: datetime,
        *,
        admit: Callable[[], bool] | None = None,
    ) -> list[PriceInterval]:
        """LMP intervals of `nodes` between `start` and `end`; [] when OASIS has none yet.

        `admit` is asked right before each HTTP request, throttle retries included, and may
        refuse it (a caller's budget of requests): a refused first request raises
        OasisBudgetError, a refused retry OasisThrottledError.
        """
        params = {
            "queryname": market.query_name,
            "startdatetime": oasis_time(start),
            "enddatetime": oasis_time(end),
            "version": market.version,
            "market_run_id": market.value,
            "node": ",".join(sorted(set(nodes))),
            "resultformat": "6",
        }
        request = f"{self._base_url}?{urlencode(params, safe=',:')}"
        for attempt in range(self._throttle_retries + 1):
            await self.pacer.wait()
            # Asked after the wait, so the budget sees the time the request really goes out.
            if admit is not None and not admit():
                if attempt:
                    raise OasisThrottledError(
                        f"throttled, and the request budget is spent: {request}"
                    )
                raise OasisBudgetError(f"request budget spent: {request}")
            status, body = await self._get(params, request)
            if status == 429 or THROTTLE_MARKER in body[:512]:
                # The pacer spaces the retry by the 5 s the throttle page asks for.
                continue
            if status != 200:
                raise OasisResponseError(f"HTTP {status} from {request}")
            return parse_payload(body, market, request)
        raise OasisThrottledError(
            f"still throttled after {self._throttle_retries + 1} requests: {request}"
        )

    async def _get(self, params: dict[str, str], request: str) -> tuple[int, bytes]:
        self.requests_made += 1
        try:
            async with self._session.get(
                self._base_url, params=params, timeout=self._timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            raise OasisConnectionError(f"timed out: {request}") from err
        except aiohttp.ClientError as err:
            raise OasisConnectionError(f"{err}: {request}") from err
