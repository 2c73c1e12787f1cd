"""Cars as the policy sees them, shared by the policy, churn and grid-signal tests."""

from dataclasses import replace

from custom_components.tesladr.dr import CarDrState, CarSnapshot

CHARGING = CarSnapshot(
    online=True,
    plugged_in=True,
    charging=True,
    fast_charging=False,
    battery_level=60,
    in_caiso=True,
)
STOPPED = replace(CHARGING, charging=False)
PAUSED = CarDrState(paused_by_dr=True)
