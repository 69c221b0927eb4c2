"""Sign-in for every route, callback and socket: one ASGI layer in front of the whole app.

Only ``GET /api/health`` (no patient data), the sign-in page and its stylesheet, and the
kiosk link answer without a signed-in user. A browser page without one is sent to sign in;
an API call or Dash callback gets 401; a socket is refused. Role checks for commands are
made on the server by ``require()`` on each route, never only by hiding a button.
"""

from __future__ import annotations

import contextvars
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import HTTPException, Request

from monitor.accounts import Accounts, Role, User
from monitor.audit import AuditLog

COOKIE = "ivmon_session"
CSRF_COOKIE = "ivmon_csrf"
KIOSK_COOKIE = "ivmon_kiosk"  # a wall screen's link token: it comes back after a restart
PUBLIC_PATHS = {"/api/health", "/login", "/login.css", "/_favicon.ico", "/favicon.ico"}
PUBLIC_PREFIXES = ("/kiosk/",)
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

current_user: contextvars.ContextVar[User | None] = contextvars.ContextVar(
    "ivmon_user", default=None)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(slots=True)
class WebSession:
    """A signed-in browser: who, since when, last seen, and its CSRF token."""

    user: User
    csrf: str
    address: str
    created: float
    last_seen: float


class SessionStore:
    """Signed-in browsers, kept in memory; a restart signs everyone out (kiosks come back
    through their link). Sessions idle longer than ``idle_seconds`` end, except kiosks,
    whose whole job is to stay on a wall."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: dict[str, WebSession] = {}
        self._lock = threading.Lock()

    def create(self, user: User, address: str) -> tuple[str, WebSession]:
        sid = secrets.token_urlsafe(32)
        now = time.monotonic()
        session = WebSession(user, secrets.token_urlsafe(24), address, now, now)
        with self._lock:
            self._sessions[sid] = session
        return sid, session

    def get(self, sid: str | None, touch: bool = True) -> WebSession | None:
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            now = time.monotonic()
            if not session.user.is_kiosk and now - session.last_seen > self.idle_seconds:
                del self._sessions[sid]
                return None
            if touch:
                session.last_seen = now
            return session

    def end(self, sid: str | None) -> WebSession | None:
        with self._lock:
            return self._sessions.pop(sid or "", None)

    def end_user(self, name: str) -> None:
        """Sign a user out everywhere (disabled, or password changed)."""
        with self._lock:
            for sid in [s for s, v in self._sessions.items() if v.user.name == name]:
                del self._sessions[sid]


@dataclass(slots=True)
class LoginThrottle:
    """Failed sign-ins per user and per address: after ``limit`` failures in ``window``
    seconds, further tries wait, twice as long after each further failure."""

    limit: int = 5
    window: float = 15 * 60
    base_wait: float = 30.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_seconds(self, *keys: str) -> float:
        now = time.monotonic()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._failures.get(key)
                if not times:
                    continue
                while times and now - times[0] > self.window:
                    times.popleft()
                extra = len(times) - self.limit
                if extra >= 0:
                    wait = max(wait, times[-1] + self.base_wait * 2 ** extra - now)
        return max(0.0, wait)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=64)).append(time.monotonic())

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def _cookies(scope: Scope) -> dict[str, str]:
    jar = SimpleCookie()
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            try:
                jar.load(value.decode("latin-1"))
            except Exception:
                continue
    return {k: m.value for k, m in jar.items()}


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def cookies_kiosk(scope: Scope) -> str:
    return _cookies(scope).get(KIOSK_COOKIE, "")


def same_origin(scope: Scope) -> bool:
    """True when an unsafe request comes from our own pages (Origin, else Referer, matches)."""
    host = _header(scope, b"host")
    origin = _header(scope, b"origin") or _header(scope, b"referer")
    return bool(origin) and urlsplit(origin).netloc == host


def security_headers(csp: str, secure: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cache-control", b"no-store"),
    ]
    if secure:
        headers.append((b"strict-transport-security", b"max-age=31536000"))
    return headers


class Guard:
    """The ASGI layer: finds who is asking, refuses anonymous requests, adds headers."""

    def __init__(self, app: Callable[..., Awaitable[None]], accounts: Accounts,
                 sessions: SessionStore, audit: AuditLog, csp: Callable[[], str]) -> None:
        self.app, self.accounts, self.sessions, self.audit = app, accounts, sessions, audit
        self.csp = csp

    def identify(self, scope: Scope) -> tuple[User | None, str | None, WebSession | None]:
        """The user behind a request: a session cookie, a kiosk cookie or a bearer token."""
        cookies = _cookies(scope)
        sid = cookies.get(COOKIE)
        session = self.sessions.get(sid, touch=scope["type"] == "http")
        if session is not None:
            return session.user, sid, session
        if cookies.get(KIOSK_COOKIE):
            kiosk = self.accounts.by_token(cookies[KIOSK_COOKIE], "kiosk")
            if kiosk is not None:
                return kiosk, None, None
        auth = _header(scope, b"authorization")
        if auth.lower().startswith("bearer ") and scope["type"] == "http":
            user = self.accounts.by_token(auth[7:].strip(), "api")
            if user is not None:
                return user, None, None
        return None, None, None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        secure = scope.get("scheme") in ("https", "wss")

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + security_headers(
                    self.csp(), secure)
            await send(message)

        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            await self.app(scope, receive, send_with_headers)
            return
        user, _sid, _session = self.identify(scope)
        if user is None:
            await self._refuse_anonymous(scope, receive, send_with_headers)
            return
        if scope["type"] == "http" and scope.get("method") in UNSAFE \
                and not _header(scope, b"authorization") and not same_origin(scope):
            # A cookie-authenticated write must come from our own pages (CSRF).
            self.audit.append(user.name, "forbidden", path, {"reason": "cross-site request"},
                              client_address(scope))
            await _json(send_with_headers, 403, "This request did not come from an ivmon page.")
            return
        state = scope.setdefault("state", {})
        state["user"], state["sid"] = user, _sid
        if user.is_kiosk:
            state["kiosk"] = cookies_kiosk(scope)
        token = current_user.set(user)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            current_user.reset(token)

    async def _refuse_anonymous(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # Closing before accepting refuses the handshake (HTTP 403).
            await receive()
            await send({"type": "websocket.close", "code": 4401, "reason": "sign in first"})
            return
        accept = _header(scope, b"accept")
        if scope.get("method") == "GET" and "text/html" in accept:
            target = scope.get("path", "/")
            if scope.get("query_string"):
                target += "?" + scope["query_string"].decode("latin-1")
            await send({"type": "http.response.start", "status": 303,
                        "headers": [(b"location", f"/login?next={quote(target)}".encode())]})
            await send({"type": "http.response.body", "body": b""})
            return
        await _json(send, 401, "Sign in first.")


async def _json(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def user_of(request: Request) -> User:
    user = request.scope.get("state", {}).get("user")
    if user is None:
        raise HTTPException(401, "Sign in first.")
    return user


def require(role: Role, audit: AuditLog) -> Callable[[Request], User]:
    """A FastAPI dependency: the signed-in user if their role allows, else 403, logged."""

    def check(request: Request) -> User:
        user = user_of(request)
        if user.role < role:
            audit.append(user.name, "forbidden", request.url.path,
                         {"needed": role.name.lower(), "had": user.role.name.lower(),
                          "method": request.method}, client_address(request.scope))
            raise HTTPException(403, f"This needs the {role.name.lower()} role; "
                                     f"{user.name} is {user.role.name.lower()}.")
        return user

    return check
