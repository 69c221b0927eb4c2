"""What a nurse does, over the JSON API: acknowledge alarms, pause audio, run sessions.

Every route checks the role on the server, writes the audit log, and answers only once the
change is durably logged, so "acknowledged" on a screen means acknowledged in the record.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, Field

from dashboards.context import station
from dashboards.security import client_address, require
from monitor.accounts import Role, User
from monitor.alarms.profiles import rules_from_json
from monitor.audit import AuditLog
from monitor.errors import AlarmNotFound, AlarmRulesError, IvmonError
from monitor.sessions import EVENT_KINDS, PROTOCOLS, SessionError


class AckIn(BaseModel):
    note: str | None = Field(None, max_length=500, description="optional: why, what was done")


class PauseIn(BaseModel):
    seconds: float | None = Field(None, gt=0, le=600, description="default: the clinic's")


class SessionIn(BaseModel):
    label: str = Field(min_length=1, max_length=64, description="a label or initials")
    mrn: str | None = Field(None, max_length=32)
    protocol: str = Field("iv-ketamine", description=f"one of {', '.join(PROTOCOLS)}")
    weight_kg: float | None = Field(None, gt=0, le=400)
    dose_mg_per_kg: float | None = Field(None, gt=0, le=10)
    duration_min: float | None = Field(None, gt=0, le=600)
    profile: str | None = Field(None, description="alarm profile; default: the protocol's")


class EventIn(BaseModel):
    kind: str = Field(description=f"one of {', '.join(EVENT_KINDS)}")
    detail: str = Field("", max_length=500)


class LimitsIn(BaseModel):
    rules: list[dict[str, Any]] = Field(
        description="rules as in /api/profiles, e.g. {\"vital\": \"nibp_sys\", "
                    "\"condition\": \">\", \"limit\": 190, \"priority\": \"high\"}; "
                    "an empty list goes back to the profile")
    reason: str = Field(min_length=3, max_length=500, description="why, for the alarm log")


class DischargeIn(BaseModel):
    override: str | None = Field(None, max_length=500,
                                 description="why the patient goes although a check failed")


class BaselineIn(BaseModel):
    sys: float = Field(gt=40, lt=300)
    dia: float = Field(gt=20, lt=200)


def _check_out(check: Any) -> dict[str, Any]:
    return {"ok": check.ok, "discharged": check.discharged, "reasons": list(check.reasons),
            "facts": list(check.facts), "observation_left_s": check.observation_left_s}


def build_commands_router(audit: AuditLog) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["commands"])
    nurse = Depends(require(Role.NURSE, audit))
    viewer = Depends(require(Role.VIEWER, audit))

    def run(call: Any) -> Any:
        try:
            return call()
        except AlarmNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except SessionError as exc:
            raise HTTPException(409, str(exc)) from None
        except IvmonError as exc:
            raise HTTPException(503, str(exc)) from None

    @router.post("/alarms/{alarm_id}/acknowledge", summary="Acknowledge an alarm (nurse)")
    def acknowledge(alarm_id: str, body: AckIn, request: Request,
                    user: User = nurse) -> dict[str, Any]:
        events = run(lambda: station().acknowledge(alarm_id, user.name, body.note))
        audit.append(user.name, "acknowledged", alarm_id, {"note": body.note or ""},
                     client_address(request.scope))
        return {"acknowledged": alarm_id, "by": user.name, "changed": bool(events)}

    @router.post("/rooms/{room}/audio-pause", summary="Pause a room's alarm audio (nurse)")
    def pause(room: str, body: PauseIn, request: Request, user: User = nurse) -> dict[str, Any]:
        if room not in station().rooms:
            raise HTTPException(404, f"There is no room {room!r}.")
        run(lambda: station().pause_audio(room, user.name, body.seconds))
        audit.append(user.name, "audio paused", room, {"seconds": body.seconds},
                     client_address(request.scope))
        view = station().live.snapshot(station().clock.now(), [room])[0]
        return {"room": room, "paused_s": round(view.audio_seconds_left(station().clock.now()))}

    @router.post("/rooms/{room}/limits",
                 summary="Change alarm limits for the room's current session only (nurse)")
    def limits(room: str, body: LimitsIn, request: Request, user: User = nurse) -> dict[str, Any]:
        if room not in station().rooms:
            raise HTTPException(404, f"There is no room {room!r}.")
        try:
            rules = rules_from_json(body.rules)  # checked alone and together
            station().override_limits(room, rules, user.name, body.reason)
        except AlarmRulesError as exc:
            raise HTTPException(400, {"detail": "These limits are not valid.",
                                      "problems": list(exc.problems)}) from None
        except IvmonError as exc:
            raise HTTPException(503, str(exc)) from None
        audit.append(user.name, "session limits changed", room,
                     {"reason": body.reason, "rules": body.rules},
                     client_address(request.scope))
        return {"room": room, "rules": len(rules), "by": user.name}

    @router.post("/rooms/{room}/sessions", status_code=201, summary="Start a session (nurse)")
    def start(room: str, body: SessionIn, request: Request, user: User = nurse) -> dict[str, Any]:
        st = station()
        if room not in st.rooms:
            raise HTTPException(404, f"There is no room {room!r}.")
        profile = body.profile or ("spravato" if body.protocol == "spravato" else
                                   st.config.alarm_profile)
        session_id = run(lambda: st.sessions.start(
            room, body.label, mrn=body.mrn, protocol=body.protocol, weight_kg=body.weight_kg,
            dose_mg_per_kg=body.dose_mg_per_kg, duration_min=body.duration_min,
            profile=profile, user=user.name))
        # Patient identity stays out of the audit detail: the session id leads to it.
        audit.append(user.name, "session started", f"session {session_id}",
                     {"room": room, "protocol": body.protocol}, client_address(request.scope))
        return {"id": session_id, "room": room}

    @router.post("/sessions/{session_id}/events", status_code=201,
                 summary="Record a session event (nurse)")
    def event(session_id: int, body: EventIn, request: Request,
              user: User = nurse) -> dict[str, Any]:
        event_id = run(lambda: station().sessions.event(session_id, body.kind, body.detail,
                                                        user.name))
        audit.append(user.name, "session event", f"session {session_id}", {"kind": body.kind},
                     client_address(request.scope))
        return {"id": event_id, "kind": body.kind}

    @router.post("/sessions/{session_id}/baseline", summary="Set the baseline BP (nurse)")
    def baseline(session_id: int, body: BaselineIn, request: Request,
                 user: User = nurse) -> dict[str, Any]:
        run(lambda: station().sessions.set_baseline(session_id, body.sys, body.dia, user.name))
        audit.append(user.name, "baseline set", f"session {session_id}",
                     {"sys": body.sys, "dia": body.dia}, client_address(request.scope))
        return {"id": session_id, "baseline": [body.sys, body.dia]}

    @router.get("/sessions/{session_id}/discharge", summary="Is the patient ready to go (viewer)")
    def discharge_check(session_id: int, user: User = viewer) -> dict[str, Any]:
        return _check_out(run(lambda: station().sessions.check_discharge(session_id)))

    @router.post("/sessions/{session_id}/discharge", summary="Discharge the patient (nurse)")
    def discharge(session_id: int, body: DischargeIn, request: Request,
                  user: User = nurse) -> dict[str, Any]:
        check = run(lambda: station().sessions.discharge(session_id, user.name,
                                                         override=body.override))
        audit.append(user.name, "discharged" if check.discharged else "discharge refused",
                     f"session {session_id}", {"override": body.override or ""},
                     client_address(request.scope))
        return _check_out(check)

    @router.post("/sessions/{session_id}/end", summary="End a session (nurse)")
    def end(session_id: int, request: Request, user: User = nurse) -> dict[str, Any]:
        run(lambda: station().sessions.end(session_id, user.name))
        audit.append(user.name, "session ended", f"session {session_id}", {},
                     client_address(request.scope))
        return {"id": session_id, "ended": True}

    return router
