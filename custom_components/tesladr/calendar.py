"""Calendar platform: each car's demand-response events, past and likely.

One calendar per car, on the car's device (docs/calendar-and-notifications.md says why). Past
events come from the DR ledger and are confirmed; the hours ahead where the car's node's
15-minute or day-ahead prices cross its start threshold are tentative: likely, not certain.
The calendar reads DR through `CarEvents`, a small interface; `CoordinatorCarEvents` provides
it from the DR coordinator and the price feed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol, override

from homeassistant.components.calendar import (
    CalendarEntity,
    CalendarEntityDescription,
    CalendarEvent,
)
from homeassistant.components.calendar.const import CalendarEventStatus
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .caiso.forecast import QUARTER, quarter_forecast
from .dr import DrEvent
from .dr.ledger import INTERVAL
from .dr.outlook import LikelyEvent, likely_events
from .dr_coordinator import DrCoordinator
from .entity import DrEntity, async_setup_car_entities
from .models import TesladrConfigEntry
from .price_coordinator import DATA_PRICES, CaisoPriceCoordinator

PARALLEL_UPDATES = 0

DR_EVENTS = CalendarEntityDescription(key="dr_events", translation_key="dr_events")
PAST_SUMMARY = "Paused for high prices"
LIKELY_SUMMARY = "Likely pause for high prices"
MARKETS = {"fifteen_minute": "15-minute", "day_ahead": "day-ahead"}


class CarEvents(Protocol):
    """What the calendar needs of demand response."""

    def past_events(
        self, car_id: str, start: datetime, end: datetime
    ) -> Sequence[DrEvent]:
        """The car's ledger events overlapping a period, open ones included."""

    def likely_events(self, car_id: str, now: datetime) -> Sequence[LikelyEvent]:
        """The car's likely events that have not ended by `now`."""

    def async_add_forecast_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """Call `update` when the forecast prices change; return the unsubscribe."""


class CoordinatorCarEvents:
    """`CarEvents` from the DR coordinator's ledger and cars, and the shared price feed."""

    def __init__(self, dr: DrCoordinator, prices: CaisoPriceCoordinator) -> None:
        """Read through the entry's DR coordinator and the instance's price feed."""
        self._dr = dr
        self._prices = prices

    def past_events(
        self, car_id: str, start: datetime, end: datetime
    ) -> Sequence[DrEvent]:
        """From the ledger."""
        return self._dr.ledger.between(car_id, start, end)

    def likely_events(self, car_id: str, now: datetime) -> Sequence[LikelyEvent]:
        """From the forecast of the car's node, at the car's settings.

        The node the car is priced at now: where the car will be then is not known.
        """
        node = self._dr.resolve(car_id).node
        data = self._prices.data
        forecast = quarter_forecast(
            data.fifteen_minute.get(node, []), data.day_ahead.get(node, []), after=now
        )
        return likely_events(forecast, self._dr.car(car_id).settings, now)

    def async_add_forecast_listener(self, update: CALLBACK_TYPE) -> CALLBACK_TYPE:
        """The price feed's updates bring the 15-minute and day-ahead prices."""
        return self._prices.async_add_listener(update)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One DR events calendar per car of a car entry (the prices entry has none)."""
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: [
            # The car entry acquired the instance's price feed in its set-up.
            DrEventsCalendar(
                dr, car_id, DR_EVENTS, CoordinatorCarEvents(dr, hass.data[DATA_PRICES])
            )
        ],
    )


def _past(event: DrEvent, now: datetime) -> CalendarEvent:
    lines = [
        f"Node: {event.node}" + (f" ({event.utility})" if event.utility else ""),
        f"Energy not drawn: {event.kwh:.2f} kWh, worth {event.usd:.2f} USD",
    ]
    if event.outcome is not None:
        lines.append(f"Ended: {event.outcome.replace('_', ' ')}")
    return CalendarEvent(
        start=dt_util.as_local(event.started),
        # An open event lasts at least to the next interval, when DR decides again.
        end=dt_util.as_local(event.ended or _next_boundary(now)),
        summary=PAST_SUMMARY,
        description="\n".join(lines),
        uid=event.event_id,
        status=CalendarEventStatus.CONFIRMED,
    )


def _likely(event: LikelyEvent) -> CalendarEvent:
    markets = ", ".join(MARKETS.get(source, source) for source in sorted(event.sources))
    return CalendarEvent(
        start=dt_util.as_local(event.start),
        end=dt_util.as_local(event.end),
        summary=LIKELY_SUMMARY,
        description=(
            f"Forecast up to {event.max_price:.2f} USD/MWh ({markets} prices).\n"
            "Only if the car is charging then: the real-time price decides."
        ),
        uid=f"likely-{event.start.isoformat()}",
        status=CalendarEventStatus.TENTATIVE,
    )


def _next_boundary(now: datetime) -> datetime:
    step = INTERVAL.total_seconds()
    return dt_util.utc_from_timestamp((now.timestamp() // step + 1) * step)


def calendar_events(
    past: Sequence[DrEvent], likely: Sequence[LikelyEvent], now: datetime
) -> list[CalendarEvent]:
    """Past events, and the likely ones where no past or open event already says more."""
    events = [_past(event, now) for event in past]
    for event in likely:
        start = event.start
        for real in past:
            if real.started < event.end and (real.ended is None or real.ended > start):
                start = max(start, real.ended or event.end)
        if start < event.end:
            events.append(
                _likely(LikelyEvent(start, event.end, event.max_price, event.sources))
            )
    return sorted(events, key=lambda event: event.start_datetime_local)


class DrEventsCalendar(DrEntity, CalendarEntity):
    """A car's demand-response events: past ones confirmed, likely ones tentative."""

    entity_description: CalendarEntityDescription

    def __init__(
        self,
        coordinator: DrCoordinator,
        car_id: str,
        description: CalendarEntityDescription,
        events: CarEvents,
    ) -> None:
        """Bind the calendar to its car and to what it reads."""
        super().__init__(coordinator, car_id, description)
        self._events = events

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the forecast too: new day-ahead prices move the likely events."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self._events.async_add_forecast_listener(self._handle_coordinator_update)
        )

    def _between(self, start: datetime, end: datetime) -> list[CalendarEvent]:
        now = dt_util.utcnow()
        # The likely events begin at the current quarter hour: the past events they may
        # overlap are read along with those asked for.
        past = self._events.past_events(
            self.car_id, min(start, now - QUARTER), max(end, now)
        )
        return [
            event
            for event in calendar_events(
                past, self._events.likely_events(self.car_id, now), now
            )
            if event.start_datetime_local < end and event.end_datetime_local > start
        ]

    @property
    @override
    def event(self) -> CalendarEvent | None:
        """The current event, else the next one."""
        now = dt_util.utcnow()
        return next(iter(self._between(now, now + timedelta(days=2))), None)

    @override
    async def async_get_events(
        self, hass: HomeAssistant, start_date: datetime, end_date: datetime
    ) -> list[CalendarEvent]:
        """Events overlapping the period asked."""
        return self._between(start_date, end_date)
