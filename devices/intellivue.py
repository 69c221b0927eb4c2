"""The Philips IntelliVue adapter: MIB/RS232 at 115200 8N1, association and numeric polls."""

from __future__ import annotations

from typing import Any, ClassVar

from devices.base import Device
from devices.codecs.base import Codec
from devices.codecs.intellivue import SERIAL_SETTINGS, IntellivueCodec


class IntellivueDevice(Device):
    """A Philips IntelliVue monitor on its MIB/RS232 Data Export port; takes no options."""

    protocol = "intellivue"
    serial_settings: ClassVar[dict[str, Any]] = dict(SERIAL_SETTINGS)

    def make_codec(self) -> Codec:
        return IntellivueCodec()
