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


EVENT_BUTTONS = (("infusion_started", "Infusion started"), ("rate_changed", "Rate changed"),
                 ("infusion_stopped", "Infusion stopped"), ("bp_check", "BP check"),
                 ("intervention", "Intervention"), ("note", "Note"))


def session_panel(room_id: str, session_id: int | None) -> html.Div:
    """Start a session, record its events, check and discharge; shown by the live frame."""
    field = {"className": "session-input"}
    return html.Div([
        html.H3("Session"),
        html.Div([
            dcc.Input(id=ids.SESSION_LABEL, placeholder="patient label or initials",
                      maxLength=64, **field),
            dcc.Input(id=ids.SESSION_MRN, placeholder="MRN (optional)", maxLength=32, **field),
            dcc.RadioItems([{"label": " IV ketamine", "value": "iv-ketamine"},
                            {"label": " Spravato", "value": "spravato"}], "iv-ketamine",
                           id=ids.SESSION_PROTOCOL, inline=True, className="session-protocol"),
            html.Div([
                dcc.Input(id=ids.SESSION_WEIGHT, type="number", placeholder="weight kg",
                          min=1, max=400, **field),
                dcc.Input(id=ids.SESSION_DOSE, type="number", placeholder="mg/kg", min=0,
                          max=10, step=0.05, **field),
                dcc.Input(id=ids.SESSION_DURATION, type="number", placeholder="minutes", min=1,
                          max=600, **field),
            ], className="session-numbers"),
            html.Button("Start session", className="primary",
                        **{"data-action": "session-start", "data-room-id": room_id}),
        ], className="session-none"),
        html.Div([
            html.P(["Phase ", html.B("", **{"data-field": "phase"}), " · ",
                    html.Span("", **{"data-field": "session"}),
                    html.Span("", className="obs-left", **{"data-field": "observation"})]),
            html.Div([html.Button(label, className="small",
                                  **{"data-action": "session-event", "data-kind": kind})
                      for kind, label in EVENT_BUTTONS], className="event-buttons"),
            dcc.Input(id=ids.SESSION_NOTE, placeholder="detail for the event (e.g. 128/84)",
                      maxLength=500, **field),
            html.Div([
                html.Button("Check discharge", className="small",
                            **{"data-action": "discharge-check"}),
                html.Button("Discharge", className="small", **{"data-action": "discharge"}),
                html.Button("End session", className="small", **{"data-action": "session-end"}),
            ], className="event-buttons"),
            html.Div("", className="discharge-result", **{"data-field": "discharge"}),
        ], className="session-running"),
    ], id=ids.SESSION_PANEL, className="session-panel",
        **{"data-session-room": room_id,
           "data-session-id": "" if session_id is None else str(session_id)})


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
            session_panel(room_id, view.session_id),
            html.H3("Active alarms"),
            html.Ul(alarms or [html.Li("None", className="none")], id=ids.ROOM_ALARMS,
                    className="alarm-list"),
            dcc.Link("← All rooms", href="/", className="back"),
        ], className="room-side"),
        dcc.Graph(id=ids.ROOM_TREND, figure=figure, className="room-trend",
                  config={"displaylogo": False, "responsive": True}),
    ], className="room-page", **{"data-room-page": room_id,
                                 "data-trend-codes": ",".join(TREND_CODES)})
