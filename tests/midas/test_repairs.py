"""Repairs of the shared MIDAS feed, from faults at the fake MIDAS's wire (127.0.0.1)."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path
import re

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest

from custom_components.tesladr.const import DOMAIN
from custom_components.tesladr.midas import FLEX_ALERT_RIN
from custom_components.tesladr.midas_coordinator import (
    MidasNeeds,
    async_acquire_midas,
    async_release_midas,
)
from tests.fake_midas import FakeMidas

from .conftest import RATE
from .test_coordinator import ALL, PGE, advance

ISSUES = json.loads(
    (
        Path(__file__).parents[2] / "custom_components/tesladr/translations/en.json"
    ).read_text()
)["issues"]
UNKNOWN = "USCA-XXXX-NONE-0000"
RETIRED = "USCA-SGIP-SGRT-PGE"


def issues(hass: HomeAssistant) -> dict[str, ir.IssueEntry]:
    """The open issues of tesladr, by id; each one's words exist and name only its placeholders."""
    found = {
        issue_id: issue
        for (domain, issue_id), issue in ir.async_get(hass).issues.items()
        if domain == DOMAIN and issue.active
    }
    for issue in found.values():
        words = ISSUES[issue.translation_key]
        named = set(re.findall(r"{(\w+)}", words["title"] + words["description"]))
        assert named == set(issue.translation_placeholders or {})
    return found


@pytest.mark.parametrize("fault", ["unavailable", "malformed", 503, 500], ids=str)
async def test_an_hour_without_an_answer_raises_a_repair_that_recovery_clears(
    hass: HomeAssistant,
    midas: FakeMidas,
    freezer: FrozenDateTimeFactory,
    fault: str | int,
) -> None:
    """The emissions failing: nothing for the owner within the hour, a repair after it."""
    coordinator = await async_acquire_midas(
        hass, "a", MidasNeeds(moer_regions=frozenset({PGE[15:]}))
    )
    midas.fail_next(fault, 5)  # type: ignore[arg-type]
    await advance(hass, freezer, timedelta(minutes=60))
    assert not coordinator.data.is_fresh(PGE, dt_util.utcnow())
    assert issues(hass) == {}
    await advance(hass, freezer, timedelta(minutes=5))
    raised = issues(hass)
    assert raised.keys() == {f"midas_stale_{PGE}"}
    issue = raised[f"midas_stale_{PGE}"]
    assert issue.translation_key == "midas_stale"
    assert issue.severity is ir.IssueSeverity.WARNING
    assert issue.translation_placeholders["rin"] == PGE  # type: ignore[index]
    assert issue.translation_placeholders["error"] != "-"  # type: ignore[index]
    # The back-off's fifth try (80 minutes on) fails too; the sixth (140) reads.
    await advance(hass, freezer, timedelta(hours=2))
    assert coordinator.last_update_success
    assert issues(hass) == {}
    async_release_midas(hass, "a")


async def test_429_for_over_an_hour_raises_a_repair_for_every_signal(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory
) -> None:
    """A Retry-After of two hours: the alert and emissions go stale; the rate is still good."""
    await async_acquire_midas(hass, "a", ALL)
    midas.retry_after = "7200"
    midas.fail_next("throttle")
    await advance(hass, freezer, timedelta(minutes=65))
    assert issues(hass).keys() == {
        f"midas_stale_{FLEX_ALERT_RIN}",
        f"midas_stale_{PGE}",
    }
    await advance(hass, freezer, timedelta(minutes=60))
    assert issues(hass) == {}
    async_release_midas(hass, "a")


async def test_unknown_and_retired_rins_raise_a_repair_at_once(
    hass: HomeAssistant, midas: FakeMidas
) -> None:
    """404 and 410 ask the owner straight away; a good RIN in their place clears them."""
    coordinator = await async_acquire_midas(
        hass, "a", MidasNeeds(rate_rins=frozenset({UNKNOWN, RETIRED}))
    )
    raised = issues(hass)
    assert raised.keys() == {
        f"midas_unknown_rin_{UNKNOWN}",
        f"midas_retired_rin_{RETIRED}",
    }
    assert raised[f"midas_retired_rin_{RETIRED}"].translation_placeholders == {
        "rin": RETIRED,
        "replacement": PGE,
    }
    assert raised[f"midas_unknown_rin_{UNKNOWN}"].severity is ir.IssueSeverity.ERROR
    coordinator.async_set_needs("a", MidasNeeds(rate_rins=frozenset({RATE})))
    assert issues(hass) == {}
    await coordinator.async_refresh()
    assert issues(hass) == {}
    # The last owner leaving takes a failing RIN's repair with it.
    coordinator.async_set_needs("a", MidasNeeds(rate_rins=frozenset({UNKNOWN})))
    await coordinator.async_refresh()
    assert issues(hass).keys() == {f"midas_unknown_rin_{UNKNOWN}"}
    async_release_midas(hass, "a")
    assert issues(hass) == {}


async def test_a_rate_is_told_after_six_hours(
    hass: HomeAssistant, midas: FakeMidas, freezer: FrozenDateTimeFactory
) -> None:
    """A rate read hourly and failing: no repair at 5 hours, one after 6 (the rate's stale)."""
    await async_acquire_midas(hass, "a", MidasNeeds(rate_rins=frozenset({RATE})))
    midas.fail_next("unavailable", 100)
    await advance(hass, freezer, timedelta(hours=5))
    assert issues(hass) == {}
    await advance(hass, freezer, timedelta(hours=1, minutes=5))
    assert issues(hass).keys() == {f"midas_stale_{RATE}"}
    async_release_midas(hass, "a")
    assert issues(hass) == {}
