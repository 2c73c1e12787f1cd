"""Whether a California grid signal asks for a pause: Flex Alert, or the marginal emissions.

Pure like the price policy: the caller reads the signals (the MIDAS feed) and passes plain
values. Not wired into the DR loop yet; docs/midas.md says how it is meant to be. Every rule is
off by default, so a car pauses on the wholesale price alone until its owner turns one on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
import math


class Signal(StrEnum):
    """Which signal asks for the pause; recorded with it, as the price rule's reason is."""

    FLEX_ALERT = "flex_alert"
    EMISSIONS_ABOVE_LEVEL = "emissions_above_level"
    EMISSIONS_DIRTIEST_SHARE = "emissions_dirtiest_share"


@dataclass(frozen=True, slots=True)
class SignalSettings:
    """A car's grid-signal rules; None or False turns a rule off (the default)."""

    pause_on_flex_alert: bool = False
    # Pause while the current interval's marginal emissions exceed this, g CO2/kWh.
    moer_level: float | None = None
    # Pause in the dirtiest share (0-1] of the day's 5-minute intervals.
    dirtiest_share: float | None = None

    def __post_init__(self) -> None:
        """Refuse settings no rule can use."""
        if self.moer_level is not None and not (
            math.isfinite(self.moer_level) and self.moer_level >= 0
        ):
            raise ValueError(f"moer_level must be >= 0 g/kWh, not {self.moer_level}")
        if self.dirtiest_share is not None and not 0 < self.dirtiest_share <= 1:
            raise ValueError(
                f"dirtiest_share must be in (0, 1], not {self.dirtiest_share}"
            )


@dataclass(frozen=True, slots=True)
class GridReading:
    """The signals now; None where unknown or stale, which never pauses a car."""

    flex_alert_active: bool | None = None
    moer: float | None = None
    # The day's intervals (observed and forecast), for the dirtiest-share rule.
    day_moer: Sequence[float] = ()


def dirtiest_cutoff(day_moer: Sequence[float], share: float) -> float | None:
    """The emissions rate at and above which an interval is in the day's dirtiest `share`.

    The `ceil(share * n)` highest intervals are in; intervals tied with the last of them are in
    too, so a flat day is all in or all out rather than split at random. None without data.
    """
    values = sorted((v for v in day_moer if math.isfinite(v)), reverse=True)
    if not values:
        return None
    return values[max(1, math.ceil(share * len(values))) - 1]


def signal_pause(settings: SignalSettings, reading: GridReading) -> Signal | None:
    """The signal that asks for a pause now, or None.

    The Flex Alert comes first (the state's emergency call), then the fixed level, then the
    day's dirtiest share. Unknown or stale signals ask nothing: a car charges when in doubt, as
    it does when prices are stale.
    """
    if settings.pause_on_flex_alert and reading.flex_alert_active is True:
        return Signal.FLEX_ALERT
    moer = reading.moer
    if moer is None or not math.isfinite(moer):
        return None
    if settings.moer_level is not None and moer > settings.moer_level:
        return Signal.EMISSIONS_ABOVE_LEVEL
    if settings.dirtiest_share is not None:
        cutoff = dirtiest_cutoff(reading.day_moer, settings.dirtiest_share)
        if cutoff is not None and moer >= cutoff:
            return Signal.EMISSIONS_DIRTIEST_SHARE
    return None
