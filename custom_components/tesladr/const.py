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
DEFAULT_THRESHOLD: Final = 100.0
ENTRY_TYPE_ACCOUNT: Final = "account"

CONF_AUTH_DOMAIN: Final = "auth_domain"
CONF_API_PROXY_URL: Final = "api_proxy_url"
CONF_API_PROXY_CERT: Final = "api_proxy_cert"
CONF_CLIENT_ID: Final = "client_id"
CONF_REFRESH_TOKEN: Final = "refresh_token"  # noqa: S105 - a key, not a secret
CONF_ACCESS_TOKEN: Final = "access_token"  # noqa: S105 - a key, not a secret
CONF_EXPIRATION: Final = "expiration"
CONF_ADVANCED: Final = "advanced"
DEFAULT_AUTH_DOMAIN: Final = "https://auth.tesla.com"
DEFAULT_CLIENT_ID: Final = "ownerapi"
ISSUE_FLEET_REQUIRED: Final = "fleet_api_required"
ISSUE_LEFT_PAUSED: Final = "left_paused"
# Entries before 1.3 could hold a polling interval option; async_migrate_entry drops it
# (Home Assistant does not let users configure polling intervals).
CONF_SCAN_MINUTES: Final = "scan_interval_minutes"
ENTRY_MINOR_VERSION: Final = 3
CONF_VEHICLES: Final = "vehicles"
CONF_POLLING_POLICY: Final = "polling_policy"
# demand: cars are read only as closely as demand response needs (vehicle_coordinator);
# the fresh-dashboard policies poll every 5 minutes: normal leaves idle cars to sleep; connected reads plugged-in cars at every poll; always reads every online car at
# every poll (keeps cars awake, costs the most).
POLLING_ON_DEMAND: Final = "demand"
POLLING_POLICIES: Final = [POLLING_ON_DEMAND, "normal", "connected", "always"]
DEFAULT_POLLING_POLICY: Final = POLLING_ON_DEMAND
# Where DR's notifications go (notify_dr): a notify entity or a notify service; none if unset.
CONF_NOTIFY_TARGET: Final = "notify_target"

# A car that another integration provides (or any charger switch), driven through its entities.
ENTRY_TYPE_LINKED: Final = "linked"
CONF_SOURCE: Final = "source"
CONF_DEVICE_ID: Final = "device_id"
CONF_ENTITIES: Final = "entities"

# California grid signals from CEC MIDAS, options of the prices entry (grid_signals.py).
CONF_FLEX_ALERT: Final = "flex_alert"
CONF_MOER_REGION: Final = "moer_region"
CONF_RIN: Final = "rin"
CONF_RIN_SEARCH: Final = "rin_search"
MOER_OFF: Final = "off"
