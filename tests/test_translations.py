"""Every word the DR status sensor can show has a translation."""

from __future__ import annotations

import json
from pathlib import Path
import re

from custom_components.tesladr.dr import Reason
from custom_components.tesladr.dr.departures import DepartureSource
from custom_components.tesladr.dr_coordinator import STATUS_OPTIONS
from custom_components.tesladr.select import DEPARTURE_DAYS_SELECT, PRICING_NODE
from custom_components.tesladr.time import DEPARTURE, SOURCE, WEEKDAY_DEPARTURES

STRINGS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components/tesladr/translations/en.json"
    ).read_text()
)


def test_dr_status_reason_attribute_is_translated() -> None:
    """Each policy reason, and command_failed, reads as words in the UI."""
    status = STRINGS["entity"]["sensor"]["dr_status"]
    reasons = status["state_attributes"]["reason"]["state"]
    assert set(reasons) == {str(reason) for reason in Reason} | {"command_failed"}
    assert set(status["state"]) == set(STATUS_OPTIONS)
    assert all(word and "_" not in word for word in reasons.values())


def test_pricing_node_select_options_are_translated() -> None:
    """The select's options are lower-case keys, each with a label."""
    labels = STRINGS["entity"]["select"]["pricing_node_choice"]["state"]
    assert set(labels) == set(PRICING_NODE.options or [])


def test_departure_entities_name_their_day_and_source() -> None:
    """Each weekday's departure, the days options and where a departure comes from."""
    times = STRINGS["entity"]["time"]
    for description in (DEPARTURE, *WEEKDAY_DEPARTURES):
        key = description.translation_key
        assert key in times
        sources = times[key]["state_attributes"][SOURCE]["state"]
        assert set(sources) == {str(source) for source in DepartureSource}
    names = {times[d.translation_key]["name"] for d in WEEKDAY_DEPARTURES}
    assert len(names) == 7
    days = STRINGS["entity"]["select"]["departure_days"]["state"]
    assert set(days) == set(DEPARTURE_DAYS_SELECT.options or [])


def test_notification_words_are_translations_with_known_placeholders() -> None:
    """Every message key the notifier names is in en.json, with placeholders it fills."""
    source = (
        Path(__file__).parents[1] / "custom_components/tesladr/notify_dr.py"
    ).read_text()
    keys = set(re.findall(r'"(notify_[a-z_]+)"', source)) | {
        f"{key}{tail}"
        for key in ("notify_paused", "notify_paused_high")
        for tail in ("", "_until")
    }
    messages = STRINGS["exceptions"]
    assert keys <= set(messages)
    for key in keys:
        placeholders = set(re.findall(r"{(\w+)}", messages[key]["message"]))
        assert placeholders <= {"car", "node", "price", "end", "error"}, key
