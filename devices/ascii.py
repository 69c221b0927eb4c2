"""The generic ASCII line adapter: patterns and terminator come from the device's options."""

from __future__ import annotations

from typing import Any, ClassVar

from devices.base import Device
from devices.codecs.ascii import AsciiCodec, compile_patterns
from devices.codecs.base import Codec


class AsciiDevice(Device):
    """A monitor that prints lines; options: ``patterns`` (list), ``terminator``, ``scale``,
    and ``baudrate`` (default 9600)."""

    protocol = "ascii"
    options_help = ("options are patterns (a list of regular expressions whose named groups are "
                    "vital codes), terminator (e.g. \"\\r\\n\"), scale (a table of code = factor) "
                    "and baudrate")
    serial_settings: ClassVar[dict[str, Any]] = {"baudrate": 9600}

    def validate_options(self) -> None:
        allowed = {"patterns", "terminator", "scale", "baudrate"}
        unknown = [k for k in self.options if k not in allowed]
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r} for an ascii device: "
                             f"{self.options_help}")
        patterns = self.options.get("patterns")
        if not isinstance(patterns, list) or not patterns:
            raise ValueError("an ascii device needs options.patterns, a list of regular "
                             "expressions such as 'SPO2=(?P<spo2>\\d+)'")
        compile_patterns(patterns)
        if "baudrate" in self.options:
            self.serial_settings = {"baudrate": int(self.options["baudrate"])}

    def make_codec(self) -> Codec:
        terminator = str(self.options.get("terminator", "\n")).encode("ascii")
        return AsciiCodec(self.options["patterns"], terminator, self.options.get("scale"))
