"""Prepare a running Home Assistant for the offline demo, over its REST API only.

Onboards it with the demo owner (so the UI opens at the login page), creates the CAISO prices
entry and the Tesla account entry through the real config flows, pointed at the demo's fakes
(tests/demo_servers.py), links the helper-made garage charger (the generic route), gives both
cars the demo's DR settings (`DEMO_CAR_SETTINGS`), and schedules the price spike. Safe to run
again: done steps and existing entries are left alone.

`./scripts/develop` runs `python -m tests.demo_setup`; tests/test_demo.py and scripts/screenshot
import it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from datetime import UTC, datetime
import json
from pathlib import Path
import sys
import time
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen
from zoneinfo import ZoneInfo

USERNAME = "demo"
# The documented login of a demo that listens on loopback only.
PASSWORD = "demo1234"
OWNER_NAME = "Demo"
DOMAIN = "tesladr"
NODE = "TH_NP15_GEN-APND"
THRESHOLD = 100
CLIENT_ID_TESLA = "tesladr-demo"
PRICES_TITLE = "CAISO prices"
# The demo rate tests/demo_servers.py serves from its fake MIDAS.
DEMO_RIN = "USCA-PGPG-DEMO-0000"
# The demo's second car: a charger switch made of helpers (config/configuration.yaml), added
# through the config flow's "any charger switch" step. No location: it is priced at home (NP15).
CHARGER_TITLE = "Garage charger"
CHARGER_ENTITIES = {
    "switch": "switch.garage_charger",
    "charger_power": "sensor.garage_charger_power",
    "plugged_in": "binary_sensor.garage_charger_plug",
    "battery": "sensor.garage_car_battery",
}
PACIFIC = ZoneInfo("America/Los_Angeles")
# g/kWh above which the demo cars pause: the demo's dirty interval (820) is above it, its
# ordinary evening peak (about 420) below.
DEMO_EMISSIONS_LIMIT = 700
# Entity id endings of each demo car's DR settings, and the value the demo gives them.
DEMO_CAR_SETTINGS: dict[str, object] = {
    "_pause_during_flex_alerts": "on",
    "_emissions_limit": DEMO_EMISSIONS_LIMIT,
    "_minimum_pause": 0,
    "_pauses_per_24_h": 48,
}
# Integrations onboarding sets up that fetch from the internet (weather, TTS, radio directory).
ONLINE_DOMAINS = frozenset({"google_translate", "met", "radio_browser"})


class DemoSetupError(Exception):
    """Home Assistant did not answer as the demo expects."""


@dataclass
class Http:
    """A tiny JSON client for one base URL (the stdlib only, so any caller can use it)."""

    base: str
    token: str | None = None
    timeout: float = 30.0

    def call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        form: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201),
    ) -> Any:
        """Send a request; return the decoded JSON answer (None when empty)."""
        headers = {}
        data = None
        if form is not None:
            data = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = Request(self.base + path, data=data, headers=headers, method=method)  # noqa: S310 - loopback URLs the caller chose
        try:
            with urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status, text = response.status, response.read().decode()
        except HTTPError as err:
            status, text = err.code, err.read().decode(errors="replace")
        if status not in ok:
            raise DemoSetupError(f"{method} {path}: HTTP {status}: {text[:300]}")
        return json.loads(text) if text.strip() else None

    def get(self, path: str) -> Any:
        """GET a JSON document."""
        return self.call("GET", path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST a JSON document."""
        return self.call("POST", path, body or {})


def wait_until(what: str, probe: Any, timeout: float, interval: float = 1.0) -> Any:
    """Call `probe` until it returns something truthy; bounded by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            if result := probe():
                return result
        except (DemoSetupError, URLError, OSError) as err:
            last_error = err
        if time.monotonic() >= deadline:
            raise DemoSetupError(
                f"timed out after {timeout:.0f} s waiting for {what}"
                + (f" (last error: {last_error})" if last_error else "")
            )
        time.sleep(interval)


def wait_for_home_assistant(ha: Http, timeout: float = 180.0) -> None:
    """Wait until the HTTP server answers (the login providers need no login).

    Before onboarding they answer 400 "onboarding required"; that is an answer too.
    """
    wait_until(
        "Home Assistant's HTTP server",
        lambda: ha.call("GET", "/auth/providers", ok=(200, 400)) is not None,
        timeout,
    )


def _client_id(ha: Http) -> str:
    return ha.base.rstrip("/") + "/"


def _token_from_code(ha: Http, code: str) -> dict[str, Any]:
    tokens: dict[str, Any] = ha.call(
        "POST",
        "/auth/token",
        form={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": _client_id(ha),
        },
    )
    return tokens


def auth_code(ha: Http, username: str = USERNAME, password: str = PASSWORD) -> str:
    """Log in through the login flow, as the frontend does; return an authorization code."""
    client_id = _client_id(ha)
    flow = ha.post(
        "/auth/login_flow",
        {
            "client_id": client_id,
            "handler": ["homeassistant", None],
            "redirect_uri": client_id + "?auth_callback=1",
        },
    )
    result = ha.post(
        f"/auth/login_flow/{flow['flow_id']}",
        {"username": username, "password": password, "client_id": client_id},
    )
    if result.get("type") != "create_entry":
        raise DemoSetupError(f"login refused: {result.get('errors')}")
    return str(result["result"])


def login(
    ha: Http, username: str = USERNAME, password: str = PASSWORD
) -> dict[str, Any]:
    """Tokens (access and refresh) of the demo owner."""
    return _token_from_code(ha, auth_code(ha, username, password))


def onboard(ha: Http) -> str:
    """Finish onboarding with the demo owner if not done; return an access token."""
    try:
        status = {step["step"]: step["done"] for step in ha.get("/api/onboarding")}
    except DemoSetupError as err:
        # Home Assistant drops the onboarding views once onboarding is complete.
        if "HTTP 404" not in str(err):
            raise
        status = {}
    if not status.get("user", True):
        created = ha.post(
            "/api/onboarding/users",
            {
                "client_id": _client_id(ha),
                "name": OWNER_NAME,
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            },
        )
        token = str(_token_from_code(ha, created["auth_code"])["access_token"])
    else:
        token = str(login(ha)["access_token"])
    authed = Http(ha.base, token, ha.timeout)
    for step, path, body in (
        ("core_config", "/api/onboarding/core_config", {}),
        ("analytics", "/api/onboarding/analytics", {}),
        (
            "integration",
            "/api/onboarding/integration",
            {
                "client_id": _client_id(ha),
                "redirect_uri": _client_id(ha) + "?auth_callback=1",
            },
        ),
    ):
        if not status.get(step, True):
            authed.post(path, body)
    return token


def entries(ha: Http) -> list[dict[str, Any]]:
    """The tesladr config entries."""
    found: list[dict[str, Any]] = ha.get(
        f"/api/config/config_entries/entry?domain={DOMAIN}"
    )
    return found


def _flow(ha: Http, step: str, user_input: dict[str, Any]) -> dict[str, Any]:
    """Run the integration's config flow: pick `step` in its menu, then submit one form."""
    menu = ha.post(
        "/api/config/config_entries/flow",
        {"handler": DOMAIN, "show_advanced_options": False},
    )
    flow_path = f"/api/config/config_entries/flow/{menu['flow_id']}"
    form = ha.post(flow_path, {"next_step_id": step})
    if form.get("type") != "form":
        raise DemoSetupError(f"{step} step did not show a form: {form}")
    result: dict[str, Any] = ha.post(flow_path, user_input)
    if result.get("type") != "create_entry":
        raise DemoSetupError(f"{step} entry not created: {result}")
    return result


def _wait_loaded(ha: Http, title: str, timeout: float) -> dict[str, Any] | None:
    """The entry of a title once it has finished setting up (loaded or not)."""
    busy = {"not_loaded", "setup_in_progress", "unload_in_progress"}

    def settled() -> dict[str, Any] | None:
        for entry in entries(ha):
            if entry["title"] == title and entry["state"] not in busy:
                return entry
        return None

    try:
        result: dict[str, Any] = wait_until(f"entry {title}", settled, timeout)
    except DemoSetupError:
        return None
    return result


def ensure_entries(ha: Http, tesla_url: str, *, timeout: float = 60.0) -> None:
    """Create the prices, account and garage charger entries unless they exist and load."""
    demo_tesla = Http(tesla_url)
    account = demo_tesla.get("/demo/account")
    titles = {entry["title"]: entry for entry in entries(ha)}
    if PRICES_TITLE not in titles:
        result = _flow(ha, "prices", {"nodes": [NODE], "threshold": THRESHOLD})
        _set_grid_signals(ha, result["result"]["entry_id"])
    existing = titles.get(account["email"])
    if existing is not None:
        existing = _wait_loaded(ha, account["email"], timeout)
        if existing is None or existing["state"] != "loaded":
            # Its tokens are from a fake whose state was lost: start the account afresh.
            stale = existing or titles[account["email"]]
            ha.call("DELETE", f"/api/config/config_entries/entry/{stale['entry_id']}")
            existing = None
    if existing is None:
        result = _flow(
            ha,
            "account",
            {
                "email": account["email"],
                "refresh_token": demo_tesla.get("/demo/account")["refresh_token"],
                "advanced": {
                    "auth_domain": tesla_url,
                    "api_proxy_url": tesla_url,
                    "api_proxy_cert": "",
                    "client_id": CLIENT_ID_TESLA,
                },
            },
        )
        _set_notify_target(ha, result["result"]["entry_id"])
    if CHARGER_TITLE not in titles:
        wait_until(
            "the garage charger's helpers",
            lambda: all(state(ha, e) for e in CHARGER_ENTITIES.values()),
            timeout,
        )
        charger = _flow(ha, "charger", CHARGER_ENTITIES)
        _set_notify_target(ha, charger["result"]["entry_id"])
    for title in (PRICES_TITLE, account["email"], CHARGER_TITLE):
        entry = _wait_loaded(ha, title, timeout)
        if entry is None or entry["state"] != "loaded":
            raise DemoSetupError(f"entry {title} did not load: {entry}")
    _set_demo_cars(ha, timeout)


def _set_demo_cars(ha: Http, timeout: float) -> None:
    """Give every demo car the settings that let the demo's timeline show each kind of pause.

    Pause during Flex Alerts, and above DEMO_EMISSIONS_LIMIT (the demo's dirty interval is
    820 g/kWh, its evening peak about 420); no minimum pause, so a pause ends with its cause
    rather than holding through the next; the largest pause budget, so a demo left running keeps
    pausing (four pauses an hour: two spikes, the alert, the dirty interval).
    """

    def entities() -> list[str]:
        found = [
            entity["entity_id"]
            for entity in ha.get("/api/states")
            if entity["entity_id"].split(".")[0] in {"switch", "number"}
            and entity["entity_id"].endswith(tuple(DEMO_CAR_SETTINGS))
        ]
        # Both cars' settings, or keep waiting.
        return found if len(found) >= 2 * len(DEMO_CAR_SETTINGS) else []

    for entity_id in wait_until("the cars' DR settings", entities, timeout):
        want = next(v for k, v in DEMO_CAR_SETTINGS.items() if entity_id.endswith(k))
        current = state(ha, entity_id)
        if entity_id.startswith("switch."):
            if current is None or current["state"] != "on":
                ha.post("/api/services/switch/turn_on", {"entity_id": entity_id})
        elif current is None or current["state"] != str(want):
            ha.post(
                "/api/services/number/set_value",
                {"entity_id": entity_id, "value": want},
            )


def remove_online_entries(ha: Http) -> list[str]:
    """Delete the entries onboarding adds that would reach the internet; return their titles.

    Onboarding's last step starts the config flows of a few default integrations; the demo
    talks to 127.0.0.1 only.
    """
    removed = []
    for entry in ha.get("/api/config/config_entries/entry"):
        if entry["domain"] in ONLINE_DOMAINS:
            ha.call("DELETE", f"/api/config/config_entries/entry/{entry['entry_id']}")
            removed.append(entry["title"])
    return removed


def _set_notify_target(ha: Http, entry_id: str) -> None:
    """Send a car entry's DR notifications to the notifications panel.

    Other options keep their defaults. The panel, not a phone: the demo has none, and the
    panel is what the browser shows (with the car's Skip this event button on the dashboard).
    """
    form = ha.post("/api/config/config_entries/options/flow", {"handler": entry_id})
    if form.get("type") != "form":
        return
    user_input = {
        field["name"]: field["default"]
        for field in form.get("data_schema", [])
        if "default" in field
    }
    # The demo has no phone: DR's messages show in Home Assistant's notifications panel.
    user_input["notify_target"] = "notify.persistent_notification"
    result = ha.post(
        f"/api/config/config_entries/options/flow/{form['flow_id']}", user_input
    )
    if result.get("type") != "create_entry":
        raise DemoSetupError(f"car entry options not saved: {result}")


def _set_grid_signals(ha: Http, entry_id: str) -> None:
    """Choose every grid signal of the fake MIDAS: Flex Alert, PG&E's emissions, DEMO_RIN.

    Nodes and threshold keep what the form offers; the RIN is checked with the fake MIDAS.
    """
    form = ha.post("/api/config/config_entries/options/flow", {"handler": entry_id})
    user_input = {
        field["name"]: field["default"]
        for field in form.get("data_schema", [])
        if "default" in field
    }
    user_input |= {"moer_region": "PGE", "flex_alert": True, "rin": DEMO_RIN}
    result = ha.post(
        f"/api/config/config_entries/options/flow/{form['flow_id']}", user_input
    )
    if result.get("type") != "create_entry":
        raise DemoSetupError(f"prices options not saved: {result}")


def schedule_spike(oasis_url: str, lead_seconds: float | None) -> datetime | None:
    """Ask the fake OASIS to publish a spike; return when (None: spikes off)."""
    status = Http(oasis_url).post("/demo/schedule", {"lead_seconds": lead_seconds})
    published = status.get("next_spike_published")
    return datetime.fromisoformat(published) if published else None


def state(ha: Http, entity_id: str) -> dict[str, Any] | None:
    """An entity's state object, None when it does not exist."""
    try:
        found: dict[str, Any] = ha.get(f"/api/states/{entity_id}")
    except DemoSetupError as err:
        if "HTTP 404" in str(err):
            return None
        raise
    return found


def pin_http_config(config_dir: Path, port: int, host: str = "127.0.0.1") -> None:
    """Make Home Assistant serve on `host:port` only, from its first start on.

    Since 2026.10 Home Assistant keeps its HTTP settings in storage. A YAML `http:` section is
    migrated once, as a trial that reverts (and restarts Home Assistant on all interfaces)
    unless a user confirms it in the UI within five minutes. A development instance must not
    do that, so its confirmed ("stable") settings are written before Home Assistant starts.
    Run only while that Home Assistant is stopped.
    """
    from homeassistant.components.http.config import (
        HTTP_STORAGE_SCHEMA,
        STORAGE_KEY,
        STORAGE_MINOR_VERSION,
        STORAGE_VERSION,
    )

    path = config_dir / ".storage" / STORAGE_KEY
    wanted = HTTP_STORAGE_SCHEMA({"server_host": [host], "server_port": port})
    try:
        stored = json.loads(path.read_text())
        stable = dict(stored["data"]["stable"])
    except OSError, ValueError, KeyError, TypeError:
        stored, stable = None, {}
    meta = {"created_at", "error", "error_message"}
    if (
        stored is not None
        and stored["data"].get("pending") is None
        and {k: v for k, v in stable.items() if k not in meta} == wanted
    ):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "version": STORAGE_VERSION,
                "minor_version": STORAGE_MINOR_VERSION,
                "key": STORAGE_KEY,
                "data": {
                    "stable": {
                        **wanted,
                        "created_at": datetime.now(UTC).isoformat(),
                        "error": None,
                        "error_message": None,
                    },
                    "pending": None,
                    "yaml_migration_done": True,
                },
            },
            indent=2,
        )
    )
    path.chmod(0o600)


def main() -> None:
    """Command line entry point for scripts/develop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ha", default="http://127.0.0.1:8123")
    parser.add_argument("--oasis", default="http://127.0.0.1:8124")
    parser.add_argument("--tesla", default="http://127.0.0.1:8125")
    parser.add_argument(
        "--spike-lead",
        type=float,
        default=45.0,
        help="seconds from set-up to the spike's publication (at least; it lands on a boundary)",
    )
    parser.add_argument(
        "--pin-http",
        type=Path,
        metavar="CONFIG_DIR",
        help="only write the HTTP settings of --ha into this (stopped) config folder",
    )
    args = parser.parse_args()
    if args.pin_http is not None:
        url = urlsplit(args.ha)
        pin_http_config(args.pin_http, url.port or 8123, url.hostname or "127.0.0.1")
        return
    started = time.monotonic()
    ha = Http(args.ha)
    try:
        wait_for_home_assistant(ha)
        token = onboard(ha)
        authed = Http(args.ha, token)
        wait_until(
            "Home Assistant to finish starting",
            lambda: authed.get("/api/config").get("state") == "RUNNING",
            180.0,
        )
        ensure_entries(authed, args.tesla)
        remove_online_entries(authed)
        published = schedule_spike(args.oasis, args.spike_lead)
    except DemoSetupError as err:
        print(f"demo set-up failed: {err}", file=sys.stderr)
        sys.exit(1)
    when = _clock(published)
    grid = Http(args.oasis).get("/demo/status")
    alert, dirty = grid.get("next_alert"), grid.get("next_dirty")
    print(
        "\n"
        f"  tesladr demo ready in {time.monotonic() - started:.0f} s: open {args.ha}\n"
        f"  log in as {USERNAME} / {PASSWORD}, then the 'tesladr demo' dashboard.\n"
        f"  Price spike published at {when}; Home Assistant reads it about 15 s later,\n"
        "  pauses the Model 3 and the garage charger, and resumes both when the next\n"
        "  interval's price is low.\n"
        f"  Flex Alert from {_clock(alert)} for 10 minutes, dirty grid (820 g CO2/kWh)\n"
        f"  from {_clock(dirty)} for 10 minutes; both pause the cars and repeat hourly.\n"
        "  Ctrl-C stops Home Assistant and the fakes.\n",
        flush=True,
    )


def _clock(moment: datetime | str | None) -> str:
    """A moment as the demo's owner reads it, Pacific."""
    if moment is None:
        return "never"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(PACIFIC).strftime("%H:%M:%S %Z")


if __name__ == "__main__":
    main()
