"""Storage on a real SQLite file and a real PostgreSQL server: migrations, the recorder's batches,
alarm events committed before anyone sees them, and a database that goes away and comes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, UniqueConstraint, create_engine, func, inspect, select, text

from monitor.alarms import AlarmEngine, AlarmEvent, Kind, Priority, Transition, profile
from monitor.alarms.listener import AlarmListener
from monitor.bus import Bus, CallbackListener
from monitor.reading import Quality, Reading
from monitor.recorder import Recorder
from monitor.storage.database import MIGRATIONS, head_revision, migrate, open_database
from monitor.storage.schema import AlarmEventRow, Base, ReadingRow, to_ms

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
READINGS = ReadingRow.__table__
ALARMS = AlarmEventRow.__table__




def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def count(engine: Engine, table, room: str) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)
                            .where(table.c.room == room)).scalar_one()


def stored_readings(engine: Engine, room: str) -> list:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return conn.execute(select(READINGS).where(READINGS.c.room == room)
                            .order_by(READINGS.c.seq)).all()


def many_readings(room: str, n: int) -> list[Reading]:
    out = []
    for i in range(n):
        quality = Quality.INVALID if i % 10 == 9 else Quality.VALID
        out.append(Reading(room, f"{room}-monitor", "hr" if i % 2 else "spo2", 60 + i % 40,
                           at(i), device_time=at(i - 0.25), quality=quality, seq=i))
    return out


def alarm_event(room: str, alarm_id: str = "a1", transition: Transition = Transition.RAISED,
                seconds: float = 0) -> AlarmEvent:
    return AlarmEvent(alarm_id, room, "nibp_sys", Kind.PHYSIOLOGICAL, Priority.HIGH, transition,
                      "SBP 186 > 180", at(seconds), 186, 180)


# -- migrations ------------------------------------------------------------------------------


def test_migrate_creates_the_tables_and_is_idempotent(database_url: str) -> None:
    engine = open_database(database_url)
    try:
        head = head_revision()
        # The newest migration file is the head, and migrating twice changes nothing.
        assert head == sorted(p.name[:4] for p in MIGRATIONS.glob("versions/0*.py"))[-1]
        assert migrate(engine) == head
        assert migrate(engine) == head
        tables = set(inspect(engine).get_table_names())
        assert {"readings", "alarm_events", "sessions", "alembic_version"} <= tables
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [
                (head,)]
    finally:
        engine.dispose()


def test_the_migration_matches_the_models(db: Engine) -> None:
    inspector = inspect(db)
    for table in Base.metadata.sorted_tables:
        columns = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name: c.nullable for c in table.columns}, table.name
        # PostgreSQL lists a unique constraint's own index too; compare those separately.
        indexes = {i["name"] for i in inspector.get_indexes(table.name)
                   if not i.get("duplicates_constraint")}
        assert indexes == {i.name for i in table.indexes}, table.name
        uniques = {u["name"] for u in inspector.get_unique_constraints(table.name)}
        assert uniques == {c.name for c in table.constraints
                           if isinstance(c, UniqueConstraint)}, table.name


def test_sqlite_is_in_wal_mode(sqlite_url: str) -> None:
    engine = open_database(sqlite_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar_one() == 1  # NORMAL
        assert Path(sqlite_url.removeprefix("sqlite:///")).exists()
    finally:
        engine.dispose()


def test_open_database_creates_the_sqlite_folder(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path}/new/folder/ivmon.db")
    try:
        assert migrate(engine) == head_revision()
        assert (tmp_path / "new" / "folder" / "ivmon.db").exists()
    finally:
        engine.dispose()


# -- the recorder --------------------------------------------------------------------------


def test_readings_are_written_in_batches(db: Engine, room: str) -> None:
    bus, recorder = Bus(), Recorder(db)
    bus.add_listener(recorder)
    recorder.set_session(room, 42)
    readings = many_readings(room, 500)
    for r in readings:
        bus.publish(r)
    bus.drain()
    # Delivered but not yet written: readings wait for the next batch.
    assert count(db, READINGS, room) == 0
    assert recorder.backlog == 500
    assert recorder.flush() is True
    assert recorder.backlog == 0 and recorder.readings_written == 500
    rows = stored_readings(db, room)
    assert len(rows) == 500
    for row, r in zip(rows, readings, strict=True):
        assert (row.device, row.seq, row.code, row.quality) == (r.device, r.seq, r.code,
                                                                str(r.quality))
        assert row.received_ms == to_ms(r.received)
        assert row.device_ms == to_ms(r.device_time)  # type: ignore[arg-type]
        assert row.session_id == 42
        if r.usable:
            assert row.value == r.value
        else:
            assert row.value is None and row.quality == "invalid"
    assert sum(row.value is None for row in rows) == 50
    assert recorder.flush() is True  # nothing left: nothing written twice
    assert count(db, READINGS, room) == 500


def test_a_reading_without_a_session_or_device_time(db: Engine, room: str) -> None:
    recorder = Recorder(db)
    recorder.on_message(Reading(room, "d", "temp", 36.6, at(0), seq=1), Bus())
    recorder.on_message(Reading(room, "d", "temp", float("nan"), at(1), seq=2), Bus())
    recorder.flush()
    first, nan = stored_readings(db, room)
    assert (first.value, first.device_ms, first.session_id) == (36.6, None, None)
    assert nan.value is None  # a non-finite value is never stored as a number


def test_alarm_events_are_committed_before_the_next_listener_sees_them(db: Engine,
                                                                       room: str) -> None:
    bus = Bus()
    recorder = Recorder(db)
    seen: list[tuple[str, str, bool]] = []

    def check(message: object, bus: Bus) -> None:
        if isinstance(message, AlarmEvent):
            with db.connect() as conn:
                found = conn.execute(select(ALARMS.c.transition).where(
                    ALARMS.c.alarm_id == message.alarm_id,
                    ALARMS.c.transition == str(message.transition))).first()
            seen.append((message.alarm_id, str(message.transition), found is not None))

    # The station's order: engine, recorder, then whatever shows alarms.
    bus.add_listener(AlarmListener(AlarmEngine(profile("iv-ketamine"))))
    bus.add_listener(recorder)
    bus.add_listener(CallbackListener(check))
    for s, hr in enumerate([140] * 12 + [160] * 11 + [80]):
        bus.publish(Reading(room, "d", "hr", hr, at(s), seq=s))
    bus.drain()
    assert [t for _, t, _ in seen] == ["raised", "priority_changed", "cleared"]
    assert all(found for _, _, found in seen), seen
    assert recorder.alarm_events_written == 3
    assert count(db, READINGS, room) == 0  # readings still wait for their batch
    with db.connect() as conn:
        rows = conn.execute(select(ALARMS).where(ALARMS.c.room == room)
                            .order_by(ALARMS.c.id)).all()
    assert [(r.priority, r.transition, r.message) for r in rows] == [
        ("medium", "raised", "HR 140 > 130"),
        ("high", "priority_changed", "HR 160 > 150"),
        ("high", "cleared", "HR 160 > 150"),
    ]
    assert rows[0].at_ms == to_ms(at(10)) and rows[0].value == 140
    assert rows[0].kind == "physiological" and rows[0].vital == "hr"
    assert len({r.alarm_id for r in rows}) == 1


def test_the_alarm_log_keeps_the_limit(db: Engine, room: str) -> None:
    recorder = Recorder(db)
    recorder.on_message(alarm_event(room, "with-limit"), Bus())
    with db.connect() as conn:
        row = conn.execute(select(ALARMS).where(ALARMS.c.room == room)).one()
    assert (row.value, row.limit_value) == (186, 180)


def test_stop_writes_what_is_waiting(db: Engine, room: str) -> None:
    recorder = Recorder(db, flush_interval=3600)
    recorder.start()
    for r in many_readings(room, 20):
        recorder.on_message(r, Bus())
    recorder.stop()
    assert count(db, READINGS, room) == 20


def _unreachable(database_url: str, tmp_path: Path) -> Engine:
    """An engine on the same kind of database that cannot be reached."""
    if database_url.startswith("sqlite"):
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the database folder should be")
        return create_engine(f"sqlite:///{blocker}/ivmon.db")
    return create_engine("postgresql+psycopg://postgres:secret@127.0.0.1:1/test",
                         connect_args={"connect_timeout": 3})


def test_a_database_that_goes_away_loses_nothing(database_url: str, db: Engine, room: str,
                                                 tmp_path: Path) -> None:
    broken = _unreachable(database_url, tmp_path)
    bus, recorder = Bus(), Recorder(broken)
    bus.add_listener(recorder)
    for r in many_readings(room, 30):
        bus.publish(r)
    bus.publish(alarm_event(room, "gone-1"))
    bus.drain()
    assert recorder.flush() is False
    assert recorder.backlog == 31
    problem = recorder.problem
    assert problem is not None
    assert problem.startswith("The database at ") and problem.endswith(".")
    assert "is not accepting data; 31 records are held in memory" in problem
    assert "\n" not in problem and "Error" not in problem
    assert "secret" not in problem  # a password never reaches a screen or a log
    assert recorder.readings_written == 0 and recorder.alarm_events_written == 0

    # It comes back.
    recorder._engine = db
    assert recorder.flush() is True
    assert recorder.problem is None and recorder.backlog == 0
    assert count(db, READINGS, room) == 30
    assert count(db, ALARMS, room) == 1
    broken.dispose()


def test_a_sqlite_folder_that_disappears_and_returns(tmp_path: Path, room: str) -> None:
    folder = tmp_path / "data"
    engine = open_database(f"sqlite:///{folder}/ivmon.db")
    migrate(engine)
    recorder = Recorder(engine)
    try:
        for r in many_readings(room, 10):
            recorder.on_message(r, Bus())
        assert recorder.flush() is True
        # The folder goes (a USB disk unplugged, a share unmounted): nothing can be opened.
        engine.dispose()
        folder.rename(tmp_path / "away")
        folder.write_text("not a folder")
        for r in many_readings(room, 20)[10:]:
            recorder.on_message(r, Bus())
        recorder.on_message(alarm_event(room, "while-away"), Bus())
        assert recorder.flush() is False
        assert recorder.problem is not None and "11 records are held" in recorder.problem
        # It returns: the same engine writes everything that waited.
        folder.unlink()
        (tmp_path / "away").rename(folder)
        assert recorder.flush() is True
        assert recorder.problem is None
        assert [r.seq for r in stored_readings(engine, room)] == list(range(20))
        assert count(engine, ALARMS, room) == 1
    finally:
        engine.dispose()
