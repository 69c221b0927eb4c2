"""The alarm log, profiles, clinic settings and what-if limits: one set of checked operations
for the JSON API and the pages, so a refusal reads the same wherever it comes from."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from dashboards.admin import Forbidden
from dashboards.context import station
from dashboards.security import client_address, require
from monitor.accounts import Role, User
from monitor.alarms import history
from monitor.alarms.history import HistoryFilter, LoggedEvent
from monitor.alarms.profiles import profile_from_dict, profile_to_dict
from monitor.alarms.rules import Profile, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.alarms.webhook import shown
from monitor.alarms.whatif import Span, WhatIf, what_if
from monitor.audit import AuditLog
from monitor.errors import AlarmRulesError, IvmonError, StorageError
from monitor.history import SessionInfo, get_session, session_span
from monitor.storage.schema import from_ms
from monitor.vitals import BY_CODE

PAGE_ROWS = 100  # rows of the alarm log per page (and the API's default)
MAX_ROWS = 1000
EXPORT_PATH = "/api/alarms/history.csv"


class NotFound(IvmonError):
    """What a request names (a session) does not exist."""


# -- the alarm log's filters, as the page and the API both write them -----------------------


def history_filter(room: str | None = None, priority: str | None = None,
                   vital: str | None = None, since: datetime | None = None,
                   until: datetime | None = None, unacknowledged: bool = False,
                   limit: int | None = None, offset: int = 0) -> HistoryFilter:
    """A filter from form or query values (empty means any); IvmonError names a bad one.
    Times without a zone are taken as UTC."""
    return HistoryFilter(room=room or None, priority=priority or None, vital=vital or None,
                         since=_aware(since), until=_aware(until),
                         unacknowledged=bool(unacknowledged), limit=limit, offset=offset)


def day_range(start: str | None, end: str | None) -> tuple[datetime | None, datetime | None]:
    """A date picker's days (YYYY-MM-DD, end day included) as the station's local times."""
    def midnight(day: str) -> datetime:
        return datetime.combine(date.fromisoformat(day[:10]), time.min)

    since = midnight(start).astimezone() if start else None
    until = (midnight(end) + timedelta(days=1)).astimezone() if end else None
    return since, until


def export_href(f: HistoryFilter) -> str:
    """The CSV download of exactly what a filter shows (every page of it)."""
    params = {"room": f.room, "priority": f.priority, "vital": f.vital,
              "since": f.since.isoformat() if f.since else None,
              "until": f.until.isoformat() if f.until else None,
              "unacknowledged": "true" if f.unacknowledged else None}
    query = urlencode({k: v for k, v in params.items() if v})
    return EXPORT_PATH + (f"?{query}" if query else "")


def typed_number(text: Any, empty: Any = "") -> Any:
    """A number typed into a form, or the text as typed so the check can quote it back."""
    if text is None or str(text).strip() == "":
        return empty
    try:
        return float(str(text).strip())
    except ValueError:
        return text


def _aware(when: datetime | None) -> datetime | None:
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def logged_to_dict(row: LoggedEvent) -> dict[str, Any]:
    e = row.event
    return {"id": row.id, "time": history.iso(e.at), "room": e.room, "alarm_id": e.alarm_id,
            "transition": str(e.transition), "priority": e.priority.word, "kind": str(e.kind),
            "vital": e.vital, "message": e.message, "value": e.value, "limit": e.limit,
            "by_user": e.by_user, "note": e.note, "session_id": row.session_id}


# -- what-if --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Comparison:
    """A stored session re-run under a candidate profile, with the session's time range."""

    session: SessionInfo
    candidate: Profile
    edited: bool  # the candidate's rules were edited from the named profile's
    result: WhatIf
    start: datetime
    end: datetime


def span_to_dict(span: Span) -> dict[str, Any]:
    return {"alarm_id": span.alarm_id, "room": span.room, "vital": span.vital,
            "kind": str(span.kind), "priority": span.priority.word, "message": span.message,
            "start": history.iso(span.start), "end": history.iso(span.end) if span.end else None}


def comparison_to_dict(c: Comparison) -> dict[str, Any]:
    return {"session_id": c.session.id, "room": c.session.room, "profile": c.candidate.name,
            "edited": c.edited, "start": history.iso(c.start), "end": history.iso(c.end),
            "actual": {"counts": c.result.actual_counts,
                       "alarms": [span_to_dict(s) for s in c.result.actual]},
            "candidate": {"counts": c.result.candidate_counts,
                          "alarms": [span_to_dict(s) for s in c.result.candidate]}}


# -- the checked operations -----------------------------------------------------------------


def rule_words(rule: Rule) -> str:
    """A rule as the audit log says it: ``HR > 130 medium, delay 10 s, hysteresis 2``."""
    label = BY_CODE[rule.vital].label if rule.vital in BY_CODE else rule.vital
    test = f"rise {rule.limit:g}" if rule.condition.value == "rise" \
        else f"{rule.condition.value} {rule.limit:g}"
    return (f"{label} {test} {rule.priority.word}, delay {rule.delay:g} s, "
            f"hysteresis {rule.hysteresis:g}")


def _setting_shown(key: str, value: Any) -> Any:
    # A webhook's path often carries a secret token: the audit log keeps only its host.
    return shown(value) if key == "webhook_url" and value else value


class AlarmOps:
    """Reading the alarm log and changing limits and settings, each checked for its role;
    changes go through the station's bus (so the running engine uses them at once) and
    are written to the audit log."""

    def __init__(self, audit: AuditLog) -> None:
        self.audit = audit

    def _check(self, actor: User | None, role: Role, what: str, address: str) -> User:
        if actor is None or actor.role < role:
            name = actor.name if actor else "anonymous"
            self.audit.append(name, "forbidden", what, {"needed": role.name.lower()}, address)
            if role is Role.ADMIN:
                had = actor.role.name.lower() if actor else "not signed in"
                raise Forbidden(f"Only an administrator may {what}; you are signed in as "
                                f"{name} (role {had}).")
            raise Forbidden(f"Only signed-in staff may {what}; a wall screen cannot.")
        return actor

    # -- the alarm log ------------------------------------------------------------------

    def history(self, actor: User | None, f: HistoryFilter,
                address: str = "") -> tuple[list[LoggedEvent], int]:
        """One page of the log (as ``f`` limits it) and how many rows match in all."""
        self._check(actor, Role.VIEWER, "see the alarm history", address)
        db = station().db
        return history.query(db, f), history.count(db, f)

    def export(self, actor: User | None, f: HistoryFilter, address: str = "") -> str:
        """Every row that matches, as CSV text; the export is audited."""
        user = self._check(actor, Role.VIEWER, "export the alarm history", address)
        out = io.StringIO()
        whole = history_filter(f.room, f.priority, f.vital, f.since, f.until, f.unacknowledged)
        written = history.write_csv(history.query(station().db, whole), out)
        detail = {k: v for k, v in (("room", f.room), ("priority", f.priority),
                                    ("vital", f.vital), ("since", f.since and f.since.isoformat()),
                                    ("until", f.until and f.until.isoformat()),
                                    ("unacknowledged", f.unacknowledged or None)) if v}
        self.audit.append(user.name, "exported", "alarm history", {**detail, "rows": written},
                          address)
        return out.getvalue()

    # -- profiles -----------------------------------------------------------------------

    def profiles(self, actor: User | None, address: str = "") -> list[dict[str, Any]]:
        self._check(actor, Role.VIEWER, "see the alarm profiles", address)
        st = station()
        return [{**profile_to_dict(p), "in_use": name == st.config.alarm_profile}
                for name, p in st.store.profiles().items()]

    def save_profile(self, actor: User | None, name: str, data: Any,
                     address: str = "") -> tuple[Profile, str]:
        """Create or change a profile from JSON-like data (keys left out keep the profile's
        current values); return it and a sentence saying where it applies. Invalid data
        raises AlarmRulesError with one sentence per problem."""
        user = self._check(actor, Role.ADMIN, "change alarm profiles", address)
        if not isinstance(data, Mapping):
            raise AlarmRulesError(["The profile must be a JSON object with a title and rules."])
        st = station()
        before = st.store.profiles().get(name)
        if "name" in data and data["name"] != name:
            raise AlarmRulesError([f"The profile's name {data['name']!r} differs from the "
                                   f"name it is saved under, {name!r}."])
        merged = {**(profile_to_dict(before) if before else {}), **data, "name": name}
        profile = profile_from_dict(merged)
        st.change_profile(profile, user.name)
        old = {rule_words(r) for r in before.rules} if before else set()
        new = {rule_words(r) for r in profile.rules}
        self.audit.append(user.name, "limits changed", f"profile {name}", {
            "title": profile.title, "removed": sorted(old - new), "added": sorted(new - old),
            "new_profile": before is None}, address)
        running = st.alarms.engine.profile.name
        where = "the station uses it now." if running == name else \
            f"this station runs {running!r}, so it is kept for later use."
        return profile, f"Saved profile {name!r}; {where}"

    # -- clinic settings ----------------------------------------------------------------

    def settings(self, actor: User | None, address: str = "") -> dict[str, Any]:
        """The clinic's settings; the webhook's address and how it went only for admins."""
        user = self._check(actor, Role.VIEWER, "see the alarm settings", address)
        st = station()
        values = st.alarms.settings.to_dict()
        if user.role < Role.ADMIN:
            values["webhook_url"] = _setting_shown("webhook_url", values["webhook_url"])
            return values
        return {**values, "webhook": {"ok": st.webhook.ok, "status": webhook_sentence()}}

    def save_settings(self, actor: User | None, data: Any,
                      address: str = "") -> AlarmSettings:
        """Change some or all clinic settings; the rest keep their values."""
        user = self._check(actor, Role.ADMIN, "change the clinic's alarm settings", address)
        if not isinstance(data, Mapping):
            raise AlarmRulesError(["The settings must be a JSON object, such as "
                                   '{"escalation_seconds": 60}.'])
        st = station()
        before = st.alarms.settings.to_dict()
        settings = AlarmSettings.from_dict({**before, **data})
        st.change_settings(settings, user.name)
        after = settings.to_dict()
        changed = {k: [_setting_shown(k, before[k]), _setting_shown(k, after[k])]
                   for k in after if after[k] != before.get(k)}
        self.audit.append(user.name, "alarm settings changed", "clinic", changed, address)
        return settings

    # -- what-if ------------------------------------------------------------------------

    def what_if(self, actor: User | None, session_id: int, profile: str | None = None,
                rules: list[Any] | None = None, address: str = "") -> Comparison:
        """Re-run a stored session under a profile (by default the one it ran under), or
        under that profile with ``rules`` (JSON-like) in place of its own."""
        self._check(actor, Role.VIEWER, "compare alarm limits", address)
        st = station()
        info = get_session(st.db, session_id)
        if info is None:
            raise NotFound(f"There is no session {session_id}.")
        name = profile or info.profile or st.config.alarm_profile
        try:
            base = st.store.profile(name)
        except KeyError as exc:
            raise AlarmRulesError([f"{str(exc.args[0]).capitalize()}."]) from None
        candidate = base
        if rules is not None:
            candidate = profile_from_dict({**profile_to_dict(base), "rules": rules})
        start_ms, end_ms = session_span(info, st.db)
        return Comparison(info, candidate, rules is not None and candidate != base,
                          what_if(st.db, session_id, candidate), from_ms(start_ms),
                          from_ms(end_ms))


def webhook_sentence() -> str:
    """How escalations reach the webhook, in a sentence an admin can act on."""
    st = station()
    url = st.alarms.settings.webhook_url
    if not url:
        return "No webhook is set: escalations show on every screen only."
    if st.webhook.status is None:
        return f"Escalations will be sent to {shown(url)}; none has been sent yet."
    return st.webhook.status


def alarm_ops() -> AlarmOps:
    """The checked operations, for a page's callback (the station's database holds the
    audit log; nothing is read at import time)."""
    return AlarmOps(AuditLog(station().db))


# -- the JSON API ---------------------------------------------------------------------------


def _problems(exc: AlarmRulesError) -> JSONResponse:
    return JSONResponse({"detail": " ".join(exc.problems), "problems": list(exc.problems)},
                        status_code=400)


async def _json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise AlarmRulesError([f"The request body is not valid JSON ({exc})."]) from None


def build_alarms_router(audit: AuditLog) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["alarms"])
    ops = AlarmOps(audit)
    viewer = Depends(require(Role.VIEWER, audit))
    admin = Depends(require(Role.ADMIN, audit))

    def run(call: Any) -> Any:
        try:
            return call()
        except Forbidden as exc:
            raise HTTPException(403, str(exc)) from None
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        except AlarmRulesError:
            raise
        except StorageError as exc:
            raise HTTPException(503, str(exc)) from None
        except IvmonError as exc:  # a bad filter, or the station could not take the change
            raise HTTPException(400, str(exc)) from None

    def filters(
            room: str | None = None,
            priority: Annotated[str | None, Query(description="high, medium or low")] = None,
            vital: Annotated[str | None, Query(description="a vital code, or device, serial "
                                                           "or audio")] = None,
            since: Annotated[datetime | None, Query(description="from (inclusive; UTC when "
                                                                "no zone is given)")] = None,
            until: Annotated[datetime | None, Query(description="to (exclusive)")] = None,
            unacknowledged: Annotated[bool, Query(description="only alarms nobody "
                                                              "acknowledged")] = False,
            limit: Annotated[int, Query(ge=1, le=MAX_ROWS)] = PAGE_ROWS,
            offset: Annotated[int, Query(ge=0)] = 0) -> HistoryFilter:
        return run(lambda: history_filter(room, priority, vital, since, until, unacknowledged,
                                          limit, offset))

    chosen = Depends(filters)

    @router.get("/alarms/history", summary="The alarm log, filtered, newest first (viewer)")
    def alarm_history(request: Request, user: User = viewer,
                      f: HistoryFilter = chosen) -> dict[str, Any]:
        rows, total = run(lambda: ops.history(user, f, client_address(request.scope)))
        return {"total": total, "offset": f.offset, "limit": f.limit,
                "rows": [logged_to_dict(r) for r in rows]}

    @router.get("/alarms/history.csv", summary="The filtered alarm log as CSV (viewer; audited)")
    def alarm_history_csv(request: Request, user: User = viewer,
                          f: HistoryFilter = chosen) -> Response:
        text = run(lambda: ops.export(user, f, client_address(request.scope)))
        return Response(text, media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="alarm-history.csv"'})

    @router.get("/profiles", summary="Every alarm profile and its rules (viewer)")
    def profiles(request: Request, user: User = viewer) -> list[dict[str, Any]]:
        return run(lambda: ops.profiles(user, client_address(request.scope)))

    @router.put("/profiles/{name}", summary="Create or change an alarm profile (admin; "
                                            "validated; audited)",
                responses={400: {"description": "one sentence per problem in `problems`"}})
    async def save_profile(name: str, request: Request, user: User = admin) -> Any:
        try:
            data = await _json_body(request)
            profile, message = await run_in_threadpool(
                run, lambda: ops.save_profile(user, name, data, client_address(request.scope)))
        except AlarmRulesError as exc:
            return _problems(exc)
        return {**profile_to_dict(profile), "message": message}

    @router.get("/settings", summary="The clinic's alarm settings (viewer; the webhook's "
                                     "address and status for admins)")
    def settings(request: Request, user: User = viewer) -> dict[str, Any]:
        return run(lambda: ops.settings(user, client_address(request.scope)))

    @router.put("/settings", summary="Change the clinic's alarm settings (admin; audited)",
                responses={400: {"description": "one sentence per problem in `problems`"}})
    async def save_settings(request: Request, user: User = admin) -> Any:
        try:
            data = await _json_body(request)
            saved = await run_in_threadpool(
                run, lambda: ops.save_settings(user, data, client_address(request.scope)))
        except AlarmRulesError as exc:
            return _problems(exc)
        return saved.to_dict()

    @router.get("/whatif", summary="A stored session's alarms beside those a profile would "
                                   "have raised (viewer)")
    def whatif(request: Request, session_id: int, profile: str | None = None,
               user: User = viewer) -> Any:
        try:
            found = run(lambda: ops.what_if(user, session_id, profile,
                                            address=client_address(request.scope)))
        except AlarmRulesError as exc:
            return _problems(exc)
        return comparison_to_dict(found)

    return router

