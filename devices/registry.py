"""The registry of device adapters by protocol name, imported lazily (like python-can's
``can.Bus(interface=...)``); third-party adapters join through the ``ivmon.devices`` group."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from monitor.errors import UnknownProtocolError

if TYPE_CHECKING:
    from devices.base import Device

ENTRY_POINT_GROUP = "ivmon.devices"

BUILTIN: dict[str, tuple[str, str]] = {
    "sim": ("devices.sim", "SimDevice"),
    "ascii": ("devices.ascii", "AsciiDevice"),
    "datex": ("devices.datex", "DatexDevice"),
    "intellivue": ("devices.intellivue", "IntellivueDevice"),
    "hl7": ("devices.hl7", "Hl7Device"),
}


def available() -> list[str]:
    """Every protocol name an adapter is registered under."""
    names = set(BUILTIN) | {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return sorted(names)


def device_class(protocol: str) -> type[Device]:
    """Import and return the adapter class for ``protocol``."""
    if protocol in BUILTIN:
        module, name = BUILTIN[protocol]
        return getattr(importlib.import_module(module), name)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == protocol:
            return ep.load()
    raise UnknownProtocolError(
        f"No device adapter is called {protocol!r}; known protocols: {', '.join(available())}.")
