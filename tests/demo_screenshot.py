"""Screenshot the demo dashboard with headless Chromium (run by scripts/screenshot).

Logs in as the demo owner the way the frontend itself finishes a login: it opens the dashboard
with `auth_callback=1` and an authorization code from Home Assistant's login flow, which the
frontend exchanges for tokens. Chromium is driven over the DevTools protocol on loopback, so
the picture is taken only once the dashboard has rendered.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections.abc import Iterator
import contextlib
import itertools
import json
import os
from pathlib import Path
import re
import shutil
import subprocess
import tempfile
import time
from typing import Any

import aiohttp

from tests.demo_setup import Http, auth_code, login, state, wait_until

DEMO_TIME_ZONE = "America/Los_Angeles"

# True once the dashboard's cards are on the page (the frontend nests them in shadow roots).
RENDERED_JS = """
(() => {
  const deep = (root, name) => {
    const found = root.querySelector(name);
    if (found) return found;
    for (const el of root.querySelectorAll("*")) {
      if (el.shadowRoot) {
        const inner = deep(el.shadowRoot, name);
        if (inner) return inner;
      }
    }
    return null;
  };
  return Boolean(deep(document, "hui-history-graph-card"))
    && Boolean(deep(document, "hui-entities-card"));
})()
"""


# Opens the notifications drawer as the sidebar's bell does (home-assistant-main listens).
SHOW_NOTIFICATIONS_JS = """
(() => {
  const main = document.querySelector("home-assistant")
    ?.shadowRoot?.querySelector("home-assistant-main");
  if (!main) return false;
  main.dispatchEvent(
    new CustomEvent("hass-show-notifications", {bubbles: true, composed: true})
  );
  return true;
})()
"""


class Cdp:
    """A minimal DevTools protocol client for one page."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Wrap a connected page socket."""
        self._ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command; return its result (events in between are skipped)."""
        call_id = next(self._ids)
        await self._ws.send_json({"id": call_id, "method": method, "params": params})
        async for message in self._ws:
            data = json.loads(message.data)
            if data.get("id") == call_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                result: dict[str, Any] = data.get("result", {})
                return result
        raise RuntimeError("Chromium closed the DevTools connection")

    async def evaluate(self, expression: str) -> Any:
        """Evaluate JavaScript in the page; return its value."""
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True
        )
        return result.get("result", {}).get("value")


@contextlib.contextmanager
def chromium(width: int, height: int) -> Iterator[str]:
    """Start headless Chromium; yield its DevTools HTTP address."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        raise SystemExit("chromium not found; scripts/screenshot installs it")
    with tempfile.TemporaryDirectory(prefix="tesladr-chromium-") as profile:
        process = subprocess.Popen(  # noqa: S603 - the system's chromium, fixed arguments
            [
                binary,
                "--headless=new",
                # Chromium refuses to run as root with its sandbox; this browser only ever
                # opens the local demo.
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                # Only the demo on loopback: no update checks, sync or other background traffic.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-default-browser-check",
                "--no-pings",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "--force-device-scale-factor=1",
                "about:blank",
            ],
            # The frontend shows times in the browser's zone: the demo's home is California
            # (config/configuration.yaml), as the times in its notifications are.
            env={**os.environ, "TZ": DEMO_TIME_ZONE},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stderr is not None
            deadline = time.monotonic() + 60
            address = None
            while address is None and time.monotonic() < deadline:
                line = process.stderr.readline()
                if not line and process.poll() is not None:
                    break
                if match := re.search(r"ws://(127\.0\.0\.1:\d+)/", line):
                    address = match.group(1)
            if address is None:
                raise SystemExit("chromium did not start its DevTools endpoint")
            yield f"http://{address}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def login_url(ha_url: str, path: str) -> str:
    """A dashboard URL that logs the demo owner in, as the end of the frontend's login does."""
    base = ha_url.rstrip("/")
    oauth_state = base64.b64encode(
        json.dumps({"hassUrl": base, "clientId": base + "/"}).encode()
    ).decode()
    code = auth_code(Http(ha_url))
    return f"{base}{path}?auth_callback=1&code={code}&state={oauth_state}"


async def screenshot(
    devtools: str,
    url: str,
    width: int,
    height: int,
    settle: float,
    notifications: bool = False,
) -> bytes:
    """Open `url`, wait for the dashboard to render and settle; return a PNG.

    With `notifications`, the notifications drawer is opened over the dashboard first.
    """
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{devtools}/json/list") as response:
            pages = [t for t in await response.json() if t["type"] == "page"]
        async with session.ws_connect(
            pages[0]["webSocketDebuggerUrl"], max_msg_size=0
        ) as ws:
            cdp = Cdp(ws)
            await cdp.call(
                "Emulation.setDeviceMetricsOverride",
                width=width,
                height=height,
                deviceScaleFactor=1,
                mobile=False,
            )
            await cdp.call("Page.navigate", url=url)
            deadline = time.monotonic() + 60
            while not await cdp.evaluate(RENDERED_JS):
                if time.monotonic() > deadline:
                    raise SystemExit("the dashboard did not render within 60 s")
                await asyncio.sleep(1)
            # History graphs load their data after the cards appear.
            await asyncio.sleep(settle)
            if notifications:
                if not await cdp.evaluate(SHOW_NOTIFICATIONS_JS):
                    raise SystemExit("the notifications drawer could not be opened")
                await asyncio.sleep(3)
            shot = await cdp.call("Page.captureScreenshot", format="png")
    return base64.b64decode(shot["data"])


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ha", default="http://127.0.0.1:8123")
    parser.add_argument("--path", default="/tesladr-demo/demo")
    parser.add_argument("--output", type=Path, default=Path("docs/demo-dashboard.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1650)
    parser.add_argument("--settle", type=float, default=8.0)
    parser.add_argument(
        "--wait-for",
        metavar="ENTITY=STATE",
        help="first wait (up to --timeout s) until an entity has a state",
    )
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument(
        "--notifications-output",
        type=Path,
        help="also shoot the dashboard with the notifications drawer open, into this file",
    )
    args = parser.parse_args()
    if args.wait_for:
        entity_id, _, wanted = args.wait_for.partition("=")
        ha = Http(args.ha, login(Http(args.ha))["access_token"])

        def reached() -> bool:
            found = state(ha, entity_id)
            return found is not None and found["state"] == wanted

        print(f"waiting for {entity_id} to be {wanted}", flush=True)
        wait_until(f"{entity_id} = {wanted}", reached, args.timeout, interval=5.0)
    with chromium(args.width, args.height) as devtools:
        png = asyncio.run(
            screenshot(
                devtools,
                login_url(args.ha, args.path),
                args.width,
                args.height,
                args.settle,
            )
        )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(png)
    print(f"wrote {args.output}", flush=True)
    if args.notifications_output:
        with chromium(args.width, args.height) as devtools:
            png = asyncio.run(
                screenshot(
                    devtools,
                    login_url(args.ha, args.path),
                    args.width,
                    args.height,
                    args.settle,
                    notifications=True,
                )
            )
        args.notifications_output.write_bytes(png)
        print(f"wrote {args.notifications_output}", flush=True)


if __name__ == "__main__":
    main()
