"""Shared fixtures for tesladr tests."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from unittest.mock import PropertyMock, patch

import pytest

pytest_plugins = ["tests.fake_oasis", "tests.fake_tesla"]

# Captured payloads live beside the project; tests that need them skip when it is absent.
REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Load custom_components/ in every test."""


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
