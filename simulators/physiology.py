"""A seeded physiology model of an IV ketamine session: baseline, infusion, recovery.

BP and HR rise during the infusion and peak about 40 minutes in (mean +16/+11 mmHg,
CLINICAL.md), then settle over the observation period. HR, SpO2 and RR come every second
with autocorrelated noise; NIBP comes as discrete cuff measurements on a cycle.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from monitor.vitals import NIBP_CYCLE_SECONDS
from simulators.sample import VitalsSample
from simulators.scenarios import Scenario, in_window, scenario, window_weight

INFUSION_START = 120.0  # seconds: after the baseline cuff measurement
INFUSION_SECONDS = 40 * 60.0
RECOVERY_TAU = 25 * 60.0  # the effect decays with this time constant after the infusion
MEAN_SBP_RISE, MEAN_DBP_RISE, MEAN_HR_RISE = 16.0, 11.0, 9.0


@dataclass(frozen=True, slots=True)
class Patient:
    """The baseline of one simulated patient."""

    sbp: float
    dbp: float
    hr: float
    spo2: float
    rr: float
    rise: float  # this patient's sensitivity to the ketamine BP effect


def effect(t: float) -> float:
    """The ketamine haemodynamic effect, 0..1: rising over the infusion, peaking at its end
    (about 40 min in), decaying through recovery."""
    if t < INFUSION_START:
        return 0.0
    into = t - INFUSION_START
    if into <= INFUSION_SECONDS:
        return math.sin(0.5 * math.pi * into / INFUSION_SECONDS) ** 2
    return math.exp(-(into - INFUSION_SECONDS) / RECOVERY_TAU)


class SessionModel:
    """Generates one second of vitals at a time for a seeded patient and scenario."""

    def __init__(self, scenario_name: str = "normal", seed: int = 0,
                 start: datetime | None = None, offset: float = 0.0,
                 nibp_cycle: float = NIBP_CYCLE_SECONDS) -> None:
        self.scenario: Scenario = scenario(scenario_name)
        self.rng = np.random.default_rng(seed)
        self.start = start or datetime(2026, 1, 1, 9, 0)
        self.nibp_cycle = nibp_cycle
        rng = self.rng
        s = self.scenario
        self.patient = Patient(
            sbp=s.sbp_base if s.sbp_base is not None else float(rng.normal(124, 9)),
            dbp=s.dbp_base if s.dbp_base is not None else float(rng.normal(78, 6)),
            hr=float(rng.normal(74, 7)), spo2=float(min(99.5, rng.normal(97.8, 0.8))),
            rr=float(rng.normal(14, 1.5)),
            rise=s.bp_rise_factor * float(max(0.8, rng.normal(1.0, 0.2))),
        )
        self._noise = {"hr": 0.0, "spo2": 0.0, "rr": 0.0}
        self.elapsed = offset
        # The first cuff measurement is taken when the monitor starts (the baseline), then
        # one each cycle.
        self._next_nibp = offset

    def _ar(self, key: str, sd: float, keep: float = 0.9) -> float:
        # AR(1) noise: consecutive seconds resemble each other, as real trends do.
        self._noise[key] = keep * self._noise[key] + math.sqrt(1 - keep ** 2) * float(
            self.rng.normal(0, sd))
        return self._noise[key]

    def step(self) -> VitalsSample:
        """Advance one second and return the sample for it."""
        t = self.elapsed
        s, p = self.scenario, self.patient
        e = effect(t)
        w = window_weight(t, s.window, s.period)
        hr = p.hr + MEAN_HR_RISE * e * p.rise / max(s.bp_rise_factor, 1.0) + self._ar("hr", 2.2)
        if s.hr_target is not None:
            hr = (1 - w) * hr + w * (s.hr_target + self._noise["hr"])
        spo2 = p.spo2 + self._ar("spo2", 0.6)
        if s.spo2_target is not None:
            spo2 = (1 - w) * spo2 + w * (s.spo2_target + self._noise["spo2"])
        rr = p.rr + self._ar("rr", 1.0, keep=0.95)
        if s.rr_target is not None:
            rr = (1 - w) * rr + w * s.rr_target
        values = {"hr": round(hr), "pr": round(hr + float(self.rng.normal(0, 1.0))),
                  "spo2": round(min(100.0, spo2)), "rr": round(max(4.0, rr))}
        invalid: frozenset[str] = frozenset()
        if in_window(t, s.spo2_invalid, s.period):
            invalid = frozenset({"spo2", "pr"})
        if in_window(t, s.spo2_absent, s.period):
            values.pop("spo2")
            values.pop("pr")
        nibp = None
        if t >= self._next_nibp:
            nibp = self._cuff(e)
            self._next_nibp += self.nibp_cycle
        sample = VitalsSample(time=self.start + timedelta(seconds=t), elapsed=t, values=values,
                              invalid=invalid, nibp=nibp,
                              silent=in_window(t, s.silent, s.period))
        self.elapsed += 1.0
        return sample

    def _cuff(self, e: float) -> tuple[float, float, float]:
        p = self.patient
        sbp = p.sbp + MEAN_SBP_RISE * p.rise * e + float(self.rng.normal(0, 4))
        dbp = p.dbp + MEAN_DBP_RISE * p.rise * e + float(self.rng.normal(0, 3))
        return round(sbp), round(dbp), round(dbp + (sbp - dbp) / 3)

    def run(self, seconds: float) -> Iterator[VitalsSample]:
        """The next ``seconds`` samples."""
        for _ in range(int(seconds)):
            yield self.step()
