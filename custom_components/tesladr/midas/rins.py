"""MIDAS RINs tesladr knows: Flex Alert, the marginal emissions regions, v1 RINs and RIN search."""

from __future__ import annotations

from collections.abc import Iterable
import re

from .models import RateListing

FLEX_ALERT_RIN = "USCA-FLEX-ALRT-0000"
MOER_PREFIX = "USCA-SGIP-MOER-"

# WattTime's SGIP grid regions, one MOER RIN each (MIDAS appendix F).
MOER_REGIONS: dict[str, str] = {
    "PGE": "CAISO – Pacific Gas & Electric",
    "SCE": "CAISO – Southern California Edison",
    "SDGE": "CAISO – San Diego Gas & Electric",
    "SMUD": "BANC – Sacramento Municipal Utility District",
    "P2": "BANC Public Authority 2",
    "LADWP": "Los Angeles Dept. of Water & Power",
    "IID": "Imperial Irrigation District",
    "TID": "Turlock Irrigation District",
    "PACW": "PacifiCorp West",
    "NVENERGY": "NV Energy",
    "WALC": "Western Area Lower Colorado",
}
# Utilities by the name caiso.nodes.UTILITIES gives them, to their CAISO sub-region. VEA has
# none of its own among the SGIP regions (it is neither NV Energy nor an IOU): the owner picks.
UTILITY_MOER_REGION: dict[str, str] = {"PG&E": "PGE", "SCE": "SCE", "SDG&E": "SDGE"}

# v1 RIN families that v2 answers with 410 Gone, and what replaces them.
_RETIRED_SGIP = re.compile(r"^USCA-SGIP-(?:SGRT|SGFC|SGHT)-([A-Z0-9]+)$")
_RETIRED_FLEX = re.compile(r"^USCA-FLEX-(?:FXRT|FXFC|FXHT)-0000$")
# v1 called the BANC region's second authority BANC; v2 calls it P2.
_RETIRED_REGION = {"BANC": "P2"}

# Country+state, distribution+energy, rate, location of 1-10 characters.
_RIN = re.compile(r"^[A-Z]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{1,10}$")


def moer_rin(region: str) -> str:
    """The MOER RIN of a region code (`PGE` -> `USCA-SGIP-MOER-PGE`)."""
    if region not in MOER_REGIONS:
        raise ValueError(f"unknown MOER region {region!r}")
    return MOER_PREFIX + region


def default_moer_region(utility_name: str | None) -> str | None:
    """The MOER region of the home's utility (`PG&E`), or None when the owner must pick one."""
    return None if utility_name is None else UTILITY_MOER_REGION.get(utility_name)


def normalize_rin(text: str) -> str | None:
    """A RIN as MIDAS spells it (upper case, no blanks), or None when it is not one."""
    rin = "".join(text.split()).upper()
    return rin if _RIN.match(rin) else None


def replacement_rin(rin: str) -> str | None:
    """The v2 successor of a retired v1 RIN, or None when `rin` is not one."""
    if _RETIRED_FLEX.match(rin):
        return FLEX_ALERT_RIN
    if match := _RETIRED_SGIP.match(rin):
        region = _RETIRED_REGION.get(match[1], match[1])
        return MOER_PREFIX + region if region in MOER_REGIONS else None
    return None


def search_rates(
    listings: Iterable[RateListing], query: str, limit: int = 50
) -> list[RateListing]:
    """Listings whose RIN and description hold every word of `query`, exact RIN first.

    Descriptions are utility tariff names ("BEV-1 - CPP", "E-TOU-C"), so matching is by
    case-insensitive substring, not by word.
    """
    words = query.upper().split()
    if not words:
        return []
    exact = normalize_rin(query)
    found = [
        listing
        for listing in listings
        if all(w in f"{listing.rin} {listing.description}".upper() for w in words)
    ]
    found.sort(key=lambda listing: (listing.rin != exact, listing.rin))
    return found[:limit]
