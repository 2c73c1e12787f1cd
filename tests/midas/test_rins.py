"""RIN helpers: regions, the utility default, RIN spelling, v1 successors, RIN search."""

from __future__ import annotations

import pytest

from custom_components.tesladr.caiso.nodes import UTILITIES
from custom_components.tesladr.midas import (
    FLEX_ALERT_RIN,
    MOER_REGIONS,
    RateListing,
    default_moer_region,
    moer_rin,
    normalize_rin,
    replacement_rin,
    search_rates,
)


def test_moer_rin() -> None:
    assert moer_rin("SDGE") == "USCA-SGIP-MOER-SDGE"
    assert len(MOER_REGIONS) == 11
    with pytest.raises(ValueError, match="unknown MOER region 'pge'"):
        moer_rin("pge")


@pytest.mark.parametrize(
    ("utility", "region"),
    [("PG&E", "PGE"), ("SCE", "SCE"), ("SDG&E", "SDGE"), ("VEA", None), (None, None)],
)
def test_default_region(utility: str | None, region: str | None) -> None:
    """The three IOUs default to their CAISO sub-region; VEA and an unknown home do not."""
    assert default_moer_region(utility) == region


def test_every_caiso_utility_is_decided() -> None:
    """A utility added to caiso.nodes must be given a region here, or be left out on purpose."""
    regions = {u.name: default_moer_region(u.name) for u in UTILITIES.values()}
    assert regions == {"PG&E": "PGE", "SCE": "SCE", "SDG&E": "SDGE", "VEA": None}


@pytest.mark.parametrize(
    ("text", "rin"),
    [
        (" usca-pgpg-tou4-0000 ", "USCA-PGPG-TOU4-0000"),
        ("USCA-SGIP-MOER-NVENERGY", "USCA-SGIP-MOER-NVENERGY"),
        ("USCA - TSTS - 0354 - TEST", "USCA-TSTS-0354-TEST"),
        ("USCA-PGPG-TOU4-ABCDEFGHIJ", "USCA-PGPG-TOU4-ABCDEFGHIJ"),
        ("USCA-PGPG-TOU4-ABCDEFGHIJK", None),
        ("USCA-PGPG-TOU4-", None),
        ("US1A-PGPG-TOU4-0000", None),
        ("E-TOU-C", None),
        ("", None),
    ],
)
def test_normalize_rin(text: str, rin: str | None) -> None:
    assert normalize_rin(text) == rin


@pytest.mark.parametrize(
    ("rin", "successor"),
    [
        ("USCA-SGIP-SGRT-PGE", "USCA-SGIP-MOER-PGE"),
        ("USCA-SGIP-SGFC-NVENERGY", "USCA-SGIP-MOER-NVENERGY"),
        ("USCA-SGIP-SGHT-BANC", "USCA-SGIP-MOER-P2"),
        ("USCA-SGIP-SGRT-XYZ", None),
        ("USCA-FLEX-FXRT-0000", FLEX_ALERT_RIN),
        ("USCA-FLEX-FXHT-0000", FLEX_ALERT_RIN),
        ("USCA-SGIP-MOER-PGE", None),
        (FLEX_ALERT_RIN, None),
    ],
)
def test_replacement_rin(rin: str, successor: str | None) -> None:
    assert replacement_rin(rin) == successor


LISTINGS = [
    RateListing("USCA-PGPG-ETOC-0000", "Electricity Rates", "E-TOU-C", None),
    RateListing("USCA-PGPG-EV2A-0000", "Electricity Rates", "EV2-A", None),
    RateListing("USCA-BNBN-EVT2-0000", "Electricity Rates", "BEV-1 - CPP", None),
    RateListing("USCA-SCSC-EV2A-0000", "Electricity Rates", "TOU-EV-2A", None),
]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("ev2", ["USCA-PGPG-EV2A-0000", "USCA-SCSC-EV2A-0000"]),
        ("pgpg ev2", ["USCA-PGPG-EV2A-0000"]),
        ("usca-scsc-ev2a-0000", ["USCA-SCSC-EV2A-0000"]),
        ("bev cpp", ["USCA-BNBN-EVT2-0000"]),
        ("tou", ["USCA-PGPG-ETOC-0000", "USCA-SCSC-EV2A-0000"]),
        ("nothing", []),
        ("  ", []),
    ],
)
def test_search_rates(query: str, found: list[str]) -> None:
    """Every word must occur in the RIN or the description, case aside."""
    assert [listing.rin for listing in search_rates(LISTINGS, query)] == found


def test_search_puts_the_exact_rin_first_and_limits() -> None:
    many = [
        RateListing(f"USCA-PGPG-EV{n:02d}-0000", "Electricity Rates", "EV", None)
        for n in range(60)
    ]
    found = search_rates(many, "usca-pgpg-ev42-0000")
    assert [listing.rin for listing in found] == ["USCA-PGPG-EV42-0000"]
    assert len(search_rates(many, "ev")) == 50
    assert (
        search_rates([*many, LISTINGS[1]], "ev2a usca-pgpg-ev2a-0000")[0] == LISTINGS[1]
    )
    assert search_rates(many, "ev", limit=3)[0].rin == "USCA-PGPG-EV00-0000"
