"""Typed errors of the MIDAS client; nothing else escapes it.

The taxonomy follows the OASIS client's: a caller retries what is unavailable or throttled,
reports a bad answer, and asks the owner about a RIN that is not found.
"""

from __future__ import annotations


class MidasError(Exception):
    """Base class of every MIDAS client error."""


class MidasUnavailableError(MidasError):
    """MIDAS answered 5xx (503: its WattTime or CAISO source is down); worth retrying later."""

    def __init__(self, message: str, status: int | None = None) -> None:
        """Keep the HTTP status (None when no answer came at all)."""
        super().__init__(message)
        self.status = status


class MidasConnectionError(MidasUnavailableError):
    """MIDAS could not be reached, or did not answer in time."""


class MidasThrottledError(MidasError):
    """HTTP 429: MIDAS publishes no limit, so its Retry-After is all a caller has to go by."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        """Keep the seconds the answer asked us to wait, when it said."""
        super().__init__(message)
        self.retry_after = retry_after


class MidasRequestError(MidasError):
    """MIDAS rejected the request (400, 422): a bad RIN or parameter, or a bug on our side."""

    def __init__(self, status: int, detail: str, request: str) -> None:
        """Keep the status and the request for the bug report."""
        super().__init__(f"MIDAS HTTP {status} ({detail}) for request {request}")
        self.status = status
        self.detail = detail
        self.request = request


class MidasNotFoundError(MidasError):
    """HTTP 404: MIDAS holds no such RIN."""

    def __init__(self, message: str, rin: str) -> None:
        """Keep the RIN that was asked for."""
        super().__init__(message)
        self.rin = rin


class MidasRetiredRinError(MidasNotFoundError):
    """HTTP 410: a MIDAS v1 RIN that v2 retired; `replacement` names its successor if known."""

    def __init__(self, message: str, rin: str, replacement: str | None) -> None:
        """Keep the successor RIN for a repair message."""
        super().__init__(message, rin)
        self.replacement = replacement


class MidasResponseError(MidasError):
    """The answer was not a usable MIDAS v2 payload (not JSON, wrong shape, bad values)."""


class MidasV1ResponseError(MidasResponseError):
    """The answer has the MIDAS v1 shape (bare RIN list, lowercase `value`, kg/kWh)."""
