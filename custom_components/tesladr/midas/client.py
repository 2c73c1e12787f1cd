"""Async MIDAS v2 client: public GETs on a caller-owned aiohttp session, no account needed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from urllib.parse import quote, urlencode

import aiohttp

from .errors import (
    MidasConnectionError,
    MidasNotFoundError,
    MidasRequestError,
    MidasResponseError,
    MidasRetiredRinError,
    MidasThrottledError,
    MidasUnavailableError,
)
from .models import QueryType, RateListing, RateValues, SignalType
from .parse import parse_rate_list, parse_values
from .rins import FLEX_ALERT_RIN, moer_rin, replacement_rin

DEFAULT_BASE_URL = "https://midasapi.energy.ca.gov"
# Error answers are short texts or JSON; more than this in a message is noise.
DETAIL_CHARS = 200


class MidasClient:
    """Read RIN lists and RIN values from MIDAS; every failure is a MidasError.

    The client neither retries nor paces: MIDAS publishes no rate limit, so the caller's
    cadence and back-off decide (a 429 hands over its Retry-After).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
    ) -> None:
        """Create a client; `base_url` has no trailing `/api`."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self.requests_made = 0

    async def rate_list(
        self, signal_type: SignalType = SignalType.RATES
    ) -> list[RateListing]:
        """Every active RIN of a signal type, sorted by RIN (tens of thousands of rates)."""
        return parse_rate_list(await self.rate_list_body(signal_type))

    async def rate_list_body(self, signal_type: SignalType = SignalType.RATES) -> bytes:
        """The RIN list unparsed: megabytes, which a caller may parse in a worker thread."""
        return await self._get(
            "/api/valuedata", {"SignalType": str(int(signal_type))}, rin=None
        )

    async def values(
        self, rin: str, query: QueryType = QueryType.REALTIME
    ) -> RateValues:
        """A RIN's values: 72 hours from Pacific midnight today, or the last 90 days."""
        body = await self._get(
            "/api/valuedata", {"ID": rin, "QueryType": query.value}, rin=rin
        )
        return parse_values(body, rin)

    async def historical(self, rin: str, start: date, end: date) -> RateValues:
        """A RIN's values from `start` to `end` (inclusive, at most 6 months a request)."""
        params = {"startdate": start.isoformat(), "enddate": end.isoformat()}
        body = await self._get(
            f"/api/historicaldata/{quote(rin, safe='')}", params, rin=rin
        )
        return parse_values(body, rin)

    async def moer(
        self, region: str, query: QueryType = QueryType.REALTIME
    ) -> RateValues:
        """Marginal operating emissions of a region (`PGE`), 5-minute rows in g/kWh CO2."""
        return await self.values(moer_rin(region), query)

    async def flex_alert(self, query: QueryType = QueryType.REALTIME) -> RateValues:
        """Flex Alert status, hourly rows of 1 (active) or 0."""
        return await self.values(FLEX_ALERT_RIN, query)

    async def _get(
        self, path: str, params: Mapping[str, str], rin: str | None
    ) -> bytes:
        url = self._base_url + path
        request = f"{url}?{urlencode(params)}"
        self.requests_made += 1
        try:
            async with self._session.get(
                url,
                params=params,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            ) as response:
                status, body = response.status, await response.read()
                retry_after = response.headers.get("Retry-After")
        except TimeoutError as err:
            raise MidasConnectionError(f"timed out: {request}") from err
        except aiohttp.ClientError as err:
            raise MidasConnectionError(f"{err}: {request}") from err
        if status == 200:
            return body
        detail = body[:DETAIL_CHARS].decode("utf-8", "replace").strip()
        if status == 429:
            raise MidasThrottledError(f"throttled: {request}", _seconds(retry_after))
        if status >= 500:
            raise MidasUnavailableError(
                f"HTTP {status} ({detail}) from {request}", status
            )
        if rin is not None and status == 404:
            raise MidasNotFoundError(f"MIDAS has no RIN {rin}: {request}", rin)
        if rin is not None and status == 410:
            successor = replacement_rin(rin)
            raise MidasRetiredRinError(
                f"{rin} is a MIDAS v1 RIN that v2 retired"
                + (f"; use {successor}" if successor else ""),
                rin,
                successor,
            )
        if status in (400, 422):
            raise MidasRequestError(status, detail, request)
        raise MidasResponseError(f"HTTP {status} ({detail}) from {request}")


def _seconds(retry_after: str | None) -> float | None:
    """Retry-After in seconds; its HTTP-date form is left to the caller's own back-off."""
    if retry_after is None:
        return None
    text = retry_after.strip()
    return float(text) if text.isascii() and text.isdigit() else None
