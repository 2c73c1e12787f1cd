"""Persistence of DR: each car's settings and state, and the ledger, in one Store per entry."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.storage import Store
from homeassistant.util import slugify

from .const import DOMAIN, LOGGER
from .dr import CarDrState, DrSettings, Ledger
from .dr.settle import InFlight

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

    async def async_load(
        self,
    ) -> tuple[dict[str, tuple[DrSettings, CarDrState]], Ledger, InFlight]:
        """Every car's settings and state, the ledger and the commands left on their way.

        Invalid records fall back.

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
        cars = {
            car_id: (
                _settings(data.get("settings")),
                _state(data.get("state")),
            )
            for car_id, data in (stored.get("cars") or {}).items()
            if isinstance(data, Mapping)
        }
        return (
            cars,
            Ledger.from_dict(stored.get("ledger") or {}),
            InFlight.from_dict(stored),
        )

    def _snapshot(
        self,
        cars: Mapping[str, tuple[DrSettings, CarDrState]],
        ledger: Ledger,
        in_flight: InFlight,
    ) -> dict[str, Any]:
        return {
            "cars": {
                car_id: {"settings": asdict(settings), "state": asdict(state)}
                for car_id, (settings, state) in cars.items()
            },
            "ledger": ledger.as_dict(),
        } | in_flight.as_dict()

    async def async_save(
        self,
        cars: Mapping[str, tuple[DrSettings, CarDrState]],
        ledger: Ledger,
        in_flight: InFlight,
    ) -> None:
        """Save now: which cars DR paused must survive a crash right after the command."""
        self._data = self._snapshot(cars, ledger, in_flight)
        await self._store.async_save(self._data)

    @callback
    def async_delay_save(
        self,
        cars: Mapping[str, tuple[DrSettings, CarDrState]],
        ledger: Ledger,
        in_flight: InFlight,
    ) -> None:
        """Save soon (and at shutdown): a ledger update alone is not worth a write each time."""
        self._data = self._snapshot(cars, ledger, in_flight)
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
