"""Replay a session: one timeline of every vital, alarms, acknowledgements and events, played
at 1x, 10x or 60x with a scrubber, beside the room's tile as it was at that moment."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import dash
from dash import (
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    dcc,
    html,
    no_update,
)
from sqlalchemy import func, select

from dashboards import ids
from dashboards.components.tile import tile
from dashboards.context import station
from dashboards.figures import TREND_CODES
from dashboards.format import duration
from dashboards.replay_figure import replay_figure
from dashboards.replay_view import at_offset, room_view
from monitor.alarms.rules import profile as find_profile
from monitor.history import (
    alarm_spans,
    downsample,
    get_session,
    nibp_measurements,
    session_events,
    session_span,
    snapshot,
)
from monitor.storage.schema import ReadingRow, from_ms, to_ms
from monitor.vitals import BY_CODE

dash.register_page(__name__, path_template="/replay/<session_id>", title="ivmon · replay",
                   name="Replay")

BUCKETS = 900  # points per vital on screen: more than a wide chart has pixels for


def _figure(session_id: int, start_ms: int, end_ms: int, cursor: datetime | None = None):
    st = station()
    info = get_session(st.db, session_id)
    assert info is not None
    span_start, span_end = session_span(info, st.db)
    try:
        rules = find_profile(info.profile or "iv-ketamine").rules
    except KeyError:
        rules = ()
    baseline = {k: v for k, v in (("nibp_sys", info.baseline_sys),
                                  ("nibp_dia", info.baseline_dia)) if v is not None}
    streamed = [c for c in TREND_CODES if not BY_CODE[c].episodic]
    series = downsample(st.db, session_id, streamed, start_ms, end_ms, BUCKETS)
    fig = replay_figure(series, nibp_measurements(st.db, session_id),
                        alarm_spans(st.db, session_id), session_events(st.db, session_id),
                        rules, baseline, from_ms(start_ms), from_ms(end_ms), cursor)
    fig.update_xaxes(range=[from_ms(start_ms), from_ms(end_ms)])
    return fig, span_start, span_end


def layout(session_id: str | None = None, **_query: str) -> html.Div:
    st = station()
    info = get_session(st.db, int(session_id)) if session_id and session_id.isdigit() else None
    if info is None:
        return html.Div([html.H2("No such session"),
                         dcc.Link("Find a session", href="/sessions")], className="admin")
    start_ms, end_ms = session_span(info, st.db)
    fig, _, _ = _figure(info.id, start_ms, end_ms)
    length = max(1, (end_ms - start_ms) // 1000)
    # Open at the first reading: a session may begin before its monitor was connected.
    with st.db.connect() as conn:
        first_ms = conn.execute(select(func.min(ReadingRow.received_ms))
                                .where(ReadingRow.session_id == info.id)).scalar()
    opening = max(0, min(length, ((first_ms or start_ms) - start_ms) // 1000))
    facts = [f"{st.rooms.get(info.room, info.room)}", info.label or "no label",
             info.protocol or "", f"started {info.started:%Y-%m-%d %H:%M}",
             f"length {duration(length)}"]
    if info.baseline_sys:
        facts.append(f"baseline {info.baseline_sys:.0f}/{info.baseline_dia or 0:.0f} mmHg")
    exports = [html.A(f"Export {fmt.upper()}", href=f"/api/sessions/{info.id}/export?format={fmt}",
                      className="export", **{"download": ""}) for fmt in ("csv", "hl7", "pdf")]
    return html.Div([
        html.Div([html.H2(f"Replay · {' · '.join(facts)}"), html.Div(exports, className="exports")],
                 className="replay-head"),
        html.Div([
            html.Button("Play", id=ids.REPLAY_PLAY, className="play", n_clicks=0),
            dcc.RadioItems([{"label": f" {s}x", "value": s} for s in (1, 10, 60)], 10,
                           id=ids.REPLAY_SPEED, inline=True, className="speed"),
            html.Span("", id=ids.REPLAY_TIME, className="replay-time"),
        ], className="replay-controls"),
        dcc.Slider(0, length, 1, value=opening, id=ids.REPLAY_SLIDER, marks=None, updatemode="drag",
                   tooltip={"always_visible": False}),
        html.Div([
            dcc.Graph(id=ids.REPLAY_GRAPH, figure=fig, className="replay-graph",
                      config={"displaylogo": False, "responsive": True}),
            html.Div(id=ids.REPLAY_TILE, className="room-tile replay-tile"),
        ], className="replay-body"),
        dcc.Interval(id=ids.REPLAY_TICK, interval=1000, disabled=True),
        dcc.Store(id=ids.REPLAY_SESSION, data={"id": info.id, "start_ms": start_ms,
                                               "end_ms": end_ms,
                                               "cursor": len(fig.layout.shapes) - 1}),
    ], className="replay-page")


@callback(Output(ids.REPLAY_TICK, "disabled"), Output(ids.REPLAY_PLAY, "children"),
          Input(ids.REPLAY_PLAY, "n_clicks"), prevent_initial_call=True)
def play(clicks: int) -> tuple[bool, str]:
    playing = bool(clicks % 2)
    return not playing, "Pause" if playing else "Play"


# Advancing the scrubber runs in the page (assets/replay.js): no server round trip per tick.
clientside_callback(ClientsideFunction("replay", "advance"),
                    Output(ids.REPLAY_SLIDER, "value"), Input(ids.REPLAY_TICK, "n_intervals"),
                    State(ids.REPLAY_SLIDER, "value"), State(ids.REPLAY_SPEED, "value"),
                    State(ids.REPLAY_SLIDER, "max"), prevent_initial_call=True)


@callback(Output(ids.REPLAY_TILE, "children"), Output(ids.REPLAY_TIME, "children"),
          Output(ids.REPLAY_GRAPH, "figure", allow_duplicate=True),
          Input(ids.REPLAY_SLIDER, "value"), State(ids.REPLAY_SESSION, "data"),
          prevent_initial_call="initial_duplicate")
def scrub(offset: float | None, session: dict[str, Any]) -> tuple[Any, str, Any]:
    st = station()
    info = get_session(st.db, session["id"])
    if info is None:
        return no_update, no_update, no_update
    moment = at_offset(info, offset or 0)
    view = room_view(info, st.rooms.get(info.room, info.room), snapshot(st.db, info.id, moment))
    cursor = Patch()
    cursor["layout"]["shapes"][session["cursor"]]["x0"] = moment
    cursor["layout"]["shapes"][session["cursor"]]["x1"] = moment
    return tile(view, moment, replay=True), f"{moment:%H:%M:%S} · +{duration(offset or 0)}", cursor


@callback(Output(ids.REPLAY_GRAPH, "figure"), Input(ids.REPLAY_GRAPH, "relayoutData"),
          State(ids.REPLAY_SESSION, "data"), State(ids.REPLAY_SLIDER, "value"),
          prevent_initial_call=True)
def zoom(relayout: dict[str, Any] | None, session: dict[str, Any], offset: float | None) -> Any:
    """Downsample again, on the server, for the range now on screen."""
    if not relayout:
        return no_update
    if relayout.get("xaxis.autorange"):
        start_ms, end_ms = session["start_ms"], session["end_ms"]
    elif "xaxis.range[0]" in relayout:
        start_ms = _ms(relayout["xaxis.range[0]"])
        end_ms = _ms(relayout["xaxis.range[1]"])
    else:
        return no_update
    info = get_session(station().db, session["id"])
    cursor = at_offset(info, offset or 0) if info else None
    fig, _, _ = _figure(session["id"], start_ms, end_ms, cursor)
    return fig


def _ms(text: str) -> int:
    when = datetime.fromisoformat(str(text).replace(" ", "T"))
    return to_ms(when if when.tzinfo else when.replace(tzinfo=UTC))
