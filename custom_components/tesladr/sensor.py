"""Sensor platform for tesladr."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfEnergy,
    UnitOfMass,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .caiso import PriceInterval
from .caiso.forecast import quarter_forecast
from .caiso.tariff import tariff_attributes
from .dr.participation import Participation, event_in_progress, participation
from .dr.values import ValueTotals
from .dr_car import STATUS_OPTIONS, CarView
from .entity import (
    CaisoPriceEntity,
    DrEntity,
    TeslaVehicleEntity,
    async_setup_car_entities,
)
from .grid_entities import grid_sensors
from .models import TesladrConfigEntry, prices_runtime
from .price_coordinator import CaisoPriceCoordinator
from .price_feed import PriceData
from .vehicles import ChargeState

USD_PER_MWH = "USD/MWh"
USD_PER_KWH = "USD/kWh"

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: TesladrConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Price sensors of the prices entry, or the sensors of a car entry."""
    if (runtime := prices_runtime(entry)) is not None:
        async_add_entities(
            CaisoPriceSensor(runtime.coordinator, node, description)
            for node in runtime.nodes
            for description in PRICE_SENSORS
        )
        # One OASIS feed serves every node: its lag shows once, on the first node's device.
        async_add_entities(
            [CaisoFeedSensor(runtime.coordinator, runtime.nodes[0], PUBLICATION_LAG)]
        )
        async_add_entities(grid_sensors(runtime))
        return
    async_setup_car_entities(
        entry,
        async_add_entities,
        lambda dr, car_id: (DrSensor(dr, car_id, desc) for desc in DR_SENSORS),
        lambda vehicles, vin: (
            TeslaVehicleSensor(vehicles, vin, description)
            for description in VEHICLE_SENSORS
        ),
    )


CHARGING_STATES = [
    "charging",
    "stopped",
    "complete",
    "disconnected",
    "no_power",
    "starting",
]


def _charging_state(car: ChargeState) -> str | None:
    """Tesla's CamelCase state as a translated enum option."""
    if car.charging_state is None:
        return None
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in car.charging_state)
    option = snake.lstrip("_")
    return option if option in CHARGING_STATES else None


@dataclass(frozen=True, kw_only=True)
class TeslaVehicleSensorDescription(SensorEntityDescription):
    """A car sensor: how to read its value from the charge state."""

    value_fn: Callable[[ChargeState], StateType]


VEHICLE_SENSORS: tuple[TeslaVehicleSensorDescription, ...] = (
    TeslaVehicleSensorDescription(
        key="battery_level",
        device_class=SensorDeviceClass.BATTERY,
        native_unit_of_measurement=PERCENTAGE,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda car: car.battery_level,
    ),
    TeslaVehicleSensorDescription(
        key="charging_state",
        translation_key="charging_state",
        device_class=SensorDeviceClass.ENUM,
        options=CHARGING_STATES,
        value_fn=_charging_state,
    ),
    TeslaVehicleSensorDescription(
        key="charger_power",
        translation_key="charger_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.KILO_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda car: car.charger_power_kw,
    ),
    TeslaVehicleSensorDescription(
        key="charge_energy_added",
        translation_key="charge_energy_added",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=2,
        value_fn=lambda car: car.charge_energy_added_kwh,
    ),
    TeslaVehicleSensorDescription(
        key="charge_limit",
        translation_key="charge_limit",
        native_unit_of_measurement=PERCENTAGE,
        value_fn=lambda car: car.charge_limit_soc,
    ),
    TeslaVehicleSensorDescription(
        key="time_to_full",
        translation_key="time_to_full",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.HOURS,
        suggested_display_precision=1,
        value_fn=lambda car: car.time_to_full_h,
    ),
)


class TeslaVehicleSensor(TeslaVehicleEntity, SensorEntity):
    """A charge-state value of one car."""

    entity_description: TeslaVehicleSensorDescription

    @property
    @override
    def native_value(self) -> StateType:
        """The value from the car's (possibly last known) state."""
        return self.entity_description.value_fn(self.car)


def _dr_status_attributes(car: CarView) -> dict[str, Any]:
    if car.status == "command_failed":
        reason: str | None = "command_failed"
    else:
        reason = str(car.reason) if car.reason is not None else None
    followed = car.followed
    utility = followed.utility if followed else None
    return {
        # A translated word; the command's own message (free text) stands beside it.
        "reason": reason,
        "command_error": car.command_error,
        "node": followed.node if followed else None,
        "utility": utility.name if utility else None,
        "price": car.price.value if car.price else None,
        "start_threshold": round(car.settings.start_threshold, 2),
        "resume_below": round(car.settings.resume_below, 2),
        "battery_floor": round(car.settings.battery_floor, 1),
    }


def _pricing_node_attributes(car: CarView) -> dict[str, Any]:
    choice = car.choice
    return {
        "utility": choice.utility.name if choice.utility else None,
        "dlap": choice.utility.dlap if choice.utility else None,
        "located_by": choice.located_by,
        "chosen": choice.chosen,
    }


def _participation(car: CarView) -> tuple[Participation, str | None]:
    in_event = event_in_progress(car.price, car.settings, car.state, dt_util.utcnow())
    kind, reason = participation(car.settings, car.state, car.reason, in_event)
    return kind, None if reason is None else str(reason)


def _net(totals: ValueTotals) -> float | None:
    """A car's net figure: unknown while no event has one (the signal is not chosen)."""
    return round(totals.net, 4) if totals.known else None


def _net_attributes(totals: ValueTotals) -> dict[str, Any]:
    """The gross figure beside the net one, and the events the net leaves out."""
    return {
        "gross": round(totals.gross, 4) if totals.known else None,
        "events_net_unknown": totals.net_unknown,
    }


@dataclass(frozen=True, kw_only=True)
class DrSensorDescription(SensorEntityDescription):
    """A DR sensor of a car: its value from what the DR coordinator shows of it."""

    value_fn: Callable[[CarView], StateType]
    attr_fn: Callable[[CarView], dict[str, Any]] = lambda _: {}


def _settings_value(
    fn: Callable[[CarView], float],
) -> Callable[[CarView], float]:
    return lambda car: round(fn(car), 2)


DR_SENSORS: tuple[DrSensorDescription, ...] = (
    DrSensorDescription(
        key="dr_status",
        translation_key="dr_status",
        device_class=SensorDeviceClass.ENUM,
        options=STATUS_OPTIONS,
        value_fn=lambda car: car.status,
        attr_fn=_dr_status_attributes,
    ),
    DrSensorDescription(
        key="participation",
        translation_key="participation",
        device_class=SensorDeviceClass.ENUM,
        options=[str(kind) for kind in Participation],
        value_fn=lambda car: _participation(car)[0],
        # Why a car is not eligible: a translated word, unknown for any other state.
        attr_fn=lambda car: {"reason": _participation(car)[1]},
    ),
    DrSensorDescription(
        key="energy_not_consumed",
        translation_key="energy_not_consumed",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        # Not total_increasing: an override seen late takes back energy already counted,
        # and the recorder would read that dip as a meter reset.
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda car: round(car.kwh_not_consumed, 4),
    ),
    DrSensorDescription(
        key="value_not_consumed",
        translation_key="value_not_consumed",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="USD",
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda car: round(car.usd_not_consumed, 4),
    ),
    DrSensorDescription(
        key="net_value_avoided",
        translation_key="net_value_avoided",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="USD",
        # Goes down as the car draws the energy back at a cost.
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda car: round(car.net_usd, 4),
    ),
    # Both net of drawing the energy back, so both go down when it is drawn back at a
    # dirtier or dearer rate than the pause avoided: total (never total_increasing, which
    # the recorder would read as a meter reset), with no last_reset (one running total).
    DrSensorDescription(
        key="co2_avoided",
        translation_key="co2_avoided",
        device_class=SensorDeviceClass.WEIGHT,
        native_unit_of_measurement=UnitOfMass.KILOGRAMS,
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda car: _net(car.co2),
        attr_fn=lambda car: _net_attributes(car.co2),
    ),
    DrSensorDescription(
        key="retail_value_avoided",
        translation_key="retail_value_avoided",
        device_class=SensorDeviceClass.MONETARY,
        native_unit_of_measurement="USD",
        state_class=SensorStateClass.TOTAL,
        suggested_display_precision=2,
        value_fn=lambda car: _net(car.retail),
        attr_fn=lambda car: _net_attributes(car.retail),
    ),
    DrSensorDescription(
        key="dr_events_24h",
        translation_key="dr_events_24h",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=lambda car: car.events_24h,
    ),
    DrSensorDescription(
        key="start_threshold",
        translation_key="start_threshold",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=USD_PER_MWH,
        suggested_display_precision=2,
        value_fn=_settings_value(lambda car: car.settings.start_threshold),
    ),
    DrSensorDescription(
        key="battery_floor",
        translation_key="battery_floor",
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=_settings_value(lambda car: car.settings.battery_floor),
    ),
    DrSensorDescription(
        key="pricing_node",
        translation_key="pricing_node",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda car: car.choice.state,
        attr_fn=_pricing_node_attributes,
    ),
)


class DrSensor(DrEntity, SensorEntity):
    """A demand-response value of one car."""

    entity_description: DrSensorDescription

    @property
    @override
    def native_value(self) -> StateType:
        """From what the DR coordinator shows of the car."""
        return self.entity_description.value_fn(self.dr)

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """The status sensor explains itself."""
        return self.entity_description.attr_fn(self.dr)


def _current(intervals: list[PriceInterval], now: datetime) -> PriceInterval | None:
    return PriceData.covering(intervals, now)


def _raw(intervals: list[PriceInterval]) -> list[dict[str, Any]]:
    """The list format EV Smart Charging reads: start, end, value (USD/kWh)."""
    return [
        {
            "start": dt_util.as_local(i.start).isoformat(),
            "end": dt_util.as_local(i.end).isoformat(),
            "value": round(i.price / 1000, 5),
        }
        for i in intervals
    ]


def _day_ahead_attributes(data: PriceData, node: str, now: datetime) -> dict[str, Any]:
    today = dt_util.start_of_local_day(now)
    tomorrow = today + timedelta(days=1)
    intervals = data.day_ahead.get(node, [])
    return {
        "raw_today": _raw([i for i in intervals if today <= i.start < tomorrow]),
        "raw_tomorrow": _raw(
            [i for i in intervals if tomorrow <= i.start < tomorrow + timedelta(days=1)]
        ),
    }


def _kwh_attributes(data: PriceData, node: str, now: datetime) -> dict[str, Any]:
    """The interval, and the quarter hours ahead as EV Smart Charging and evcc read them."""
    forecast = quarter_forecast(
        data.fifteen_minute.get(node, []), data.day_ahead.get(node, [])
    )
    return _interval_attributes(data.latest(node)) | tariff_attributes(
        forecast, now, dt_util.get_default_time_zone()
    )


def _interval_attributes(interval: PriceInterval | None) -> dict[str, Any]:
    if interval is None:
        return {}
    return {
        "interval_start": interval.start.isoformat(),
        "interval_end": interval.end.isoformat(),
    }


def _price(interval: PriceInterval | None, scale: float = 1.0) -> float | None:
    return None if interval is None else interval.price / scale


@dataclass(frozen=True, kw_only=True)
class CaisoPriceSensorDescription(SensorEntityDescription):
    """A price sensor: how to read its value and attributes from PriceData."""

    value_fn: Callable[[PriceData, str, datetime], StateType | datetime]
    attr_fn: Callable[[PriceData, str, datetime], dict[str, Any]] = lambda *_: {}
    always_available: bool = False


PRICE_SENSORS: tuple[CaisoPriceSensorDescription, ...] = (
    CaisoPriceSensorDescription(
        key="realtime_price",
        translation_key="realtime_price",
        native_unit_of_measurement=USD_PER_MWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda data, node, _: _price(data.latest(node)),
        attr_fn=lambda data, node, _: _interval_attributes(data.latest(node)),
    ),
    CaisoPriceSensorDescription(
        key="realtime_price_kwh",
        translation_key="realtime_price_kwh",
        native_unit_of_measurement=USD_PER_KWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=5,
        value_fn=lambda data, node, _: _price(data.latest(node), 1000),
        attr_fn=_kwh_attributes,
    ),
    CaisoPriceSensorDescription(
        key="fifteen_minute_price",
        translation_key="fifteen_minute_price",
        native_unit_of_measurement=USD_PER_MWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        entity_registry_enabled_default=False,
        value_fn=lambda data, node, now: _price(
            _current(data.fifteen_minute.get(node, []), now)
        ),
        attr_fn=lambda data, node, now: _interval_attributes(
            _current(data.fifteen_minute.get(node, []), now)
        ),
    ),
    CaisoPriceSensorDescription(
        key="day_ahead_price",
        translation_key="day_ahead_price",
        native_unit_of_measurement=USD_PER_MWH,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda data, node, now: _price(
            _current(data.day_ahead.get(node, []), now)
        ),
        attr_fn=_day_ahead_attributes,
    ),
    CaisoPriceSensorDescription(
        key="last_update",
        translation_key="last_update",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data, _node, _now: data.last_update,
        always_available=True,
    ),
)


PUBLICATION_LAG = CaisoPriceSensorDescription(
    key="oasis_publication_lag",
    translation_key="oasis_publication_lag",
    device_class=SensorDeviceClass.DURATION,
    native_unit_of_measurement=UnitOfTime.SECONDS,
    state_class=SensorStateClass.MEASUREMENT,
    entity_category=EntityCategory.DIAGNOSTIC,
    suggested_display_precision=0,
    value_fn=lambda data, _node, _now: data.publication_lag_s,
    always_available=True,
)


class CaisoPriceSensor(CaisoPriceEntity, SensorEntity):
    """A price of one node."""

    entity_description: CaisoPriceSensorDescription
    # The day lists and the forecast change all day and would bloat the recorder.
    _unrecorded_attributes = frozenset({"raw_today", "raw_tomorrow", "forecast"})

    @property
    @override
    def available(self) -> bool:
        """The timestamp of the last update stays meaningful through an outage."""
        if self.entity_description.always_available:
            return self.coordinator.data.last_update is not None
        return super().available

    @property
    @override
    def native_value(self) -> StateType | datetime:
        """The value for the current moment."""
        return self.entity_description.value_fn(
            self.coordinator.data, self.node, dt_util.utcnow()
        )

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any]:
        """Interval bounds, or the hourly lists of the day-ahead sensor."""
        return self.entity_description.attr_fn(
            self.coordinator.data, self.node, dt_util.utcnow()
        )


class CaisoFeedSensor(CaisoPriceSensor):
    """A sensor of the instance's OASIS feed (not of a node), such as its learned lag."""

    def __init__(
        self,
        coordinator: CaisoPriceCoordinator,
        node: str,
        description: CaisoPriceSensorDescription,
    ) -> None:
        """Shown on a node's device; its id does not follow the node."""
        super().__init__(coordinator, node, description)
        self._attr_unique_id = description.key

    @property
    @override
    def available(self) -> bool:
        """Known from the first answer on (or from what a restart restored)."""
        return self.coordinator.data.publication_lag_s is not None
