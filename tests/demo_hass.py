"""Run Home Assistant with tesladr's OASIS client pointed at the demo's fake OASIS.

    python -m tests.demo_hass --oasis URL [hass arguments]

tesladr takes no YAML settings, so the offline demo (`./scripts/develop`, tests/test_demo.py)
reaches its fake OASIS the way the tests do (tests/fake_oasis.py: `point_tesladr_at`). It is
imported here from the working tree, before Home Assistant starts: Home Assistant imports
`custom_components` and the integration through Python's import system, which hands back these
already imported modules, so the integration it loads is the one pointed at the fake.
"""

from __future__ import annotations

import argparse
import sys

# Home Assistant first, as `hass` imports it before any integration.
import homeassistant.__main__ as hass_main

from tests.fake_oasis import point_tesladr_at


def main() -> int:
    """Start Home Assistant (its own arguments follow ours) until it stops."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--oasis", required=True, help="the fake OASIS's SingleZip URL")
    args, hass_args = parser.parse_known_args()
    sys.argv = ["hass", *hass_args]
    with point_tesladr_at(args.oasis):
        return hass_main.main()


if __name__ == "__main__":
    sys.exit(main())
