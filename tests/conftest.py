"""Shared fixtures for tesladr tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from dataclasses import fields
from pathlib import Path
from unittest.mock import PropertyMock, patch

from homeassistant.components import logger
from homeassistant.components.logger import helpers as logger_helpers
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.syrupy import (
    HomeAssistantSnapshotExtension,
    HomeAssistantSnapshotSerializer,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.types import SerializableData
from tenacity import RetryCallState
from teslajsonpy import Controller

from custom_components.tesladr.caiso import RequestPacer
from custom_components.tesladr.dr import DrSettings
from custom_components.tesladr.price_feed import DATA_FEED, OasisFeed

# Shims that let the one test plugin release (made for Home Assistant 2026.10.4) run on the newest
# release too; DEVELOPMENT.md's development notes list them.
#
# 2026.11 aliases the httpx module to httpx2 as homeassistant is imported, and refuses to once
# httpx is loaded; the test plugin and respx's own plugin import respx (and so httpx). pyproject's
# addopts keeps pytest from loading either by entry point (-p no:homeassistant -p no:respx), and
# they are loaded here, after this module's imports have loaded homeassistant.
pytest_plugins = [
    "pytest_homeassistant_custom_component.plugins",
    "respx.plugin",
    "tests.fake_oasis",
    "tests.fake_tesla",
    "tests.dr_harness",
]
# 2026.11 no longer re-exports the helper the plugin imports from the logger component.
logger._clear_logger_overwrites = logger_helpers._clear_logger_overwrites


class _SnapshotSerializer(HomeAssistantSnapshotSerializer):
    """The plugin's serializer, less the entity registry's `compat_name` when it is unset.

    2026.11 adds the field (set only when a stored registry is migrated, None for every entity a
    test creates), so one set of snapshots stays valid on both versions.
    """

    @classmethod
    def _serializable_entity_registry_entry(
        cls, data: er.RegistryEntry
    ) -> SerializableData:
        serialized = super()._serializable_entity_registry_entry(data)
        if isinstance(serialized, dict) and serialized.get("compat_name", ...) is None:
            del serialized["compat_name"]
        return serialized


class _SnapshotExtension(HomeAssistantSnapshotExtension):
    serializer_class = _SnapshotSerializer


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """The plugin's snapshot assertion, with the serializer above."""
    return snapshot.use_extension(_SnapshotExtension)


# Captured payloads live beside the project; tests that need them skip when it is absent.
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


def _on_a_clock_past_the_waits[T](
    decide: Callable[[RetryCallState], T],
) -> Callable[[RetryCallState], T]:
    """`decide` (a tenacity wait or stop) as if the retry's waits so far had passed."""

    def on_that_clock(state: RetryCallState) -> T:
        started = state.start_time
        state.start_time = started - state.idle_for
        try:
            return decide(state)
        finally:
            state.start_time = started

    return on_that_clock


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def teslajsonpy_retries_without_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The retries of teslajsonpy after a failed API call, their waits passing at once.

    The library retries a 5xx, a 403 or a connection error for 15 s (tenacity: waits of about
    1, 2, 4 and 8 s, stop after 15 s), so every such error against the fake server cost a test
    15 s asleep. Here its wait and stop strategies decide on a clock that counts the waits as
    passed while no real time passes: each call is tried exactly as often as against the real
    cloud, only sooner.
    """
    # Name-mangled: the library's two private retried posts.
    for name in (
        "_Controller__post_with_retries",
        "_Controller__post_with_retries_except_unavailable",
    ):
        retried = getattr(Controller, name)
        library = retried.retry
        monkeypatch.setattr(
            Controller,
            name,
            retried.retry_with(
                sleep=_no_wait,
                wait=_on_a_clock_past_the_waits(library.wait),
                stop=_on_a_clock_past_the_waits(library.stop),
            ),
        )


@pytest.fixture
def polling_policy() -> str | None:
    """The account's polling policy (None: the default); dashboard-poll tests parametrize it."""
    return None


@pytest.fixture
def reference() -> Path:
    """Folder of real captured payloads; skip the test when it is not beside the project."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not present")
    return REFERENCE


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled, for snapshots."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def instant_pacer(hass: HomeAssistant) -> RequestPacer:
    """A pacer that never waits, for tests about something other than the 5 s rule.

    Its production sleep would pass in real time while a test's frozen clock stands still,
    and a test moving frozen time would never see it end.
    """

    async def no_wait(_seconds: float) -> None:
        await asyncio.sleep(0)

    pacer = RequestPacer(clock=lambda: dt_util.utcnow().timestamp(), sleep=no_wait)
    hass.data[DATA_FEED] = OasisFeed(pacer)
    return pacer


@pytest.fixture
def churn_control_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """DR settings without churn control: pause on each crossing, resume on the first dip.

    For tests of something else that were written against that policy: the settings a car
    starts with (and a store without them) get minimum pause and pause budget 0.
    """
    off = {"min_pause_minutes": 0, "pauses_per_24h": 0}
    names = [f.name for f in fields(DrSettings)]
    defaults = DrSettings.__init__.__defaults__ or ()
    first = len(names) - len(defaults)
    monkeypatch.setattr(
        DrSettings.__init__,
        "__defaults__",
        tuple(off.get(names[first + i], d) for i, d in enumerate(defaults)),
    )
