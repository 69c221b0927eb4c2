"""Sessions over the JSON API: find them and download their exports (CSV, HL7, PDF)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from dashboards.context import station
from dashboards.security import client_address, require
from monitor.accounts import Role, User
from monitor.audit import AuditLog
from monitor.exports import export_session
from monitor.history import find_sessions, get_session

MEDIA = {"csv": "application/zip", "hl7": "application/hl7-v2", "pdf": "application/pdf"}


def build_sessions_router(audit: AuditLog) -> APIRouter:
    router = APIRouter(prefix="/api/sessions", tags=["sessions"])
    viewer = Depends(require(Role.VIEWER, audit))

    @router.get("", summary="Find sessions (viewer)")
    def sessions(room: str | None = None, label: str | None = None,
                 since: datetime | None = None, until: datetime | None = None,
                 with_alarms: bool | None = None, user: User = viewer) -> list[dict[str, Any]]:
        found = find_sessions(station().db, room=room, label=label, since=since, until=until,
                              with_alarms=with_alarms)
        return [{"id": s.session.id, "room": s.session.room, "label": s.session.label,
                 "protocol": s.session.protocol, "started": s.session.started,
                 "ended": s.session.ended, "discharged": s.session.discharged,
                 "alarms": s.alarms, "high_alarms": s.high_alarms, "events": s.events}
                for s in found]

    @router.get("/{session_id}/export", summary="Download a session (viewer; audited)")
    def export(session_id: int, request: Request,
               format: str = Query("csv", pattern="^(csv|hl7|pdf)$"),
               user: User = viewer) -> Response:
        db = station().db
        if get_session(db, session_id) is None:
            raise HTTPException(404, f"There is no session {session_id}.")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / f"session-{session_id}.{format}"
            files = export_session(db, session_id, format, out)
            if format == "csv":
                # The readings, the alarms and the events: three files, one download.
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                    for f in files:
                        archive.write(f, f.name)
                body, name = buffer.getvalue(), f"session-{session_id}-csv.zip"
            else:
                body, name = files[0].read_bytes(), files[0].name
        audit.append(user.name, "exported", f"session {session_id}", {"format": format},
                     client_address(request.scope))
        return Response(body, media_type=MEDIA[format],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    return router
