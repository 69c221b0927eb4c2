"""The contract of a device emulator: it speaks one protocol's bytes for a simulated patient."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from simulators.sample import VitalsSample


class Emulator(ABC):
    """A bedside monitor's serial side, driven by the physiology model.

    The ``sim://`` port calls ``emit()`` once per simulated second and hands the host's
    writes to ``receive()``; both return bytes to put on the wire towards the host.
    """

    protocol: ClassVar[str]

    def receive(self, data: bytes) -> bytes:
        """Take bytes the host wrote (requests, polls) and return any immediate reply."""
        return b""

    @abstractmethod
    def emit(self, sample: VitalsSample) -> bytes:
        """Return the bytes the monitor sends for this second of the session."""
