"""Async client for the California Energy Commission's MIDAS v2: rates, emissions, Flex Alert.

Pure library code: no Home Assistant imports, so it could be published on its own.
"""

from .client import DEFAULT_BASE_URL, MidasClient
from .errors import (
    MidasConnectionError,
    MidasError,
    MidasNotFoundError,
    MidasRequestError,
    MidasResponseError,
    MidasRetiredRinError,
    MidasThrottledError,
    MidasUnavailableError,
    MidasV1ResponseError,
)
from .models import QueryType, RateListing, RateValues, SignalType, ValueInterval
from .parse import MOER_UNIT, parse_rate_list, parse_values
from .rins import (
    FLEX_ALERT_RIN,
    MOER_REGIONS,
    UTILITY_MOER_REGION,
    default_moer_region,
    moer_rin,
    normalize_rin,
    replacement_rin,
    search_rates,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "FLEX_ALERT_RIN",
    "MOER_REGIONS",
    "MOER_UNIT",
    "UTILITY_MOER_REGION",
    "MidasClient",
    "MidasConnectionError",
    "MidasError",
    "MidasNotFoundError",
    "MidasRequestError",
    "MidasResponseError",
    "MidasRetiredRinError",
    "MidasThrottledError",
    "MidasUnavailableError",
    "MidasV1ResponseError",
    "QueryType",
    "RateListing",
    "RateValues",
    "SignalType",
    "ValueInterval",
    "default_moer_region",
    "moer_rin",
    "normalize_rin",
    "parse_rate_list",
    "parse_values",
    "replacement_rin",
    "search_rates",
]
