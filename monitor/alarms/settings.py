"""Clinic-wide alarm settings: latching, escalation, audio pause, reminders and the webhook."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from monitor.errors import AlarmRulesError

# (lowest, highest) accepted for each timing, in seconds: wide enough for any clinic's policy,
# narrow enough that a typo (6000 for 60) is caught before it silences a ward.
_RANGES: dict[str, tuple[float, float]] = {
    "escalation_seconds": (10, 3600),
    "audio_pause_seconds": (10, 600),
    "reminder_seconds": (30, 1800),
}
_WORDS = {
    "escalation_seconds": "The escalation time",
    "audio_pause_seconds": "The audio pause",
    "reminder_seconds": "The reminder interval",
}


@dataclass(frozen=True, slots=True)
class AlarmSettings:
    """How alarms behave across the clinic; set by an admin, never per nurse (DESIGN.md)."""

    latching_high: bool = True  # a high alarm stays until acknowledged after its condition ends
    escalation_seconds: float = 60.0  # a high alarm unacknowledged this long is escalated
    audio_pause_seconds: float = 120.0  # how long "pause audio" silences a room
    reminder_seconds: float = 180.0  # an acknowledged alarm still present re-sounds this often
    webhook_url: str | None = None  # where escalations are POSTed, if anywhere

    def problems(self) -> list[str]:
        """One plain sentence per invalid setting; empty when all are fine."""
        found: list[str] = []
        for key, (low, high) in _RANGES.items():
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or not low <= value <= high:
                found.append(f"{_WORDS[key]} {value!r} s must be from {low:g} to {high:g} s.")
        if not isinstance(self.latching_high, bool):
            found.append(f"Latching of high alarms must be true or false, not "
                         f"{self.latching_high!r}.")
        url = self.webhook_url
        if url is not None and (not isinstance(url, str)
                                or not url.startswith(("http://", "https://"))
                                or len(url) > 2000 or any(c.isspace() for c in url)):
            found.append(f"The webhook URL {url!r} must start with http:// or https:// and "
                         f"contain no spaces.")
        return found

    def validated(self) -> AlarmSettings:
        """This object, or AlarmRulesError listing every problem."""
        problems = self.problems()
        if problems:
            raise AlarmRulesError(problems)
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AlarmSettings:
        """Settings from stored or submitted values; missing keys keep their defaults."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AlarmRulesError([f"{unknown[0]!r} is not an alarm setting; expected one of "
                                   f"{', '.join(sorted(known))}."])
        values = dict(data)
        if values.get("webhook_url") == "":
            values["webhook_url"] = None  # an emptied form field means "no webhook"
        return cls(**values).validated()
