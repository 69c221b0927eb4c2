"""The emulator for ivmon's simulator line protocol: one VITALS line a second, NIBP per cuff."""

from __future__ import annotations

from devices.codecs.simline import encode_nibp, encode_vitals
from simulators.emulators.base import Emulator
from simulators.sample import VitalsSample


class SimLineEmulator(Emulator):
    """Speaks the readable line protocol ``devices.sim`` decodes."""

    protocol = "sim"

    def emit(self, sample: VitalsSample) -> bytes:
        if sample.silent:
            return b""
        out = encode_vitals(sample.values, sample.invalid)
        if sample.nibp is not None:
            out += encode_nibp(*sample.nibp)
        return out
