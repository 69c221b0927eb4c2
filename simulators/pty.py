"""A simulated bedside monitor on a pseudo-terminal, reached through a stable path like hardware.

``PtyMonitor`` runs a protocol emulator driven by the physiology model on the master side of
a pty; a ``Device`` opens ``.path`` exactly as it would open ``/dev/ttyUSB0``. The path is a
symlink in a directory of our own that points at the current slave (``/dev/pts/N``), because
a pty that is closed and reopened comes back under a new number: ``pull()`` removes the link
and closes the pty (the reader sees the port vanish, as when a USB-serial cable is pulled),
and ``plug()`` opens a new pty and points the same link at it, so the reader's
reconnect-with-backoff finds the monitor again at the address it was configured with.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import queue
import select
import shutil
import tempfile
import threading
import time
import tty
from pathlib import Path
from types import TracebackType

from monitor.vitals import NIBP_CYCLE_SECONDS
from simulators.emulators.base import Emulator
from simulators.emulators.registry import make_emulator
from simulators.physiology import SessionModel

log = logging.getLogger(__name__)

MAX_BACKLOG = 60  # simulated seconds: after a longer stall, skip ahead rather than flood
_POLL_S = 0.05  # longest the worker sleeps before it looks at the clock again


class PtyMonitor:
    """A simulated monitor speaking ``protocol`` on a pseudo-terminal, one simulated second
    every ``1 / speed`` wall seconds.

    Call ``start()`` (or use it as a context manager), open ``path`` with a ``Device``, and
    ``close()`` at the end. ``pull()`` and ``plug()`` simulate the serial cable. The patient
    keeps living while the cable is out: the model and the emulator run on and their bytes
    go nowhere, as on a real line with nobody listening.
    """

    def __init__(self, protocol: str, scenario: str = "normal", seed: int = 0,
                 speed: float = 1.0, offset: float = 0.0, link_dir: Path | None = None,
                 name: str | None = None, *, emulator: Emulator | None = None,
                 nibp_cycle: float = NIBP_CYCLE_SECONDS) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, not {speed!r}")
        self.protocol = protocol
        self.speed = float(speed)
        self.model = SessionModel(scenario, seed, offset=offset, nibp_cycle=nibp_cycle)
        # A caller may bring its own emulator (a test's ASCII monitor, say) for a protocol
        # the registry has none for.
        self.emulator = emulator if emulator is not None else make_emulator(protocol)
        self._own_dir = link_dir is None
        self._dir = Path(tempfile.mkdtemp(prefix="ivmon-pty-")) if link_dir is None \
            else Path(link_dir)
        self.path = str(self._dir / (name or f"{protocol}-monitor"))
        self.seconds_sent = 0  # simulated seconds the model has produced so far
        self._master: int | None = None
        self._slave: int | None = None
        self._slave_path: str | None = None
        self._commands: queue.Queue[tuple[str, threading.Event]] = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- the public side ----------------------------------------------------------------

    @property
    def slave_path(self) -> str | None:
        """The pty the link points at now, or None while the cable is pulled."""
        return self._slave_path

    @property
    def plugged(self) -> bool:
        return self._master is not None

    def start(self) -> PtyMonitor:
        """Open the pty, publish ``path`` and start the monitor's clock."""
        if self._thread is not None:
            raise RuntimeError("this PtyMonitor has already been started")
        self._dir.mkdir(parents=True, exist_ok=True)
        self._open_pty()
        self._thread = threading.Thread(target=self._run, name=f"pty-{self.protocol}",
                                        daemon=True)
        self._thread.start()
        return self

    def pull(self) -> None:
        """Pull the cable: the link disappears and the reader's port fails."""
        self._command("pull")

    def plug(self) -> None:
        """Plug the cable back in: a new pty behind the same ``path``."""
        self._command("plug")

    def close(self) -> None:
        """Stop the monitor, close the pty and remove the link (and our directory)."""
        if self._closed:
            return
        if self._thread is not None and self._thread.is_alive():
            self._command("close")
            self._thread.join(timeout=5.0)
        else:
            self._close_pty()
        self._closed = True
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> PtyMonitor:
        return self.start() if self._thread is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- the pty, touched only by the worker once it runs -------------------------------
    # File descriptors are opened and closed in one thread only: closing one while another
    # thread waits on it in select() could hand its number to an unrelated file.

    def _command(self, name: str) -> None:
        if self._thread is None:
            raise RuntimeError("start() the PtyMonitor first")
        if self._closed or not self._thread.is_alive():
            raise RuntimeError("this PtyMonitor has been closed")
        done = threading.Event()
        self._commands.put((name, done))
        os.write(self._wake_w, b"!")
        if not done.wait(timeout=5.0):
            raise RuntimeError(f"the pty monitor did not {name} within 5 s")

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        # Raw, so the line discipline neither echoes the host's requests back nor rewrites
        # binary frames (CR/LF mapping, ^C); pyserial sets the same when it opens.
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self._slave_path = os.ttyname(slave)
        # Replace the link in one step so a reader never sees a half-made one.
        temp = f"{self.path}.{os.getpid()}.tmp"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        os.symlink(self._slave_path, temp)
        os.replace(temp, self.path)

    def _close_pty(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)
        # We hold the slave open too, so the master never reads EIO between two sessions
        # of the reader; both go now, and a reader blocked on the slave gets a hang-up.
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        self._slave_path = None

    def _run(self) -> None:
        t0 = time.monotonic()
        try:
            while True:
                if not self._handle_commands():
                    return
                self._produce(time.monotonic() - t0)
                next_due = t0 + self.seconds_sent / self.speed
                wait = min(_POLL_S, max(0.0, next_due - time.monotonic()))
                watched = [self._wake_r] + ([self._master] if self._master is not None else [])
                readable, _, _ = select.select(watched, [], [], wait)
                if self._wake_r in readable:
                    os.read(self._wake_r, 512)
                if self._master is not None and self._master in readable:
                    self._serve_host()
        except Exception:  # a test or demo must hear of it; the reader just sees silence
            log.exception("the simulated %s monitor on %s stopped", self.protocol, self.path)
        finally:
            self._close_pty()
            self._drain_commands()

    def _handle_commands(self) -> bool:
        while True:
            try:
                name, done = self._commands.get_nowait()
            except queue.Empty:
                return True
            if name == "pull":
                self._close_pty()
            elif name == "plug" and self._master is None:
                self._open_pty()
            elif name == "close":
                self._close_pty()
                done.set()
                return False
            done.set()

    def _drain_commands(self) -> None:
        # Whoever waits on a command after the worker ended must not wait for nothing.
        while True:
            try:
                _, done = self._commands.get_nowait()
            except queue.Empty:
                return
            done.set()

    def _produce(self, wall_elapsed: float) -> None:
        due = int(wall_elapsed * self.speed) + 1
        out = bytearray()
        while self.seconds_sent < due:
            # Every second goes through the emulator, so its state (cuff results, streaming
            # cadence) stays true, but only the last MAX_BACKLOG seconds are sent.
            data = self.emulator.emit(self.model.step())
            self.seconds_sent += 1
            if due - self.seconds_sent < MAX_BACKLOG:
                out += data
        if out:
            self._send(bytes(out))

    def _serve_host(self) -> None:
        try:
            data = os.read(self._master, 4096)  # type: ignore[arg-type]
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno == errno.EIO:  # no reader on the slave side: nothing to answer
                return
            raise
        if data:
            self._send(self.emulator.receive(data))

    def _send(self, data: bytes) -> None:
        if not data or self._master is None:
            return  # a pulled cable: the monitor talks to nobody
        view = memoryview(data)
        while view:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                # Nobody reads and the line's buffer is full: the bytes are lost, as on a
                # real serial line with no host listening.
                return
            except OSError as exc:
                if exc.errno == errno.EIO:
                    return
                raise
            view = view[written:]
