"""Helpers that run a real ivmon server in a subprocess for browser and API tests."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

DEMO_PASSWORD = "demo-password-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoServer:
    """``ivmon demo`` as a user runs it, in its own process, on a free port."""

    def __init__(self, data_dir: Path, rooms: int = 8, speed: float = 10.0,
                 port: int | None = None, extra: list[str] | None = None) -> None:
        self.data_dir, self.rooms, self.speed = data_dir, rooms, speed
        self.port = port or free_port()
        self.extra = extra or []
        self.proc: subprocess.Popen[str] | None = None
        self.log = data_dir / f"server-{self.port}.log"
        self.password = DEMO_PASSWORD
        self._opener: urllib.request.OpenerDirector | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> DemoServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("IVMON_")}
        env["IVMON_DEMO_PASSWORD"] = self.password
        self._opener = None
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "monitor.cli", "demo", "--rooms", str(self.rooms),
                 "--speed", str(self.speed), "--port", str(self.port),
                 "--data-dir", str(self.data_dir), *self.extra],
                stdout=log, stderr=subprocess.STDOUT, env=env, text=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ivmon demo exited early:\n{self.log.read_text()}")
            try:
                if self.get("/api/health", anonymous=True)["rooms"] == self.rooms:
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"ivmon demo did not answer in {timeout} s:\n{self.log.read_text()}")

    def sign_in(self, user: str = "admin") -> urllib.request.OpenerDirector:
        """An HTTP client signed in through the real sign-in form, as a browser would be."""
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = opener.open(self.url + "/login", timeout=10).read().decode()
        csrf = re.search(r"name='csrf' value='([^']+)'", page).group(1)
        data = urllib.parse.urlencode({"name": user, "password": self.password,
                                       "csrf": csrf}).encode()
        request = urllib.request.Request(self.url + "/login", data=data,
                                         headers={"Origin": self.url})
        opener.open(request, timeout=10).read()
        return opener

    def get(self, path: str, anonymous: bool = False) -> dict | list:
        """GET a JSON path, signed in as admin unless ``anonymous``."""
        if anonymous:
            opener = urllib.request.build_opener()
        else:
            if self._opener is None:
                self._opener = self.sign_in()
            opener = self._opener
        with opener.open(self.url + path, timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def wait_until(predicate, timeout: float, interval: float = 0.25, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except Exception as exc:  # the page may be mid-render; try again
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")
