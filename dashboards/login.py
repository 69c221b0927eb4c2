"""The sign-in page, sign-out, and kiosk links: plain HTML forms served beside the Dash app."""

from __future__ import annotations

import html
import secrets
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from dashboards.security import (
    COOKIE,
    CSRF_COOKIE,
    KIOSK_COOKIE,
    LoginThrottle,
    SessionStore,
    client_address,
    same_origin,
)
from monitor.accounts import Accounts
from monitor.audit import AuditLog

HERE = Path(__file__).parent


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><link rel='stylesheet' href='/login.css'>"
            f"</head><body><main class='login'>{body}</main></body></html>")


def _safe_next(target: str | None) -> str:
    # Only a path on this server: never an open redirect to another site.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def build_login_router(accounts: Accounts, sessions: SessionStore, audit: AuditLog,
                       throttle: LoginThrottle, station_name: str) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
        response.set_cookie(name, value, httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https")

    def form(request: Request, message: str = "", status: int = 200,
             name: str = "") -> HTMLResponse:
        csrf = secrets.token_urlsafe(24)
        target = html.escape(_safe_next(request.query_params.get("next")), quote=True)
        hint = ""
        if accounts.count() == 0:
            hint = ("<p class='hint'>No users exist yet. On the ivmon server, create the first "
                    "administrator with:<br><code>ivmon users add NAME --role admin</code></p>")
        note = f"<p class='error' role='alert'>{html.escape(message)}</p>" if message else ""
        body = (f"<h1>ivmon</h1><p class='station'>{html.escape(station_name)}</p>{note}{hint}"
                f"<form method='post' action='/login?next={target}'>"
                f"<input type='hidden' name='csrf' value='{csrf}'>"
                f"<label>User <input name='name' autocomplete='username' required autofocus "
                f"value='{html.escape(name, quote=True)}'></label>"
                f"<label>Password <input name='password' type='password' "
                f"autocomplete='current-password' required></label>"
                f"<button type='submit'>Sign in</button></form>"
                f"<p class='disclaimer'>Not a cleared medical device: the bedside monitor remains "
                f"the primary alarm.</p>")
        response = HTMLResponse(_page("Sign in · ivmon", body), status_code=status)
        set_cookie(response, request, CSRF_COOKIE, csrf)
        return response

    @router.get("/login.css")
    def login_css() -> FileResponse:
        return FileResponse(HERE / "assets" / "login.css", media_type="text/css")

    @router.get("/login")
    def login_page(request: Request) -> HTMLResponse:
        return form(request)

    @router.post("/login")
    def login(request: Request, name: str = Form(""), password: str = Form(""),
              csrf: str = Form("")) -> Response:
        address = client_address(request.scope)
        if not same_origin(request.scope) or not secrets.compare_digest(
                csrf, request.cookies.get(CSRF_COOKIE, "")):
            return form(request, "The sign-in form had expired. Please try again.", 400, name)
        keys = (f"user:{name.lower()}", f"addr:{address}")
        wait = throttle.wait_seconds(*keys)
        if wait > 0:
            audit.append(name or "?", "sign-in throttled", "", {"wait_s": round(wait)}, address)
            return form(request, f"Too many failed sign-ins. Try again in {wait:.0f} s.", 429,
                        name)
        user = accounts.authenticate(name, password)
        if user is None:
            throttle.failed(*keys)
            audit.append(name or "?", "sign-in failed", "", {}, address)
            return form(request, "Wrong user name or password, or the account is disabled.",
                        401, name)
        throttle.succeeded(*keys)
        sid, _session = sessions.create(user, address)
        audit.append(user.name, "signed in", "", {"role": user.role.name.lower()}, address)
        response = RedirectResponse(_safe_next(request.query_params.get("next")), 303)
        set_cookie(response, request, COOKIE, sid)
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @router.post("/logout")
    def logout(request: Request) -> Response:
        session = sessions.end(request.cookies.get(COOKIE))
        if session is not None:
            audit.append(session.user.name, "signed out", "", {},
                         client_address(request.scope))
        response = RedirectResponse("/login", 303)
        response.delete_cookie(COOKIE, path="/")
        response.delete_cookie(KIOSK_COOKIE, path="/")
        return response

    @router.get("/kiosk/{token}")
    def kiosk(token: str, request: Request) -> Response:
        user = accounts.by_token(token, "kiosk")
        address = client_address(request.scope)
        if user is None:
            audit.append("kiosk", "kiosk link refused", "", {}, address)
            return HTMLResponse(_page("ivmon", "<h1>ivmon</h1><p class='error'>This wall-screen "
                                      "link is not valid (it may have been revoked). Ask an "
                                      "administrator for a new one.</p>"), 403)
        audit.append(user.name, "kiosk signed in", "", {}, address)
        response = RedirectResponse("/", 303)
        # The token itself is the wall screen's credential, so the screen comes back by itself
        # after a restart; revoking the token ends it at once.
        response.set_cookie(KIOSK_COOKIE, token, httponly=True, samesite="lax", path="/",
                            max_age=365 * 24 * 3600, secure=request.url.scheme == "https")
        return response

    return router
