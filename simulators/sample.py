"""One second of a simulated patient, as the physiology model hands it to an emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class VitalsSample:
    """What the bedside monitor would know at one moment of a simulated session.

    ``values`` holds the continuous vitals shown this second (hr, pr, spo2, rr and, where
    the model has them, etco2 and temp). ``invalid`` names vitals the monitor reports as
    invalid (probe off). ``nibp`` is set only in the second a new cuff measurement
    completes: (sys, dia, mean) in mmHg. ``silent`` means the device sends nothing.
    """

    time: datetime
    elapsed: float
    values: dict[str, float] = field(default_factory=dict)
    invalid: frozenset[str] = frozenset()
    nibp: tuple[float, float, float] | None = None
    silent: bool = False
