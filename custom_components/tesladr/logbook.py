"""Logbook descriptions of tesladr's demand-response events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

from .const import DOMAIN
from .dr_coordinator import EVENT_DR

MESSAGES = {
    "started": "paused charging: price {price} USD/MWh at {node} ({reason})",
    "ended": "resumed charging ({reason})",
    "skipped": "skipped the demand-response event",
    "overridden": "charging was restarted by hand; demand response leaves it alone for this event",
}


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe tesladr_dr_event in the logbook."""

    @callback
    def describe(event: Event) -> dict[str, str]:
        data: Mapping[str, Any] = event.data
        message = MESSAGES.get(data.get("type", ""), "demand-response event")
        return {
            LOGBOOK_ENTRY_NAME: data.get("car") or "Tesla",
            LOGBOOK_ENTRY_MESSAGE: message.format(
                price=data.get("price"),
                node=data.get("node"),
                reason=str(data.get("reason", "")).replace("_", " "),
            ),
        }

    async_describe_event(DOMAIN, EVENT_DR, describe)
