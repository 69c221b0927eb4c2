"""The Dash app on FastAPI: pages, the JSON API and the live socket, assembled in one place.

Every route, callback and socket is registered here, so the sign-in layer wraps them all
from this one function.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import dash
from dash import Dash, dcc, html
from fastapi import FastAPI, WebSocket

from dashboards import ids
from dashboards.api import build_router
from dashboards.context import set_station
from dashboards.push import LivePush

if TYPE_CHECKING:
    from monitor.service import Station

HERE = Path(__file__).parent


def create_app(station: Station, push_interval: float = 0.2) -> tuple[Dash, FastAPI, LivePush]:
    """Build the Dash app around a running station; return the app, its server and the push."""
    set_station(station)
    app = Dash(
        __name__,
        backend="fastapi",
        use_pages=True,
        pages_folder=str(HERE / "pages"),
        assets_folder=str(HERE / "assets"),
        title=f"ivmon · {station.config.station_name}",
        update_title=None,
        suppress_callback_exceptions=True,
    )
    app.layout = html.Div([
        html.Header([
            dcc.Link("ivmon", href="/", className="brand"),
            html.Span(station.config.station_name, className="station-name"),
            html.Span("", id=ids.CLOCK, className="station-clock"),
            html.Span("Secondary display: the bedside monitor is the primary alarm.",
                      className="disclaimer"),
        ], className="topbar"),
        html.Div("", id=ids.LINK_BANNER, className="link-banner", role="alert",
                 **{"data-state": "connecting"}),
        dash.page_container,
    ], className="shell")

    push = LivePush(station, interval=push_interval)
    server: FastAPI = app.server
    server.include_router(build_router())

    @server.websocket("/ws/live")
    async def live_socket(ws: WebSocket) -> None:
        await push.handle(ws)

    inner = server.router.lifespan_context

    @asynccontextmanager
    async def lifespan(api: FastAPI):  # type: ignore[no-untyped-def]
        # Dash 4.4's FastAPI catch-all route (every page but "/") skips the hook that finds
        # the assets folder, so a screen opened straight at /room/r1 would get no live.js.
        # Doing that set-up at start-up makes every page complete from the first request.
        app._setup_server()
        push.start()
        async with inner(api) as state:
            yield state
        await push.stop()

    server.router.lifespan_context = lifespan
    return app, server, push
