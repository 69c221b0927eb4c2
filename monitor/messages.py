"""Messages other than readings and alarm events that travel on the bus."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class LinkState(enum.StrEnum):
    """The state of the link between ivmon and one bedside monitor."""

    CONNECTING = "connecting"
    OK = "ok"
    SILENT = "silent"  # the port is open but nothing decodable arrives
    LOST = "lost"  # the port could not be opened or went away


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """A device adapter's word on its link, with a sentence a nurse or IT person understands."""

    room: str
    device: str
    state: LinkState
    at: datetime
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Tick:
    """Published about once a second so time-based rules run even when no reading arrives."""

    at: datetime


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """A session ended or its patient was discharged: the room is free."""

    room: str
    session_id: int
    at: datetime


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """A session began in a room."""

    room: str
    session_id: int
    at: datetime
    label: str = ""


@dataclass(frozen=True, slots=True)
class DeviceErrors:
    """A device adapter's running count of frames that failed their checksum.

    Sent at most once a second and only when the total changed; the engine looks for bursts.
    """

    room: str
    device: str
    at: datetime
    checksum_errors_total: int
