"""The Dash app on FastAPI: pages, the JSON API, sign-in and the live socket, in one place.

Every route, callback and socket is registered here and wrapped by one sign-in layer
(``dashboards.security.Guard``), so nothing can be added that escapes it.
"""

from __future__ import annotations

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
        *([dcc.Link("Administration", href="/admin", className="nav")]
          if user.role >= Role.ADMIN else []),
        html.Span(f"{user.name} ({user.role.name.lower()})", className="who"),
        html.Form(html.Button("Sign out", type="submit", className="signout"),
                  action="/logout", method="post", className="signout-form"),
    ]
    return html.Div([
        html.Header([
            dcc.Link("ivmon", href="/", className="brand"),
            html.Span(st.config.station_name, className="station-name"),
            html.Span("", id=ids.CLOCK, className="station-clock"),
            html.Span("Secondary display: the bedside monitor is the primary alarm.",
                      className="disclaimer"),
            *who,
        ], className="topbar"),
        html.Div("", id=ids.LINK_BANNER, className="link-banner", role="alert",
                 **{"data-state": "connecting"}),
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
    server.include_router(build_login_router(accounts, sessions, audit, LoginThrottle(),
                                             station.config.station_name))

    @server.websocket("/ws/live")
    async def live_socket(ws: WebSocket) -> None:
        await push.handle(ws)

    inner = server.router.lifespan_context
    csp = {"value": "default-src 'self'"}

    @asynccontextmanager
    async def lifespan(api: FastAPI):  # type: ignore[no-untyped-def]
        # Dash 4.4's FastAPI catch-all route (every page but "/") skips the hook that finds
        # the assets folder, so a screen opened straight at /room/r1 would get no live.js.
        # Doing that set-up at start-up makes every page complete from the first request.
        app._setup_server()
        csp["value"] = _csp(app)
        push.start()
        async with inner(api) as state:
            yield state
        await push.stop()

    server.router.lifespan_context = lifespan
    server.add_middleware(Guard, accounts=accounts, sessions=sessions, audit=audit,
                          csp=lambda: csp["value"])
    server.state.ivmon = {"accounts": accounts, "audit": audit, "sessions": sessions}
    return app, server, push
