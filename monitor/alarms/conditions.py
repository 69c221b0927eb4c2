"""Alarm conditions: whether each rule has held for its delay (with hysteresis), and the
technical conditions (no valid signal, bursts of data errors); no alarms, no events here."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.alarms.lifecycle import Finding
from monitor.alarms.log import SERIAL
from monitor.alarms.model import Kind, Priority
from monitor.alarms.rules import Profile, Rule
from monitor.vitals import BY_CODE


@dataclass(slots=True)
class RuleState:
    since: datetime | None = None  # when the condition began to hold
    met: bool = False  # held for its delay, and not yet cleared past the hysteresis


@dataclass(slots=True)
class Group:
    """The rules of one (vital, side) of one room: together they make at most one alarm."""

    rules: tuple[Rule, ...]
    states: list[RuleState] = field(default_factory=list)
    last_value: float | None = None
    last_at: datetime | None = None
    # Set when the slot already holds an alarm this engine did not judge into being (restored
    # from the log, or kept across a change of limits): its condition was holding, so the
    # first value that still meets a rule continues it instead of restarting the delay.
    adopting: Priority | None = None

    def __post_init__(self) -> None:
        if not self.states:
            self.states = [RuleState() for _ in self.rules]

    @property
    def episodic(self) -> bool:
        return bool(self.rules) and self.rules[0].episodic

    def judge(self, value: float, baseline: float | None, at: datetime) -> None:
        """Take a valid value at ``at`` into every rule's state."""
        self.last_value, self.last_at = value, at
        adopting, self.adopting = self.adopting, None
        for rule, state in zip(self.rules, self.states, strict=True):
            if adopting is not None and not rule.episodic \
                    and _still_held(rule, value, baseline, adopting):
                state.since, state.met = at, True
            else:
                _judge(state, rule, value, baseline, at)

    def interrupt(self) -> None:
        """No valid value: a condition cannot be said to hold through it, so pending delays
        start again when valid values return (met ones stand until a value clears them)."""
        for state in self.states:
            if not state.met:
                state.since = None

    def complete_delays(self, now: datetime) -> None:
        """Delays that ran out with no new reading: the value stands until the next one, but
        only while it is fresh (a stale value cannot be said to hold a condition)."""
        if self.last_value is None or self.last_at is None or self.episodic:
            return
        if (now - self.last_at).total_seconds() > BY_CODE[self.rules[0].vital].fresh_seconds:
            return
        for rule, state in zip(self.rules, self.states, strict=True):
            if state.since is not None and not state.met and \
                    (now - state.since).total_seconds() >= rule.delay:
                state.met = True

    def finding(self, baseline: float | None) -> Finding | None:
        """The alarm the met rules make: the worst one's priority and text, or none."""
        met = [r for r, s in zip(self.rules, self.states, strict=True) if s.met]
        if not met:
            return None
        rule = max(met, key=lambda r: r.priority)
        value = self.last_value if self.last_value is not None else rule.limit
        return Finding(rule.vital, Kind.PHYSIOLOGICAL, rule.priority,
                       rule.message(value, baseline), value, rule.threshold(baseline))


def _judge(state: RuleState, rule: Rule, value: float, baseline: float | None,
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


def _still_held(rule: Rule, value: float, baseline: float | None, priority: Priority) -> bool:
    # Only rules no more urgent than the alarm already was are taken as held (inside their
    # hysteresis band too); a more urgent one must still hold for its own delay.
    if rule.priority > priority:
        return False
    return rule.satisfied(value, baseline) or not rule.cleared(value, baseline)


def groups_for(rules: tuple[Rule, ...], code: str) -> dict[str, Group]:
    """One group per side of a vital that has rules, keyed by slot ("hr:high")."""
    mine = [r for r in rules if r.vital == code]
    return {f"{code}:{side}": Group(tuple(r for r in mine if r.side == side))
            for side in dict.fromkeys(r.side for r in mine)}


def invalid_finding(code: str, since: datetime, now: datetime,
                    profile: Profile) -> Finding | None:
    """A vital reported invalid (probe off) for the profile's time is a technical alarm."""
    if (now - since).total_seconds() < profile.invalid_seconds:
        return None
    return Finding(code, Kind.TECHNICAL, profile.invalid_priority,
                   f"{BY_CODE[code].label} no valid signal (sensor off?)")


@dataclass(slots=True)
class DataErrors:
    """Checksum errors of one room's devices over a sliding window."""

    totals: dict[str, int] = field(default_factory=dict)  # device -> last total reported
    recent: deque[tuple[datetime, int]] = field(default_factory=deque)
    last_error: datetime | None = None

    def add(self, device: str, total: int, at: datetime) -> None:
        before = self.totals.get(device, 0)
        # A smaller total means the adapter started again from 0: all of it is new.
        new = total - before if total >= before else total
        self.totals[device] = total
        if new > 0:
            self.recent.append((at, new))
            self.last_error = at

    def finding(self, now: datetime, profile: Profile, active: bool) -> Finding | None:
        """A burst raises the alarm; it ends after a whole window with no error at all."""
        window = timedelta(seconds=profile.errors_seconds)
        while self.recent and now - self.recent[0][0] > window:
            self.recent.popleft()
        if active:
            if self.last_error is None:
                self.last_error = now  # restored from the log: give the line a window
            if now - self.last_error <= window:
                return _errors(profile)
            return None
        if sum(n for _, n in self.recent) >= profile.errors_count:
            return _errors(profile)
        return None


def _errors(profile: Profile) -> Finding:
    return Finding(SERIAL, Kind.TECHNICAL, profile.errors_priority,
                   "Room monitor: data errors on the serial line")
