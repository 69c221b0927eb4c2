"""Emulators by protocol name, imported lazily so a missing one never breaks the others."""

from __future__ import annotations

import importlib

from simulators.emulators.base import Emulator

EMULATORS: dict[str, tuple[str, str]] = {
    "sim": ("simulators.emulators.simline", "SimLineEmulator"),
    "datex": ("simulators.emulators.datex", "DatexEmulator"),
    "intellivue": ("simulators.emulators.intellivue", "IntellivueEmulator"),
}


def make_emulator(protocol: str) -> Emulator:
    if protocol not in EMULATORS:
        raise ValueError(f"no emulator for protocol {protocol!r}; expected one of "
                         f"{', '.join(EMULATORS)}")
    module, name = EMULATORS[protocol]
    return getattr(importlib.import_module(module), name)()
