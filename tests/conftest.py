"""Fixtures shared by the whole suite: services (PostgreSQL), database URLs, a manual clock.

A test that needs a service asks for it through a fixture that calls ``require_service``: on a
machine without the service the test is skipped with a plain reason, and in CI
(``IVMON_REQUIRE_SERVICES=1``) it fails, so a missing service can never pass silently.
"""

from __future__ import annotations

import os
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.clock import ManualClock

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# require_service's skip reasons start with this, so the summary below can find them.
_MISSING = re.compile(r"(?:Skipped: )?(?P<name>.+?) not available: (?P<reason>.*)", re.S)


def require_service(name: str, reason: str) -> None:
    """Skip (on a user's machine) or fail (in CI) a test whose service is missing."""
    if os.environ.get("IVMON_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required (IVMON_REQUIRE_SERVICES=1) but {reason}",
                    pytrace=False)
    pytest.skip(f"{name} not available: {reason}")


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a schema of their own, dropped at the end."""
    try:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url
    except ImportError as exc:  # pragma: no cover - SQLAlchemy is a dependency
        require_service("PostgreSQL", f"SQLAlchemy cannot be imported ({exc})")
    base = os.environ.get("IVMON_TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL
    try:
        url = make_url(base)
    except Exception as exc:
        require_service("PostgreSQL", f"IVMON_TEST_DATABASE_URL is not a URL ({exc})")
    where = url.render_as_string(hide_password=True)
    schema = f"ivmon_test_{uuid.uuid4().hex[:10]}"
    admin = None
    try:
        admin = create_engine(url, connect_args={"connect_timeout": 3})
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        if admin is not None:
            admin.dispose()
        require_service("PostgreSQL", f"cannot connect to {where} ({_first_line(exc)})")
    assert admin is not None
    test_url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield test_url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/ivmon.db"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that asks for this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def manual_clock() -> ManualClock:
    return ManualClock()


# A wrapper tried first is the outermost one: its line comes after pytest's own summary.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """Say plainly, at the very end, which tests did not run because a service was missing."""
    result = yield
    _summarise_missing_services(terminalreporter)
    return result


def _summarise_missing_services(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    missing: dict[str, list[str]] = defaultdict(list)
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        message = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else ""
        match = _MISSING.match(str(message))
        if match:
            missing[match["name"]].append(match["reason"])
    if not missing:
        return
    parts = []
    for name, reasons in sorted(missing.items()):
        count = len(reasons)
        parts.append(f"{name} ({count} test{'s' if count != 1 else ''}: {reasons[0]})")
    terminalreporter.write_line("Skipped because a service was missing: " + "; ".join(parts)
                                + ". Set IVMON_REQUIRE_SERVICES=1 to make this a failure.")
