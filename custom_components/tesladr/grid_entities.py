"""Entities of the prices entry's "California grid signals" device, from the MIDAS feed.

They keep showing the last values through short MIDAS outages (the 72-hour answers hold the
forecast too) and go unavailable once `MidasData.is_fresh` says the values are stale.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from homeassistant.util import dt as dt_util

from .dr.signals import dirtiest_cutoff
from .grid_signals import GRID_DEVICE, GridSignals, day_moer
from .midas import FLEX_ALERT_RIN, RateValues, ValueInterval, moer_rin
from .midas_coordinator import MidasCoordinator
from .prices import PricesRuntimeData

# MIDAS spells its units this way; Home Assistant's have no "$" nor "CO2".
RATE_UNIT = "$/kWh"
USD_PER_KWH = "USD/kWh"
GRAMS_PER_KWH = "g/kWh"
# One hour of 5-minute emissions intervals after the current one.
FORECAST_INTERVALS = 12
CLOCK = timedelta(minutes=1)

FLEX_ALERT = BinarySensorEntityDescription(
    key="flex_alert", translation_key="flex_alert"
)
DIRTIEST_SHARE = BinarySensorEntityDescription(
    key="dirtiest_share", translation_key="dirtiest_share"
)
# The share the "dirtiest share of the day" sensor shows; each car's own share is its
# setting, and the sensor's rank attribute tells where now stands for any share.
DIRTIEST_SHARE_PERCENT = 25
MARGINAL_EMISSIONS = SensorEntityDescription(
    key="marginal_emissions",
    translation_key="marginal_emissions",
    native_unit_of_measurement=GRAMS_PER_KWH,
    state_class=SensorStateClass.MEASUREMENT,
)
# Monetary sensors allow no measurement state class; the Energy dashboard takes a current
# price entity by its USD/kWh unit alone.
RETAIL_PRICE = SensorEntityDescription(
    key="retail_price",
    translation_key="retail_price",
    native_unit_of_measurement=USD_PER_KWH,
    device_class=SensorDeviceClass.MONETARY,
    suggested_display_precision=4,
)
RETAIL_PRICE_NEXT = SensorEntityDescription(
    key="retail_price_next",
    translation_key="retail_price_next",
    native_unit_of_measurement=USD_PER_KWH,
    device_class=SensorDeviceClass.MONETARY,
    suggested_display_precision=4,
)


def grid_binary_sensors(runtime: PricesRuntimeData) -> list[Entity]:
    """The Flex Alert and dirtiest-share sensors of the signals chosen."""
    if (midas := runtime.midas) is None:
        return []
    entities: list[Entity] = []
    if runtime.signals.flex_alert:
        entities.append(FlexAlertSensor(midas, FLEX_ALERT_RIN, FLEX_ALERT))
    if (region := runtime.signals.moer_region) is not None:
        entities.append(DirtiestShareSensor(midas, moer_rin(region), DIRTIEST_SHARE))
    return entities


def grid_sensors(runtime: PricesRuntimeData) -> list[Entity]:
    """The emissions and retail price sensors the options choose."""
    if (midas := runtime.midas) is None:
        return []
    signals: GridSignals = runtime.signals
    entities: list[Entity] = []
    if signals.moer_region is not None:
        entities.append(
            MarginalEmissionsSensor(
                midas, moer_rin(signals.moer_region), MARGINAL_EMISSIONS
            )
        )
    if signals.rin is not None:
        entities.append(RetailPriceSensor(midas, signals.rin, RETAIL_PRICE))
        entities.append(RetailPriceNextSensor(midas, signals.rin, RETAIL_PRICE_NEXT))
    return entities


class GridSignalEntity(CoordinatorEntity[MidasCoordinator]):
    """An entity of one MIDAS RIN, on the "California grid signals" device."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: MidasCoordinator, rin: str, description: EntityDescription
    ) -> None:
        """Bind the entity to its RIN."""
        super().__init__(coordinator)
        self.entity_description = description
        self.rin = rin
        self._attr_unique_id = f"grid_signals_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={GRID_DEVICE},
            name="California grid signals",
            manufacturer="California Energy Commission",
            model="MIDAS",
            entry_type=DeviceEntryType.SERVICE,
        )

    async def async_added_to_hass(self) -> None:
        """Also re-read the clock every minute.

        The feed tells its entities nothing while its refreshes keep failing, yet values go
        stale then, and an alert hour or a rate period starts on the clock, not on a read.
        """
        await super().async_added_to_hass()
        self.async_on_remove(
            async_track_time_interval(
                self.hass, self._async_clock, CLOCK, name=f"{self.rin} clock"
            )
        )

    @callback
    def _async_clock(self, _now: datetime) -> None:
        self.async_write_ha_state()

    @property
    def values(self) -> RateValues | None:
        """The RIN's last values, if read."""
        return self.coordinator.data.values.get(self.rin)

    def now(self, unit: str | None = None) -> ValueInterval | None:
        """The interval holding this moment, None in a gap."""
        values = self.values
        return None if values is None else values.at(dt_util.utcnow(), unit)

    @property
    def available(self) -> bool:
        """Last values through short outages; unavailable once stale."""
        return self.coordinator.data.is_fresh(self.rin, dt_util.utcnow())


class FlexAlertSensor(GridSignalEntity, BinarySensorEntity):
    """On during the hours of a Flex Alert."""

    @property
    def is_on(self) -> bool | None:
        """Whether the current hour is an alert hour."""
        hour = self.now()
        return None if hour is None else hour.value == 1

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The current or next alert: its first and last hour, within MIDAS's 3 days."""
        start = end = None
        if (values := self.values) is not None:
            for hour in values.upcoming(dt_util.utcnow(), len(values.intervals)):
                if hour.value == 1 and (end is None or hour.start == end):
                    start, end = start or hour.start, hour.end
                elif end is not None:
                    break
        return {"next_start": _iso(start), "next_end": _iso(end)}


class DirtiestShareSensor(GridSignalEntity, BinarySensorEntity):
    """On while now is among the dirtiest 25 % of today's 5-minute emissions intervals.

    As the dirtiest-share rule of DR decides it (dr/signals.py): ties with the cut-off are in.
    """

    def _now_and_day(self) -> tuple[float | None, tuple[float, ...]]:
        values = self.values
        if values is None:
            return None, ()
        now = dt_util.utcnow()
        current = values.at(now)
        return (None if current is None else current.value), day_moer(values, now)

    @property
    def is_on(self) -> bool | None:
        """Whether now's rate is at or above the day's cut-off."""
        current, day = self._now_and_day()
        cutoff = dirtiest_cutoff(day, DIRTIEST_SHARE_PERCENT / 100)
        return None if current is None or cutoff is None else current >= cutoff

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The share, its cut-off, and the share of today's intervals as dirty as now."""
        current, day = self._now_and_day()
        return {
            "share": DIRTIEST_SHARE_PERCENT,
            "cutoff": dirtiest_cutoff(day, DIRTIEST_SHARE_PERCENT / 100),
            "rank": None
            if current is None or not day
            else round(100 * sum(value >= current for value in day) / len(day), 1),
        }


class MarginalEmissionsSensor(GridSignalEntity, SensorEntity):
    """The region's marginal operating emissions rate now, g CO2 per kWh."""

    # The forecast changes every 5 minutes and is worth nothing in history.
    _unrecorded_attributes = frozenset({"forecast"})

    @property
    def native_value(self) -> float | None:
        """The rate of the current 5-minute interval."""
        interval = self.now()
        return None if interval is None else interval.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The region and the next hour's intervals."""
        values = self.values
        upcoming = (
            []
            if values is None
            else values.upcoming(dt_util.utcnow(), FORECAST_INTERVALS + 1)[1:]
        )
        return {
            "region": self.rin.rsplit("-", 1)[-1],
            "forecast": [
                {"start": interval.start.isoformat(), "value": interval.value}
                for interval in upcoming
            ],
        }


class RetailPriceSensor(GridSignalEntity, SensorEntity):
    """The owner's rate now, USD per kWh."""

    @property
    def native_value(self) -> float | None:
        """The energy price of the current period; None in a gap."""
        period = self.now(RATE_UNIT)
        return None if period is None else period.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The RIN and the period's name as the utility uploaded it (peak, off-peak)."""
        period = self.now(RATE_UNIT)
        return {"rin": self.rin, "period": None if period is None else period.name}


class RetailPriceNextSensor(GridSignalEntity, SensorEntity):
    """The owner's rate in the next period whose price differs, USD per kWh."""

    def _next(self) -> ValueInterval | None:
        values = self.values
        if values is None:
            return None
        now = dt_util.utcnow()
        current = values.at(now, RATE_UNIT)
        for period in values.upcoming(now, len(values.intervals), RATE_UNIT):
            if period.start > now and (
                current is None or period.value != current.value
            ):
                return period
        return None

    @property
    def native_value(self) -> float | None:
        """The next different price; None when the uploaded rows hold none."""
        period = self._next()
        return None if period is None else period.value

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """When that price starts, and its period's name."""
        period = self._next()
        return {
            "start": None if period is None else period.start.isoformat(),
            "period": None if period is None else period.name,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
