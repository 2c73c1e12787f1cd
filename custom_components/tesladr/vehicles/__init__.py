"""Charge-control backends behind one small protocol; teslajsonpy first."""

from .base import (
    ChargeControl,
    ChargeState,
    CommandResult,
    Refusal,
    VehicleAuthError,
    VehicleError,
    VehicleForbiddenError,
    VehicleRateLimitedError,
    VehicleState,
    VehicleUnavailableError,
)

__all__ = [
    "ChargeControl",
    "ChargeState",
    "CommandResult",
    "Refusal",
    "VehicleAuthError",
    "VehicleError",
    "VehicleForbiddenError",
    "VehicleRateLimitedError",
    "VehicleState",
    "VehicleUnavailableError",
]
