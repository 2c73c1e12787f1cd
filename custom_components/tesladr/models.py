"""The typed config entry of tesladr: one alias for every kind of entry, one way to tell them apart."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .account import AccountRuntimeData
from .linked import LinkedRuntimeData
from .prices import PricesRuntimeData

type CarsRuntimeData = AccountRuntimeData | LinkedRuntimeData
type TesladrConfigEntry = ConfigEntry[PricesRuntimeData | CarsRuntimeData]


def prices_runtime(entry: TesladrConfigEntry) -> PricesRuntimeData | None:
    """The loaded prices entry's runtime data; None for a car entry."""
    runtime = entry.runtime_data
    return runtime if isinstance(runtime, PricesRuntimeData) else None


def car_runtime(entry: TesladrConfigEntry) -> CarsRuntimeData | None:
    """A loaded car entry's runtime data (account or linked car); None for the prices entry."""
    runtime = entry.runtime_data
    return None if isinstance(runtime, PricesRuntimeData) else runtime
