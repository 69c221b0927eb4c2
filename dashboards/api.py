"""The JSON API beside the pages, described by FastAPI's OpenAPI document at /openapi.json."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from dashboards.context import station
from monitor import __version__
from monitor.vitals import BY_CODE


class VitalOut(BaseModel):
    code: str = Field(description="vital code, e.g. hr, spo2, nibp_sys")
    value: float | None = Field(description="null when the device reported the value invalid")
    unit: str = Field(description="UCUM unit")
    time: datetime | None = Field(description="when ivmon received it (UTC)")
    stale: bool = Field(description="older than its freshness: not to be read as current")
    quality: str


class AlarmOut(BaseModel):
    id: str
    priority: str = Field(description="high, medium or low")
    kind: str = Field(description="physiological or technical")
    vital: str
    message: str = Field(description="e.g. 'SBP 186 > 180'")
    since: datetime
    acknowledged: bool
    acknowledged_by: str | None = None
    latched: bool = Field(False, description="its condition ended; it stays until acknowledged")
    escalated: bool = Field(False, description="left unacknowledged too long")


class RoomOut(BaseModel):
    id: str
    name: str
    link: str = Field(description="ok, silent, lost or connecting")
    session_started: datetime | None
    audio_paused_s: float = Field(0, description="seconds left of this room's audio pause")
    vitals: list[VitalOut]
    alarms: list[AlarmOut]


class HealthOut(BaseModel):
    status: str = Field(description="ok, or degraded when storage or a device has a problem")
    version: str
    time: datetime
    rooms: int
    devices_ok: int
    storage_problem: str | None


def build_router() -> APIRouter:
    router = APIRouter(prefix="/api", tags=["station"])

    @router.get("/health", response_model=HealthOut, summary="Is the station running")
    def health() -> dict[str, Any]:
        st = station()
        views = st.live.snapshot(st.clock.now())
        ok = sum(1 for v in views if v.link == "ok")
        problem = st.recorder.problem
        return {"status": "ok" if problem is None and ok == len(views) else "degraded",
                "version": __version__, "time": st.clock.now(), "rooms": len(views),
                "devices_ok": ok, "storage_problem": problem}

    @router.get("/rooms", response_model=list[RoomOut],
                summary="Every room's latest values and active alarms")
    def rooms() -> list[dict[str, Any]]:
        st = station()
        return [{
            "id": v.room, "name": v.name, "link": str(v.link),
            "session_started": v.session_started,
            "vitals": [{"code": c, "value": x.value, "unit": BY_CODE[c].unit, "time": x.received,
                        "stale": x.stale, "quality": x.quality}
                       for c, x in sorted(v.vitals.items())],
            "audio_paused_s": round(v.audio_seconds_left(st.clock.now())),
            "alarms": [{"id": a.id, "priority": a.priority.word, "kind": str(a.kind),
                        "vital": a.vital, "message": a.message, "since": a.since,
                        "acknowledged": a.acknowledged, "acknowledged_by": a.acknowledged_by,
                        "latched": a.latched, "escalated": a.escalated} for a in v.alarms],
        } for v in st.live.snapshot(st.clock.now())]

    return router
