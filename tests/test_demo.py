"""The offline demo end to end: the demo servers and a real Home Assistant, in subprocesses.

Starts what `./scripts/develop` starts, on free loopback ports and in a temporary config folder,
sets it up with the same code (tests/demo_setup.py), then plays a price spike at once instead of
waiting for a 5-minute boundary: re-price the newest published interval on the fake OASIS (OASIS
re-prices intervals for real) and ask Home Assistant to update the price sensor, which refreshes
the price coordinator and so runs the demand-response evaluation. Everything is checked through
Home Assistant's REST API, as a user's automation or dashboard would see it.

The configuration is the demo's minus the UI (frontend, history): the tests' requirements do not
include the frontend package, and the REST API is all this test needs. The garage charger's
helpers are copied from config/configuration.yaml.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
import socket
import subprocess
import sys
import time
from typing import Any

import pytest
import yaml

from tests.demo_setup import (
    CHARGER_ENTITIES,
    DEMO_EMISSIONS_LIMIT,
    PRICES_TITLE,
    DemoSetupError,
    Http,
    ensure_entries,
    entries,
    onboard,
    pin_http_config,
    remove_online_entries,
    state,
    wait_for_home_assistant,
    wait_until,
)

ROOT = Path(__file__).resolve().parents[1]
PRICE = "sensor.caiso_prices_np15_hub_real_time_price"
FLEX_ALERT = "binary_sensor.california_grid_signals_flex_alert"
EMISSIONS = "sensor.california_grid_signals_marginal_emissions"
RETAIL_PRICE = "sensor.california_grid_signals_retail_price"
DR_STATUS = "sensor.model_3_dr_status"
CHARGING = "switch.model_3_charging"
CHARGER_POWER = "sensor.model_3_charger_power"
PARTICIPATION = "sensor.model_3_participation"
SKIP = "button.model_3_skip_this_event"
GARAGE_PARTICIPATION = "sensor.garage_charger_participation"
# The second car, on the generic route: a template switch over an input_boolean relay.
GARAGE_DR_STATUS = "sensor.garage_charger_dr_status"
GARAGE_RELAY = "input_boolean.garage_relay"
GARAGE_SWITCH = CHARGER_ENTITIES["switch"]
GARAGE_POWER = CHARGER_ENTITIES["charger_power"]
# The demo cars pause during the fake MIDAS's Flex Alert (10 minutes after the servers start).
FLEX_SWITCHES = (
    "switch.model_3_pause_during_flex_alerts",
    "switch.garage_charger_pause_during_flex_alerts",
)
# The demo's helper-made charger, taken as it is from the demo's configuration.
HELPER_DOMAINS = ("input_boolean", "input_number", "template")
# Bounded waits (seconds): start-up, then each reaction. The price coordinator keeps 5 s between
# OASIS requests and its refresh requests are debounced, so a reaction can take a few requests.
START_TIMEOUT = 120.0
REACTION_TIMEOUT = 90.0

CONFIGURATION = """
homeassistant:
  name: tesladr demo test
  latitude: 37.7749
  longitude: -122.4194
  elevation: 16
  unit_system: us_customary
  currency: USD
  country: US
  time_zone: America/Los_Angeles
api:
config:
onboarding:
logger:
  default: warning
  logs:
    custom_components.tesladr: debug
"""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class Demo:
    """The running demo: Home Assistant with its token, the fakes, and their logs."""

    ha: Http
    oasis: Http
    tesla_url: str
    log: Path

    def log_tail(self, lines: int = 60) -> str:
        """The end of Home Assistant's log, for failure messages."""
        if not self.log.is_file():
            return "(no Home Assistant log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def state(self, entity_id: str) -> dict[str, Any] | None:
        """An entity's state object."""
        return state(self.ha, entity_id)

    def value(self, entity_id: str) -> str | None:
        """An entity's state string."""
        found = self.state(entity_id)
        return None if found is None else str(found["state"])

    def reprice(self, price: float) -> None:
        """Re-price the newest published 5-minute interval and have Home Assistant read it."""
        self.oasis.post("/demo/price", {"price": price})
        self.ha.post("/api/services/homeassistant/update_entity", {"entity_id": PRICE})

    def grid(self, moves: dict[str, float | None]) -> None:
        """Move the fake MIDAS's signals, then reload the prices entry so it reads them now.

        Its MIDAS feed reads every 5 minutes; a reload makes a new one, which reads at once.
        """
        self.oasis.post("/demo/grid", moves)
        prices = next(e for e in entries(self.ha) if e["title"] == PRICES_TITLE)
        self.ha.post(f"/api/config/config_entries/entry/{prices['entry_id']}/reload")

    def wait(self, done: Callable[[], bool], what: str) -> None:
        """Wait for `done()`, failing with what the cars and the log show."""
        deadline = time.monotonic() + REACTION_TIMEOUT
        while time.monotonic() < deadline:
            if done():
                return
            time.sleep(0.5)
        pytest.fail(
            f"{what} not seen within {REACTION_TIMEOUT:.0f} s: "
            f"DR status {self.state(DR_STATUS)}, charging {self.value(CHARGING)}, "
            f"garage DR status {self.state(GARAGE_DR_STATUS)}, "
            f"Flex Alert {self.value(FLEX_ALERT)}, emissions {self.value(EMISSIONS)}\n"
            f"Home Assistant log:\n{self.log_tail()}"
        )

    def wait_paused(self, reason: str, what: str) -> None:
        """Both demo cars paused by DR, each for `reason`."""

        def paused() -> bool:
            statuses = [self.state(s) for s in (DR_STATUS, GARAGE_DR_STATUS)]
            return (
                all(
                    s is not None
                    and s["state"] == "paused"
                    and s["attributes"].get("reason") == reason
                    for s in statuses
                )
                and self.value(CHARGING) == "off"
                and _garage_paused(self)
            )

        self.wait(paused, what)

    def play(self, price: float, done: Callable[[], bool], what: str) -> None:
        """Publish `price` until `done()`, re-pricing now and then.

        Re-pricing again covers a 5-minute boundary passing between the re-price and the
        coordinator's request (the new newest interval has the demo's low base price).
        """
        deadline = time.monotonic() + REACTION_TIMEOUT
        while time.monotonic() < deadline:
            self.reprice(price)
            settle = time.monotonic() + 15.0
            while time.monotonic() < min(settle, deadline):
                if done():
                    return
                time.sleep(0.5)
        pytest.fail(
            f"{what} not seen within {REACTION_TIMEOUT:.0f} s: price {self.value(PRICE)}, "
            f"DR status {self.state(DR_STATUS)}, charging {self.value(CHARGING)}, "
            f"garage DR status {self.state(GARAGE_DR_STATUS)}, "
            f"relay {self.value(GARAGE_RELAY)}\n"
            f"Home Assistant log:\n{self.log_tail()}"
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def demo(tmp_path: Path, socket_enabled: None) -> Iterator[Demo]:
    """The demo, started and set up; both processes are stopped afterwards."""
    ha_port, oasis_port, tesla_port = _free_ports(3)
    config = tmp_path / "config"
    config.mkdir()
    demo_config = yaml.safe_load((ROOT / "config" / "configuration.yaml").read_text())
    helpers = {domain: demo_config[domain] for domain in HELPER_DOMAINS}
    (config / "configuration.yaml").write_text(
        CONFIGURATION + yaml.safe_dump(helpers, sort_keys=False)
    )
    pin_http_config(config, ha_port)
    (config / "custom_components").symlink_to(ROOT / "custom_components")
    processes: list[subprocess.Popen[bytes]] = []

    def spawn(log: str, *args: str) -> None:
        with (tmp_path / log).open("wb") as output:
            processes.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                    [sys.executable, "-m", *args],
                    cwd=ROOT,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            )

    try:
        spawn(
            "servers.log",
            "tests.demo_servers",
            "--oasis-port",
            str(oasis_port),
            "--tesla-port",
            str(tesla_port),
            "--repeat-minutes",
            "0",
        )
        spawn(
            "hass.out",
            "tests.demo_hass",
            "--oasis",
            f"http://127.0.0.1:{oasis_port}/oasisapi/SingleZip",
            "--config",
            str(config),
            "--skip-pip",
        )
        oasis = Http(f"http://127.0.0.1:{oasis_port}")
        tesla_url = f"http://127.0.0.1:{tesla_port}"
        wait_until("the demo servers", lambda: oasis.get("/demo/status"), 30.0)
        ha = Http(f"http://127.0.0.1:{ha_port}")
        running = Demo(ha, oasis, tesla_url, config / "home-assistant.log")
        try:
            wait_for_home_assistant(ha, START_TIMEOUT)
            ha.token = onboard(ha)
            wait_until(
                "Home Assistant to finish starting",
                lambda: ha.get("/api/config").get("state") == "RUNNING",
                START_TIMEOUT,
            )
            ensure_entries(ha, tesla_url)
            remove_online_entries(ha)
        except DemoSetupError as err:
            pytest.fail(f"demo set-up failed: {err}\n{running.log_tail()}")
        yield running
    finally:
        for process in reversed(processes):
            _stop(process)


def _dashboard_entities(node: Any) -> set[str]:
    """Every entity id the dashboard YAML names."""
    if isinstance(node, dict):
        found = {node["entity"]} if isinstance(node.get("entity"), str) else set()
        # The calendar card lists bare entity ids.
        found |= {e for e in node.get("entities", []) if isinstance(e, str)}
        for value in node.values():
            found |= _dashboard_entities(value)
        return found
    if isinstance(node, list):
        return set().union(*(_dashboard_entities(item) for item in node))
    return set()


def _garage_paused(demo: Demo) -> bool:
    return (
        demo.value(GARAGE_DR_STATUS) == "paused"
        and demo.value(GARAGE_RELAY) == "off"
        and demo.value(GARAGE_SWITCH) == "off"
        and demo.value(GARAGE_POWER) in {"0", "0.0"}
    )


def _garage_charging(demo: Demo) -> bool:
    return (
        demo.value(GARAGE_DR_STATUS) == "monitoring"
        and demo.value(GARAGE_RELAY) == "on"
        and float(demo.value(GARAGE_POWER) or "nan") > 0
    )


def test_demo_pauses_and_resumes_the_car(demo: Demo) -> None:
    """A price spike pauses both demo cars through DR; the fall-back resumes them.

    The Model 3 on its Tesla account, the garage charger through its switch (generic route).
    """
    # Set up as a user finds it: onboarded, price visible and low, the car charging.
    onboarding = Http(demo.ha.base).get("/api/onboarding")
    assert all(step["done"] for step in onboarding)
    wait_until("a price", lambda: demo.value(PRICE) not in {None, "unknown"}, 30.0)
    assert float(demo.value(PRICE) or "nan") < 100
    # The demo cars pause during Flex Alerts; the price spike is played alone first, so the
    # setting is off until the grid signals' turn (a car the alert paused resumes).
    for switch in FLEX_SWITCHES:
        assert demo.value(switch) == "on"
        demo.ha.post("/api/services/switch/turn_off", {"entity_id": switch})
        wait_until(switch, lambda switch=switch: demo.value(switch) == "off", 30.0)
    wait_until("the Model 3 charging", lambda: demo.value(CHARGING) == "on", 60.0)
    assert float(demo.value(CHARGER_POWER) or "nan") == pytest.approx(7.0)

    # The demo dashboard shows only entities that exist.
    dashboard = yaml.safe_load((ROOT / "config" / "dashboard.yaml").read_text())
    existing = {item["entity_id"] for item in demo.ha.get("/api/states")}
    assert _dashboard_entities(dashboard) - existing == set()
    # No departure set here: the car's own scheduled departure is the Model 3's, and says so.
    departure = demo.ha.get("/api/states/time.model_3_departure")
    assert departure["state"] not in {"unknown", "unavailable"}
    assert departure["attributes"]["source"] == "car_schedule"

    # The grid signals from the fake MIDAS beside the fake OASIS, the demo rate checked.
    assert demo.value(FLEX_ALERT) in {"on", "off"}
    assert float(demo.value(EMISSIONS) or "nan") > 0
    assert float(demo.value(RETAIL_PRICE) or "nan") in {0.31, 0.55}

    assert demo.value(DR_STATUS) == "monitoring"
    # The demo runs in real time: a pause held an hour through the dip (the default minimum
    # pause) would outlast it, so the set-up turns that off, and sets the emissions limit.
    for car in ("model_3", "garage_charger"):
        assert demo.value(f"number.{car}_minimum_pause") == "0"
        assert demo.value(f"number.{car}_emissions_limit") == str(DEMO_EMISSIONS_LIMIT)
    wait_until("the garage charger charging", lambda: _garage_charging(demo), 30.0)
    demo.play(
        250.0,
        lambda: (
            demo.value(DR_STATUS) == "paused"
            and demo.value(CHARGING) == "off"
            and demo.value(CHARGER_POWER) in {"0", "0.0"}
            and _garage_paused(demo)
        ),
        "the pause",
    )
    # Every decision carries a reason.
    for status in (DR_STATUS, GARAGE_DR_STATUS):
        paused = demo.state(status)
        assert paused is not None and paused["attributes"].get("reason")

    # The dashboard's Skip this event: one press lets the Model 3 charge through the event;
    # the garage charger keeps taking part.
    demo.ha.post("/api/services/button/press", {"entity_id": SKIP})
    wait_until(
        "the Model 3 skipping the event",
        lambda: (
            demo.value(PARTICIPATION) == "skipped"
            and demo.value(DR_STATUS) == "skipped"
            and demo.value(CHARGING) == "on"
        ),
        REACTION_TIMEOUT,
    )
    assert demo.value(GARAGE_PARTICIPATION) == "taking_part"

    demo.play(
        40.0,
        lambda: (
            demo.value(DR_STATUS) == "monitoring"
            and demo.value(CHARGING) == "on"
            and _garage_charging(demo)
        ),
        "the resume",
    )

    # The grid signals: the fake MIDAS's Flex Alert, then its dirty interval, moved to now
    # (instead of 10 and 40 minutes after start); the prices entry's reload reads them at once.
    for switch in FLEX_SWITCHES:
        demo.ha.post("/api/services/switch/turn_on", {"entity_id": switch})
        wait_until(switch, lambda switch=switch: demo.value(switch) == "on", 30.0)
    demo.grid({"alert_in_seconds": 0, "dirty_in_seconds": None})
    demo.wait_paused("flex_alert", "the Flex Alert pause")
    assert demo.value(FLEX_ALERT) == "on"
    demo.grid({"alert_in_seconds": None})
    demo.wait(lambda: _both_charging(demo), "the resume after the alert")
    demo.grid({"dirty_in_seconds": 0})
    demo.wait_paused("high_emissions", "the emissions pause")
    assert float(demo.value(EMISSIONS) or "nan") == 820.0
    demo.grid({"dirty_in_seconds": None})
    demo.wait(lambda: _both_charging(demo), "the resume after the dirty interval")


def _both_charging(demo: Demo) -> bool:
    return (
        demo.value(DR_STATUS) == "monitoring"
        and demo.value(CHARGING) == "on"
        and _garage_charging(demo)
    )
