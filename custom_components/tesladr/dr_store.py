"""Persistence of DR: each car's settings and state, and the ledger, in one Store per entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import slugify

from .const import DOMAIN, LOGGER
from .dr import CarDrState, DrSettings, Ledger, Reason

STORAGE_VERSION = 1
# Ledger-only changes (a new interval accounted) are batched; state changes are saved at once.
LEDGER_SAVE_DELAY = 30


def storage_key(entry_id: str) -> str:
    """Where an entry's DR settings, state and ledger are kept."""
    return f"{DOMAIN}.dr.{entry_id}"


def left_paused_key(unique_id: str) -> str:
    """Where a removed entry's DR data waits when it left cars paused, by the entry's identity."""
    return f"{DOMAIN}.dr.left_paused.{slugify(unique_id)}"


def left_paused_issue_id(unique_id: str) -> str:
    """The repair issue telling the owner a removed entry left cars paused."""
    return f"left_paused_{slugify(unique_id)}"


def _paused(stored: Mapping[str, Any]) -> list[str]:
    cars = stored.get("cars") or {}
    return [
        car_id
        for car_id, data in cars.items()
        if isinstance(data, Mapping)
        and isinstance(data.get("state"), Mapping)
        and data["state"].get("paused_by_dr") is True
    ]


def _settings(data: Any) -> DrSettings:
    """Stored settings, or the defaults when they no longer fit (DrSettings validates)."""
    try:
        return DrSettings(**data)
    except TypeError, ValueError:
        LOGGER.warning("Stored DR settings of a car were invalid; using defaults")
        return DrSettings()


def _state(data: Any) -> CarDrState:
    """Stored DR state, or a clean one when it is not three flags."""
    try:
        state = CarDrState(**data)
    except TypeError:
        state = None
    if state is None or not all(
        isinstance(flag, bool) for flag in asdict(state).values()
    ):
        LOGGER.warning("Stored DR state of a car was invalid; starting afresh")
        return CarDrState()
    return state


@dataclass(frozen=True, slots=True)
class StopInFlight:
    """A stop sent and not yet answered, with what the pause's ledger event needs.

    Saved before the stop goes out: when Home Assistant stops before the answer, the next
    start finds out from the car whether the stop took, instead of losing the pause.
    """

    sent_at: datetime
    power_kw: float
    needed_kwh: float | None
    # The energy the car had added by its read before the stop, and when that read was:
    # how much it added after tells whether the stop, or something later, stopped it.
    energy_added_kwh: float | None = None
    read_at: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "sent_at": self.sent_at.isoformat(),
            "power_kw": self.power_kw,
            "needed_kwh": self.needed_kwh,
            "energy_added_kwh": self.energy_added_kwh,
            "read_at": self.read_at.isoformat() if self.read_at else None,
        }

    @classmethod
    def from_dict(cls, data: Any) -> StopInFlight | None:
        """Inverse of as_dict; None for a record that does not fit."""
        try:
            sent_at = datetime.fromisoformat(data["sent_at"])
            energy, read_at = data.get("energy_added_kwh"), data.get("read_at")
            return cls(
                sent_at,
                float(data["power_kw"]),
                None if data["needed_kwh"] is None else float(data["needed_kwh"]),
                None if energy is None else float(energy),
                None if read_at is None else datetime.fromisoformat(read_at),
            )
        except KeyError, TypeError, ValueError:
            return None


def _per_car[T](records: Any, parse: Callable[[Any], T | None]) -> dict[str, T]:
    """Stored records by car, each parsed; a record that does not fit is dropped."""
    if not isinstance(records, Mapping):
        return {}
    return {
        car_id: record
        for car_id, data in records.items()
        if (record := parse(data)) is not None
    }


def _start_in_flight(data: Any) -> tuple[datetime, Reason] | None:
    """A stored start in flight; None for a record that does not fit."""
    try:
        return datetime.fromisoformat(data["sent_at"]), Reason(data["reason"])
    except KeyError, TypeError, ValueError:
        return None


class DrStore:
    """Load and save an entry's DR data."""

    def __init__(
        self, hass: HomeAssistant, entry_id: str, unique_id: str | None = None
    ) -> None:
        """One Store per config entry; `unique_id` names the entry across a re-add."""
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry_id)
        )
        self._left: Store[dict[str, Any]] | None = (
            Store(hass, STORAGE_VERSION, left_paused_key(unique_id))
            if unique_id
            else None
        )
        self._data: dict[str, Any] = {}
        self.adopted = False
        # Stops sent but not answered when the data was saved, by car: see `StopInFlight`.
        self.stops_in_flight: dict[str, StopInFlight] = {}
        # Starts likewise: when each was sent, and the reason DR resumed the car for.
        self.starts_in_flight: dict[str, tuple[datetime, Reason]] = {}

    async def async_load(
        self,
    ) -> tuple[dict[str, tuple[DrSettings, CarDrState]], Ledger]:
        """Every car's settings and state, and the ledger; invalid records fall back.

        A new entry for an account (or car) whose removed entry left cars paused takes that
        entry's data over: DR holds those cars again and resumes them, and their events go on.
        """
        stored = await self._store.async_load()
        if stored is None and self._left is not None:
            stored = await self._left.async_load()
            if stored is not None:
                await self._store.async_save(stored)
                await self._left.async_remove()
                self.adopted = True
        stored = stored or {}
        self.stops_in_flight = _per_car(
            stored.get("stops_in_flight"), StopInFlight.from_dict
        )
        self.starts_in_flight = _per_car(
            stored.get("starts_in_flight"), _start_in_flight
        )
        cars = {
            car_id: (
                _settings(data.get("settings")),
                _state(data.get("state")),
            )
            for car_id, data in (stored.get("cars") or {}).items()
            if isinstance(data, Mapping)
        }
        return cars, Ledger.from_dict(stored.get("ledger") or {})

    def _snapshot(
        self, cars: Mapping[str, tuple[DrSettings, CarDrState]], ledger: Ledger
    ) -> dict[str, Any]:
        return {
            "cars": {
                car_id: {"settings": asdict(settings), "state": asdict(state)}
                for car_id, (settings, state) in cars.items()
            },
            "ledger": ledger.as_dict(),
            "stops_in_flight": {
                car_id: stop.as_dict() for car_id, stop in self.stops_in_flight.items()
            },
            "starts_in_flight": {
                car_id: {"sent_at": sent_at.isoformat(), "reason": str(reason)}
                for car_id, (sent_at, reason) in self.starts_in_flight.items()
            },
        }

    async def async_save(
        self, cars: Mapping[str, tuple[DrSettings, CarDrState]], ledger: Ledger
    ) -> None:
        """Save now: which cars DR paused must survive a crash right after the command."""
        self._data = self._snapshot(cars, ledger)
        await self._store.async_save(self._data)

    @callback
    def async_delay_save(
        self, cars: Mapping[str, tuple[DrSettings, CarDrState]], ledger: Ledger
    ) -> None:
        """Save soon (and at shutdown): a ledger update alone is not worth a write each time."""
        self._data = self._snapshot(cars, ledger)
        self._store.async_delay_save(lambda: self._data, LEDGER_SAVE_DELAY)

    async def async_remove(self) -> list[str]:
        """Forget everything (the entry was removed), unless a car was left paused.

        Unloading resumes every car DR paused; a car it could not reach stays paused. Its
        data is then kept under the entry's identity, for an entry added again later, and the
        cars left paused are returned.
        """
        stored = await self._store.async_load() or {}
        paused = _paused(stored)
        if paused and self._left is not None:
            await self._left.async_save(stored)
        await self._store.async_remove()
        return paused
