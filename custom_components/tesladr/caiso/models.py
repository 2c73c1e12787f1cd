"""Data types shared by the OASIS client and its users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# The real-time market's interval: prices, the request budget and the schedule are per interval.
INTERVAL = timedelta(minutes=5)


class Market(StrEnum):
    """OASIS price reports tesladr reads."""

    RTM = "RTM"  # 5-minute real-time dispatch
    RTPD = "RTPD"  # 15-minute real-time pre-dispatch
    DAM = "DAM"  # hourly day-ahead

    @property
    def query_name(self) -> str:
        """OASIS `queryname` of the report."""
        return _QUERY[self][0]

    @property
    def version(self) -> str:
        """OASIS report version."""
        return _QUERY[self][1]

    @property
    def price_column(self) -> str:
        """CSV column holding the price: each report names it differently."""
        return _QUERY[self][2]


_QUERY: dict[Market, tuple[str, str, str]] = {
    Market.RTM: ("PRC_INTVL_LMP", "3", "VALUE"),
    Market.RTPD: ("PRC_RTPD_LMP", "3", "PRC"),
    Market.DAM: ("PRC_LMP", "12", "MW"),
}


@dataclass(frozen=True, slots=True)
class PriceInterval:
    """The LMP of one node over one interval, in USD/MWh, with UTC-aware bounds."""

    node: str
    start: datetime
    end: datetime
    price: float
