"""Administration: users and wall-screen links; every change is checked on the server."""

from __future__ import annotations

from typing import Any

import dash
from dash import ALL, Input, Output, State, callback, ctx, dcc, html, no_update

from dashboards import ids
from dashboards.admin import Forbidden
from dashboards.context import admin_ops
from dashboards.security import current_user
from monitor.accounts import AccountError, Role

dash.register_page(__name__, path="/admin", title="ivmon · administration",
                   name="Administration")


def _users_table() -> html.Table:
    rows = [html.Tr([html.Th("User"), html.Th("Role"), html.Th("State"), html.Th("")])]
    for u in admin_ops().users(current_user.get()):
        label = "Enable" if u["disabled"] else "Disable"
        rows.append(html.Tr([
            html.Td(u["name"]), html.Td(u["role"]),
            html.Td("disabled" if u["disabled"] else "active"),
            html.Td(html.Button(label, id=ids.user_toggle(u["name"]), className="small")),
        ]))
    return html.Table(rows, className="admin-table")


def _kiosk_table() -> html.Table:
    rows = [html.Tr([html.Th("#"), html.Th("Screen"), html.Th("Issued by"), html.Th("State"),
                     html.Th("")])]
    for k in admin_ops().kiosk_links(current_user.get()):
        rows.append(html.Tr([
            html.Td(str(k["id"])), html.Td(k["label"]), html.Td(k["created_by"]),
            html.Td("revoked" if k["revoked"] else "active"),
            html.Td("" if k["revoked"] else html.Button(
                "Revoke", id=ids.kiosk_revoke(k["id"]), className="small")),
        ]))
    return html.Table(rows, className="admin-table")


def layout(**_query: str) -> html.Div:
    user = current_user.get()
    if user is None or user.role < Role.ADMIN:
        return html.Div([html.H2("Administration"),
                         html.P("This page is for administrators.")], className="admin")
    return html.Div([
        html.H2("Users"),
        html.Div(_users_table(), id=ids.ADMIN_USERS),
        html.Div([
            dcc.Input(id=ids.ADMIN_NEW_NAME, placeholder="user name", debounce=False),
            dcc.Dropdown(["viewer", "nurse", "admin"], "nurse", id=ids.ADMIN_NEW_ROLE,
                         clearable=False, className="role-select"),
            dcc.Input(id=ids.ADMIN_NEW_PASSWORD, type="password",
                      placeholder="password (10+ characters)"),
            html.Button("Add user", id=ids.ADMIN_ADD),
        ], className="admin-form"),
        html.H2("Wall-screen links"),
        html.P("A link signs a wall screen in read-only: it shows the station and plays alarms "
               "but can never acknowledge or change anything.", className="hint"),
        html.Div(_kiosk_table(), id=ids.ADMIN_KIOSKS),
        html.Div([dcc.Input(id=ids.ADMIN_KIOSK_LABEL, placeholder="which screen"),
                  html.Button("Issue link", id=ids.ADMIN_KIOSK_ADD)], className="admin-form"),
        html.Div("", id=ids.ADMIN_MESSAGE, className="admin-message", role="status"),
    ], className="admin")


def _attempt(action: Any) -> str:
    try:
        return action() or "Done."
    except (Forbidden, AccountError) as exc:
        return str(exc)


@callback(Output(ids.ADMIN_USERS, "children"), Output(ids.ADMIN_MESSAGE, "children",
                                                      allow_duplicate=True),
          Input(ids.ADMIN_ADD, "n_clicks"), Input(ids.user_toggle(ALL), "n_clicks"),
          State(ids.ADMIN_NEW_NAME, "value"), State(ids.ADMIN_NEW_ROLE, "value"),
          State(ids.ADMIN_NEW_PASSWORD, "value"), prevent_initial_call=True)
def change_users(_add: int | None, toggles: list[int | None], name: str | None,
                 role: str | None, password: str | None) -> tuple[Any, str]:
    ops, user = admin_ops(), current_user.get()
    trigger = ctx.triggered_id
    if trigger == ids.ADMIN_ADD:
        message = _attempt(lambda: ops.add_user(user, (name or "").strip(), role or "nurse",
                                                password or "") or f"Added {name}.")
    elif isinstance(trigger, dict) and any(toggles):
        target = trigger["name"]
        disabled = next((u["disabled"] for u in ops.users(user) if u["name"] == target), False)
        message = _attempt(lambda: ops.set_disabled(user, target, not disabled) or
                           f"{target} {'enabled' if disabled else 'disabled'}.")
    else:
        return no_update, no_update
    try:
        return _users_table(), message
    except Forbidden as exc:
        return no_update, str(exc)


@callback(Output(ids.ADMIN_KIOSKS, "children"), Output(ids.ADMIN_MESSAGE, "children"),
          Input(ids.ADMIN_KIOSK_ADD, "n_clicks"), Input(ids.kiosk_revoke(ALL), "n_clicks"),
          State(ids.ADMIN_KIOSK_LABEL, "value"), prevent_initial_call=True)
def change_kiosks(_add: int | None, revokes: list[int | None],
                  label: str | None) -> tuple[Any, Any]:
    ops, user = admin_ops(), current_user.get()
    trigger = ctx.triggered_id
    if trigger == ids.ADMIN_KIOSK_ADD:
        try:
            token = ops.issue_kiosk(user, (label or "wall screen").strip())
        except (Forbidden, AccountError) as exc:
            return no_update, str(exc)
        message: Any = ["Open this link once on the wall screen (it is shown only now): ",
                        html.Code(f"/kiosk/{token}", className="kiosk-link")]
    elif isinstance(trigger, dict) and any(revokes):
        message = _attempt(lambda: ops.revoke_kiosk(user, int(trigger["id"])) or
                           "Link revoked; its screen stops within seconds.")
    else:
        return no_update, no_update
    try:
        return _kiosk_table(), message
    except Forbidden as exc:
        return no_update, str(exc)
