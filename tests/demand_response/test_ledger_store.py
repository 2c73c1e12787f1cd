"""The DR store loads the ledger the version before net CO2 and retail saved."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest

from custom_components.tesladr.dr import Cause
from custom_components.tesladr.dr_store import STORAGE_VERSION, DrStore, storage_key

ENTRY_ID = "01JTESLADRSTORE000000000"


def _event(number: int, start: str, end: str, **fields: Any) -> dict[str, Any]:
    """An event as the previous version wrote it: flat CO2 and retail fields."""
    return {
        "event_id": f"20260701-{number}",
        "vin": "car",
        "node": "TH_NP15_GEN-APND",
        "started": start,
        "power_kw": 6.0,
        "energy_needed_kwh": None,
        "ended": end,
        "outcome": "resumed",
        "kwh": 0.5,
        "utility": None,
        "dlap": None,
        "seen_paused_at": None,
        "seen_paused_energy_kwh": None,
        "drawn_kwh": 0.0,
        "drawn_usd": 0.0,
        "drawn_through": None,
        "co2_kwh": 0.5,
        "retail_kwh": 0.5,
        "drawn_kg_co2": 0.0,
        "drawn_retail_usd": 0.0,
    } | fields


# Written by the previous version's Ledger.as_dict (moer, kg_co2, retail, retail_usd flat;
# archived totals without CO2), for a 6 kW car paused twice for 5 minutes.
OLD_LEDGER = {
    "version": 1,
    "events": [
        _event(
            1,
            "2026-07-01T01:00:00+00:00",
            "2026-07-01T01:05:00+00:00",
            usd=0.1,
            prices={"2026-07-01T01:00:00+00:00": 200.0},
            drawn_kwh=0.2,
            drawn_usd=0.008,
            drawn_through="2026-07-01T01:15:00+00:00",
            cause="emissions",
            moer={"2026-07-01T01:00:00+00:00": 500.0},
            kg_co2=0.25,
            retail={"2026-07-01T01:00:00+00:00": 0.5},
            retail_usd=0.25,
        ),
        _event(
            2,
            "2026-07-01T01:30:00+00:00",
            "2026-07-01T01:35:00+00:00",
            usd=0.15,
            prices={"2026-07-01T01:30:00+00:00": 300.0},
            cause="flex_alert",
            moer={"2026-07-01T01:30:00+00:00": 400.0},
            kg_co2=0.2,
            retail={"2026-07-01T01:30:00+00:00": 0.4},
            retail_usd=0.2,
        ),
    ],
    "skips": {},
    "archived": {"car": [3.0, 0.9]},
    "archived_drawn_usd": {"car": 0.1},
    "next_id": 3,
}


async def test_the_previous_versions_ledger_loads(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    """Gross figures as stored; net known where nothing was drawn back, else unknown."""
    hass_storage[storage_key(ENTRY_ID)] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": storage_key(ENTRY_ID),
        "data": {"cars": {}, "ledger": OLD_LEDGER},
    }
    store = DrStore(hass, ENTRY_ID)
    _cars, ledger, _in_flight = await store.async_load()
    drawn, kept = ledger.events
    assert (drawn.cause, kept.cause) == (Cause.EMISSIONS, Cause.FLEX_ALERT)
    assert drawn.kg_co2 == pytest.approx(0.25)
    assert drawn.retail_usd == pytest.approx(0.25)
    # Drawn back before draws were kept per interval: at rates nobody recorded.
    assert drawn.unattributed_kwh == pytest.approx(0.2)
    assert (drawn.net_kg_co2, drawn.net_retail_usd) == (None, None)
    assert drawn.net_usd == pytest.approx(0.092)
    # Never drawn back: net is gross.
    assert kept.net_kg_co2 == pytest.approx(0.2)
    assert kept.net_retail_usd == pytest.approx(0.2)
    co2 = ledger.co2_totals("car")
    assert (co2.gross, co2.net, co2.net_unknown) == (
        pytest.approx(0.45),
        pytest.approx(0.2),
        1,
    )
    assert ledger.totals("car") == (pytest.approx(4.0), pytest.approx(1.15))
    assert ledger.net_usd("car") == pytest.approx(1.15 - 0.1 - 0.008)
    # Saved again in this version's shape, it reads back the same.
    await store.async_save({}, ledger, _in_flight)
    again, reloaded, _ = await DrStore(hass, ENTRY_ID).async_load()
    assert again == {}
    assert reloaded.events == ledger.events
    assert reloaded.co2_totals("car") == co2
