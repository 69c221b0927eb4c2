"""The Device base: opens a port URL, reads with timeouts, reconnects with backoff, keeps
counters and reports a silent or lost link; a protocol supplies only its codec."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, ClassVar

import serial

from devices.codecs.base import Codec, CodecStats, Measurement
from devices.transport import describe, open_port, reason
from monitor.clock import Clock, SystemClock
from monitor.errors import PortError
from monitor.messages import DeviceErrors, DeviceStatus, LinkState
from monitor.reading import Reading

log = logging.getLogger(__name__)

BACKOFF_START = 1.0  # seconds of wall time before the first retry
BACKOFF_MAX = 30.0


@dataclass(slots=True)
class DeviceCounters:
    """What clinic IT sees for a device: traffic, errors and reconnects since start."""

    bytes: int = 0
    frames: int = 0
    checksum_errors: int = 0
    resyncs: int = 0
    dropped: int = 0
    readings: int = 0
    reconnects: int = 0

    def add(self, stats: CodecStats) -> None:
        self.bytes += stats.bytes
        self.frames += stats.frames
        self.checksum_errors += stats.checksum_errors
        self.resyncs += stats.resyncs
        self.dropped += stats.dropped


class Device:
    """A bedside monitor reached through a port URL.

    ``run()`` owns the port for as long as it is asked to: it opens the port, writes what
    the codec asks for, decodes what arrives into readings, and turns silence or a lost
    port into a DeviceStatus the alarm engine raises as a technical alarm. A subclass
    fills one hook, ``make_codec()``, and may declare its ``serial_settings``.
    """

    protocol: ClassVar[str]
    serial_settings: ClassVar[Mapping[str, Any]] = {}
    options_help: ClassVar[str] = "this adapter takes no options"

    def __init__(self, room: str, device_id: str, url: str, *, clock: Clock | None = None,
                 silence_seconds: float = 10.0, options: Mapping[str, Any] | None = None) -> None:
        self.room, self.id, self.url = room, device_id, url
        self.clock = clock or SystemClock()
        self.silence_seconds = silence_seconds
        self.options = dict(options or {})
        self.counters = DeviceCounters()
        self.state = LinkState.CONNECTING
        self._seq = 0
        self._errors_reported = 0
        self.validate_options()

    # -- the hook -------------------------------------------------------------------

    def make_codec(self) -> Codec:
        raise NotImplementedError

    def validate_options(self) -> None:
        """Reject unknown options; subclasses that take options override this."""
        if self.options:
            key = next(iter(self.options))
            raise ValueError(f"unknown option {key!r} for a {self.protocol} device: "
                             f"{self.options_help}")

    # -- running --------------------------------------------------------------------

    def run(self, publish: Callable[[object], None], stop: threading.Event) -> None:
        """Read the device until ``stop`` is set, reconnecting with backoff; never raises."""
        backoff = BACKOFF_START
        while not stop.is_set():
            try:
                # Wake at least twice per station second so polls keep their pace at any speed.
                port = open_port(self.url, timeout=min(0.1, 0.5 / self.clock.speed),
                                 **self.serial_settings)
            except PortError as exc:
                self._set_state(publish, LinkState.LOST, str(exc))
                stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                self.counters.reconnects += 1
                continue
            try:
                if self._session(port, publish, stop):
                    backoff = BACKOFF_START
            except (serial.SerialException, OSError) as exc:
                self._set_state(publish, LinkState.LOST,
                                f"The link to the monitor on {describe(self.url)} was lost: "
                                f"{reason(exc)}; reconnecting.")
            except Exception:  # a bug must not end monitoring of this room
                log.exception("device %s in room %s failed; reconnecting", self.id, self.room)
                self._set_state(publish, LinkState.LOST,
                                "The monitor adapter stopped unexpectedly; reconnecting.")
            finally:
                with contextlib.suppress(Exception):
                    port.close()
            if not stop.is_set():
                stop.wait(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX)
                self.counters.reconnects += 1

    def _session(self, port: serial.SerialBase, publish: Callable[[object], None],
                 stop: threading.Event) -> bool:
        """Read one open port until it fails or ``stop``; True if any reading arrived."""
        codec = self.make_codec()
        got_data = False
        last_data = self.clock.now()
        last_tick = time.monotonic()
        self._write(port, codec.opening())
        try:
            while not stop.is_set():
                data = port.read(max(1, port.in_waiting))
                now = self.clock.now()
                if data:
                    measurements = codec.feed(data)
                    self._write(port, codec.pending_output())
                    if measurements:
                        last_data, got_data = now, True
                        self._publish_readings(measurements, publish)
                        self._set_state(publish, LinkState.OK)
                silent_for = (now - last_data).total_seconds()
                if silent_for >= self.silence_seconds and self.state is not LinkState.SILENT:
                    self._set_state(publish, LinkState.SILENT,
                                    f"No data from the monitor for {self.silence_seconds:g} s "
                                    f"(port {describe(self.url)}).")
                if time.monotonic() - last_tick >= min(1.0, 1.0 / self.clock.speed):
                    last_tick = time.monotonic()
                    self._report_errors(codec, publish)
                    # Codecs pace polls and keep-alives in the station clock's seconds, so a
                    # simulated session at --speed 30 polls once per simulated second.
                    self._write(port, codec.tick(last_tick * self.clock.speed, silent_for))
        finally:
            self.counters.add(codec.stats)
            # The port may already be gone; a release is a courtesy.
            with contextlib.suppress(Exception):
                self._write(port, codec.closing())
        return got_data

    def _publish_readings(self, measurements: list[Measurement],
                          publish: Callable[[object], None]) -> None:
        received = self.clock.now()
        for m in measurements:
            self._seq += 1
            device_time = m.device_time
            if device_time is not None and device_time.tzinfo is None:
                # A monitor's clock without a zone is taken to be this machine's local time.
                device_time = device_time.astimezone(UTC)
            publish(Reading(room=self.room, device=self.id, code=m.code, value=m.value,
                            received=received, device_time=device_time, quality=m.quality,
                            seq=self._seq))
        self.counters.readings += len(measurements)

    def _report_errors(self, codec: Codec, publish: Callable[[object], None]) -> None:
        # At most once a station second and only on a change: the engine judges bursts from
        # the running total, and a clean line costs the bus nothing.
        total = self.counters.checksum_errors + codec.stats.checksum_errors
        if total != self._errors_reported:
            self._errors_reported = total
            publish(DeviceErrors(self.room, self.id, self.clock.now(), total))

    def _set_state(self, publish: Callable[[object], None], state: LinkState,
                   detail: str = "") -> None:
        if state is self.state and state is not LinkState.LOST:
            return
        if state is not self.state:
            log.info("room %s device %s: %s %s", self.room, self.id, state, detail)
        self.state = state
        publish(DeviceStatus(self.room, self.id, state, self.clock.now(), detail))

    @staticmethod
    def _write(port: serial.SerialBase, data: bytes) -> None:
        if data:
            port.write(data)
