"""The alarm history: every logged transition, filtered by room, priority, vital, dates and
acknowledgement, a page at a time, with the same rows as a CSV download."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, ctx, dcc, html
from starlette.concurrency import run_in_threadpool

from dashboards import ids
from dashboards.admin import Forbidden
from dashboards.api_alarms import PAGE_ROWS, alarm_ops, day_range, export_href, history_filter
from dashboards.context import station
from dashboards.security import current_user
from monitor.accounts import Role
from monitor.alarms.history import LoggedEvent
from monitor.alarms.log import AUDIO, DEVICE, SERIAL
from monitor.errors import IvmonError
from monitor.vitals import BY_CODE, VITALS

dash.register_page(__name__, path="/alarms", title="ivmon · alarm history", name="Alarms")

# What the log's `vital` column holds besides vital codes.
OTHER_SOURCES = {DEVICE: "link to the monitor", SERIAL: "data errors", AUDIO: "audio pause"}
HEADINGS = ("Time", "Room", "Vital", "Priority", "Transition", "Message", "By", "Note")


def _source(code: str) -> str:
    return BY_CODE[code].label if code in BY_CODE else OTHER_SOURCES.get(code, code)


def layout(room: str | None = None, priority: str | None = None, vital: str | None = None,
           unacknowledged: str | None = None, **_query: str) -> html.Div:
    user = current_user.get()
    if user is None or user.role < Role.VIEWER:
        return html.Div([html.H2("Alarm history"),
                         html.P("This page is for signed-in staff.")], className="admin")
    st = station()
    sources = [{"label": f"{v.label} ({v.name})", "value": v.code} for v in VITALS] + \
        [{"label": words, "value": code} for code, words in OTHER_SOURCES.items()]
    return html.Div([
        html.H2("Alarm history"),
        html.Div([
            dcc.Dropdown([{"label": name, "value": rid} for rid, name in st.rooms.items()],
                         room, id=ids.HISTORY_ROOM, placeholder="any room",
                         className="history-select"),
            dcc.Dropdown([{"label": p.capitalize(), "value": p}
                          for p in ("high", "medium", "low")], priority,
                         id=ids.HISTORY_PRIORITY, placeholder="any priority",
                         className="history-select"),
            dcc.Dropdown(sources, vital, id=ids.HISTORY_VITAL, placeholder="any vital",
                         className="history-select"),
            dcc.DatePickerRange(id=ids.HISTORY_DATES, display_format="YYYY-MM-DD",
                                clearable=True, start_date_placeholder_text="from",
                                end_date_placeholder_text="to"),
            dcc.Checklist([{"label": " unacknowledged only", "value": "yes"}],
                          ["yes"] if unacknowledged in ("1", "true", "yes") else [],
                          id=ids.HISTORY_UNACKNOWLEDGED),
            html.A("Export CSV", id=ids.HISTORY_EXPORT, href=export_href(history_filter()),
                   className="export", **{"download": "alarm-history.csv"}),
        ], className="find-form history-form"),
        html.Div([
            html.Button("‹ Newer", id=ids.HISTORY_PREVIOUS, className="small", disabled=True),
            html.Span("", id=ids.HISTORY_SUMMARY, className="history-summary", role="status"),
            html.Button("Older ›", id=ids.HISTORY_NEXT, className="small", disabled=True),
        ], className="history-pager"),
        html.Div(id=ids.HISTORY_TABLE),
        dcc.Store(id=ids.HISTORY_PAGE, data=0),
    ], className="admin alarm-history")


def history_table(rows: list[LoggedEvent], rooms: dict[str, str]) -> html.Table:
    """The log's rows, newest first, each marked with its priority for the colours."""
    lines = [html.Tr([html.Th(h) for h in HEADINGS])]
    for row in rows:
        e = row.event
        word = e.priority.word
        lines.append(html.Tr([
            html.Td(f"{e.at.astimezone():%Y-%m-%d %H:%M:%S}", className="when"),
            html.Td(rooms.get(e.room, e.room)),
            html.Td(_source(e.vital)),
            html.Td(word if word != "none" else "", className="priority",
                    **{"data-priority": word}),
            html.Td(str(e.transition).replace("_", " ")),
            html.Td(e.message),
            html.Td(e.by_user or ""),
            html.Td(e.note or ""),
        ], **{"data-priority": word, "data-transition": str(e.transition)}))
    return html.Table(lines, className="admin-table history-table")


@callback(Output(ids.HISTORY_TABLE, "children"), Output(ids.HISTORY_SUMMARY, "children"),
          Output(ids.HISTORY_EXPORT, "href"), Output(ids.HISTORY_PAGE, "data"),
          Output(ids.HISTORY_PREVIOUS, "disabled"), Output(ids.HISTORY_NEXT, "disabled"),
          Input(ids.HISTORY_ROOM, "value"), Input(ids.HISTORY_PRIORITY, "value"),
          Input(ids.HISTORY_VITAL, "value"), Input(ids.HISTORY_DATES, "start_date"),
          Input(ids.HISTORY_DATES, "end_date"), Input(ids.HISTORY_UNACKNOWLEDGED, "value"),
          Input(ids.HISTORY_PREVIOUS, "n_clicks"), Input(ids.HISTORY_NEXT, "n_clicks"),
          State(ids.HISTORY_PAGE, "data"))
async def show_history(room: str | None, priority: str | None, vital: str | None,
                       start: str | None, end: str | None, unacknowledged: list[str] | None,
                       _newer: int | None, _older: int | None,
                       page: int | None) -> tuple[Any, ...]:
    user, trigger = current_user.get(), ctx.triggered_id
    page = page or 0
    if trigger == ids.HISTORY_PREVIOUS:
        page = max(0, page - 1)
    elif trigger == ids.HISTORY_NEXT:
        page += 1
    else:
        page = 0  # a changed filter starts again at the newest rows
    try:
        since, until = day_range(start, end)
        f = history_filter(room, priority, vital, since, until, bool(unacknowledged),
                           limit=PAGE_ROWS, offset=page * PAGE_ROWS)
        rows, total = await run_in_threadpool(alarm_ops().history, user, f)
    except (Forbidden, IvmonError, ValueError) as exc:
        return html.P(str(exc), className="admin-message"), "", dash.no_update, 0, True, True
    if not rows:
        table: Any = html.P("No alarm matches.", className="hint")
        summary = "0 rows" if total == 0 else f"no rows here; {total} in all"
    else:
        table = history_table(rows, station().rooms)
        first = page * PAGE_ROWS + 1
        summary = f"{first}–{first + len(rows) - 1} of {total}"
    return table, summary, export_href(f), page, page == 0, (page + 1) * PAGE_ROWS >= total
