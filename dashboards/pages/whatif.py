"""What-if limits: re-run a stored session under a candidate profile (optionally with edited
limits) and set the alarms it would have raised beside those actually raised."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dash
import plotly.graph_objects as go
from dash import ALL, Input, Output, State, callback, dcc, html
from plotly.subplots import make_subplots
from starlette.concurrency import run_in_threadpool

from dashboards import ids
from dashboards.admin import Forbidden
from dashboards.api_alarms import Comparison, alarm_ops, typed_number
from dashboards.context import station
from dashboards.security import current_user
from dashboards.theme import PANEL, PRIORITY_COLOURS, TEXT
from monitor.accounts import Role
from monitor.alarms.model import Kind, Priority
from monitor.alarms.profiles import rule_to_dict
from monitor.alarms.rules import Condition, Profile
from monitor.alarms.whatif import Span
from monitor.errors import AlarmRulesError, IvmonError
from monitor.history import find_sessions, get_session
from monitor.vitals import BY_CODE, VITALS

dash.register_page(__name__, path="/whatif", title="ivmon · what-if limits", name="What-if")

RECENT = 100  # sessions offered in the picker; ?session=N reaches any other
EDITABLE = ("limit", "delay", "hysteresis")
ROWS = (("Actually raised", "actual"), ("Candidate", "candidate"))
PRIORITIES = (Priority.HIGH, Priority.MEDIUM, Priority.LOW)


def _session_options() -> list[dict[str, Any]]:
    st = station()
    return [{"label": f"#{s.session.id} · {s.session.started.astimezone():%Y-%m-%d %H:%M} · "
                      f"{st.rooms.get(s.session.room, s.session.room)} · "
                      f"{s.session.label or 'no label'} · {s.alarms} alarms",
             "value": s.session.id} for s in find_sessions(st.db, limit=RECENT)]


def layout(session: str | None = None, **_query: str) -> html.Div:
    user = current_user.get()
    if user is None or user.role < Role.VIEWER:
        return html.Div([html.H2("What-if limits"),
                         html.P("This page is for signed-in staff.")], className="admin")
    st = station()
    options = _session_options()
    chosen = int(session) if session and session.isdigit() else \
        (options[0]["value"] if options else None)
    info = get_session(st.db, chosen) if chosen is not None else None
    if info is not None and all(o["value"] != info.id for o in options):
        options.insert(0, {"label": f"#{info.id} · {info.room} · {info.label or 'no label'}",
                           "value": info.id})
    profiles = st.store.profiles()
    profile = info.profile if info is not None and info.profile in profiles \
        else st.config.alarm_profile
    return html.Div([
        html.H2("What-if limits"),
        html.P("Re-runs a stored session's readings through the alarm engine under a candidate "
               "profile, beside the alarms it really raised: the tool for tuning limits against "
               "alarm fatigue. Nothing here changes the station's limits. Technical alarms (a "
               "lost link, data errors) come from the equipment, not the limits, and are not "
               "compared.", className="hint"),
        html.Div([
            dcc.Dropdown(options, info.id if info else None, id=ids.WHATIF_SESSION,
                         placeholder="a stored session", clearable=False,
                         className="whatif-session"),
            dcc.Dropdown([{"label": f"{p.title} ({name})", "value": name}
                          for name, p in profiles.items()], profile, id=ids.WHATIF_PROFILE,
                         clearable=False, className="history-select"),
            html.Button("Compare", id=ids.WHATIF_RUN, className="whatif-run"),
        ], className="find-form"),
        html.Div(id=ids.WHATIF_RULES, className="whatif-rules"),
        html.Div("", id=ids.WHATIF_MESSAGE, className="admin-message", role="status"),
        html.Div(id=ids.WHATIF_COUNTS),
        dcc.Graph(id=ids.WHATIF_GRAPH, className="whatif-graph",
                  config={"displaylogo": False, "responsive": True},
                  style={"display": "none"}),
    ], className="admin whatif")


def rules_editor(profile: Profile) -> html.Table:
    """The candidate's rules with their numbers editable (vital, test and priority fixed)."""
    lines = [html.Tr([html.Th(h) for h in ("#", "Vital", "Condition", "Priority", "Limit",
                                           "Delay (s)", "Hysteresis")])]
    for i, rule in enumerate(profile.rules):
        test = "rise from baseline ≥" if rule.condition is Condition.RISE \
            else rule.condition.value
        lines.append(html.Tr([
            html.Td(str(i + 1)), html.Td(BY_CODE[rule.vital].label), html.Td(test),
            html.Td(rule.priority.word, className="priority",
                    **{"data-priority": rule.priority.word}),
            *[html.Td(dcc.Input(id=ids.rule_cell("whatif", i, field), type="text",
                                value=f"{getattr(rule, field):g}", inputMode="decimal",
                                className="rule-number"))
              for field in EDITABLE],
        ], **{"data-vital": rule.vital}))
    return html.Table(lines, className="admin-table rules-table")


@callback(Output(ids.WHATIF_RULES, "children"), Input(ids.WHATIF_PROFILE, "value"))
def show_rules(name: str | None) -> Any:
    profiles = station().store.profiles()
    if name not in profiles:
        return html.P("Choose a profile.", className="hint")
    return [html.P("Edit any limit, delay or hysteresis below to try it; the profile itself "
                   "is not changed.", className="hint"), rules_editor(profiles[name])]


def edited_rules(profile: Profile, cells: Sequence[Any],
                 cell_ids: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The profile's rules as JSON-like data with the numbers typed into the table."""
    rules = [rule_to_dict(r) for r in profile.rules]
    for value, cell in zip(cells, cell_ids, strict=True):
        row, field = cell["row"], cell["field"]
        if 0 <= row < len(rules) and field in EDITABLE:
            rules[row][field] = typed_number(value)
    return rules


def counts_table(c: Comparison) -> html.Table:
    actual, candidate = c.result.actual_counts, c.result.candidate_counts
    lines = [html.Tr([html.Th("Priority"), html.Th("Actually raised"),
                      html.Th(f"Candidate ({c.candidate.name}{', edited' if c.edited else ''})"),
                      html.Th("Change")])]
    for priority in PRIORITIES:
        word = priority.word
        change = candidate[word] - actual[word]
        lines.append(html.Tr([
            html.Td(word, className="priority", **{"data-priority": word}),
            html.Td(str(actual[word]), **{"data-column": "actual"}),
            html.Td(str(candidate[word]), **{"data-column": "candidate"}),
            html.Td(f"{change:+d}" if change else "±0", **{"data-column": "change"}),
        ], **{"data-priority": word}))
    total_a, total_c = sum(actual.values()), sum(candidate.values())
    lines.append(html.Tr([html.Td("all"), html.Td(str(total_a), **{"data-column": "actual"}),
                          html.Td(str(total_c), **{"data-column": "candidate"}),
                          html.Td(_percent(total_a, total_c), **{"data-column": "change"})],
                         **{"data-priority": "all"}))
    return html.Table(lines, className="admin-table whatif-counts")


def _percent(before: int, after: int) -> str:
    if before == after:
        return "±0"
    if before == 0:
        return f"{after:+d}"
    return f"{after - before:+d} ({(after - before) / before:+.0%})"


def whatif_figure(actual: Sequence[Span], candidate: Sequence[Span], start: datetime,
                  end: datetime) -> go.Figure:
    """Physiological alarm spans as bars per vital: actual above, candidate below."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=[title for title, _ in ROWS])
    shown = [s for s in (*actual, *candidate) if s.kind is Kind.PHYSIOLOGICAL]
    vitals = [v.label for v in VITALS if any(s.vital == v.code for s in shown)]
    for row, spans in enumerate((actual, candidate), start=1):
        for priority in PRIORITIES:
            mine = [s for s in spans if s.kind is Kind.PHYSIOLOGICAL and s.priority is priority]
            if not mine:
                continue
            ends = [s.end or end for s in mine]
            fig.add_trace(go.Bar(
                orientation="h", base=[s.start for s in mine],
                x=[max(1000.0, (e - s.start).total_seconds() * 1000) for s, e in zip(
                    mine, ends, strict=True)],
                y=[BY_CODE[s.vital].label if s.vital in BY_CODE else s.vital for s in mine],
                marker={"color": PRIORITY_COLOURS[priority], "line": {"width": 0}},
                name=priority.word, showlegend=row == 1, legendgroup=priority.word,
                customdata=[[s.message, f"{s.start.astimezone():%H:%M:%S}",
                             f"{e.astimezone():%H:%M:%S}" + ("" if s.end else " (still on)")]
                            for s, e in zip(mine, ends, strict=True)],
                hovertemplate="%{customdata[0]}<br>%{customdata[1]}–%{customdata[2]}"
                              "<extra></extra>"), row=row, col=1)
        fig.update_yaxes(type="category", categoryorder="array", categoryarray=vitals,
                         range=[-0.5, max(len(vitals), 1) - 0.5], row=row, col=1)
    fig.update_xaxes(type="date", range=[start, end], gridcolor="#30363d")
    fig.update_yaxes(gridcolor="#30363d")
    fig.update_layout(template="plotly_dark", paper_bgcolor=PANEL, plot_bgcolor=PANEL,
                      barmode="overlay", bargap=0.35, font={"color": TEXT},
                      margin={"l": 60, "r": 20, "t": 30, "b": 30},
                      legend={"orientation": "h", "y": -0.12}, uirevision="whatif")
    return fig


@callback(Output(ids.WHATIF_COUNTS, "children"), Output(ids.WHATIF_GRAPH, "figure"),
          Output(ids.WHATIF_GRAPH, "style"), Output(ids.WHATIF_MESSAGE, "children"),
          Input(ids.WHATIF_RUN, "n_clicks"), Input(ids.WHATIF_SESSION, "value"),
          Input(ids.WHATIF_PROFILE, "value"),
          State(ids.rule_cell("whatif", ALL, ALL), "value"),
          State(ids.rule_cell("whatif", ALL, ALL), "id"))
async def compare(_run: int | None, session_id: int | None, name: str | None,
                  cells: list[Any], cell_ids: list[dict[str, Any]]) -> tuple[Any, ...]:
    hidden = {"display": "none"}
    if session_id is None or name is None:
        return None, dash.no_update, hidden, "Choose a session and a profile."
    user = current_user.get()
    ops, profiles = alarm_ops(), station().store.profiles()
    # A changed profile redraws its table; the numbers typed into the old one do not apply.
    rules = None
    if name in profiles and dash.ctx.triggered_id == ids.WHATIF_RUN:
        rules = edited_rules(profiles[name], cells, cell_ids)
        if rules == [rule_to_dict(r) for r in profiles[name].rules]:
            rules = None  # nothing edited: the profile as it is
    try:
        found = await run_in_threadpool(ops.what_if, user, int(session_id), name, rules)
    except AlarmRulesError as exc:
        return None, dash.no_update, hidden, html.Ul([html.Li(p) for p in exc.problems])
    except (Forbidden, IvmonError) as exc:
        return None, dash.no_update, hidden, str(exc)
    figure = whatif_figure(found.result.actual, found.result.candidate, found.start, found.end)
    message = f"Session #{found.session.id} in {station().rooms.get(found.session.room, '')} " \
              f"under {found.candidate.title}{' with the edited limits' if found.edited else ''}."
    return counts_table(found), figure, {"height": "460px"}, message
