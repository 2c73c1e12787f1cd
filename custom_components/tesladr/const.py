"""Constants for the tesladr integration."""

from __future__ import annotations

import logging
from typing import Final

DOMAIN: Final = "tesladr"
LOGGER: Final = logging.getLogger(__package__)

CONF_ENTRY_TYPE: Final = "entry_type"
ENTRY_TYPE_PRICES: Final = "prices"

CONF_NODES: Final = "nodes"
CONF_THRESHOLD: Final = "threshold"
CONF_OASIS_URL: Final = "oasis_url"
DEFAULT_THRESHOLD: Final = 100.0
