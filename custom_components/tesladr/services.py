"""Services of tesladr: skip a car's DR event, read a car's DR ledger."""

from __future__ import annotations

from datetime import datetime

from homeassistant.config_entries import ConfigEntryState
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

from .const import DOMAIN
from .dr.ledger import KEEP_EVENTS
from .dr_manager import DrManager

ATTR_DEVICE_ID = "device_id"
ATTR_START = "start"
ATTR_END = "end"
SERVICE_SKIP_EVENT = "skip_event"
SERVICE_GET_EVENTS = "get_events"

SKIP_EVENT_SCHEMA = probatio.Schema({probatio.Required(ATTR_DEVICE_ID): cv.string})
GET_EVENTS_SCHEMA = probatio.Schema(
    {
        probatio.Required(ATTR_DEVICE_ID): cv.string,
        probatio.Optional(ATTR_START): cv.datetime,
        probatio.Optional(ATTR_END): cv.datetime,
    }
)


def _car(hass: HomeAssistant, device_id: str) -> tuple[DrManager, str]:
    """The DR manager and VIN behind a car device, or a translated error."""
    device = dr.async_get(hass).async_get(device_id)
    vins = (
        [ident for domain, ident in device.identifiers if domain == DOMAIN]
        if device
        else []
    )
    if device is None or not vins or vins[0].startswith("node_"):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_a_car",
            translation_placeholders={"device_id": device_id},
        )
    entry = hass.config_entries.async_get_entry(device.config_entry_id or "")
    if entry is not None and entry.state is ConfigEntryState.LOADED:
        manager: DrManager = entry.runtime_data.dr
        if vins[0] in manager.managed_vins():
            return manager, vins[0]
    raise ServiceValidationError(
        translation_domain=DOMAIN, translation_key="car_not_loaded"
    )


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
    }


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
