"""Repair issues of the shared MIDAS feed: a signal stale too long, a RIN MIDAS does not know.

An outage of a few minutes is no business of the owner's: the feed keeps the last values,
which hold the forecast too. A signal whose last good read is older than `REPAIR_AFTER` (its
values have long gone stale, so DR acts as if it did not exist) raises `midas_stale`; a RIN
MIDAS answers 404 or 410 for raises `midas_unknown_rin` or `midas_retired_rin` at once, since
waiting does not help. Each goes away when its RIN reads again or is no longer needed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .midas import FLEX_ALERT_RIN, MidasError, MidasNotFoundError, MidasRetiredRinError

# Flex Alert and emissions are stale after 15 minutes; an hour without them is an outage
# worth telling. A rate is read hourly and stale after 6 hours: tell once it is.
REPAIR_AFTER = timedelta(hours=1)
RATE_REPAIR_AFTER = timedelta(hours=6)
STALE = "midas_stale"
UNKNOWN_RIN = "midas_unknown_rin"
RETIRED_RIN = "midas_retired_rin"
KINDS = (STALE, UNKNOWN_RIN, RETIRED_RIN)


def issue_id(kind: str, rin: str) -> str:
    """One issue of a kind per RIN."""
    return f"{kind}_{rin}"


def repair_after(rin: str) -> timedelta:
    """How long a RIN may go without a good read before the owner is told."""
    fast = rin == FLEX_ALERT_RIN or rin.startswith("USCA-SGIP-MOER-")
    return REPAIR_AFTER if fast else RATE_REPAIR_AFTER


@callback
def async_update_midas_issues(
    hass: HomeAssistant,
    rins: set[str],
    good_since: Mapping[str, datetime],
    errors: Mapping[str, MidasError],
    now: datetime,
) -> None:
    """Raise or clear each needed RIN's issues.

    `good_since` is the last good read of each RIN, or when it was first needed if it never
    read; `errors` its latest failure, until it reads again.
    """
    for rin in rins:
        error = errors.get(rin)
        wanted: dict[str, dict[str, str]] = {}
        if isinstance(error, MidasRetiredRinError):
            wanted[RETIRED_RIN] = {"rin": rin, "replacement": error.replacement or "-"}
        elif isinstance(error, MidasNotFoundError):
            wanted[UNKNOWN_RIN] = {"rin": rin}
        elif (since := good_since.get(rin)) is not None and (
            now - since > repair_after(rin)
        ):
            wanted[STALE] = {
                "rin": rin,
                "since": dt_util.as_local(since).strftime("%Y-%m-%d %H:%M"),
                "error": str(error) if error is not None else "-",
            }
        for kind in KINDS:
            if kind not in wanted:
                ir.async_delete_issue(hass, DOMAIN, issue_id(kind, rin))
        for kind, placeholders in wanted.items():
            ir.async_create_issue(
                hass,
                DOMAIN,
                issue_id(kind, rin),
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING
                if kind == STALE
                else ir.IssueSeverity.ERROR,
                translation_key=kind,
                translation_placeholders=placeholders,
            )


@callback
def async_clear_midas_issues(hass: HomeAssistant, rins: set[str]) -> None:
    """Remove the issues of RINs no longer needed."""
    for rin in rins:
        for kind in KINDS:
            ir.async_delete_issue(hass, DOMAIN, issue_id(kind, rin))
