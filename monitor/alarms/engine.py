"""The alarm engine: readings and device status in, alarm events out; pure and clock-free.

Rules on the same vital and side (high or low) make one alarm whose priority is that of the
worst rule met, so "HR > 130" turning into "HR > 150" is one alarm changing priority, not two.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime

from monitor.alarms.model import Alarm, AlarmEvent, Kind, Priority, Transition
from monitor.alarms.rules import Profile, Rule
from monitor.messages import DeviceStatus, LinkState
from monitor.reading import Reading
from monitor.vitals import BY_CODE

DEVICE = "device"  # the `vital` of a technical alarm about the link to the monitor


@dataclass(slots=True)
class _RuleState:
    since: datetime | None = None  # when the condition began to hold
    met: bool = False  # held for its delay, and not yet cleared past the hysteresis


@dataclass(slots=True)
class _Group:
    """The alarm for one (room, vital, side), built from its rules' states."""

    rules: tuple[Rule, ...]
    states: dict[int, _RuleState] = field(default_factory=dict)
    alarm: Alarm | None = None
    last_value: float | None = None


@dataclass(slots=True)
class _Room:
    groups: dict[tuple[str, str], _Group] = field(default_factory=dict)
    baseline: dict[str, float] = field(default_factory=dict)
    invalid_since: dict[str, datetime] = field(default_factory=dict)
    technical: dict[str, Alarm] = field(default_factory=dict)


class AlarmEngine:
    """Turns readings and device status into alarm events, by a profile's rules.

    The engine holds no clock: every decision is made at the time a message carries, so a
    session replays bit for bit and tests run a 40-minute session in milliseconds.
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self._rooms: dict[str, _Room] = {}

    # -- inputs ---------------------------------------------------------------------

    def on_reading(self, reading: Reading) -> list[AlarmEvent]:
        room = self._room(reading.room)
        at = reading.received
        if not reading.usable:
            # No valid value: a condition cannot be said to hold through it, so pending
            # condition delays start again when valid values return.
            for _key, group in self._groups(reading.room, room, reading.code):
                for state in group.states.values():
                    if not state.met:
                        state.since = None
            return self._invalid(reading.room, room, reading.code, at)
        events = self._valid_again(reading.room, room, reading.code, at)
        vital = BY_CODE[reading.code]
        if vital.episodic and reading.code not in room.baseline:
            # The session's first cuff measurement is its baseline (CLINICAL.md).
            room.baseline[reading.code] = reading.value
        baseline = room.baseline.get(reading.code)
        for _key, group in self._groups(reading.room, room, reading.code):
            group.last_value = reading.value
            for i, rule in enumerate(group.rules):
                self._judge(group.states.setdefault(i, _RuleState()), rule, reading.value,
                            baseline, at)
            events += self._settle(reading.room, group, baseline, at)
        return events

    def on_status(self, status: DeviceStatus) -> list[AlarmEvent]:
        room = self._room(status.room)
        key = f"{DEVICE}:{status.device}"
        if status.state in (LinkState.SILENT, LinkState.LOST):
            message = status.detail or (
                f"No data from the monitor for {self.profile.silence_seconds:g} s")
            return self._raise_technical(status.room, room, key, DEVICE, message,
                                         self.profile.silence_priority, status.at)
        if status.state is LinkState.OK:
            return self._clear_technical(status.room, room, key, status.at)
        return []

    def tick(self, now: datetime) -> list[AlarmEvent]:
        """Complete condition delays and invalid-signal timers that ran out with no new data."""
        events: list[AlarmEvent] = []
        for room_id, room in self._rooms.items():
            for (code, _side), group in room.groups.items():
                if group.last_value is None or BY_CODE[code].episodic:
                    continue
                baseline = room.baseline.get(code)
                for i, rule in enumerate(group.rules):
                    state = group.states.setdefault(i, _RuleState())
                    if state.since is not None and not state.met and \
                            (now - state.since).total_seconds() >= rule.delay:
                        state.met = True
                events += self._settle(room_id, group, baseline, now)
            for code, since in list(room.invalid_since.items()):
                events += self._invalid_timer(room_id, room, code, since, now)
        return events

    def set_baseline(self, room: str, code: str, value: float) -> None:
        """Set a room's baseline for a vital explicitly (a dedicated baseline measurement)."""
        self._room(room).baseline[code] = value

    def reset_room(self, room: str, at: datetime) -> list[AlarmEvent]:
        """Forget a room's baselines and clear its alarms at ``at``: a new session begins."""
        events: list[AlarmEvent] = []
        state = self._rooms.pop(room, None)
        if state is None:
            return events
        for alarm in [g.alarm for g in state.groups.values()] + list(state.technical.values()):
            if alarm is not None:
                events.append(_event(alarm, Transition.CLEARED, at))
        return events

    # -- queries --------------------------------------------------------------------

    def active(self, room: str | None = None) -> list[Alarm]:
        """Active alarms, most urgent first."""
        alarms = [a for rid, r in self._rooms.items() if room in (None, rid)
                  for a in [g.alarm for g in r.groups.values()] + list(r.technical.values())
                  if a is not None]
        return sorted(alarms, key=lambda a: (-a.priority, a.since))

    def baseline(self, room: str) -> dict[str, float]:
        return dict(self._room(room).baseline)

    # -- internals ------------------------------------------------------------------

    def _room(self, room: str) -> _Room:
        return self._rooms.setdefault(room, _Room())

    def _groups(self, room_id: str, room: _Room, code: str) -> list[tuple[tuple[str, str], _Group]]:
        rules = self.profile.rules_for(code)
        for side in {r.side for r in rules}:
            if (code, side) not in room.groups:
                room.groups[(code, side)] = _Group(tuple(r for r in rules if r.side == side))
        return [(k, g) for k, g in room.groups.items() if k[0] == code]

    @staticmethod
    def _judge(state: _RuleState, rule: Rule, value: float, baseline: float | None,
               at: datetime) -> None:
        if rule.episodic:
            # A cuff measurement stands until the next one: judged once, no delay.
            state.met = rule.satisfied(value, baseline)
            state.since = at if state.met else None
            return
        if rule.satisfied(value, baseline):
            if state.since is None:
                state.since = at
            if (at - state.since).total_seconds() >= rule.delay:
                state.met = True
        elif not state.met or rule.cleared(value, baseline):
            state.since, state.met = None, False

    def _settle(self, room_id: str, group: _Group, baseline: float | None,
                at: datetime) -> list[AlarmEvent]:
        met = [(r, group.states[i]) for i, r in enumerate(group.rules)
               if i in group.states and group.states[i].met]
        alarm = group.alarm
        if not met:
            if alarm is None:
                return []
            group.alarm = None
            return [_event(alarm, Transition.CLEARED, at, value=group.last_value)]
        rule = max(met, key=lambda m: m[0].priority)[0]
        value = group.last_value if group.last_value is not None else rule.limit
        if alarm is None:
            group.alarm = Alarm(id=_new_id(), room=room_id, vital=rule.vital,
                                kind=Kind.PHYSIOLOGICAL, priority=rule.priority,
                                message=rule.message(value, baseline), since=at, value=value,
                                limit=rule.threshold(baseline))
            return [_event(group.alarm, Transition.RAISED, at)]
        if alarm.priority != rule.priority:
            group.alarm = replace(alarm, priority=rule.priority, value=value,
                                  message=rule.message(value, baseline),
                                  limit=rule.threshold(baseline))
            return [_event(group.alarm, Transition.PRIORITY_CHANGED, at)]
        if rule.episodic and value != alarm.value:
            # Each cuff measurement is news: the alarm text follows the newest value.
            group.alarm = replace(alarm, value=value, message=rule.message(value, baseline),
                                  limit=rule.threshold(baseline))
            return [_event(group.alarm, Transition.UPDATED, at)]
        return []

    def _invalid(self, room_id: str, room: _Room, code: str, at: datetime) -> list[AlarmEvent]:
        since = room.invalid_since.setdefault(code, at)
        return self._invalid_timer(room_id, room, code, since, at)

    def _invalid_timer(self, room_id: str, room: _Room, code: str, since: datetime,
                       now: datetime) -> list[AlarmEvent]:
        if (now - since).total_seconds() < self.profile.invalid_seconds:
            return []
        label = BY_CODE[code].label
        return self._raise_technical(room_id, room, f"invalid:{code}", code,
                                     f"{label} no valid signal (sensor off?)",
                                     self.profile.invalid_priority, now)

    def _valid_again(self, room_id: str, room: _Room, code: str, at: datetime) -> list[AlarmEvent]:
        room.invalid_since.pop(code, None)
        return self._clear_technical(room_id, room, f"invalid:{code}", at)

    @staticmethod
    def _raise_technical(room_id: str, room: _Room, key: str, vital: str, message: str,
                         priority: Priority, at: datetime) -> list[AlarmEvent]:
        current = room.technical.get(key)
        if current is not None and current.message == message:
            return []
        if current is not None:
            room.technical[key] = replace(current, message=message)
            return [_event(room.technical[key], Transition.PRIORITY_CHANGED, at)]
        room.technical[key] = Alarm(id=_new_id(), room=room_id, vital=vital, kind=Kind.TECHNICAL,
                                    priority=priority, message=message, since=at)
        return [_event(room.technical[key], Transition.RAISED, at)]

    @staticmethod
    def _clear_technical(room_id: str, room: _Room, key: str, at: datetime) -> list[AlarmEvent]:
        alarm = room.technical.pop(key, None)
        return [] if alarm is None else [_event(alarm, Transition.CLEARED, at)]


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


def _event(alarm: Alarm, transition: Transition, at: datetime,
           value: float | None = None) -> AlarmEvent:
    return AlarmEvent(alarm_id=alarm.id, room=alarm.room, vital=alarm.vital, kind=alarm.kind,
                      priority=alarm.priority, transition=transition, message=alarm.message,
                      at=at, value=alarm.value if value is None else value, limit=alarm.limit)
