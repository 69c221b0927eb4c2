"""Fixtures the monitor tests share: a migrated database (SQLite and PostgreSQL), a room."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from monitor.storage.database import migrate, open_database


@pytest.fixture
def db(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def room() -> str:
    # PostgreSQL keeps one schema for the test session: each test writes to a room of its own.
    return f"r-{uuid.uuid4().hex[:8]}"
