"""The prices entry's California grid signals: what it asks of the shared MIDAS feed.

The entry's options choose the signals (Flex Alert, a MOER region, the owner's RIN); an entry
that chooses none takes no share, so MIDAS is asked nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util import dt as dt_util

from . import midas_coordinator
from .caiso.nodes import utility_at
from .const import CONF_FLEX_ALERT, CONF_MOER_REGION, CONF_RIN, DOMAIN, MOER_OFF
from .midas import (
    MOER_REGIONS,
    MidasClient,
    MidasError,
    MidasNotFoundError,
    MidasRequestError,
    MidasRetiredRinError,
    RateListing,
    RateValues,
    default_moer_region,
    normalize_rin,
    parse_rate_list,
)
from .midas_coordinator import (
    MidasCoordinator,
    MidasNeeds,
    async_acquire_midas,
    async_release_midas,
)

GRID_DEVICE = (DOMAIN, "grid_signals")


@dataclass(frozen=True, slots=True)
class GridSignals:
    """The signals the prices entry's options choose."""

    flex_alert: bool = False
    moer_region: str | None = None
    rin: str | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> GridSignals:
        """Entries made before the signals existed choose none."""
        region = options.get(CONF_MOER_REGION)
        return cls(
            flex_alert=bool(options.get(CONF_FLEX_ALERT, False)),
            moer_region=region if region in MOER_REGIONS else None,
            rin=options.get(CONF_RIN) or None,
        )

    @property
    def chosen(self) -> bool:
        """Whether any signal is chosen."""
        return self.flex_alert or self.moer_region is not None or self.rin is not None

    @property
    def needs(self) -> MidasNeeds:
        """What to ask of the MIDAS feed."""
        return MidasNeeds(
            flex_alert=self.flex_alert,
            moer_regions=frozenset({self.moer_region} if self.moer_region else ()),
            rate_rins=frozenset({self.rin} if self.rin else ()),
        )


def day_moer(moer: RateValues, now: datetime) -> tuple[float, ...]:
    """The emissions of today's intervals (observed and forecast), by the home's clock."""
    today = dt_util.as_local(now).date()
    return tuple(
        i.value for i in moer.intervals if dt_util.as_local(i.start).date() == today
    )


def default_region(hass: HomeAssistant) -> str:
    """The MOER region of the home's utility, or off where the owner must pick one."""
    utility = utility_at(hass.config.latitude, hass.config.longitude)
    return default_moer_region(utility.name if utility else None) or MOER_OFF


def midas_client(hass: HomeAssistant) -> MidasClient:
    """A client on Home Assistant's session, at the address the feed uses."""
    return MidasClient(
        async_get_clientsession(hass), base_url=midas_coordinator.MIDAS_URL
    )


async def async_check_rin(
    hass: HomeAssistant, text: str
) -> tuple[str | None, dict[str, str], dict[str, str]]:
    """Read the owner's RIN once: the RIN as MIDAS spells it, form errors, placeholders."""
    if (rin := normalize_rin(text)) is None:
        return None, {CONF_RIN: "invalid_rin"}, {}
    try:
        await midas_client(hass).values(rin)
    except MidasRetiredRinError as err:
        return rin, {CONF_RIN: "retired_rin"}, {"replacement": err.replacement or "-"}
    except MidasNotFoundError, MidasRequestError:
        return rin, {CONF_RIN: "invalid_rin"}, {}
    except MidasError:
        return rin, {"base": "cannot_connect"}, {}
    return rin, {}, {}


async def async_rate_list(hass: HomeAssistant) -> list[RateListing]:
    """Every retail rate MIDAS lists; the answer is megabytes, so it is parsed off the loop."""
    body = await midas_client(hass).rate_list_body()
    return await hass.async_add_executor_job(parse_rate_list, body)


async def async_setup_grid_signals(
    hass: HomeAssistant, entry: ConfigEntry
) -> MidasCoordinator | None:
    """Take the entry's share of the MIDAS feed, if it chooses any signal."""
    signals = GridSignals.from_options(entry.options)
    if not signals.chosen:
        return None
    return await async_acquire_midas(hass, entry.entry_id, signals.needs)


@callback
def async_unload_grid_signals(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Give back the entry's share (nothing when it took none)."""
    async_release_midas(hass, entry.entry_id)
