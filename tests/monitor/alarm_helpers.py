"""Shared helpers for the alarm tests: explicit times, readings and a station-like engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from monitor.alarms import AlarmEngine, AlarmEvent, profile
from monitor.alarms.settings import AlarmSettings
from monitor.reading import Quality, Reading

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
PROFILE = profile("iv-ketamine")
# Short timings keep tests readable; the semantics do not depend on the numbers.
CLINIC = AlarmSettings(latching_high=True, escalation_seconds=60, audio_pause_seconds=120,
                       reminder_seconds=180)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def reading(code: str, value: float, seconds: float, *, room: str = "r1",
            quality: Quality = Quality.VALID) -> Reading:
    return Reading(room, f"{room}-monitor", code, value, at(seconds), quality=quality)


def clinic_engine(settings: AlarmSettings = CLINIC) -> AlarmEngine:
    return AlarmEngine(PROFILE, settings)


def feed(engine: AlarmEngine, code: str, values: list[float], start: float = 0,
         room: str = "r1", tick: bool = False) -> list[AlarmEvent]:
    """One reading a second from ``start`` (and a tick after each when asked)."""
    events: list[AlarmEvent] = []
    for i, value in enumerate(values):
        events += engine.on_reading(reading(code, value, start + i, room=room))
        if tick:
            events += engine.tick(at(start + i + 0.5))
    return events


def transitions(events: list[AlarmEvent]) -> list[str]:
    return [str(e.transition) for e in events]


def only(events: list[AlarmEvent]) -> AlarmEvent:
    assert len(events) == 1, events
    return events[0]
