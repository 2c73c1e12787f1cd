"""DR's read-only view of the California grid signals the prices entry's MIDAS feed holds.

An account entry never writes into the prices entry: it looks up the loaded prices entry's
runtime data and reads what the shared MIDAS coordinator last fetched. Signals the prices
options do not choose, or whose values are stale, read as unknown, and unknown never pauses a
car (dr/signals.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN
from .dr import DrSettings, Ledger
from .dr.ledger import INTERVAL
from .dr.signals import GridReading, Signal, signal_pause
from .grid_signals import GridSignals, day_moer
from .midas import FLEX_ALERT_RIN, moer_rin
from .midas_coordinator import MidasData

# MIDAS spells its energy rates' unit this way.
RATE_UNIT = "$/kWh"
# Events ended (or energy drawn back) this long ago still take in late emissions and retail
# intervals; a draw-back interval MIDAS has no rate for by then stays unknown.
ACCOUNT_TAIL = timedelta(hours=1)


@callback
def grid_feed(hass: HomeAssistant) -> tuple[GridSignals, MidasData] | None:
    """The signals a loaded prices entry chooses and the MIDAS feed's data, if any."""
    # models imports the car entries' modules, which import DR and so this one.
    from .models import prices_runtime

    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        runtime = prices_runtime(entry)
        if runtime is not None and runtime.midas is not None:
            return runtime.signals, runtime.midas.data
    return None


def grid_reading(signals: GridSignals, data: MidasData, now: datetime) -> GridReading:
    """The signals now, as the pure rule reads them."""
    alert: bool | None = None
    if (
        signals.flex_alert
        and data.is_fresh(FLEX_ALERT_RIN, now)
        and (values := data.flex_alert) is not None
        and (hour := values.at(now)) is not None
    ):
        alert = hour.value == 1
    region = signals.moer_region
    if region is None or not data.is_fresh(moer_rin(region), now):
        return GridReading(flex_alert_active=alert)
    if (moer := data.moer(region)) is None:
        return GridReading(flex_alert_active=alert)
    current = moer.at(now)
    return GridReading(
        flex_alert_active=alert,
        moer=None if current is None else current.value,
        day_moer=day_moer(moer, now),
    )


@callback
def car_signal(
    hass: HomeAssistant, settings: DrSettings, now: datetime
) -> Signal | None:
    """The grid signal asking this car for a pause now, by its owner's settings."""
    rules = settings.signal_settings
    if rules == type(rules)() or (feed := grid_feed(hass)) is None:
        return None
    return signal_pause(rules, grid_reading(*feed, now))


@callback
def account_grid(hass: HomeAssistant, ledger: Ledger, now: datetime) -> bool:
    """Add the emissions and retail intervals of recent events; return whether any changed."""
    if (feed := grid_feed(hass)) is None:
        return False
    return account_rates(ledger, *feed, now)


def account_rates(
    ledger: Ledger, signals: GridSignals, data: MidasData, now: datetime
) -> bool:
    """Add the emissions and retail intervals of the feed to recent events.

    Both sides: the intervals paused, and the intervals the energy was drawn back in.
    """
    region, rin = signals.moer_region, signals.rin
    moer = data.moer(region) if region is not None else None
    retail = data.values.get(rin) if rin is not None else None
    changed = False
    for event, pending in ledger.pending_draws(now, ACCOUNT_TAIL):
        for start in pending:
            moer_then = moer.at(start) if moer is not None else None
            retail_then = retail.at(start, RATE_UNIT) if retail is not None else None
            changed = (
                event.draw_rates(
                    start,
                    moer=None if moer_then is None else moer_then.value,
                    retail=None if retail_then is None else retail_then.value,
                )
                or changed
            )
    for event in ledger.events:
        if event.ended is not None and now - event.ended > ACCOUNT_TAIL:
            continue
        before = (event.kg_co2, event.retail_usd)
        end = event.ended or now
        if moer is not None:
            for interval in moer.intervals:
                if interval.start < end and interval.end > event.started:
                    event.account_moer(interval.start, interval.end, interval.value)
        if retail is not None:
            # The tariff's periods are hours or more: account them by 5-minute slots.
            slot = event.started - timedelta(
                seconds=event.started.timestamp() % INTERVAL.total_seconds()
            )
            while slot < end:
                if (period := retail.at(slot, RATE_UNIT)) is not None:
                    event.account_retail(slot, slot + INTERVAL, period.value)
                slot += INTERVAL
        changed = changed or before != (event.kg_co2, event.retail_usd)
    return changed
