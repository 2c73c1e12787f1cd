"""Services of tesladr: skip a car's DR event, read a car's DR ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.util import dt as dt_util
import probatio

from .const import CONF_ENTRY_TYPE, DOMAIN, ENTRY_TYPE_PRICES
from .dr.ledger import KEEP_EVENTS
from .dr_coordinator import DrCoordinator
from .models import car_runtime

ATTR_DEVICE_ID = "device_id"
ATTR_START = "start"
ATTR_END = "end"
SERVICE_SKIP_EVENT = "skip_event"
SERVICE_GET_EVENTS = "get_events"
# CO2 and retail figures: None per event where unknown (no region or RIN, or a rate MIDAS
# never had), so a period's total is of the events that know theirs, as the sensors count.
RATE_TOTALS = ("kg_co2", "net_kg_co2", "retail_usd", "net_retail_usd")

SKIP_EVENT_SCHEMA = probatio.Schema({probatio.Required(ATTR_DEVICE_ID): cv.string})
GET_EVENTS_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_DEVICE_ID): cv.string,
        probatio.Optional(ATTR_START): cv.datetime,
        probatio.Optional(ATTR_END): cv.datetime,
    }
)


def _car(hass: HomeAssistant, device_id: str) -> tuple[DrCoordinator, str]:
    """The DR coordinator and car behind a car's device, or a translated error."""
    device = dr.async_get(hass).async_get(device_id)
    if device is None or (
        not any(
            domain == DOMAIN and not ident.startswith("node_")
            for domain, ident in device.identifiers
        )
        and device.config_entry_id not in _car_entry_ids(hass)
    ):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_car",
            translation_placeholders={"device_id": device_id},
        )
    for entry in hass.config_entries.async_loaded_entries(DOMAIN):
        if (runtime := car_runtime(entry)) is None:
            continue
        if (car_id := runtime.dr.car_for_device(device_id)) is not None:
            return runtime.dr, car_id
    raise ServiceValidationError(
        translation_domain=DOMAIN, translation_key="car_not_loaded"
    )


def _car_entry_ids(hass: HomeAssistant) -> set[str]:
    """Entries of tesladr that hold cars, loaded or not."""
    return {
        entry.entry_id
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.data.get(CONF_ENTRY_TYPE) != ENTRY_TYPE_PRICES
    }


def _aware(moment: datetime) -> datetime:
    return (
        moment
        if moment.tzinfo
        else moment.replace(tzinfo=dt_util.get_default_time_zone())
    )


async def _async_skip_event(call: ServiceCall) -> None:
    manager, vin = _car(call.hass, call.data[ATTR_DEVICE_ID])
    await manager.async_skip(vin)


async def _async_get_events(call: ServiceCall) -> ServiceResponse:
    manager, vin = _car(call.hass, call.data[ATTR_DEVICE_ID])
    now = dt_util.utcnow()
    start = _aware(call.data.get(ATTR_START, now - KEEP_EVENTS))
    end = _aware(call.data.get(ATTR_END, now))
    if start >= end:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="invalid_period"
        )
    events = manager.events_between(vin, start, end)
    return {
        "events": events,
        "kwh": round(sum(e["kwh"] for e in events), 4),
        "usd": round(sum(e["usd"] for e in events), 4),
        "net_usd": round(sum(e["net_usd"] for e in events), 4),
        **{key: _known_total(events, key) for key in RATE_TOTALS},
    }


def _known_total(events: list[dict[str, Any]], key: str) -> float | None:
    known = [e[key] for e in events if e[key] is not None]
    return round(sum(known), 4) if known else None


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the services once for the integration."""
    hass.services.async_register(
        DOMAIN, SERVICE_SKIP_EVENT, _async_skip_event, schema=SKIP_EVENT_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_GET_EVENTS,
        _async_get_events,
        schema=GET_EVENTS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
