"""Alarm profiles and the clinic's alarm settings: an admin edits them, everyone else reads
them. Saving is checked and validated on the server, and the running engine uses it at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update
from starlette.concurrency import run_in_threadpool

from dashboards import ids
from dashboards.admin import Forbidden
from dashboards.api_alarms import alarm_ops, typed_number, webhook_sentence
from dashboards.context import station
from dashboards.security import current_user
from monitor.accounts import Role
from monitor.alarms.profiles import profile_to_dict, rule_to_dict
from monitor.alarms.rules import Profile
from monitor.errors import AlarmRulesError, IvmonError
from monitor.vitals import VITALS

dash.register_page(__name__, path="/profiles", title="ivmon · alarm profiles",
                   name="Alarm profiles")

FIELDS = ("vital", "condition", "limit", "priority", "delay", "hysteresis")
HEADINGS = ("#", "Vital", "Condition", "Limit", "Priority", "Delay (s)", "Hysteresis", "")
CONDITIONS = [{"label": "above >", "value": ">"}, {"label": "below <", "value": "<"},
              {"label": "rise from baseline ≥", "value": "rise"}]
PRIORITIES = [{"label": p, "value": p} for p in ("high", "medium", "low")]
NEW_RULE = {"vital": "hr", "condition": ">", "limit": "", "priority": "medium", "delay": "10",
            "hysteresis": "0"}
TIMINGS = (("escalation_seconds", ids.SETTINGS_ESCALATION, "Escalate a high alarm left "
            "unacknowledged after (s)"),
           ("audio_pause_seconds", ids.SETTINGS_AUDIO_PAUSE, "Audio pause lasts (s)"),
           ("reminder_seconds", ids.SETTINGS_REMINDER, "Re-sound an acknowledged alarm "
            "still present every (s)"))


def _is_admin() -> bool:
    user = current_user.get()
    return user is not None and user.role >= Role.ADMIN


def _options(profiles: dict[str, Profile]) -> list[dict[str, str]]:
    running = station().config.alarm_profile
    return [{"label": f"{p.title} ({name}){' · in use' if name == running else ''}",
             "value": name} for name, p in profiles.items()]


def _rows(profile: Profile) -> list[dict[str, Any]]:
    return [{k: (f"{v:g}" if isinstance(v, float) else v) for k, v in rule_to_dict(r).items()}
            for r in profile.rules]


def _cell(i: int, row: dict[str, Any], field: str, editable: bool,
          options: list[dict[str, str]] | None = None) -> html.Td:
    key = ids.rule_cell("profile", i, field)
    if options is not None:
        return html.Td(dcc.Dropdown(options, row.get(field), id=key, clearable=False,
                                    disabled=not editable, className=f"rule-{field}"))
    return html.Td(dcc.Input(id=key, type="text", value=str(row.get(field, "")),
                             inputMode="decimal", disabled=not editable, className="rule-number"))


def rules_editor(rows: Sequence[dict[str, Any]], editable: bool) -> html.Table:
    """One line per rule, every field an input (disabled when the user may not edit)."""
    vitals = [{"label": v.label, "value": v.code} for v in VITALS]
    lines = [html.Tr([html.Th(h) for h in HEADINGS])]
    for i, row in enumerate(rows):
        lines.append(html.Tr([
            html.Td(str(i + 1)),
            _cell(i, row, "vital", editable, vitals),
            _cell(i, row, "condition", editable, CONDITIONS),
            _cell(i, row, "limit", editable),
            _cell(i, row, "priority", editable, PRIORITIES),
            _cell(i, row, "delay", editable),
            _cell(i, row, "hysteresis", editable),
            html.Td(html.Button("Remove", id=ids.rule_remove("profile", i), className="small")
                    if editable else ""),
        ], **{"data-vital": str(row.get("vital")), "data-row": str(i + 1)}))
    return html.Table(lines, className="admin-table rules-table")


def technical_sentence(p: Profile) -> str:
    return (f"Technical alarms: no data from a monitor for {p.silence_seconds:g} s "
            f"({p.silence_priority.word}); a vital reported invalid for {p.invalid_seconds:g} s "
            f"({p.invalid_priority.word}); {p.errors_count} data errors within "
            f"{p.errors_seconds:g} s ({p.errors_priority.word}). These are changed over the "
            f"API (PUT /api/profiles/{p.name}).")


def _status_class(ok: bool) -> str:
    return "webhook-status" if ok else "webhook-status failed"


def _settings_form(values: dict[str, Any], admin: bool) -> html.Div:
    status = values.get("webhook")
    return html.Div([
        dcc.Checklist([{"label": " High-priority alarms latch (stay until acknowledged after "
                                 "their condition ends)", "value": "latch",
                        "disabled": not admin}],
                      ["latch"] if values["latching_high"] else [], id=ids.SETTINGS_LATCHING),
        *[html.Label([words, dcc.Input(id=key, type="text", value=f"{values[field]:g}",
                                       inputMode="decimal", disabled=not admin,
                                       className="rule-number")], className="setting")
          for field, key, words in TIMINGS],
        html.Label(["Escalation webhook (JSON POST; empty for none)",
                    dcc.Input(id=ids.SETTINGS_WEBHOOK, type="text",
                              value=values.get("webhook_url") or "", disabled=not admin,
                              placeholder="https://pager.example/hook", className="webhook")],
                   className="setting"),
        html.P(status["status"] if status else "", id=ids.SETTINGS_WEBHOOK_STATUS,
               className=_status_class(not status or status["ok"]), role="status"),
        html.Button("Save settings", id=ids.SETTINGS_SAVE),
        html.Div("", id=ids.SETTINGS_MESSAGE, className="admin-message", role="status"),
        dcc.Interval(id=ids.SETTINGS_TICK, interval=10_000, disabled=not admin),
    ], className="settings-form")


def layout(profile: str | None = None, **_query: str) -> html.Div:
    user = current_user.get()
    if user is None or user.role < Role.VIEWER:
        return html.Div([html.H2("Alarm profiles"),
                         html.P("This page is for signed-in staff.")], className="admin")
    admin, st = user.role >= Role.ADMIN, station()
    profiles = st.store.profiles()
    name = profile if profile in profiles else st.config.alarm_profile
    chosen = profiles.get(name) or next(iter(profiles.values()))
    running = profiles.get(st.config.alarm_profile)
    notice = [] if admin else [html.P(
        f"Only an administrator can change alarm limits and settings; you are signed in as "
        f"{user.name} ({user.role.name.lower()}), so this page is read-only.",
        className="read-only", role="note")]
    return html.Div([
        html.H2("Alarm profiles"),
        *notice,
        html.P(f"This station runs {running.title if running else st.config.alarm_profile} "
               f"({st.config.alarm_profile}): saving it changes the alarms of every room at "
               f"once. Other profiles are kept for later use and for what-if comparisons.",
               className="hint"),
        html.Div([
            dcc.Dropdown(_options(profiles), chosen.name, id=ids.PROFILE_PICK, clearable=False,
                         className="profile-pick"),
            html.Label(["Name", dcc.Input(id=ids.PROFILE_NAME, value=chosen.name,
                                          disabled=not admin, className="profile-field")]),
            html.Label(["Title", dcc.Input(id=ids.PROFILE_TITLE, value=chosen.title,
                                           disabled=not admin, className="profile-field")]),
        ], className="find-form"),
        html.Div(rules_editor(_rows(chosen), admin), id=ids.PROFILE_RULES),
        html.P(technical_sentence(chosen), id=ids.PROFILE_TECHNICAL, className="hint"),
        html.Div([
            *([html.Button("Add rule", id=ids.PROFILE_ADD_RULE)] if admin else []),
            html.Button("Save profile", id=ids.PROFILE_SAVE),
            html.A("Try it on a past session", href="/whatif", className="export"),
        ], className="admin-form"),
        html.Div("", id=ids.PROFILE_MESSAGE, className="admin-message", role="status"),
        html.H2("Clinic alarm settings"),
        _settings_form(alarm_ops().settings(user), admin),
    ], className="admin profiles")


def _typed_rows(cells: Sequence[Any], cell_ids: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The table's values by row, in row order, as typed."""
    rows: dict[int, dict[str, Any]] = {}
    for value, key in zip(cells, cell_ids, strict=True):
        rows.setdefault(key["row"], {})[key["field"]] = value
    return [rows[i] for i in sorted(rows)]


def rules_data(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as the API's rule objects: numbers as numbers, or as typed so a check quotes it."""
    return [{"vital": r.get("vital"), "condition": r.get("condition"),
             "limit": typed_number(r.get("limit")), "priority": r.get("priority"),
             "delay": typed_number(r.get("delay"), 0.0),
             "hysteresis": typed_number(r.get("hysteresis"), 0.0)} for r in rows]


@callback(Output(ids.PROFILE_RULES, "children"), Output(ids.PROFILE_NAME, "value"),
          Output(ids.PROFILE_TITLE, "value"), Output(ids.PROFILE_TECHNICAL, "children"),
          Input(ids.PROFILE_PICK, "value"), Input(ids.PROFILE_ADD_RULE, "n_clicks"),
          Input(ids.rule_remove("profile", ALL), "n_clicks"),
          State(ids.rule_cell("profile", ALL, ALL), "value"),
          State(ids.rule_cell("profile", ALL, ALL), "id"), prevent_initial_call=True)
def edit_rules(name: str | None, _add: int | None, _removes: list[int | None],
               cells: list[Any], cell_ids: list[dict[str, Any]]) -> tuple[Any, ...]:
    trigger, admin = ctx.triggered_id, _is_admin()
    if trigger == ids.PROFILE_PICK:
        profile = station().store.profiles().get(name or "")
        if profile is None:
            return html.P("No such profile.", className="hint"), no_update, no_update, ""
        return (rules_editor(_rows(profile), admin), profile.name, profile.title,
                technical_sentence(profile))
    rows = _typed_rows(cells, cell_ids)
    if trigger == ids.PROFILE_ADD_RULE:
        rows.append(dict(NEW_RULE))
    elif isinstance(trigger, dict) and ctx.triggered[0]["value"]:
        del rows[int(trigger["row"])]
    else:
        return no_update, no_update, no_update, no_update
    return rules_editor(rows, admin), no_update, no_update, no_update


def problems_list(exc: AlarmRulesError) -> html.Div:
    return html.Div([html.P("Not saved:"), html.Ul([html.Li(p) for p in exc.problems],
                                                   className="problems")])


@callback(Output(ids.PROFILE_MESSAGE, "children"), Output(ids.PROFILE_PICK, "options"),
          Output(ids.PROFILE_PICK, "value"),
          Input(ids.PROFILE_SAVE, "n_clicks"), State(ids.PROFILE_PICK, "value"),
          State(ids.PROFILE_NAME, "value"), State(ids.PROFILE_TITLE, "value"),
          State(ids.rule_cell("profile", ALL, ALL), "value"),
          State(ids.rule_cell("profile", ALL, ALL), "id"), prevent_initial_call=True)
async def save_profile(_save: int | None, picked: str | None, name: str | None,
                       title: str | None, cells: list[Any],
                       cell_ids: list[dict[str, Any]]) -> tuple[Any, ...]:
    user, ops = current_user.get(), alarm_ops()
    name = (name or "").strip()
    # A new name saves a copy: the technical timings come from the profile it started from.
    base = station().store.profiles().get(picked or "")
    data = {k: v for k, v in (profile_to_dict(base) if base else {}).items() if k != "name"}
    data.update(title=(title or "").strip(), rules=rules_data(_typed_rows(cells, cell_ids)))
    try:
        _profile, message = await run_in_threadpool(ops.save_profile, user, name, data)
    except AlarmRulesError as exc:
        return problems_list(exc), no_update, no_update
    except (Forbidden, IvmonError) as exc:
        return str(exc), no_update, no_update
    profiles = station().store.profiles()
    return message, _options(profiles), name if name != picked else no_update


@callback(Output(ids.SETTINGS_MESSAGE, "children"),
          Output(ids.SETTINGS_WEBHOOK_STATUS, "children", allow_duplicate=True),
          Input(ids.SETTINGS_SAVE, "n_clicks"), State(ids.SETTINGS_LATCHING, "value"),
          State(ids.SETTINGS_ESCALATION, "value"), State(ids.SETTINGS_AUDIO_PAUSE, "value"),
          State(ids.SETTINGS_REMINDER, "value"), State(ids.SETTINGS_WEBHOOK, "value"),
          prevent_initial_call=True)
async def save_settings(_save: int | None, latching: list[str] | None, escalation: Any,
                        audio_pause: Any, reminder: Any, webhook: str | None) -> tuple[Any, ...]:
    user = current_user.get()
    data = {"latching_high": bool(latching), "escalation_seconds": typed_number(escalation),
            "audio_pause_seconds": typed_number(audio_pause),
            "reminder_seconds": typed_number(reminder), "webhook_url": (webhook or "").strip()}
    if user is not None and user.role < Role.ADMIN:
        # The form shows a viewer the webhook's host only; never send that back as a change.
        data.pop("webhook_url")
    try:
        await run_in_threadpool(alarm_ops().save_settings, user, data)
    except AlarmRulesError as exc:
        return problems_list(exc), no_update
    except (Forbidden, IvmonError) as exc:
        return str(exc), no_update
    return "Saved; every room uses the new settings now.", webhook_sentence()


@callback(Output(ids.SETTINGS_WEBHOOK_STATUS, "children"),
          Output(ids.SETTINGS_WEBHOOK_STATUS, "className"),
          Input(ids.SETTINGS_TICK, "n_intervals"), prevent_initial_call=True)
def webhook_status(_tick: int) -> tuple[str, str]:
    if not _is_admin():  # failures and the webhook's address are for administrators
        return "", _status_class(True)
    return webhook_sentence(), _status_class(station().webhook.ok)
