"""Run Home Assistant with tesladr's OASIS and MIDAS clients pointed at the demo's fakes.

    python -m tests.demo_hass --oasis URL [--midas URL] [hass arguments]

The fake MIDAS is served beside the fake OASIS (tests/demo_servers.py), so `--midas` defaults
to the OASIS URL's origin: no demo run reaches the real MIDAS.

tesladr takes no YAML settings, so the offline demo (`./scripts/develop`, tests/test_demo.py)
reaches its fake OASIS the way the tests do (tests/fake_oasis.py: `point_tesladr_at`). It is
imported here from the working tree, before Home Assistant starts: Home Assistant imports
`custom_components` and the integration through Python's import system, which hands back these
already imported modules, so the integration it loads is the one pointed at the fake.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

# Home Assistant first, as `hass` imports it before any integration.
import homeassistant.__main__ as hass_main

from tests.fake_midas import point_midas_at
from tests.fake_oasis import point_tesladr_at


def main() -> int:
    """Start Home Assistant (its own arguments follow ours) until it stops."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oasis", required=True, help="the fake OASIS's SingleZip URL")
    parser.add_argument("--midas", help="the fake MIDAS's base URL")
    args, hass_args = parser.parse_known_args()
    sys.argv = ["hass", *hass_args]
    oasis = urlsplit(args.oasis)
    midas = args.midas or f"{oasis.scheme}://{oasis.netloc}"
    with point_tesladr_at(args.oasis), point_midas_at(midas):
        return hass_main.main()


if __name__ == "__main__":
    sys.exit(main())
