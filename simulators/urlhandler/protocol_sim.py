"""The ``sim://`` port: a simulated bedside monitor behind a pyserial URL.

URL grammar::

    sim://MODEL[?scenario=NAME][&seed=N][&speed=X][&offset=SECONDS][&protocol=P]
    sim://PROTOCOL[?...]

MODEL is ``ketamine`` (the IV ketamine session model). PROTOCOL, either as the host or the
``protocol`` option, is the bytes the monitor speaks: ``sim`` (default), ``datex`` or
``intellivue``. ``speed`` runs the session faster than real time; ``offset`` starts it that
many seconds in. Bytes are released as simulated time passes, so a reader sees a monitor.
"""

from __future__ import annotations

import threading
import time
import urllib.parse

import serial
from serial.serialutil import PortNotOpenError

from devices.urlhandler.virtual import VirtualLine
from simulators.emulators.registry import EMULATORS, make_emulator
from simulators.physiology import SessionModel
from simulators.scenarios import SCENARIOS

MODELS = ("ketamine",)
_OPTIONS = ("scenario", "seed", "speed", "offset", "protocol")
_GRAMMAR = ("expected sim://ketamine?scenario=NAME&seed=N&speed=X&offset=S&protocol=P "
            f"(scenarios: {', '.join(SCENARIOS)}; protocols: {', '.join(EMULATORS)})")


def parse_sim_url(url: str) -> dict[str, object]:
    """Split a ``sim://`` URL into its settings, or raise ValueError quoting the grammar."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sim":
        raise ValueError(f"not a sim:// URL: {url!r}")
    host = parts.netloc or parts.path.strip("/") or "ketamine"
    settings: dict[str, object] = {"scenario": "normal", "seed": 0, "speed": 1.0, "offset": 0.0,
                                   "protocol": "sim"}
    if host in EMULATORS:
        settings["protocol"] = host
    elif host not in MODELS:
        raise ValueError(f"unknown simulator {host!r}: {_GRAMMAR}")
    for key, values in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items():
        if key not in _OPTIONS:
            raise ValueError(f"unknown option {key!r}: {_GRAMMAR}")
        value = values[-1]
        try:
            if key == "seed":
                settings[key] = int(value)
            elif key in ("speed", "offset"):
                settings[key] = float(value)
            else:
                settings[key] = value
        except ValueError:
            raise ValueError(f"option {key}={value!r} is not a number: {_GRAMMAR}") from None
    if settings["scenario"] not in SCENARIOS:
        raise ValueError(f"unknown scenario {settings['scenario']!r}: {_GRAMMAR}")
    if settings["protocol"] not in EMULATORS:
        raise ValueError(f"unknown protocol {settings['protocol']!r}: {_GRAMMAR}")
    if not float(settings["speed"]) > 0:  # type: ignore[arg-type]
        raise ValueError(f"speed must be positive: {_GRAMMAR}")
    return settings


class Serial(VirtualLine):
    """A pyserial port whose far end is a simulated monitor."""

    def _open_url(self, url: str) -> None:
        settings = parse_sim_url(url)
        self._speed = float(settings["speed"])  # type: ignore[arg-type]
        self._model = SessionModel(str(settings["scenario"]), int(settings["seed"]),  # type: ignore[arg-type]
                                   offset=float(settings["offset"]))  # type: ignore[arg-type]
        self._emulator = make_emulator(str(settings["protocol"]))
        self._buffer = bytearray()
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._emitted = 0  # simulated seconds already turned into bytes

    def close(self) -> None:
        self.is_open = False

    def _produce(self) -> None:
        due = int((time.monotonic() - self._t0) * self._speed) + 1
        # After a long stall, skip ahead rather than flood: a real monitor does not catch up.
        if due - self._emitted > 600:
            for _ in range(due - self._emitted - 600):
                self._model.step()
            self._emitted = due - 600
        while self._emitted < due:
            self._buffer += self._emulator.emit(self._model.step())
            self._emitted += 1

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        with self._lock:
            self._produce()
            return len(self._buffer)

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            with self._lock:
                self._produce()
                if self._buffer:
                    data = bytes(self._buffer[:size])
                    del self._buffer[:size]
                    return data
                next_due = self._t0 + self._emitted / self._speed
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return b""
            wait = next_due - now
            if deadline is not None:
                wait = min(wait, deadline - now)
            time.sleep(max(0.0005, wait))

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        reply = self._emulator.receive(bytes(data))
        if reply:
            with self._lock:
                self._buffer += reply
        return len(data)

    def reset_input_buffer(self) -> None:
        with self._lock:
            self._buffer.clear()



# pyserial looks this name up by convention; keep the module importable without side effects.
__all__ = ["Serial", "parse_sim_url", "serial"]
