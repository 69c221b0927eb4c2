"""A single vital-sign reading, as it travels from a device through the bus to storage."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from monitor.vitals import BY_CODE


class Quality(enum.StrEnum):
    """How far a reading can be trusted, as the device reported it."""

    VALID = "valid"
    QUESTIONABLE = "questionable"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one vital from one device in one room.

    ``received`` is when ivmon got it (the clock every live decision uses);
    ``device_time`` is the monitor's own timestamp when the protocol carries one.
    ``seq`` numbers readings per device so a recorder can store each once.
    """

    room: str
    device: str
    code: str
    value: float
    received: datetime
    device_time: datetime | None = None
    quality: Quality = Quality.VALID
    seq: int = 0
    unit: str = field(default="")

    def __post_init__(self) -> None:
        if self.code not in BY_CODE:
            raise ValueError(f"unknown vital code {self.code!r}")
        if not self.unit:
            object.__setattr__(self, "unit", BY_CODE[self.code].unit)

    @property
    def usable(self) -> bool:
        """True when the value may drive alarms and be shown as a number."""
        return self.quality is not Quality.INVALID
