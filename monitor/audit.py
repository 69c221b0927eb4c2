"""The audit log: append-only and hash-chained, so an edited, deleted or inserted row is found."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, text

from monitor.storage.schema import AuditRow, from_ms, to_ms

GENESIS = "0" * 64
_lock = threading.Lock()


def entry_hash(prev_hash: str, at_ms: int, actor: str, action: str, target: str, detail: str,
               address: str) -> str:
    """The hash that chains an entry to the one before it."""
    payload = json.dumps([prev_hash, at_ms, actor, action, target, detail, address],
                         separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Verification:
    ok: bool
    entries: int
    problem: str = ""
    first_bad_id: int | None = None


class AuditLog:
    """Who did what and when. Rows are only ever added; ``verify()`` checks the whole chain."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def append(self, actor: str, action: str, target: str = "",
               detail: dict[str, Any] | None = None, address: str = "",
               at: datetime | None = None) -> None:
        detail_text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=False)
        at_ms = to_ms(at or datetime.now(UTC))
        with _lock, self.db.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Several ivmon processes may share one database: one writer of the chain at a time.
                conn.execute(text("SELECT pg_advisory_xact_lock(80421)"))
            last = conn.execute(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)
                                ).scalar() or GENESIS
            conn.execute(insert(AuditRow).values(
                at_ms=at_ms, actor=actor, action=action, target=target, detail=detail_text,
                address=address, prev_hash=last,
                hash=entry_hash(last, at_ms, actor, action, target, detail_text, address)))

    def entries(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            rows = conn.execute(select(AuditRow.__table__).order_by(AuditRow.id.desc()).limit(limit)
                                ).all()
        return [{"id": r.id, "at": from_ms(r.at_ms), "actor": r.actor, "action": r.action,
                 "target": r.target, "detail": r.detail, "address": r.address} for r in rows]

    def verify(self) -> Verification:
        """Walk the chain from the start; report the first entry that does not fit."""
        prev, count = GENESIS, 0
        with self.db.connect() as conn:
            for row in conn.execute(select(AuditRow.__table__).order_by(AuditRow.id)):
                count += 1
                if row.prev_hash != prev:
                    return Verification(False, count, f"entry {row.id} does not follow the one "
                                        "before it: an entry was deleted or inserted there",
                                        row.id)
                expected = entry_hash(row.prev_hash, row.at_ms, row.actor, row.action,
                                      row.target, row.detail, row.address)
                if row.hash != expected:
                    return Verification(False, count, f"entry {row.id} was altered after it was "
                                        "written", row.id)
                prev = row.hash
        return Verification(True, count)
