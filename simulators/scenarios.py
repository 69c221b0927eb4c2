"""Scenarios: what goes wrong (or not) in a simulated IV ketamine session, as data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scenario:
    """Adjustments to the baseline patient and to the session's course.

    Times are seconds from the session start. Windows repeat every ``period`` seconds when
    set, so a demo left running keeps showing the event.
    """

    name: str
    description: str
    sbp_base: float | None = None  # overrides the patient's baseline systolic
    dbp_base: float | None = None
    bp_rise_factor: float = 1.0  # times the mean ketamine rise (+16/+11 mmHg)
    hr_target: float | None = None  # HR drifts to this inside the window
    spo2_target: float | None = None
    rr_target: float | None = None
    window: tuple[float, float] | None = None
    period: float | None = None
    spo2_invalid: tuple[float, float] | None = None  # probe off: reported invalid
    spo2_absent: tuple[float, float] | None = None  # then not reported at all
    silent: tuple[float, float] | None = None  # the device sends nothing


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("normal", "An uneventful infusion: BP and HR rise modestly and settle."),
    Scenario("hypertension", "A hypertensive patient whose systolic passes 180 mmHg as the "
             "ketamine effect peaks.", sbp_base=158, dbp_base=94, bp_rise_factor=2.6),
    Scenario("bradycardia", "Heart rate falls below 50/min for minutes at a time.",
             hr_target=43, window=(240, 600), period=900),
    Scenario("desaturation", "SpO2 falls below 88 % with slow breathing, then recovers.",
             spo2_target=85, rr_target=8, window=(300, 600), period=900),
    Scenario("probe_off", "The SpO2 probe comes off: invalid, then absent, then back.",
             spo2_invalid=(120, 240), spo2_absent=(240, 300), period=600),
    Scenario("disconnect", "The monitor falls silent (cable pulled), then returns.",
             silent=(120, 165), period=300),
)}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; expected one of "
                         f"{', '.join(SCENARIOS)}") from None


def in_window(t: float, window: tuple[float, float] | None, period: float | None) -> bool:
    """True when session time ``t`` falls inside a (possibly repeating) window."""
    if window is None:
        return False
    if period:
        t = t % period
    return window[0] <= t < window[1]


def window_weight(t: float, window: tuple[float, float] | None, period: float | None,
                  ramp: float = 60.0) -> float:
    """0 outside the window, rising to 1 over ``ramp`` seconds inside it and falling after."""
    if window is None:
        return 0.0
    if period:
        t = t % period
    start, end = window
    if t < start or t >= end + ramp:
        return 0.0
    if t < start + ramp:
        return (t - start) / ramp
    if t < end:
        return 1.0
    return 1.0 - (t - end) / ramp
