"""The in-process bus: producers publish from any thread, one dispatcher hands each message to
every listener in order (alarm engine, recorder, live state), like python-can's Notifier."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

_STOP = object()


class Listener(Protocol):
    """Anything that wants every message on the bus."""

    def on_message(self, message: object, bus: Bus) -> None: ...


class Bus:
    """Delivers every message to every listener, in publishing order, on one thread.

    A listener may publish while handling a message; what it publishes is delivered after
    the current message has reached every listener. Because the recorder is registered before
    the live state, an alarm event is committed to the log before any screen can show it.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.errors = 0

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def publish(self, message: object) -> None:
        """Queue a message for delivery; safe from any thread, never blocks."""
        self._queue.put(message)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ivmon-bus", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    def drain(self) -> int:
        """Deliver everything queued now, on the caller's thread (tests, shutdown)."""
        count = 0
        while True:
            try:
                message = self._queue.get_nowait()
            except queue.Empty:
                return count
            if message is not _STOP:
                self._deliver(message)
                count += 1

    def _run(self) -> None:
        while True:
            message = self._queue.get()
            if message is _STOP:
                return
            self._deliver(message)

    def _deliver(self, message: object) -> None:
        for listener in self._listeners:
            try:
                listener.on_message(message, self)
            except Exception:
                # One faulty listener must not stop alarms reaching the others.
                self.errors += 1
                log.exception("listener %s failed on %s", type(listener).__name__,
                              type(message).__name__)
        self.delivered += 1


class CallbackListener:
    """Adapts a plain function to the Listener protocol."""

    def __init__(self, func: Callable[[object, Bus], None]) -> None:
        self._func = func

    def on_message(self, message: object, bus: Bus) -> None:
        self._func(message, bus)
