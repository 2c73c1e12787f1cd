"""Typed errors of the OASIS client; nothing else escapes it."""

from __future__ import annotations


class OasisError(Exception):
    """Base class of every OASIS client error."""


class OasisRequestError(OasisError):
    """OASIS rejected the request (a bug on our side): bad parameters, range, retention."""

    def __init__(self, code: int, description: str, request: str) -> None:
        """Keep the code and the request for the bug report."""
        super().__init__(f"OASIS error {code} ({description}) for request {request}")
        self.code = code
        self.description = description
        self.request = request


class OasisThrottledError(OasisError):
    """Still throttled after the bounded retries."""


class OasisBudgetError(OasisError):
    """The caller's own request budget refused the request before anything was sent."""


class OasisResponseError(OasisError):
    """The response was not a usable OASIS payload (HTML, corrupt zip, bad values)."""


class OasisConnectionError(OasisError):
    """OASIS could not be reached, or did not answer in time."""
