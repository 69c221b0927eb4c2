"""Sign-in, roles and CSRF on a real server: every route, callback and socket is enumerated
from the app itself, so a route added later is covered without touching this file."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import websockets

from monitor.config import Config
from monitor.service import Station
from tests.dashboards.test_browser import issue_kiosk_link
from tests.servers import DemoServer

PUBLIC = {"/api/health", "/login", "/login.css", "/_favicon.ico"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    srv = DemoServer(tmp_path_factory.mktemp("security"), rooms=2, speed=5).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def app_routes(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The routes and callbacks of the app as built by create_app, without serving it."""
    from dashboards.app import create_app

    data = tmp_path_factory.mktemp("routes")
    station = Station(Config(data_dir=data))
    app, server, _push = create_app(station)
    app._setup_server()  # what the lifespan does at start-up: callbacks, assets
    app.backend._setup_catchall()  # and the page catch-all route
    return list(walk(server.routes)), list(app.callback_map)


def walk(routes, prefix: str = ""):  # type: ignore[no-untyped-def]
    """Every (path, methods) of a route tree: included routers and mounts too."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from walk(route.original_router.routes,
                            prefix + (route.include_context.prefix or ""))
        elif type(route).__name__ == "Mount":
            yield prefix + route.path + "/live.js", ["GET"]  # static files behind the mount
        elif "WebSocket" in type(route).__name__:
            yield prefix + route.path, ["WEBSOCKET"]
        else:
            yield prefix + route.path, sorted(route.methods or [])


def fill(path: str) -> str:
    """A concrete URL for a route template."""
    path = path.replace("{fingerprinted_path:path}", "dash-renderer/build/dash_renderer.min.js")
    path = path.replace("{package_name}", "dash")
    path = re.sub(r"\{path(:path)?\}", "room/r1", path)
    path = re.sub(r"\{[^}]+\}", "1", path)
    return path if path.startswith("/") else "/" + path


def anonymous(server: DemoServer, method: str, path: str, accept: str = "application/json",
              origin: bool = True) -> int:
    data = b"{}" if method in ("POST", "PUT", "PATCH", "DELETE") else None
    headers = {"Accept": accept, "Content-Type": "application/json"}
    if origin:
        headers["Origin"] = server.url
    request = urllib.request.Request(server.url + path, data=data, method=method,
                                     headers=headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def test_every_http_route_refuses_anonymous_requests(server: DemoServer, app_routes) -> None:
    routes, _callbacks = app_routes
    checked: set[str] = set()
    for path, methods in routes:
        if "WEBSOCKET" in methods or path in PUBLIC or path.startswith("/kiosk/"):
            continue
        for method in methods:
            if method in ("HEAD", "OPTIONS"):
                continue
            status = anonymous(server, method, fill(path))
            assert status == 401, (method, path, status)
            checked.add(path)
    # Pages, Dash's internals, the API and administration were all among them.
    assert {"/api/rooms", "/api/users", "/_dash-layout", "/_dash-update-component",
            "/openapi.json"} <= checked, checked
    assert any("path" in p for p in checked), "the page catch-all route"
    # A browser asking for a page is sent to sign in instead.
    assert anonymous(server, "GET", "/room/r1", accept="text/html") == 303


def test_only_health_answers_and_it_holds_no_patient_data(server: DemoServer) -> None:
    health = server.get("/api/health", anonymous=True)
    assert set(health) == {"status", "version", "time", "rooms", "devices_ok",
                           "storage_problem"}


def test_every_dash_callback_refuses_anonymous_calls(server: DemoServer, app_routes) -> None:
    _routes, callbacks = app_routes
    assert callbacks, "the app has callbacks to check"
    for output in callbacks:
        body = json.dumps({"output": output, "outputs": [], "inputs": [],
                           "changedPropIds": []}).encode()
        request = urllib.request.Request(server.url + "/_dash-update-component", data=body,
                                         headers={"Content-Type": "application/json",
                                                  "Origin": server.url})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 401, output


def test_every_socket_refuses_anonymous_connections(server: DemoServer, app_routes) -> None:
    routes, _ = app_routes
    sockets = [path for path, methods in routes if "WEBSOCKET" in methods]
    assert "/ws/live" in sockets

    async def attempt(path: str) -> int:
        try:
            async with websockets.connect(server.url.replace("http", "ws") + path,
                                          origin=server.url):
                return 101
        except websockets.exceptions.InvalidStatus as exc:
            return exc.response.status_code

    for path in sockets:
        assert asyncio.run(attempt(path)) == 403, path


def post_json(opener, server: DemoServer, path: str, body: dict, origin: bool = True) -> int:
    headers = {"Content-Type": "application/json"}
    if origin:
        headers["Origin"] = server.url
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(),
                                     headers=headers)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def audit_lines(server: DemoServer) -> str:
    import contextlib
    import io

    from monitor.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["audit", "list", "--limit", "200", "--data-dir", str(server.data_dir)])
    return out.getvalue()


def test_viewer_and_kiosk_cannot_change_anything(server: DemoServer) -> None:
    viewer = server.sign_in("viewer")
    assert post_json(viewer, server, "/api/users",
                     {"name": "mallory", "role": "admin", "password": "x" * 12}) == 403
    kiosk = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    token = issue_kiosk_link(server.data_dir)
    kiosk.open(f"{server.url}/kiosk/{token}", timeout=10).read()
    assert json.loads(kiosk.open(server.url + "/api/rooms", timeout=10).read())  # it may see
    assert post_json(kiosk, server, "/api/kiosk", {"label": "another"}) == 403
    assert post_json(kiosk, server, "/api/users/admin/disable", {}) == 403
    log = audit_lines(server)
    assert re.search(r"viewer\s+forbidden\s+/api/users", log), log
    assert re.search(r"kiosk:test wall\s+forbidden\s+/api/kiosk", log), log
    admin = server.sign_in("admin")
    assert post_json(admin, server, "/api/users",
                     {"name": "carol", "role": "nurse", "password": "long-enough-1"}) == 201


def test_a_cross_site_write_is_refused(server: DemoServer) -> None:
    admin = server.sign_in("admin")
    status = post_json(admin, server, "/api/users",
                       {"name": "eve", "role": "admin", "password": "long-enough-1"},
                       origin=False)
    assert status == 403


def test_failed_sign_ins_are_throttled(server: DemoServer) -> None:
    def attempt(password: str) -> int:
        page = urllib.request.urlopen(server.url + "/login", timeout=10)
        csrf = re.search(r"name='csrf' value='([^']+)'", page.read().decode()).group(1)
        cookie = page.headers["set-cookie"].split(";")[0]
        body = f"name=nurse&password={password}&csrf={csrf}".encode()
        request = urllib.request.Request(server.url + "/login", data=body,
                                         headers={"Origin": server.url, "Cookie": cookie})
        try:
            with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert [attempt("wrong-password") for _ in range(5)] == [401] * 5
    # Even the right password waits now: guessing is slowed, per user and per address.
    assert attempt(server.password) == 429


def test_patient_labels_never_reach_the_application_log(server: DemoServer) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{server.data_dir / 'ivmon.db'}")
    with engine.connect() as conn:
        labels = [r[0] for r in conn.execute(text("SELECT label FROM sessions")) if r[0]]
    engine.dispose()
    assert labels
    log = Path(server.log).read_text()
    assert "ivmon is running" in log  # the log was written
    for label in labels:
        assert label not in log, label
