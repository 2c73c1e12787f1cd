"""Async client for CAISO OASIS locational marginal prices.

Pure library code: no Home Assistant imports, so it could be published on its own.
"""

from .client import DEFAULT_BASE_URL, OasisClient
from .errors import (
    OasisBudgetError,
    OasisConnectionError,
    OasisError,
    OasisRequestError,
    OasisResponseError,
    OasisThrottledError,
)
from .models import INTERVAL, Market, PriceInterval
from .nodes import DEFAULT_NODE, MAX_DISTANCE_KM, NODES, PricingNode, nearest_node
from .pacing import PACER, RequestPacer
from .parse import parse_payload

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_NODE",
    "INTERVAL",
    "MAX_DISTANCE_KM",
    "NODES",
    "PACER",
    "Market",
    "OasisBudgetError",
    "OasisClient",
    "OasisConnectionError",
    "OasisError",
    "OasisRequestError",
    "OasisResponseError",
    "OasisThrottledError",
    "PriceInterval",
    "PricingNode",
    "RequestPacer",
    "nearest_node",
    "parse_payload",
]
