"""The codec contract every protocol implements: bytes in, measurements out, no I/O.

A codec never raises on input bytes: a frame that fails its checksum or bounds is counted
in ``stats`` and dropped, and decoding resumes at the next frame. Buffers are bounded so
an endless stream of garbage never grows memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, fields
from datetime import datetime
from typing import ClassVar

from monitor.reading import Quality

MAX_BUFFER = 64 * 1024  # bytes kept while looking for a frame end; more is garbage


@dataclass(frozen=True, slots=True)
class Measurement:
    """One decoded value before it is tied to a room: the codec's output."""

    code: str
    value: float
    quality: Quality = Quality.VALID
    device_time: datetime | None = None


@dataclass(slots=True)
class CodecStats:
    """Counters a codec keeps; the device layer reports them to clinic IT."""

    bytes: int = 0
    frames: int = 0
    checksum_errors: int = 0
    resyncs: int = 0  # times bytes were skipped to find the next frame start
    dropped: int = 0  # frames that passed the checksum but failed bounds or format
    measurements: int = 0

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Codec(ABC):
    """Base of every protocol codec.

    A device adapter calls ``opening()`` once after the port opens and writes what it
    returns, ``feed()`` with every chunk of bytes read (then writes ``pending_output()``),
    ``tick()`` about once a second
    (writing what it returns: polls, keep-alives, repeated requests), and ``closing()``
    before it closes the port.
    """

    name: ClassVar[str]

    def __init__(self) -> None:
        self.stats = CodecStats()

    def opening(self) -> bytes:
        """Bytes to send when the port has just opened (a request, an association)."""
        return b""

    def tick(self, now: float, silent_for: float) -> bytes:
        """Bytes to send now; ``now`` is monotonic seconds, ``silent_for`` since last data."""
        return b""

    def pending_output(self) -> bytes:
        """Bytes the last ``feed()`` decided to send (replies in a dialogue); read once."""
        return b""

    def closing(self) -> bytes:
        """Bytes to send before the port closes (a release)."""
        return b""

    @abstractmethod
    def feed(self, data: bytes) -> list[Measurement]:
        """Take bytes from the port and return the measurements they completed."""
