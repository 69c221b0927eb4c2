"""Sessions as a clinic runs them: start, events, end and discharge, and their reminders.

The rules themselves (phases, which BP check is due, the discharge check) are pure functions
in ``monitor.session_rules``; this module stores sessions and runs those rules on the bus."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine, insert, select, update

from monitor.alarms.model import Alarm, AlarmEvent, Kind, Priority, Transition
from monitor.clock import Clock
from monitor.errors import IvmonError
from monitor.history import (
    NibpMeasurement,
    SessionInfo,
    get_session,
    nibp_measurements,
    session_events,
    session_info,
)
from monitor.messages import SessionEnded, SessionStarted, Tick
from monitor.reading import Reading
from monitor.session_rules import (
    DONE_MESSAGES,
    PROTOCOLS,
    DischargeCheck,
    SessionStatus,
    Timeline,
    judge_discharge,
    observation_title,
    parse_bp,
    reminders,
)
from monitor.storage.schema import ReadingRow, SessionEventRow, SessionRow, from_ms, to_ms

EVENT_KINDS = ("infusion_started", "infusion_stopped", "rate_changed", "bp_check",
               "intervention", "note", "dose_given")
# Written by the manager itself, so the timeline shows the whole story.
SYSTEM_KINDS = ("session_started", "session_ended", "discharged")
REFRESH_SECONDS = 10.0  # how often sessions changed by another process (the CLI) are read


class SessionError(IvmonError):
    """A session command that cannot be carried out (unknown session, busy room, bad kind)."""


class SessionManager:
    """Runs sessions: writes them and their events, and as a bus listener raises reminders.

    ``on_room_session(room, session_id or None)`` is told whenever a room's open session
    changes, so the recorder can tag readings (``Recorder.set_session``).
    """

    def __init__(self, db_engine: Engine, publish: Callable[[object], None], clock: Clock, *,
                 on_room_session: Callable[[str, int | None], None] | None = None) -> None:
        self._db = db_engine
        self._publish = publish
        self._clock = clock
        self._on_room = on_room_session or (lambda room, sid: None)
        self._lock = threading.RLock()
        self._live: dict[int, Timeline] = {}
        self._last_refresh: datetime | None = None
        self.refresh()

    # -- commands ---------------------------------------------------------------------

    def start(self, room: str, label: str, *, mrn: str | None = None,
              protocol: str = "iv-ketamine", weight_kg: float | None = None,
              dose_mg_per_kg: float | None = None, duration_min: float | None = None,
              profile: str = "iv-ketamine", user: str = "", at: datetime | None = None,
              source: str = "live") -> int:
        """Open a session in ``room`` and return its id; the room must have none open."""
        if protocol not in PROTOCOLS:
            raise SessionError(f"Unknown protocol {protocol!r}; expected one of "
                               f"{', '.join(PROTOCOLS)}.")
        at = at or self._clock.now()
        with self._lock:
            self.refresh()
            busy = self.active(room)
            if busy is not None:
                raise SessionError(f"Room {room} already has session {busy.id} open; end it "
                                   f"first.")
            with self._db.begin() as conn:
                session_id = int(conn.execute(insert(SessionRow).values(
                    room=room, label=label, protocol=protocol, profile=profile,
                    started_ms=to_ms(at), mrn=mrn or None, weight_kg=weight_kg,
                    dose_mg_per_kg=dose_mg_per_kg, duration_min=duration_min,
                    started_by=user, source=source)).inserted_primary_key[0])
            self._write_event(session_id, "session_started", f"{protocol} in {room}", user, at)
            self._load(session_id)
        self._on_room(room, session_id)
        self._publish(SessionStarted(room, session_id, at, label))
        return session_id

    def event(self, session_id: int, kind: str, detail: str = "", user: str = "",
              at: datetime | None = None) -> int:
        """Record an event with who and when; a ``bp_check`` may carry "128/84" in detail."""
        if kind not in EVENT_KINDS:
            raise SessionError(f"Unknown event {kind!r}; expected one of "
                               f"{', '.join(EVENT_KINDS)}.")
        at = at or self._clock.now()
        with self._lock:
            live = self._open(session_id)
            event_id = self._write_event(session_id, kind, detail, user, at)
            self._apply_event(live, event_id, kind, detail, at)
            self._evaluate(live, self._clock.now())
        return event_id

    def set_baseline(self, session_id: int, sys: float, dia: float, user: str = "") -> None:
        """Record the patient's baseline BP (the first BP before dosing sets it otherwise)."""
        with self._lock:
            live = self._open(session_id)
            self._store_baseline(live, sys, dia)
            self._write_event(session_id, "note", f"baseline BP {sys:g}/{dia:g}", user,
                              self._clock.now())

    def end(self, session_id: int, user: str, at: datetime | None = None) -> None:
        """Close a session without a discharge (the room becomes free)."""
        at = at or self._clock.now()
        with self._lock:
            live = self._open(session_id)
            with self._db.begin() as conn:
                conn.execute(update(SessionRow).where(SessionRow.id == session_id)
                             .values(ended_ms=to_ms(at)))
            self._write_event(session_id, "session_ended", "", user, at)
            self._close(live, at)

    def check_discharge(self, session_id: int, at: datetime | None = None) -> DischargeCheck:
        """Judge observation time and vitals now (or at ``at``); records nothing."""
        at = at or self._clock.now()
        with self._lock:
            live = self._live.get(session_id) or self._snapshot(session_id)
            return judge_discharge(live, at)

    def discharge(self, session_id: int, user: str, *, override: str | None = None,
                  at: datetime | None = None) -> DischargeCheck:
        """Discharge when the check passes, or with ``override`` (the clinician's reason);
        the returned check says whether it was recorded (``discharged``)."""
        at = at or self._clock.now()
        with self._lock:
            live = self._open(session_id)
            check = judge_discharge(live, at)
            if not check.ok and not override:
                return check
            detail = "; ".join(check.reasons)
            if not check.ok:
                detail = f"override: {override} (not met: {detail})"
            with self._db.begin() as conn:
                conn.execute(update(SessionRow).where(SessionRow.id == session_id)
                             .values(discharged_ms=to_ms(at), ended_ms=to_ms(at)))
            self._write_event(session_id, "discharged", detail, user, at)
            self._close(live, at)
        return replace(check, discharged=True)

    # -- questions --------------------------------------------------------------------

    def active(self, room: str) -> SessionInfo | None:
        """The room's open session, if any."""
        with self._lock:
            for live in self._live.values():
                if live.info.room == room:
                    return live.info
        return None

    def active_sessions(self) -> dict[str, SessionInfo]:
        with self._lock:
            return {live.info.room: live.info for live in self._live.values()}

    def status(self, session_id: int, at: datetime | None = None) -> SessionStatus:
        """Phase and elapsed time of any session, open or past."""
        at = at or self._clock.now()
        with self._lock:
            live = self._live.get(session_id) or self._snapshot(session_id)
        end = live.info.discharged or live.info.ended or at
        observe = live.observation_started
        left = None
        if observe is not None and live.phase() == "observation":
            left = max(0.0, (observe + live.rules.observation - at).total_seconds())
        return SessionStatus(live.info, live.phase(), (end - live.info.started).total_seconds(),
                             live.dosed, live.infusion_ended, observe, left)

    # -- the bus listener -------------------------------------------------------------

    def on_message(self, message: object, bus: object = None) -> None:
        """Readings feed BP checks and the discharge check; ticks raise and clear reminders."""
        if isinstance(message, Reading):
            if message.usable and math.isfinite(message.value):
                self._reading(message)
        elif isinstance(message, Tick):
            with self._lock:
                if (self._last_refresh is None or (message.at - self._last_refresh)
                        .total_seconds() >= REFRESH_SECONDS):
                    self.refresh(message.at)
                for live in list(self._live.values()):
                    self._evaluate(live, message.at)

    def _reading(self, reading: Reading) -> None:
        with self._lock:
            live = next((s for s in self._live.values() if s.info.room == reading.room), None)
            if live is None:
                return
            live.latest[reading.code] = (reading.value, reading.received)
            if reading.code not in ("nibp_sys", "nibp_dia", "nibp_mean"):
                return
            last = live.bp[-1] if live.bp else None
            # One cuff cycle arrives as three readings: fill the same measurement.
            if last is not None and abs((reading.received - last.at).total_seconds()) < 10 \
                    and getattr(last, reading.code.removeprefix("nibp_")) is None:
                values = {"sys": last.sys, "dia": last.dia, "mean": last.mean,
                          reading.code.removeprefix("nibp_"): reading.value}
                live.bp[-1] = NibpMeasurement(last.at, **values)
            else:
                values = {"sys": None, "dia": None, "mean": None,
                          reading.code.removeprefix("nibp_"): reading.value}
                live.bp.append(NibpMeasurement(reading.received, **values))
            m = live.bp[-1]
            if live.info.baseline_sys is None and live.dosed is None and m.sys and m.dia:
                self._store_baseline(live, m.sys, m.dia)

    # -- state ------------------------------------------------------------------------

    def refresh(self, now: datetime | None = None) -> None:
        """Read open sessions and new events from the database (another process's too)."""
        self._last_refresh = now or self._clock.now()
        with self._lock, self._db.connect() as conn:
            rows = conn.execute(select(SessionRow.__table__).where(
                SessionRow.ended_ms.is_(None), SessionRow.discharged_ms.is_(None))).all()
            open_ids = {row.id for row in rows}
            for sid in [s for s in self._live if s not in open_ids]:
                info = get_session(self._db, sid)
                self._close(self._live[sid], (info and (info.discharged or info.ended))
                            or self._last_refresh)
            for row in rows:
                if row.id not in self._live:
                    self._live[row.id] = self._snapshot(row.id, session_info(row))
                    self._on_room(row.room, row.id)
            if not self._live:
                return
            # A few dozen events per open session: reading them all again is cheap and
            # never misses one committed out of id order by another process.
            new = conn.execute(select(SessionEventRow.__table__).where(
                SessionEventRow.session_id.in_(list(self._live)))
                .order_by(SessionEventRow.id)).all()
        for ev in new:
            live = self._live.get(ev.session_id)
            if live is not None and ev.id not in live.seen_events:
                self._apply_event(live, ev.id, ev.kind, ev.detail or "", from_ms(ev.at_ms))

    def _snapshot(self, session_id: int, info: SessionInfo | None = None) -> Timeline:
        info = info or get_session(self._db, session_id)
        if info is None:
            raise SessionError(f"There is no session {session_id}.")
        live = Timeline(info, PROTOCOLS.get(info.protocol, PROTOCOLS["iv-ketamine"]))
        live.bp = nibp_measurements(self._db, session_id)
        for ev in session_events(self._db, session_id):
            self._apply_event(live, ev.id, ev.kind, ev.detail, ev.at)
        with self._db.connect() as conn:
            for code in ("hr", "pr", "spo2"):
                row = conn.execute(select(ReadingRow.received_ms, ReadingRow.value).where(
                    ReadingRow.session_id == session_id, ReadingRow.code == code,
                    ReadingRow.value.is_not(None)).order_by(ReadingRow.received_ms.desc())
                    .limit(1)).first()
                if row is not None:
                    live.latest[code] = (float(row[1]), from_ms(row[0]))
        return live

    def _load(self, session_id: int) -> Timeline:
        live = self._snapshot(session_id)
        self._live[session_id] = live
        return live

    def _open(self, session_id: int) -> Timeline:
        live = self._live.get(session_id)
        if live is None:
            self.refresh()
            live = self._live.get(session_id)
        if live is None:
            info = get_session(self._db, session_id)
            raise SessionError(f"There is no session {session_id}." if info is None else
                               f"Session {session_id} has ended.")
        return live

    def _apply_event(self, live: Timeline, event_id: int, kind: str, detail: str,
                     at: datetime) -> None:
        live.seen_events.add(event_id)
        live.events.append((at, kind))
        if kind == "bp_check":
            sys, dia = parse_bp(detail) or (None, None)
            live.bp.append(NibpMeasurement(at, sys, dia, None))
            live.bp.sort(key=lambda m: m.at)
            if sys and dia and live.info.baseline_sys is None and live.dosed is None:
                self._store_baseline(live, sys, dia)

    def _store_baseline(self, live: Timeline, sys: float, dia: float) -> None:
        with self._db.begin() as conn:
            conn.execute(update(SessionRow).where(SessionRow.id == live.info.id)
                         .values(baseline_sys=sys, baseline_dia=dia))
        live.info = replace(live.info, baseline_sys=sys, baseline_dia=dia)

    def _write_event(self, session_id: int, kind: str, detail: str, user: str,
                     at: datetime) -> int:
        with self._db.begin() as conn:
            return int(conn.execute(insert(SessionEventRow).values(
                session_id=session_id, at_ms=to_ms(at), kind=kind, detail=detail,
                by_user=user)).inserted_primary_key[0])

    def _close(self, live: Timeline, at: datetime) -> None:
        """Clear the session's reminders and forget it: its room is free."""
        for name in list(live.raised):
            self._emit(live, name, Transition.CLEARED, "Session ended", at)
        self._live.pop(live.info.id, None)
        self._on_room(live.info.room, None)
        self._publish(SessionEnded(live.info.room, live.info.id, at))

    def _evaluate(self, live: Timeline, now: datetime) -> None:
        for name, due in reminders(live, now).items():
            shown = live.raised.get(name)
            if due is not None and shown is None:
                self._emit(live, name, Transition.RAISED, due, now)
            elif due is not None and shown != due:
                self._emit(live, name, Transition.UPDATED, due, now)
            elif due is None and shown is not None:
                done = DONE_MESSAGES.get(name, f"{shown}: done")
                if name == "observation":
                    done = f"{observation_title(live.rules)}: done"
                self._emit(live, name, Transition.CLEARED, done, now)

    def restore_reminders(self, alarms: Iterable[Alarm]) -> int:
        """Reminders the alarm log says are showing (after a restart) are not raised again."""
        count = 0
        with self._lock:
            for alarm in alarms:
                if alarm.kind is not Kind.REMINDER or not alarm.id.startswith("rem"):
                    continue
                session, _, name = alarm.id[3:].partition("-")
                live = self._live.get(int(session)) if session.isdigit() else None
                if live is not None and name:
                    live.raised[name] = alarm.message
                    count += 1
        return count

    def _emit(self, live: Timeline, name: str, transition: Transition, message: str,
              at: datetime) -> None:
        if transition is Transition.CLEARED:
            live.raised.pop(name, None)
        else:
            live.raised[name] = message
        self._publish(AlarmEvent(
            alarm_id=f"rem{live.info.id}-{name}", room=live.info.room,
            vital="session" if name == "observation" else "nibp_sys", kind=Kind.REMINDER,
            priority=Priority.LOW, transition=transition, message=message, at=at))


