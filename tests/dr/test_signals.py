"""The pure grid-signal rule: which signal asks for a pause, and when none does."""

from __future__ import annotations

import math

import pytest

from custom_components.tesladr.dr.signals import (
    GridReading,
    Signal,
    SignalSettings,
    dirtiest_cutoff,
    signal_pause,
)

ALL_ON = SignalSettings(pause_on_flex_alert=True, moer_level=600.0, dirtiest_share=0.1)
# A day of 288 intervals: 200 g/kWh, the evening's 12 intervals dirtier, one 820.
DAY = [200.0] * 270 + [500.0 + i for i in range(17)] + [820.0]


def test_defaults_never_pause() -> None:
    """Off by default: an alert and a dirty grid alone ask nothing."""
    reading = GridReading(flex_alert_active=True, moer=900.0, day_moer=DAY)
    assert signal_pause(SignalSettings(), reading) is None


def test_flex_alert_comes_first() -> None:
    reading = GridReading(flex_alert_active=True, moer=900.0, day_moer=DAY)
    assert signal_pause(ALL_ON, reading) is Signal.FLEX_ALERT
    no_alert = GridReading(flex_alert_active=False, moer=900.0, day_moer=DAY)
    assert signal_pause(ALL_ON, no_alert) is Signal.EMISSIONS_ABOVE_LEVEL


def test_level_is_strictly_above() -> None:
    settings = SignalSettings(moer_level=600.0)
    assert signal_pause(settings, GridReading(moer=600.0)) is None
    assert signal_pause(settings, GridReading(moer=600.1)) is (
        Signal.EMISSIONS_ABOVE_LEVEL
    )


@pytest.mark.parametrize(
    ("moer", "expected"),
    [
        (820.0, Signal.EMISSIONS_DIRTIEST_SHARE),
        (516.0, Signal.EMISSIONS_DIRTIEST_SHARE),
        (200.0, None),
    ],
)
def test_dirtiest_share(moer: float, expected: Signal | None) -> None:
    """5 % of 288 intervals is the 15 dirtiest: 820, then the evening's down to 503."""
    settings = SignalSettings(dirtiest_share=0.05)
    assert dirtiest_cutoff(DAY, 0.05) == 503.0
    assert signal_pause(settings, GridReading(moer=moer, day_moer=DAY)) is expected


def test_ties_at_the_cutoff_are_all_in() -> None:
    """A flat day: every interval is the dirtiest, none is singled out at random.

    10 % of DAY is 29 intervals: its 18 dirty ones and 11 of the 270 tied at 200, so all 288.
    """
    assert dirtiest_cutoff([300.0] * 288, 0.1) == 300.0
    assert dirtiest_cutoff(DAY, 0.1) == 200.0
    assert dirtiest_cutoff([], 0.1) is None
    assert dirtiest_cutoff([math.nan, 400.0], 0.01) == 400.0


@pytest.mark.parametrize(
    "reading",
    [
        GridReading(),
        GridReading(flex_alert_active=None, moer=None, day_moer=DAY),
        GridReading(moer=math.nan, day_moer=DAY),
    ],
)
def test_unknown_signals_ask_nothing(reading: GridReading) -> None:
    assert signal_pause(ALL_ON, reading) is None


def test_share_without_a_day_asks_nothing() -> None:
    settings = SignalSettings(dirtiest_share=0.2)
    assert signal_pause(settings, GridReading(moer=900.0)) is None


@pytest.mark.parametrize(
    "settings",
    [
        {"moer_level": -1.0},
        {"moer_level": math.inf},
        {"dirtiest_share": 0.0},
        {"dirtiest_share": 1.5},
    ],
)
def test_unusable_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        SignalSettings(**settings)  # type: ignore[arg-type]
