"""The database tables. Times are integer milliseconds since the epoch (UTC): compact and fast to
index on SQLite and PostgreSQL alike, for a day of 32 rooms at 1 Hz (about 10 million rows)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import BigInteger, Float, Index, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def to_ms(when: datetime) -> int:
    return round(when.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "pk": "pk_%(table_name)s",
    })


class ReadingRow(Base):
    """One stored reading."""

    __tablename__ = "readings"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    room: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # None when invalid
    quality: Mapped[str] = mapped_column(String(16))
    received_ms: Mapped[int] = mapped_column(BigInteger)
    device_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (
        Index(None, "room", "received_ms"),
        Index(None, "session_id", "code", "received_ms"),
    )


class AlarmEventRow(Base):
    """One transition in the alarm log; rows are only ever added."""

    __tablename__ = "alarm_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[str] = mapped_column(String(32), index=True)
    room: Mapped[str] = mapped_column(String(64))
    vital: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    transition: Mapped[str] = mapped_column(String(24))
    message: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    limit: Mapped[float | None] = mapped_column("limit_value", Float, nullable=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    by_user: Mapped[str | None] = mapped_column(String(64), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index(None, "room", "at_ms"),)


class SessionRow(Base):
    """A patient's stay in a room, from start to discharge."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    room: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(64), default="")
    protocol: Mapped[str] = mapped_column(String(32), default="")
    profile: Mapped[str] = mapped_column(String(32), default="")
    started_ms: Mapped[int] = mapped_column(BigInteger)
    ended_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    __table_args__ = (Index(None, "room", "started_ms"),)
