"""The GE/Datex-Ohmeda S/5 adapter: 19200 8E1 with RTS/CTS, the DRI displayed-values stream."""

from __future__ import annotations

from typing import Any, ClassVar

from devices.base import Device
from devices.codecs.base import Codec
from devices.codecs.datex import SERIAL_SETTINGS, DatexCodec


class DatexDevice(Device):
    """A GE/Datex S/5 (or compatible) monitor; option ``interval`` (s) is the update period."""

    protocol = "datex"
    serial_settings: ClassVar[dict[str, Any]] = dict(SERIAL_SETTINGS)
    options_help = "the only option is interval, the update period in seconds (5 or 10)"

    def validate_options(self) -> None:
        unknown = [k for k in self.options if k != "interval"]
        if unknown:
            raise ValueError(f"unknown option {unknown[0]!r} for a datex device: "
                             f"{self.options_help}")

    def make_codec(self) -> Codec:
        return DatexCodec(int(self.options.get("interval", 5)))
