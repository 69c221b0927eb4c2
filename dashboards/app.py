"""The Dash app on FastAPI: pages, the JSON API, sign-in and the live socket, in one place.

Every route, callback and socket is registered here and wrapped by one sign-in layer
(``dashboards.security.Guard``), so nothing can be added that escapes it.
"""

from __future__ import annotations

import inspect
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dash
from dash import Dash, dcc, html
from fastapi import FastAPI, WebSocket

from dashboards import ids
from dashboards.admin import AdminOps, build_admin_router
from dashboards.api import build_router
from dashboards.api_alarms import build_alarms_router
from dashboards.api_commands import build_commands_router
from dashboards.api_sessions import build_sessions_router
from dashboards.context import set_admin_ops, set_station
from dashboards.login import build_login_router
from dashboards.push import LivePush
from dashboards.security import Guard, LoginThrottle, SessionStore, current_user
from monitor.accounts import Accounts, Role
from monitor.audit import AuditLog

if TYPE_CHECKING:
    from monitor.service import Station

HERE = Path(__file__).parent


def _csp(app: Dash) -> str:
    hashes = " ".join(app.csp_hashes())  # already quoted: 'sha256-...'
    # Plotly and Dash set inline styles; scripts are only our own files and Dash's hashed
    # inline start-up script.
    return ("default-src 'self'; "
            f"script-src 'self' {hashes}; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "font-src 'self' data:; connect-src 'self'; object-src 'none'; "
            "base-uri 'self'; frame-ancestors 'none'; form-action 'self'")


def shell() -> html.Div:
    """The frame around every page, drawn per request so it names who is signed in."""
    st = _station()
    user = current_user.get()
    who = [] if user is None else [
        *([dcc.Link("Sessions", href="/sessions", className="nav"),
           dcc.Link("Alarms", href="/alarms", className="nav"),
           dcc.Link("What-if", href="/whatif", className="nav"),
           dcc.Link("Profiles", href="/profiles", className="nav")]
          if user.role >= Role.VIEWER else []),
        *([dcc.Link("Administration", href="/admin", className="nav")]
          if user.role >= Role.ADMIN else []),
        html.Span(f"{user.name} ({user.role.name.lower()})", className="who"),
        html.Form(html.Button("Sign out", type="submit", className="signout"),
                  action="/logout", method="post", className="signout-form"),
    ]
    return html.Div([
        # The body learns the role so a kiosk hides controls it may not use (the server
        # refuses them anyway).
        html.Div(id="role-marker", **{"data-role": user.role.name.lower() if user else ""},
                 hidden=True),
        html.Header([
            dcc.Link("ivmon", href="/", className="brand"),
            html.Span(st.config.station_name, className="station-name"),
            html.Span("", id=ids.CLOCK, className="station-clock"),
            html.Span("Secondary display: the bedside monitor is the primary alarm.",
                      className="disclaimer"),
            html.Span("SOUND OFF on this screen", id=ids.SOUND_WARNING, className="sound-warning",
                      role="alert", **{"data-off": "true"}),
            html.Button("Enable sound", id=ids.SOUND_TOGGLE, className="sound-toggle",
                        title="Alarm sounds need one click on each screen (browser rule)"),
            *who,
        ], className="topbar"),
        html.Div("", id=ids.LINK_BANNER, className="link-banner", role="alert",
                 **{"data-state": "connecting"}),
        html.Div("", id=ids.ESCALATION_BANNER, className="escalation-banner", role="alert",
                 **{"data-shown": "false"}),
        dash.page_container,
    ], className="shell")


def _station() -> Station:
    from dashboards.context import station

    return station()


def create_app(station: Station, push_interval: float = 0.2,
               idle_minutes: float = 60.0) -> tuple[Dash, FastAPI, LivePush]:
    """Build the app around a running station; return the app, its server and the push."""
    set_station(station)
    accounts, audit = Accounts(station.db), AuditLog(station.db)
    sessions = SessionStore(idle_minutes * 60)
    ops = AdminOps(accounts, audit, sessions)
    set_admin_ops(ops)
    app = Dash(
        __name__,
        backend="fastapi",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        assets_ignore=r"login\.css",
        title=f"ivmon · {station.config.station_name}",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    app.layout = shell

    kiosk_checked: dict[str, tuple[bool, float]] = {}

    def still_signed_in(ws: WebSocket) -> bool:
        state = ws.scope.get("state", {})
        if state.get("kiosk"):
            # A revoked kiosk link stops its screen within seconds, without a query per frame.
            ok, at = kiosk_checked.get(state["kiosk"], (True, 0.0))
            if time.monotonic() - at > 5:
                ok = accounts.by_token(state["kiosk"], "kiosk") is not None
                kiosk_checked[state["kiosk"]] = (ok, time.monotonic())
            return ok
        sid = state.get("sid")
        return sid is None or sessions.get(sid, touch=False) is not None

    push = LivePush(station, interval=push_interval, allowed=still_signed_in)
    server: FastAPI = app.server
    server.include_router(build_router())
    server.include_router(build_admin_router(ops))
    server.include_router(build_sessions_router(audit))
    server.include_router(build_commands_router(audit))
    server.include_router(build_alarms_router(audit))
    server.include_router(build_login_router(accounts, sessions, audit, LoginThrottle(),
                                             station.config.station_name))

    @server.websocket("/ws/live")
    async def live_socket(ws: WebSocket) -> None:
        await push.handle(ws)

    inner = server.router.lifespan_context
    csp: dict[str, object] = {"value": "default-src 'self'", "scripts": -1}

    def current_csp() -> str:
        # Dash adds inline start-up scripts as pages first render; hash them as they appear.
        count = len(getattr(app, "_inline_scripts", ()))
        if count != csp["scripts"]:
            csp["value"], csp["scripts"] = _csp(app), count
        return str(csp["value"])

    @asynccontextmanager
    async def lifespan(api: FastAPI):  # type: ignore[no-untyped-def]
        # Dash 4.4 does some set-up on the first request (finding the assets folder, the
        # pages router and its inline script), and its FastAPI catch-all route skips it: a
        # screen opened straight at /room/r1 got no live.js, and the first page served missed
        # a script. Doing that set-up at start-up makes every page complete from the start.
        for setup in list(app.backend._before_request_funcs):
            result = setup()
            if inspect.isawaitable(result):
                await result
        push.start()
        async with inner(api) as state:
            yield state
        await push.stop()

    server.router.lifespan_context = lifespan
    server.add_middleware(Guard, accounts=accounts, sessions=sessions, audit=audit,
                          csp=current_csp)
    server.state.ivmon = {"accounts": accounts, "audit": audit, "sessions": sessions}
    return app, server, push
