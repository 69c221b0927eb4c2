"""The HL7 adapter: listens for IHE PCD-01 ORU^R01 over MLLP from monitors and gateways
(Mindray, GE, Philips) and acknowledges each message.

Port URL: ``mllp://HOST:PORT`` (or ``tcp://``), the address to listen on, e.g.
``mllp://0.0.0.0:2575``; port 0 takes any free port (``bound_port`` tells which).
Options: ``silence_seconds`` (a number), for feeds that send less often than the station's
silence limit (many gateways send every 30-60 s).

Unlike the serial adapters this one is the server: senders connect to it, any number at
once, and may keep the connection or open one per message. ``run()`` keeps the contract of
``Device.run``: it publishes readings and link states until ``stop`` is set, never raises,
and retries with backoff when the port cannot be opened.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
import threading
from collections.abc import Callable
from typing import ClassVar
from urllib.parse import urlsplit

from devices.base import BACKOFF_MAX, BACKOFF_START, Device
from devices.codecs.base import Codec
from devices.codecs.hl7 import Hl7Codec
from monitor.messages import LinkState

log = logging.getLogger(__name__)
URL_FORM = "mllp://HOST:PORT, e.g. mllp://0.0.0.0:2575"


def listen_address(url: str) -> tuple[str, int]:
    """(host, port) from ``mllp://HOST:PORT``; ValueError quoting the expected form."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        port, parts = None, None
    if parts is None or parts.scheme not in ("mllp", "tcp") or port is None \
            or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"the HL7 port {url!r} is not a listening address; expected {URL_FORM}")
    return parts.hostname or "0.0.0.0", port


class Hl7Device(Device):
    """Receives PCD-01 observations for one room over MLLP."""

    protocol = "hl7"
    options_help: ClassVar[str] = "the only option is silence_seconds (a number)"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.host, self.port = listen_address(self.url)
        if "silence_seconds" in self.options:
            self.silence_seconds = float(self.options["silence_seconds"])
        self.bound_port: int | None = None
        self.listening = threading.Event()
        self.acks: dict[str, int] = {"AA": 0, "AE": 0, "AR": 0}

    def validate_options(self) -> None:
        for key, value in self.options.items():
            if key != "silence_seconds" or isinstance(value, bool) \
                    or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"unknown or bad option {key!r}={value!r} for an hl7 device: "
                                 f"{self.options_help}")

    def make_codec(self) -> Codec:
        return Hl7Codec(self.clock)

    def run(self, publish: Callable[[object], None], stop: threading.Event) -> None:
        """Listen until ``stop`` is set, re-opening the port with backoff; never raises."""
        backoff = BACKOFF_START
        while not stop.is_set():
            try:
                server = socket.create_server((self.host, self.port))
            except OSError as exc:
                self._set_state(publish, LinkState.LOST,
                                f"Cannot listen for HL7 on {self.host}:{self.port}: "
                                f"{exc.strerror or exc}; retrying.")
                stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                self.counters.reconnects += 1
                continue
            backoff = BACKOFF_START
            try:
                self.bound_port = server.getsockname()[1]
                self.listening.set()
                self._serve(server, publish, stop)
            except Exception:  # a bug must not end monitoring of this room
                log.exception("HL7 listener for room %s failed; listening again", self.room)
                self._set_state(publish, LinkState.LOST,
                                "The HL7 listener stopped unexpectedly; restarting.")
                stop.wait(backoff)
            finally:
                self.listening.clear()
                server.close()

    def _serve(self, server: socket.socket, publish: Callable[[object], None],
               stop: threading.Event) -> None:
        server.setblocking(False)
        selector = selectors.DefaultSelector()
        selector.register(server, selectors.EVENT_READ, None)
        last_data = self.clock.now()
        try:
            while not stop.is_set():
                for key, _ in selector.select(timeout=min(0.2, 0.5 / self.clock.speed)):
                    if key.data is None:
                        self._accept(server, selector)
                    elif self._receive(key.fileobj, key.data, selector, publish):  # type: ignore[arg-type]
                        last_data = self.clock.now()
                silent_for = (self.clock.now() - last_data).total_seconds()
                if silent_for >= self.silence_seconds and self.state is not LinkState.SILENT:
                    self._set_state(publish, LinkState.SILENT,
                                    f"No HL7 observations for {self.silence_seconds:g} s "
                                    f"(listening on port {self.bound_port}).")
        finally:
            for key in list(selector.get_map().values()):
                if key.data is not None:
                    self._drop(key.fileobj, key.data, selector)  # type: ignore[arg-type]
            selector.close()

    def _accept(self, server: socket.socket, selector: selectors.BaseSelector) -> None:
        try:
            conn, peer = server.accept()
        except (BlockingIOError, InterruptedError):
            return
        conn.setblocking(False)
        log.info("room %s: HL7 sender %s connected", self.room, peer[0])
        selector.register(conn, selectors.EVENT_READ, self.make_codec())

    def _receive(self, conn: socket.socket, codec: Hl7Codec, selector: selectors.BaseSelector,
                 publish: Callable[[object], None]) -> bool:
        """Read what a sender sent, answer it; True when readings arrived."""
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:
            self._drop(conn, codec, selector)
            return False
        measurements = codec.feed(data)
        reply = codec.pending_output()
        if reply:
            try:
                conn.setblocking(True)
                conn.settimeout(5)
                conn.sendall(reply)
                conn.setblocking(False)
            except OSError:
                self._drop(conn, codec, selector)
        if not measurements:
            return False
        self._publish_readings(measurements, publish)
        self._set_state(publish, LinkState.OK)
        return True

    def _drop(self, conn: socket.socket, codec: Hl7Codec, selector: selectors.BaseSelector) -> None:
        with contextlib.suppress(Exception):
            selector.unregister(conn)
        with contextlib.suppress(OSError):
            conn.close()
        self.counters.add(codec.stats)
        for code, count in codec.acks.items():
            self.acks[code] = self.acks.get(code, 0) + count
        codec.acks = dict.fromkeys(codec.acks, 0)
        codec.stats = type(codec.stats)()
