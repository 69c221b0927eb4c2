"""Find a past session: by room, date, patient label, and whether it raised alarms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dash
from dash import Input, Output, callback, dcc, html

from dashboards import ids
from dashboards.context import station
from dashboards.format import duration
from monitor.history import find_sessions

dash.register_page(__name__, path="/sessions", title="ivmon · sessions", name="Sessions")


def layout(**_query: str) -> html.Div:
    st = station()
    today = datetime.now(UTC).date()
    return html.Div([
        html.H2("Sessions"),
        html.Div([
            dcc.Dropdown([{"label": name, "value": rid} for rid, name in st.rooms.items()],
                         id=ids.FIND_ROOM, placeholder="any room", className="find-room"),
            dcc.Input(id=ids.FIND_LABEL, placeholder="patient label", debounce=True),
            dcc.DatePickerRange(id=ids.FIND_DATES, start_date=today - timedelta(days=30),
                                end_date=today, display_format="YYYY-MM-DD"),
            dcc.Checklist([{"label": " with alarms only", "value": "alarms"}], [],
                          id=ids.FIND_ALARMS),
        ], className="find-form"),
        html.Div(id=ids.FIND_RESULTS),
    ], className="admin sessions")


@callback(Output(ids.FIND_RESULTS, "children"), Input(ids.FIND_ROOM, "value"),
          Input(ids.FIND_LABEL, "value"), Input(ids.FIND_DATES, "start_date"),
          Input(ids.FIND_DATES, "end_date"), Input(ids.FIND_ALARMS, "value"))
def search(room: str | None, label: str | None, start: str | None, end: str | None,
           alarms: list[str]) -> html.Table | html.P:
    st = station()
    since = datetime.combine(date.fromisoformat(start), datetime.min.time(), UTC) if start \
        else None
    until = datetime.combine(date.fromisoformat(end), datetime.min.time(), UTC) + \
        timedelta(days=1) if end else None
    found = find_sessions(st.db, room=room or None, since=since, until=until,
                          label=label or None, with_alarms=True if alarms else None)
    if not found:
        return html.P("No session matches.", className="hint")
    rows = [html.Tr([html.Th(h) for h in ("Started", "Room", "Patient", "Protocol", "Length",
                                          "Alarms (high)", "Events", "")])]
    for s in found:
        info = s.session
        end_at = info.discharged or info.ended
        length = duration((end_at - info.started).total_seconds()) if end_at else "open"
        rows.append(html.Tr([
            html.Td(f"{info.started:%Y-%m-%d %H:%M}"), html.Td(st.rooms.get(info.room, info.room)),
            html.Td(info.label or "—"), html.Td(info.protocol or "—"), html.Td(length),
            html.Td(f"{s.alarms} ({s.high_alarms})"), html.Td(str(s.events)),
            html.Td(dcc.Link("Replay", href=f"/replay/{info.id}")),
        ]))
    return html.Table(rows, className="admin-table")
