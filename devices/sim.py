"""The simulator adapter: ivmon's line protocol, read from a ``sim://`` port or a pty like any
monitor, so simulated rooms go through the same decoding as real ones."""

from __future__ import annotations

from devices.base import Device
from devices.codecs.ascii import AsciiCodec
from devices.codecs.base import Codec
from devices.codecs.simline import PATTERNS, TERMINATOR


class SimDevice(Device):
    """Reads the simulator line protocol (see ``devices.codecs.simline``)."""

    protocol = "sim"

    def make_codec(self) -> Codec:
        return AsciiCodec(PATTERNS, TERMINATOR)
