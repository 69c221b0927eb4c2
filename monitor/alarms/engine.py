"""The alarm engine: readings, device status and user actions in, alarm events out; pure and
clock-free.

Rules on the same vital and side (high or low) make one alarm whose priority is that of the
worst rule met, so "HR > 130" turning into "HR > 150" is one alarm changing priority, not two.
Conditions (``conditions``) say what each slot's alarm should be; the lifecycle
(``lifecycle``) turns that into events; the book (``log``) is changed only by those events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from monitor.alarms import lifecycle
from monitor.alarms.conditions import DataErrors, Group, groups_for, invalid_finding
from monitor.alarms.lifecycle import Finding
from monitor.alarms.log import DEVICE, SERIAL, AlarmBook, AudioPause
from monitor.alarms.model import Alarm, AlarmEvent, Kind, Transition
from monitor.alarms.rules import Profile, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.errors import AlarmRulesError
from monitor.messages import DeviceErrors, DeviceStatus, LinkState
from monitor.reading import Reading
from monitor.vitals import BY_CODE

__all__ = ["CONDITIONS_ONLY", "DEVICE", "SERIAL", "AlarmEngine"]

# An engine built without the clinic's settings judges conditions only: nothing latches, so
# an alarm ends when its condition does (what `alarms simulate` and what-if want to count).
CONDITIONS_ONLY = AlarmSettings(latching_high=False)


@dataclass(slots=True)
class _Room:
    profile: Profile
    groups: dict[str, Group] = field(default_factory=dict)  # slot ("hr:high") -> group
    baseline: dict[str, float] = field(default_factory=dict)
    invalid_since: dict[str, datetime] = field(default_factory=dict)
    errors: DataErrors = field(default_factory=DataErrors)
    override: tuple[Rule, ...] | None = None  # a nurse's limits for this session
    session_id: int | None = None


class AlarmEngine:
    """Turns readings, device status and user actions into alarm events, by a profile's rules.

    The engine holds no clock: every decision is made at the time a message carries, so a
    session replays bit for bit and tests run a 40-minute session in milliseconds.
    """

    def __init__(self, profile: Profile, settings: AlarmSettings | None = None,
                 book: AlarmBook | None = None) -> None:
        self.profile = profile
        self.settings = settings or CONDITIONS_ONLY
        self.book = book or AlarmBook()
        self._rooms: dict[str, _Room] = {}

    # -- what the monitors say --------------------------------------------------------

    def on_reading(self, reading: Reading) -> list[AlarmEvent]:
        rid, code, at = reading.room, reading.code, reading.received
        room = self._room(rid)
        groups = self._groups(rid, room, code)
        if not reading.usable:
            for group in groups.values():
                group.interrupt()
            since = room.invalid_since.setdefault(code, at)
            return self._settle(rid, f"invalid:{code}",
                                invalid_finding(code, since, at, room.profile), at)
        room.invalid_since.pop(code, None)
        events = self._settle(rid, f"invalid:{code}", None, at)
        if BY_CODE[code].episodic and code not in room.baseline:
            # The session's first cuff measurement is its baseline (CLINICAL.md).
            room.baseline[code] = reading.value
        baseline = room.baseline.get(code)
        for slot, group in groups.items():
            group.judge(reading.value, baseline, at)
            events += self._settle(rid, slot, group.finding(baseline), at, news=group.episodic,
                                   last_value=reading.value)
        return events + self._orphans(rid, room, code, at, reading.value)

    def on_status(self, status: DeviceStatus) -> list[AlarmEvent]:
        room = self._room(status.room)
        if status.state in (LinkState.SILENT, LinkState.LOST):
            message = status.detail or (
                f"No data from the monitor for {room.profile.silence_seconds:g} s")
            finding = Finding(DEVICE, Kind.TECHNICAL, room.profile.silence_priority, message)
            return self._settle(status.room, DEVICE, finding, status.at, news=True)
        if status.state is LinkState.OK:
            return self._settle(status.room, DEVICE, None, status.at)
        return []

    def on_errors(self, errors: DeviceErrors) -> list[AlarmEvent]:
        room = self._room(errors.room)
        room.errors.add(errors.device, errors.checksum_errors_total, errors.at)
        return self._errors(errors.room, room, errors.at)

    def tick(self, now: datetime) -> list[AlarmEvent]:
        """What time alone brings: delays and timers running out, escalations, reminders."""
        events: list[AlarmEvent] = []
        for rid in sorted(set(self._rooms) | self.book.rooms()):
            room = self._room(rid)
            for slot, group in room.groups.items():
                if group.last_value is None:
                    continue  # never judged: nothing can have held
                group.complete_delays(now)
                events += self._settle(rid, slot, group.finding(room.baseline.get(
                    group.rules[0].vital)), now, last_value=group.last_value)
            for code, since in list(room.invalid_since.items()):
                events += self._settle(rid, f"invalid:{code}",
                                       invalid_finding(code, since, now, room.profile), now)
            events += self._errors(rid, room, now)
        return events + self._apply(lifecycle.due(self.book, now, self.settings))

    # -- what users do -----------------------------------------------------------------

    def acknowledge(self, alarm_id: str, user: str, at: datetime,
                    note: str | None = None) -> list[AlarmEvent]:
        """Acknowledge an active alarm; raise AlarmNotFound for an unknown or ended one."""
        return self._apply(lifecycle.acknowledge(self.book, alarm_id, user, at, note))

    def pause_audio(self, room: str, user: str, at: datetime,
                    seconds: float | None = None) -> list[AlarmEvent]:
        """Pause a room's audio for ``seconds`` (the clinic's pause when None)."""
        seconds = self.settings.audio_pause_seconds if seconds is None else seconds
        if not 0 < seconds <= 600:
            raise AlarmRulesError([f"An audio pause of {seconds:g} s must be more than 0 and "
                                   f"at most 600 s."])
        return self._apply(lifecycle.pause_audio(self.book, room, user, at, seconds))

    def set_rules(self, room: str, rules: tuple[Rule, ...] | None, at: datetime,
                  session_id: int | None = None) -> list[AlarmEvent]:
        """Give one room a nurse's rules for the vitals they cover (None: the profile's again).

        The room's alarms are judged again at once on their last values under the new limits.
        """
        state = self._room(room)
        old = {r.vital for r in state.override or ()}
        state.override = rules or None
        if session_id is not None:
            state.session_id = session_id
        state.profile = self.profile.with_rules(rules) if rules else self.profile
        return self._regroup(room, state, old | {r.vital for r in rules or ()}, at)

    def on_session(self, room: str, session_id: int, at: datetime) -> list[AlarmEvent]:
        """A session began: a nurse's limits for the one before no longer apply."""
        state = self._room(room)
        if state.session_id == session_id:
            return []
        state.session_id = session_id
        return self.set_rules(room, None, at) if state.override else []

    def set_profile(self, profile: Profile, at: datetime) -> list[AlarmEvent]:
        """Use a new clinic profile (an admin's edit) in every room, keeping session limits."""
        self.profile = profile
        events: list[AlarmEvent] = []
        for rid, room in self._rooms.items():
            room.profile = profile.with_rules(room.override) if room.override else profile
            codes = {slot.split(":")[0] for slot in room.groups}
            events += self._regroup(rid, room, codes | {r.vital for r in profile.rules}, at)
        return events

    def restore(self, book: AlarmBook) -> None:
        """Carry on from a book replayed from the log (after a restart or a crash)."""
        self.book = book

    def set_baseline(self, room: str, code: str, value: float) -> None:
        """Set a room's baseline for a vital explicitly (a dedicated baseline measurement)."""
        self._room(room).baseline[code] = value

    def reset_room(self, room: str, at: datetime) -> list[AlarmEvent]:
        """Forget a room's baselines and clear its alarms (latched too): a new session."""
        self._rooms.pop(room, None)
        return self._apply([lifecycle.event(e.alarm, Transition.CLEARED, at)
                            for e in self.book.entries(room)])

    # -- queries --------------------------------------------------------------------

    def active(self, room: str | None = None) -> list[Alarm]:
        """Active alarms (latched ones too), most urgent first."""
        return self.book.active(room)

    def audio(self, room: str) -> AudioPause | None:
        """The room's audio pause, if one is running."""
        return self.book.audio(room)

    def baseline(self, room: str) -> dict[str, float]:
        return dict(self._room(room).baseline)

    def profile_for(self, room: str) -> Profile:
        """The rules that judge one room now: the profile with any session limits."""
        return self._room(room).profile

    # -- internals ------------------------------------------------------------------

    def _room(self, room: str) -> _Room:
        state = self._rooms.get(room)
        if state is None:
            state = self._rooms[room] = _Room(self.profile)
        return state

    def _groups(self, rid: str, room: _Room, code: str) -> dict[str, Group]:
        mine = {s: g for s, g in room.groups.items() if s.startswith(f"{code}:")}
        if not mine:
            mine = groups_for(room.profile.rules, code)
            for slot, group in mine.items():
                held = self.book.in_slot(rid, slot)
                if held is not None and not held.alarm.latched:
                    group.adopting = held.alarm.priority
            room.groups.update(mine)
        return mine

    def _regroup(self, rid: str, room: _Room, codes: set[str], at: datetime) -> list[AlarmEvent]:
        events: list[AlarmEvent] = []
        for code in sorted(codes):
            old = {s: g for s, g in room.groups.items() if s.startswith(f"{code}:")}
            for slot in old:
                del room.groups[slot]
            last = next((g.last_value for g in old.values() if g.last_value is not None), None)
            groups = self._groups(rid, room, code)
            if last is None:
                continue
            baseline = room.baseline.get(code)
            for slot, group in groups.items():
                group.judge(last, baseline, at)
                events += self._settle(rid, slot, group.finding(baseline), at, news=True,
                                       last_value=last)
            events += self._orphans(rid, room, code, at, last)
        return events

    def _orphans(self, rid: str, room: _Room, code: str, at: datetime,
                 value: float) -> list[AlarmEvent]:
        # An alarm on a side that no rule covers any more (limits changed, or restored from a
        # log written under other rules) has no condition left to hold it.
        events: list[AlarmEvent] = []
        for slot in (f"{code}:high", f"{code}:low"):
            if slot not in room.groups and self.book.in_slot(rid, slot) is not None:
                events += self._settle(rid, slot, None, at, last_value=value)
        return events

    def _errors(self, rid: str, room: _Room, at: datetime) -> list[AlarmEvent]:
        active = self.book.in_slot(rid, SERIAL) is not None
        if not active and not room.errors.recent:
            return []
        return self._settle(rid, SERIAL, room.errors.finding(at, room.profile, active), at)

    def _settle(self, rid: str, slot: str, finding: Finding | None, at: datetime, *,
                news: bool = False, last_value: float | None = None) -> list[AlarmEvent]:
        return self._apply(lifecycle.settle(self.book, rid, slot, finding, at,
                                            latching=self.settings.latching_high, news=news,
                                            last_value=last_value))

    def _apply(self, events: list[AlarmEvent]) -> list[AlarmEvent]:
        """Enter events in the book, each followed by the audio break-through it causes."""
        done: list[AlarmEvent] = []
        for event in events:
            self.book.apply(event)
            done.append(event)
            for resumed in lifecycle.break_through(self.book, event):
                self.book.apply(resumed)
                done.append(resumed)
        return done
