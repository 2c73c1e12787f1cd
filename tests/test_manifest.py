"""manifest.json and hacs.json follow hassfest's and HACS's rules, so they cannot drift."""

from __future__ import annotations

from importlib.metadata import requires
import json
from pathlib import Path
import re

from awesomeversion import AwesomeVersion
from homeassistant.const import __version__ as HA_VERSION

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads(
    (ROOT / "custom_components" / "tesladr" / "manifest.json").read_text()
)
HACS = json.loads((ROOT / "hacs.json").read_text())
REQUIREMENTS_TEST = (ROOT / "requirements_test.txt").read_text()


def test_manifest_key_order() -> None:
    """Hassfest wants domain, name, then the other keys sorted."""
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_values() -> None:
    """The values the integration is defined by."""
    assert MANIFEST["domain"] == "tesladr"
    assert MANIFEST["config_flow"] is True
    assert MANIFEST["integration_type"] == "hub"
    assert MANIFEST["iot_class"] == "cloud_polling"
    # hassfest: GitHub handles (users or org/team), at least one owner.
    assert MANIFEST["codeowners"]
    for owner in MANIFEST["codeowners"]:
        assert re.fullmatch(r"@[A-Za-z0-9-]+(/[A-Za-z0-9_.-]+)?", owner), owner
    assert isinstance(MANIFEST["dependencies"], list)
    assert MANIFEST["documentation"].startswith("https://")
    assert MANIFEST["issue_tracker"].startswith("https://")
    assert AwesomeVersion(MANIFEST["version"]).valid
    assert re.fullmatch(r"\d+\.\d+\.\d+", MANIFEST["version"])


def test_loggers_are_real_logger_names() -> None:
    """The loggers the integration and its library really log under, and no others."""
    import teslajsonpy.controller

    from custom_components.tesladr.const import LOGGER

    assert LOGGER.name in MANIFEST["loggers"]
    library = teslajsonpy.controller._LOGGER.name
    for logger in MANIFEST["loggers"]:
        assert logger == LOGGER.name or library.startswith(f"{logger}."), logger
    assert "teslajsonpy" in MANIFEST["loggers"]


def test_requirements_pinned_exactly() -> None:
    """Every requirement is an exact pin, and the test pins agree with the manifest."""
    for requirement in MANIFEST["requirements"]:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[0-9][A-Za-z0-9.]*", requirement)
    assert "teslajsonpy==3.14.0" in MANIFEST["requirements"]
    test_pins = [
        line.strip()
        for line in REQUIREMENTS_TEST.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for line in test_pins:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==[0-9][A-Za-z0-9.]*", line), line
    for requirement in MANIFEST["requirements"]:
        assert requirement in test_pins


def test_hacs_json() -> None:
    """HACS metadata names the oldest Home Assistant we test and the country.

    The oldest is the test plugin's own pin (the newest job runs a newer release beside it).
    """
    assert HACS["name"] == MANIFEST["name"]
    assert HACS["country"] == "US"
    plugin = requires("pytest-homeassistant-custom-component") or []
    assert f"homeassistant=={HACS['homeassistant']}" in plugin
    assert AwesomeVersion(HACS["homeassistant"]) <= AwesomeVersion(HA_VERSION)
