"""The charge-control protocol every vehicle backend implements (no Home Assistant imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Protocol


class VehicleState(StrEnum):
    """Connectivity as the account's product list reports it, read without waking the car."""

    ONLINE = "online"
    ASLEEP = "asleep"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class ChargeState:
    """What tesladr knows about a car's charging; `stale` marks last-known data of a sleeper."""

    vin: str
    name: str
    state: VehicleState
    battery_level: float | None = None
    charging_state: str | None = (
        None  # Charging, Stopped, Complete, Disconnected, NoPower, Starting
    )
    charger_power_kw: float | None = None
    charge_energy_added_kwh: float | None = None
    charge_limit_soc: float | None = None
    time_to_full_h: float | None = None
    fast_charger: bool | None = None
    latitude: float | None = None
    longitude: float | None = None
    updated_at: datetime | None = None
    stale: bool = False
    # When someone other than tesladr last turned charging on, where the source can tell
    # (Home Assistant's Context); None where it cannot (an account car's own API).
    owner_started_at: datetime | None = None
    # The car's own ready-by time of each weekday, Monday first (dr/departures.py), where its
    # source tells its schedule and the schedule is on; None otherwise.
    departure_schedule: tuple[time | None, ...] | None = None

    @property
    def plugged_in(self) -> bool | None:
        """Whether a cable is connected, when known."""
        if self.charging_state is None:
            return None
        return self.charging_state != "Disconnected"

    @property
    def charging(self) -> bool:
        """Whether the car is drawing power now."""
        return self.charging_state in ("Charging", "Starting")


class Refusal(StrEnum):
    """Why a command did not do its work, where a caller acts on the reason.

    A car's own reasons (Tesla's `reason`) arrive as free text and compare equal to these.
    """

    # Sent, and its effect not seen yet: the backend sends nothing twice; ask again.
    UNCONFIRMED = "unconfirmed"
    # A stop to a car that is not charging: nothing to stop.
    NOT_CHARGING = "not_charging"
    # Starts that leave nothing to resume.
    IS_CHARGING = "is_charging"
    COMPLETE = "complete"
    DISCONNECTED = "disconnected"
    # A sleeping car is never woken to be stopped.
    ASLEEP = "asleep"
    STILL_CHARGING = "still_charging"
    WAKE_TIMEOUT = "wake_timeout"
    WAKE_FAILED = "wake_failed"


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A command's outcome, with the car's reason when it refused.

    `state` is the car as read right after the command, when it was read: callers believe that
    rather than the command's own answer.
    """

    ok: bool
    reason: str = ""
    state: ChargeState | None = field(default=None, compare=False)
    # When the command was sent, if it was confirmed only later (a later call's answer).
    sent_at: datetime | None = field(default=None, compare=False)


class VehicleError(Exception):
    """A backend call failed."""


class VehicleAuthError(VehicleError):
    """Credentials were refused or could not be refreshed: the user must log in again."""


class VehicleForbiddenError(VehicleError):
    """The API refused the call (403): Fleet API through the HTTP proxy is required."""


class VehicleUnavailableError(VehicleError):
    """The car is asleep or offline (408)."""


class VehicleRateLimitedError(VehicleError):
    """Too many requests (429): back off."""


class ChargeControl(Protocol):
    """Read a car's charge state, stop and start charging."""

    async def read(self, vin: str) -> ChargeState:
        """Current charge state; never wakes the car (sleepers return stale data)."""

    async def stop_charging(self, vin: str) -> CommandResult:
        """Stop charging, without waking the car; confirm by reading state afterwards."""

    async def start_charging(self, vin: str) -> CommandResult:
        """Start charging, waking the car first within a bounded wait."""
