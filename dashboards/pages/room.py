"""A room: its tile, live 60-minute trends of all vitals with limit lines, its active alarms."""

from __future__ import annotations

from datetime import timedelta

import dash
from dash import dcc, html

from dashboards import ids
from dashboards.components.tile import tile
from dashboards.context import station
from dashboards.figures import TREND_CODES, trend_figure

dash.register_page(__name__, path_template="/room/<room_id>", title="ivmon · room",
                   name="Room")


def layout(room_id: str | None = None, **_query: str) -> html.Div:
    st = station()
    if room_id not in st.rooms:
        return html.Div([html.H2("No such room"),
                         html.P(f"There is no room called {room_id!r}."),
                         dcc.Link("Back to the central station", href="/")], className="empty")
    now = st.clock.now()
    since = now - timedelta(minutes=60)
    points = {code: st.live.trend(room_id, code, since) for code in TREND_CODES}
    view = st.live.snapshot(now, [room_id])[0]
    figure = trend_figure(points, st.alarms.engine.profile.rules,
                          st.alarms.engine.baseline(room_id), now)
    alarms = [html.Li(a.message, className="alarm-item",
                      **{"data-priority": a.priority.word}) for a in view.alarms]
    return html.Div([
        html.Div([
            html.Div(tile(view, now), id=ids.ROOM_TILE, className="room-tile"),
            html.H3("Active alarms"),
            html.Ul(alarms or [html.Li("None", className="none")], id=ids.ROOM_ALARMS,
                    className="alarm-list"),
            dcc.Link("← All rooms", href="/", className="back"),
        ], className="room-side"),
        dcc.Graph(id=ids.ROOM_TREND, figure=figure, className="room-trend",
                  config={"displaylogo": False, "responsive": True}),
    ], className="room-page", **{"data-room-page": room_id,
                                 "data-trend-codes": ",".join(TREND_CODES)})
