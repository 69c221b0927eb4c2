"""The ``replay://`` port: a raw capture file played back to the reader as a monitor sent it.

URL grammar::

    replay://PATH[?speed=X][&loop=1]

PATH is the capture file (``replay:///abs/path.raw`` for an absolute path,
``replay://capture.raw`` relative to the working directory; %-escapes allowed). ``speed``
is a multiple of a 19200 bit/s line's byte rate (1920 bytes/s, the default speed 1);
``speed=0`` plays as fast as the reader reads. ``loop=1`` starts again at the end of the
file; otherwise the port falls silent there, as a monitor that stops sending does. Writes
(requests, polls) are accepted and ignored: a capture cannot answer.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from pathlib import Path

from serial.serialutil import PortNotOpenError, SerialException

from devices.urlhandler.virtual import VirtualLine

LINE_RATE = 1920.0  # bytes/s of a 19200 bit/s line at 10 bits per byte
_OPTIONS = ("speed", "loop")
GRAMMAR = "expected replay://PATH[?speed=X][&loop=1], e.g. replay:///var/captures/room3.raw?speed=10"


def parse_replay_url(url: str) -> tuple[Path, float, bool]:
    """Split a ``replay://`` URL into (file, speed, loop), or raise ValueError quoting the
    grammar."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "replay":
        raise ValueError(f"not a replay:// URL: {url!r}; {GRAMMAR}")
    path = urllib.parse.unquote(parts.netloc + parts.path)
    if not path:
        raise ValueError(f"the URL {url!r} names no capture file; {GRAMMAR}")
    speed, loop = 1.0, False
    for key, values in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items():
        value = values[-1]
        if key == "speed":
            try:
                speed = float(value)
            except ValueError:
                raise ValueError(f"speed={value!r} is not a number; {GRAMMAR}") from None
            if not speed >= 0 or speed == float("inf"):
                raise ValueError(f"speed must be 0 (as fast as possible) or positive; {GRAMMAR}")
        elif key == "loop":
            if value not in ("0", "1"):
                raise ValueError(f"loop must be 0 or 1, not {value!r}; {GRAMMAR}")
            loop = value == "1"
        else:
            raise ValueError(f"unknown option {key!r} (options: {', '.join(_OPTIONS)}); "
                             f"{GRAMMAR}")
    return Path(path), speed, loop


class Serial(VirtualLine):
    """A pyserial port that reads a capture file at a chosen multiple of the line rate."""

    def _open_url(self, url: str) -> None:
        path, speed, loop = parse_replay_url(url)
        problem = None
        try:
            self._data = path.read_bytes()
        except FileNotFoundError:
            problem = f"the capture file {str(path)!r} does not exist"
        except OSError as exc:
            problem = f"the capture file {str(path)!r} cannot be read: {exc.strerror or exc}"
        if problem is not None:
            # Raised outside the handler: the port layer reads the cause's errno, and ENOENT
            # would have it blame a USB-serial adapter for a missing file.
            raise SerialException(problem)
        self._rate = speed * LINE_RATE  # 0: no pacing
        self._loop = loop and bool(self._data)
        self._pos = 0  # next byte of the file to hand out
        self._played = 0  # bytes handed out since open, across loops
        self._lock = threading.Lock()
        self._t0 = time.monotonic()

    def close(self) -> None:
        self.is_open = False

    def _available(self) -> int:
        """Bytes the line would have delivered by now and the reader has not taken."""
        remaining = len(self._data) - self._pos
        if self._loop:
            remaining = len(self._data) if remaining == 0 else remaining
        if self._rate == 0:
            return remaining
        due = int((time.monotonic() - self._t0) * self._rate) - self._played
        return max(0, min(due, remaining))

    def _take(self, size: int) -> bytes:
        if self._loop and self._pos >= len(self._data):
            self._pos = 0
        count = min(size, self._available())
        data = self._data[self._pos:self._pos + count]
        self._pos += count
        self._played += count
        return data

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        with self._lock:
            return self._available()

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        deadline = None if self._timeout is None else time.monotonic() + self._timeout
        while True:
            with self._lock:
                data = self._take(size)
            if data:
                return data
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return b""
            # The next byte is due in 1/rate s; at the end of an unlooped file, never.
            wait = 0.05 if self._rate == 0 else max(0.0005, 1.0 / self._rate)
            if deadline is not None:
                wait = min(wait, deadline - now)
            time.sleep(wait)

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        return len(data)

    def reset_input_buffer(self) -> None:
        pass  # the capture is the line, not a buffer: nothing to throw away



__all__ = ["GRAMMAR", "LINE_RATE", "Serial", "parse_replay_url"]
