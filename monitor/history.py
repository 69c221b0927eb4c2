"""Reading past sessions back: find them, downsample their vitals, fold their alarm log."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, and_, case, func, or_, select, tuple_

from monitor.alarms.model import Kind, Transition
from monitor.storage.schema import (
    AlarmEventRow,
    ReadingRow,
    SessionEventRow,
    SessionRow,
    from_ms,
    to_ms,
)
from monitor.vitals import BY_CODE, NIBP_CODES, VITALS

R = ReadingRow.__table__.c
A = AlarmEventRow.__table__.c
S = SessionRow.__table__.c
E = SessionEventRow.__table__.c

NIBP_GROUP_MS = 10_000  # systolic, diastolic and mean of one cuff cycle arrive within this
_ENDS = (str(Transition.CLEARED), str(Transition.LATCHED_CLEARED))


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """A session's facts as stored: who (a label, MRN optional), where, what, when."""

    id: int
    room: str
    label: str
    protocol: str
    profile: str
    started: datetime
    ended: datetime | None = None
    discharged: datetime | None = None
    mrn: str | None = None
    weight_kg: float | None = None
    dose_mg_per_kg: float | None = None
    duration_min: float | None = None
    baseline_sys: float | None = None
    baseline_dia: float | None = None
    started_by: str = ""
    source: str = "live"

    @property
    def dose_mg(self) -> float | None:
        """The planned total dose, when weight and dose per kg are both known."""
        if self.weight_kg is None or self.dose_mg_per_kg is None:
            return None
        return round(self.weight_kg * self.dose_mg_per_kg, 1)


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A row of the find-a-session list: the session and how eventful it was."""

    session: SessionInfo
    alarms: int  # physiological and technical alarms raised (reminders not counted)
    high_alarms: int
    events: int


@dataclass(frozen=True, slots=True)
class SessionEvent:
    """Something staff recorded in a session, with who and when."""

    id: int
    session_id: int
    at: datetime
    kind: str
    detail: str
    by_user: str


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    at: datetime
    by_user: str
    note: str | None = None


@dataclass(slots=True)
class AlarmSpan:
    """One alarm from raised to cleared, as the replay timeline draws it."""

    alarm_id: str
    room: str
    vital: str
    kind: str
    priority: str  # the highest it reached: high, medium or low
    message: str  # the text when raised; ``last_message`` follows updates
    raised: datetime
    cleared: datetime | None = None  # None: still active when the log ends
    last_message: str = ""
    peak_value: float | None = None
    limit: float | None = None
    acknowledgements: list[Acknowledgement] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Series:
    """One vital over a time range, min and max per bucket so a short peak still shows.

    With ``raw`` the lists are the readings themselves (lo == hi == mean); a cuff's
    measurements are never bucketed, nor a range with fewer readings than buckets.
    """

    code: str
    times_ms: list[int]  # bucket start (or the reading's time when raw)
    lo: list[float]
    hi: list[float]
    mean: list[float]
    count: list[int]
    raw: bool


@dataclass(frozen=True, slots=True)
class NibpMeasurement:
    """One cuff cycle: systolic, diastolic and mean as they arrived together."""

    at: datetime
    sys: float | None
    dia: float | None
    mean: float | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a room's tile showed at one moment of a replay: last values, ages, alarms."""

    at: datetime
    values: dict[str, tuple[float, datetime]]  # code -> (value, when measured)
    stale: frozenset[str]  # codes whose value was too old to be shown as current
    alarms: list[AlarmSpan]  # active at ``at``


def session_info(row: object) -> SessionInfo:
    """Build a SessionInfo from a ``sessions`` row."""
    r = row._mapping  # type: ignore[attr-defined]
    return SessionInfo(
        id=r["id"], room=r["room"], label=r["label"] or "", protocol=r["protocol"] or "",
        profile=r["profile"] or "", started=from_ms(r["started_ms"]),
        ended=from_ms(r["ended_ms"]) if r["ended_ms"] is not None else None,
        discharged=from_ms(r["discharged_ms"]) if r["discharged_ms"] is not None else None,
        mrn=r["mrn"], weight_kg=r["weight_kg"], dose_mg_per_kg=r["dose_mg_per_kg"],
        duration_min=r["duration_min"], baseline_sys=r["baseline_sys"],
        baseline_dia=r["baseline_dia"], started_by=r["started_by"] or "",
        source=r["source"] or "")


def get_session(engine: Engine, session_id: int) -> SessionInfo | None:
    with engine.connect() as conn:
        row = conn.execute(select(SessionRow.__table__).where(S.id == session_id)).first()
    return session_info(row) if row is not None else None


def find_sessions(engine: Engine, *, room: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, label: str | None = None,
                  with_alarms: bool | None = None, limit: int = 200) -> list[SessionSummary]:
    """Sessions started in [since, until), newest first, with their alarm and event counts.

    ``label`` matches a substring of the patient label, ignoring case; ``with_alarms`` True
    keeps sessions that raised at least one alarm, False those that raised none.
    """
    raised = A.transition == str(Transition.RAISED)
    not_reminder = A.kind != str(Kind.REMINDER)
    # The alarm log is small next to the readings: counting it per session is a quick scan.
    alarms = (select(A.session_id.label("sid"),
                     func.count().label("n"),
                     func.sum(case((A.priority == "high", 1), else_=0)).label("high"))
              .where(raised, not_reminder, A.session_id.is_not(None))
              .group_by(A.session_id).subquery())
    events = (select(E.session_id.label("sid"), func.count().label("n"))
              .group_by(E.session_id).subquery())
    query = (select(SessionRow.__table__, func.coalesce(alarms.c.n, 0).label("alarm_count"),
                    func.coalesce(alarms.c.high, 0).label("high_count"),
                    func.coalesce(events.c.n, 0).label("event_count"))
             .outerjoin(alarms, alarms.c.sid == S.id)
             .outerjoin(events, events.c.sid == S.id)
             .order_by(S.started_ms.desc(), S.id.desc()).limit(limit))
    if room:
        query = query.where(S.room == room)
    if since is not None:
        query = query.where(S.started_ms >= to_ms(since))
    if until is not None:
        query = query.where(S.started_ms < to_ms(until))
    if label:
        query = query.where(func.lower(S.label).contains(label.lower(), autoescape=True))
    if with_alarms is True:
        query = query.where(func.coalesce(alarms.c.n, 0) > 0)
    elif with_alarms is False:
        query = query.where(func.coalesce(alarms.c.n, 0) == 0)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [SessionSummary(session_info(r), int(r.alarm_count), int(r.high_count),
                           int(r.event_count)) for r in rows]


def session_span(info: SessionInfo, engine: Engine | None = None) -> tuple[int, int]:
    """The session's time range in ms: start to end, or to its last reading while open."""
    start = to_ms(info.started)
    end = info.discharged or info.ended
    if end is not None:
        return start, max(start, to_ms(end))
    if engine is None:
        return start, start
    with engine.connect() as conn:
        last = conn.execute(select(func.max(R.received_ms))
                            .where(R.session_id == info.id)).scalar()
    return start, max(start, last or start)


def session_vitals(engine: Engine, session_id: int) -> list[str]:
    """The vital codes the session has readings of, in the vocabulary's order."""
    found = []
    with engine.connect() as conn:
        for v in VITALS:
            # One index probe per vital, instead of a DISTINCT over the session's readings.
            hit = conn.execute(select(R.id).where(R.session_id == session_id, R.code == v.code,
                                                  R.value.is_not(None)).limit(1)).first()
            if hit is not None:
                found.append(v.code)
    return found


def downsample(engine: Engine, session_id: int, codes: Sequence[str], start_ms: int,
               end_ms: int, buckets: int = 1000) -> dict[str, Series]:
    """Each vital in [start_ms, end_ms] as at most ``buckets`` min/max/mean buckets.

    The grouping runs in the database, so a 4-hour session at 1 Hz sends a thousand rows
    per vital to Python, not fourteen thousand.
    """
    buckets = max(1, buckets)
    span = max(1, end_ms - start_ms + 1)
    out: dict[str, Series] = {}
    with engine.connect() as conn:
        for code in codes:
            where = and_(R.session_id == session_id, R.code == code,
                         R.received_ms >= start_ms, R.received_ms <= end_ms,
                         R.value.is_not(None))
            if BY_CODE[code].episodic:
                out[code] = _raw(code, conn.execute(
                    select(R.received_ms, R.value).where(where).order_by(R.received_ms)))
                continue
            # Integer arithmetic on both SQLite and PostgreSQL: // renders as integer division.
            bucket = ((R.received_ms - start_ms) * buckets) // span
            rows = conn.execute(
                select(bucket.label("b"), func.min(R.received_ms), func.min(R.value),
                       func.max(R.value), func.avg(R.value), func.count())
                .where(where).group_by(bucket).order_by(bucket)).all()
            if sum(r[5] for r in rows) <= buckets:
                out[code] = _raw(code, conn.execute(
                    select(R.received_ms, R.value).where(where).order_by(R.received_ms)))
                continue
            out[code] = Series(code, [int(r[1]) for r in rows], [float(r[2]) for r in rows],
                               [float(r[3]) for r in rows], [float(r[4]) for r in rows],
                               [int(r[5]) for r in rows], raw=False)
    return out


def _raw(code: str, rows: Iterable[Sequence[object]]) -> Series:
    times, values = [], []
    for ms, value in rows:
        times.append(int(ms))  # type: ignore[call-overload]
        values.append(float(value))  # type: ignore[arg-type]
    return Series(code, times, values, list(values), list(values), [1] * len(times), raw=True)


def readings(engine: Engine, session_id: int, codes: Sequence[str] | None = None,
             batch: int = 20_000) -> Iterator[tuple[int, str, float, str]]:
    """Every usable reading of a session in time order: (received ms, code, value, device).

    Read vital by vital through the (session, code, time) index and merged, so even a long
    session never sorts in the database or sits whole in memory at once.
    """
    import heapq

    codes = list(codes) if codes is not None else session_vitals(engine, session_id)

    def one(code: str) -> Iterator[tuple[int, str, float, str]]:
        last = (-1, -1)
        while True:
            # Keyset paging on (time, id): the index serves it and no page is read twice.
            with engine.connect() as conn:
                rows = conn.execute(
                    select(R.received_ms, R.id, R.value, R.device)
                    .where(R.session_id == session_id, R.code == code,
                           tuple_(R.received_ms, R.id) > tuple_(*last), R.value.is_not(None))
                    .order_by(R.received_ms, R.id).limit(batch)).all()
            for ms, _id, value, device in rows:
                yield int(ms), code, float(value), device
            if len(rows) < batch:
                return
            last = (rows[-1][0], rows[-1][1])

    yield from heapq.merge(*(one(c) for c in codes), key=lambda r: (r[0], r[1]))


def nibp_measurements(engine: Engine, session_id: int) -> list[NibpMeasurement]:
    """The session's cuff cycles, systolic/diastolic/mean grouped by arrival time."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(R.received_ms, R.code, R.value)
            .where(R.session_id == session_id, R.code.in_(NIBP_CODES), R.value.is_not(None))
            .order_by(R.received_ms)).all()
    return group_nibp((int(ms), code, float(value)) for ms, code, value in rows)


def group_nibp(rows: Iterable[tuple[int, str, float]]) -> list[NibpMeasurement]:
    """Group time-ordered NIBP readings into cuff cycles (a repeated code starts a new one)."""
    out: list[NibpMeasurement] = []
    current: dict[str, float] = {}
    first = 0
    for ms, code, value in rows:
        if current and (ms - first > NIBP_GROUP_MS or code in current):
            out.append(_measurement(first, current))
            current = {}
        if not current:
            first = ms
        current[code] = value
    if current:
        out.append(_measurement(first, current))
    return out


def _measurement(ms: int, values: dict[str, float]) -> NibpMeasurement:
    return NibpMeasurement(from_ms(ms), values.get("nibp_sys"), values.get("nibp_dia"),
                           values.get("nibp_mean"))


def session_events(engine: Engine, session_id: int) -> list[SessionEvent]:
    with engine.connect() as conn:
        rows = conn.execute(select(SessionEventRow.__table__)
                            .where(E.session_id == session_id)
                            .order_by(E.at_ms, E.id)).all()
    return [SessionEvent(r.id, r.session_id, from_ms(r.at_ms), r.kind, r.detail or "",
                         r.by_user or "") for r in rows]


def alarm_spans(engine: Engine, session_id: int, *, reminders: bool = True) -> list[AlarmSpan]:
    """The session's alarms folded from the log: raised..cleared, highest priority, who
    acknowledged and when. Alarms of the room during the session count even if untagged."""
    info = get_session(engine, session_id)
    if info is None:
        return []
    start, end = session_span(info, engine)
    where = or_(A.session_id == session_id,
                and_(A.room == info.room, A.session_id.is_(None),
                     A.at_ms >= start, A.at_ms <= end))
    if not reminders:
        where = and_(where, A.kind != str(Kind.REMINDER))
    with engine.connect() as conn:
        rows = conn.execute(select(AlarmEventRow.__table__).where(where)
                            .order_by(A.at_ms, A.id)).all()
    return fold_alarm_log(rows)


_RANK = {"low": 1, "medium": 2, "high": 3}


def fold_alarm_log(rows: Iterable[object]) -> list[AlarmSpan]:
    """Turn alarm-log rows (in time order) into one span per raised alarm."""
    open_spans: dict[str, AlarmSpan] = {}
    spans: list[AlarmSpan] = []
    for row in rows:
        r = row._mapping  # type: ignore[attr-defined]
        at = from_ms(r["at_ms"])
        span = open_spans.get(r["alarm_id"])
        if r["transition"] == str(Transition.RAISED) or span is None:
            span = AlarmSpan(r["alarm_id"], r["room"], r["vital"], r["kind"], r["priority"],
                             r["message"], at, last_message=r["message"],
                             peak_value=r["value"], limit=r["limit_value"])
            open_spans[r["alarm_id"]] = span
            spans.append(span)
            if r["transition"] == str(Transition.RAISED):
                continue
        if _RANK.get(r["priority"], 0) > _RANK.get(span.priority, 0):
            span.priority = r["priority"]
        if r["message"]:
            span.last_message = r["message"]
        if r["value"] is not None and (span.peak_value is None
                                       or _further(r["value"], span.peak_value, span.limit)):
            span.peak_value = r["value"]
        if r["transition"] == str(Transition.ACKNOWLEDGED):
            span.acknowledgements.append(Acknowledgement(at, r["by_user"] or "", r["note"]))
        elif r["transition"] in _ENDS:
            span.cleared = at
            open_spans.pop(r["alarm_id"], None)
    return spans


def _further(value: float, peak: float, limit: float | None) -> bool:
    """True when ``value`` is further past the limit than ``peak`` (high or low alarms)."""
    if limit is None:
        return value > peak
    return abs(value - limit) > abs(peak - limit)


def snapshot(engine: Engine, session_id: int, at: datetime) -> Snapshot:
    """The tile at ``at``: each vital's last value up to then (stale if too old) and the
    alarms active then."""
    at_ms = to_ms(at)
    values: dict[str, tuple[float, datetime]] = {}
    stale: set[str] = set()
    with engine.connect() as conn:
        for v in VITALS:
            row = conn.execute(select(R.received_ms, R.value)
                               .where(R.session_id == session_id, R.code == v.code,
                                      R.received_ms <= at_ms, R.value.is_not(None))
                               .order_by(R.received_ms.desc()).limit(1)).first()
            if row is None:
                continue
            values[v.code] = (float(row[1]), from_ms(row[0]))
            if (at_ms - row[0]) / 1000 > v.fresh_seconds:
                stale.add(v.code)
    active = [s for s in alarm_spans(engine, session_id)
              if s.raised <= at and (s.cleared is None or s.cleared > at)]
    return Snapshot(at, values, frozenset(stale), active)
