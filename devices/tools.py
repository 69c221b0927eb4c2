"""Tools for clinic IT behind ``ivmon devices``, ``capture`` and ``decode``: list, probe, record,
decode."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import serial
from serial.tools import list_ports as serial_list_ports

from devices.base import Device, DeviceCounters
from devices.codecs.base import Codec, CodecStats, Measurement
from devices.registry import device_class
from devices.transport import describe, open_port, reason
from monitor.clock import Clock
from monitor.errors import DeviceError, IvmonError, PortError, UnknownProtocolError
from monitor.messages import DeviceStatus
from monitor.reading import Reading

CHUNK = 64 * 1024  # bytes of a capture file handed to a codec at once
_NO_LINE_OPTIONS = ("sim", "datex", "intellivue")  # built-in adapters with fixed framing


@dataclass(frozen=True, slots=True)
class PortInfo:
    """A serial port the operating system knows of, as clinic IT identifies it."""

    device: str  # what goes in a port URL, e.g. /dev/ttyUSB0 or COM3
    description: str  # e.g. "FT232R USB UART"
    hwid: str  # e.g. "USB VID:PID=0403:6001 SER=A50285BI LOCATION=1-1.2"


def list_ports() -> list[PortInfo]:
    """The serial ports of this machine, sorted by name."""
    found = [PortInfo(p.device, p.description or "", p.hwid or "")
             for p in serial_list_ports.comports()]
    return sorted(found, key=lambda p: p.device)


def make_device(protocol: str, url: str, options: Mapping[str, Any] | None = None, *,
                room: str = "-", device_id: str = "-", clock: Clock | None = None) -> Device:
    """Build the adapter for ``protocol``, with every failure as one sentence for the user."""
    try:
        cls = device_class(protocol)
    except ImportError as exc:  # registered but its module is missing or broken
        raise UnknownProtocolError(
            f"The {protocol} adapter cannot be loaded ({exc}); is ivmon fully installed?") from exc
    try:
        return cls(room, device_id, url, clock=clock, options=options)
    except ValueError as exc:
        text = str(exc)
        raise DeviceError(f"{text[:1].upper()}{text[1:]}.") from exc


def device_options(protocol: str, patterns: list[str] | None,
                   terminator: str | None) -> dict[str, Any]:
    """Adapter options from the command line's --pattern and --terminator.

    Only the ascii adapter takes them; given to another, its own check rejects them."""
    if protocol in _NO_LINE_OPTIONS and (patterns or terminator is not None):
        raise DeviceError(f"--pattern and --terminator are for the ascii protocol; the "
                          f"{protocol} protocol defines its own framing.")
    options: dict[str, Any] = {}
    if patterns:
        options["patterns"] = list(patterns)
    if terminator is not None:
        options["terminator"] = terminator
    if protocol == "ascii" and not patterns:
        raise DeviceError("The ascii protocol needs at least one --pattern, a regular "
                          "expression whose named groups are vital codes, e.g. "
                          "'HR=(?P<hr>\\d+)'.")
    return options


def make_codec(protocol: str, patterns: list[str] | None = None,
               terminator: str | None = None) -> Codec:
    """The codec the ``protocol`` adapter would use: the adapter decides, so a decode of a
    file and a live device can never disagree."""
    device = make_device(protocol, "", device_options(protocol, patterns, terminator))
    return device.make_codec()


def decode_file(protocol: str, path: Path, patterns: list[str] | None = None,
                terminator: str | None = None) -> tuple[list[Measurement], CodecStats]:
    """Decode a raw capture file with the protocol's codec.

    Every byte is fed as it was captured; a capture of a dialogue (IntelliVue) may hold
    the host's requests too, which the codec skips as frames it did not ask for."""
    codec = make_codec(protocol, patterns, terminator)
    out: list[Measurement] = []
    try:
        with Path(path).open("rb") as f:
            while chunk := f.read(CHUNK):
                out += codec.feed(chunk)
    except FileNotFoundError as exc:
        raise IvmonError(f"The capture file {str(path)!r} does not exist.") from exc
    except IsADirectoryError as exc:
        raise IvmonError(f"{str(path)!r} is a directory, not a capture file.") from exc
    except OSError as exc:
        raise IvmonError(f"Cannot read the capture file {str(path)!r}: "
                         f"{exc.strerror or exc}.") from exc
    return out, codec.stats


def probe(url: str, protocol: str, seconds: float, options: Mapping[str, Any] | None = None,
          *, clock: Clock | None = None
          ) -> Iterator[Reading | DeviceStatus | DeviceCounters]:
    """Run the adapter on ``url`` for ``seconds`` of wall time, yielding its readings and link
    states as they come, then its counters as the last item.

    The adapter is the one a station would run, with its reconnects and silence checks, so
    what a probe shows is what the station will see."""
    device = make_device(protocol, url, options, room="probe", device_id=describe(url),
                         clock=clock)
    messages: queue.Queue[object] = queue.Queue()
    stop = threading.Event()
    worker = threading.Thread(target=device.run, args=(messages.put, stop),
                              name=f"probe-{protocol}", daemon=True)
    worker.start()
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            try:
                message = messages.get(timeout=min(left, 0.2))
            except queue.Empty:
                continue
            if isinstance(message, Reading | DeviceStatus):
                yield message
    finally:
        stop.set()
        worker.join(timeout=10.0)
    while True:  # what arrived while the adapter was stopping
        try:
            message = messages.get_nowait()
        except queue.Empty:
            break
        if isinstance(message, Reading | DeviceStatus):
            yield message
    yield device.counters


def capture(url: str, out: Path, seconds: float, protocol: str | None = None) -> int:
    """Record the raw bytes a monitor sends on ``url`` for ``seconds`` into ``out``.

    With a protocol, the port gets that adapter's serial settings and the codec keeps up its
    side of the dialogue (the request a Datex needs before it talks, an IntelliVue's
    association and polls), so the capture holds what the station would receive. Returns
    the number of bytes written."""
    settings: Mapping[str, Any] = {}
    codec: Codec | None = None
    if protocol is not None:
        device = make_device(protocol, url, _capture_options(protocol))
        settings = device.serial_settings
        codec = device.make_codec()
    port = open_port(url, **settings)
    written = 0
    try:
        with Path(out).open("wb") as f:
            written = _record(port, f, codec, seconds)
    except OSError as exc:
        if isinstance(exc, serial.SerialException):
            raise PortError(f"The link to the monitor on {describe(url)} was lost during "
                            f"the capture: {reason(exc)}.") from exc
        raise IvmonError(f"Cannot write the capture file {str(out)!r}: "
                         f"{exc.strerror or exc}.") from exc
    finally:
        port.close()
    return written


def _capture_options(protocol: str) -> dict[str, Any]:
    # A capture keeps bytes, not values: an ascii adapter needs a pattern only to decode,
    # so any one will do for its serial settings.
    return {"patterns": [r"(?P<hr>\d+)"]} if protocol == "ascii" else {}


def _record(port: serial.SerialBase, f: Any, codec: Codec | None, seconds: float) -> int:
    written = 0
    if codec is not None:
        _write(port, codec.opening())
    deadline = time.monotonic() + seconds
    last_tick = last_data = time.monotonic()
    try:
        while time.monotonic() < deadline:
            data = port.read(max(1, port.in_waiting))
            now = time.monotonic()
            if data:
                f.write(data)
                written += len(data)
                last_data = now
            if codec is None:
                continue
            if data:
                codec.feed(data)
                _write(port, codec.pending_output())
            if now - last_tick >= 1.0:
                last_tick = now
                _write(port, codec.tick(now, now - last_data))
    finally:
        if codec is not None:
            # The port may be gone already; a release is a courtesy.
            with contextlib.suppress(serial.SerialException, OSError):
                _write(port, codec.closing())
    return written


def _write(port: serial.SerialBase, data: bytes) -> None:
    if data:
        port.write(data)
