"""The typed config entry of tesladr: one alias for every kind of entry."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .account import AccountRuntimeData
from .linked import LinkedRuntimeData
from .prices import PricesRuntimeData

type CarsRuntimeData = AccountRuntimeData | LinkedRuntimeData
type TesladrConfigEntry = ConfigEntry[PricesRuntimeData | CarsRuntimeData]
