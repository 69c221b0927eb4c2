"""The rules of a session, kept pure: phases, BP-check reminders and the discharge check.

Phases: ``pre-infusion`` until the dose (IV: ``infusion_started``; Spravato: ``dose_given``),
``infusion`` while an IV infusion runs, ``observation`` after it (Spravato: after the dose),
``discharged``, or ``ended`` for a session closed without a discharge.

Reminders (CLINICAL.md) are low-priority alarms of kind REMINDER, raised on the bus and
cleared when done. A BP check is satisfied by a cuff reading (``nibp_sys``) or a ``bp_check``
event in its window:
  * "BP before dosing": from the start until a BP is taken;
  * "BP check due: 40 min after start": from 40 min after the dose, by a BP from 35 min on;
  * "BP at end of infusion" (IV): from the infusion's end, by a BP from 5 min before it;
  * "BP check due: none for 10 min during the infusion" (IV, cuff not on auto-cycle);
  * "Observation 2 h: 1:12 left" (Spravato, 30 min for IV), cleared as "... done";
  * "BP before discharge": once the observation time is done, by a BP from 15 min before.

Discharge check (advisory; a clinician decides): observation done (Spravato >= 2 h after
the last dose; IV ketamine >= 30 min after the infusion ended, the lower end of CLINICAL.md's
30-45 min) and vitals near baseline: a BP from the last 15 min (Emory's post-infusion
interval) with SBP <= baseline + 20 and DBP <= baseline + 10 -- or, as absolute limits,
below 160/100 (the default profile's medium alarm) -- and SBP >= 90; HR 50-130 and
SpO2 >= 92 when measured (the profile's medium limits).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from monitor.history import NibpMeasurement, SessionInfo

DOSE_KINDS = ("infusion_started", "dose_given")
BP_WINDOW = timedelta(minutes=15)  # a BP this recent counts for discharge and before-discharge
_BP_TEXT = re.compile(r"(\d{2,3})\s*/\s*(\d{2,3})")


def parse_bp(text: str) -> tuple[float, float] | None:
    """The "128/84" in a BP check's note, as (systolic, diastolic), if there is one."""
    match = _BP_TEXT.search(text)
    return (float(match[1]), float(match[2])) if match else None


@dataclass(frozen=True, slots=True)
class ProtocolRules:
    name: str
    title: str
    observation: timedelta  # at least this long after the infusion ends (IV) or the dose
    infusion: bool  # IV: an infusion with a start and an end; nasal: doses


PROTOCOLS: dict[str, ProtocolRules] = {
    "iv-ketamine": ProtocolRules("iv-ketamine", "IV ketamine", timedelta(minutes=30), True),
    "spravato": ProtocolRules("spravato", "Spravato (esketamine)", timedelta(hours=2), False),
}


@dataclass(frozen=True, slots=True)
class DischargeCheck:
    """Whether a patient may go: observation time and vitals, each with its reason."""

    session_id: int
    at: datetime
    observation_done: bool
    observation_left_s: float | None  # None: the observation has not begun
    vitals_ok: bool
    reasons: tuple[str, ...]  # why not ready; empty when ready
    facts: tuple[str, ...]  # what was checked, in a nurse's words
    last_bp: NibpMeasurement | None
    discharged: bool = False

    @property
    def ok(self) -> bool:
        return self.observation_done and self.vitals_ok


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """What the central-station tile shows of a session."""

    session: SessionInfo
    phase: str
    elapsed_s: float
    dosed: datetime | None
    infusion_ended: datetime | None
    observation_started: datetime | None
    observation_left_s: float | None


@dataclass(slots=True)
class Timeline:
    """What the manager keeps of an open session to judge reminders every tick."""

    info: SessionInfo
    rules: ProtocolRules
    events: list[tuple[datetime, str]] = field(default_factory=list)
    seen_events: set[int] = field(default_factory=set)
    bp: list[NibpMeasurement] = field(default_factory=list)
    latest: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    raised: dict[str, str] = field(default_factory=dict)  # reminder name -> message shown

    def times(self, *kinds: str) -> list[datetime]:
        return sorted(at for at, kind in self.events if kind in kinds)

    @property
    def dosed(self) -> datetime | None:
        doses = self.times(*DOSE_KINDS)
        return doses[0] if doses else None

    @property
    def infusing(self) -> bool:
        marks = sorted((at, kind) for at, kind in self.events
                       if kind in ("infusion_started", "infusion_stopped"))
        return bool(marks) and marks[-1][1] == "infusion_started"

    @property
    def infusion_ended(self) -> datetime | None:
        if not self.rules.infusion or self.infusing:
            return None
        stops = self.times("infusion_stopped")
        return stops[-1] if stops and self.dosed is not None else None

    @property
    def observation_started(self) -> datetime | None:
        if self.rules.infusion:
            return self.infusion_ended
        doses = self.times(*DOSE_KINDS)
        return doses[-1] if doses else None

    def bp_since(self, since: datetime) -> bool:
        return any(m.at >= since for m in self.bp)

    def phase(self) -> str:
        if self.info.discharged is not None:
            return "discharged"
        if self.info.ended is not None:
            return "ended"
        if self.dosed is None:
            return "pre-infusion"
        return "infusion" if self.rules.infusion and self.infusing else "observation"


def clock_text(seconds: float) -> str:
    minutes = max(0, math.ceil(seconds / 60))
    return f"{minutes // 60}:{minutes % 60:02d}"


def reminders(s: Timeline, now: datetime) -> dict[str, str | None]:
    """Each reminder's message while it is due, or None when it is not due now."""
    due: dict[str, str | None] = {}
    start, dosed, ended = s.info.started, s.dosed, s.infusion_ended
    due["predose"] = None if s.bp_since(start) else "BP before dosing"
    due["bp40"] = None
    if dosed is not None and now >= dosed + timedelta(minutes=40) \
            and not s.bp_since(dosed + timedelta(minutes=35)):
        due["bp40"] = "BP check due: 40 min after start"
    due["bp_end"] = None
    if ended is not None and not s.bp_since(ended - timedelta(minutes=5)):
        due["bp_end"] = "BP at end of infusion"
    due["bp_cycle"] = None
    if s.rules.infusion and s.infusing:
        last = max([m.at for m in s.bp] + [s.times("infusion_started")[-1]])
        if now - last >= timedelta(minutes=10):
            due["bp_cycle"] = "BP check due: none for 10 min during the infusion"
    observe = s.observation_started
    title = observation_title(s.rules)
    due["observation"] = None
    due["bp_discharge"] = None
    if observe is not None:
        done_at = observe + s.rules.observation
        if now < done_at:
            left = (done_at - now).total_seconds()
            due["observation"] = f"{title}: {clock_text(left)} left"
        elif not s.bp_since(done_at - BP_WINDOW):
            due["bp_discharge"] = "BP before discharge"
    return due


def observation_title(rules: ProtocolRules) -> str:
    minutes = rules.observation.total_seconds() / 60
    return f"Observation {minutes / 60:g} h" if minutes >= 60 else f"Observation {minutes:g} min"


DONE_MESSAGES = {"predose": "BP before dosing: done", "bp40": "BP 40 min after start: done",
         "bp_end": "BP at end of infusion: done", "bp_cycle": "BP during the infusion: done",
         "bp_discharge": "BP before discharge: done"}


def judge_discharge(live: Timeline, at: datetime) -> DischargeCheck:
    reasons: list[str] = []
    facts: list[str] = []
    observe = live.observation_started
    left: float | None = None
    if observe is None:
        reasons.append("No infusion end recorded." if live.rules.infusion
                       else "No dose recorded.")
    else:
        left = max(0.0, (observe + live.rules.observation - at).total_seconds())
        title = observation_title(live.rules)
        if left > 0:
            reasons.append(f"{title}: {clock_text(left)} left.")
        else:
            facts.append(f"{title} done.")
    vitals_ok = True
    bps = [m for m in live.bp if m.sys is not None and m.dia is not None and m.at <= at]
    last = bps[-1] if bps else None
    base_s, base_d = live.info.baseline_sys, live.info.baseline_dia
    if last is None or at - last.at > BP_WINDOW:
        vitals_ok = False
        reasons.append("No BP in the last 15 min.")
    else:
        assert last.sys is not None and last.dia is not None
        near = base_s is not None and base_d is not None \
            and last.sys <= base_s + 20 and last.dia <= base_d + 10
        below = last.sys < 160 and last.dia < 100
        if last.sys < 90:
            vitals_ok = False
            reasons.append(f"BP {last.sys:g}/{last.dia:g}: SBP below 90.")
        elif not (near or below):
            vitals_ok = False
            base = f" (baseline {base_s:g}/{base_d:g})" if base_s and base_d else ""
            reasons.append(f"BP {last.sys:g}/{last.dia:g} is not back near baseline{base}.")
        else:
            facts.append(f"BP {last.sys:g}/{last.dia:g} at {last.at:%H:%M} UTC.")
    recent = at - timedelta(minutes=5)
    rate = live.latest.get("hr") or live.latest.get("pr")
    if rate is not None and rate[1] >= recent:
        if not 50 <= rate[0] <= 130:
            vitals_ok = False
            reasons.append(f"Heart rate {rate[0]:g} is outside 50-130.")
        else:
            facts.append(f"Heart rate {rate[0]:g}.")
    spo2 = live.latest.get("spo2")
    if spo2 is not None and spo2[1] >= recent:
        if spo2[0] < 92:
            vitals_ok = False
            reasons.append(f"SpO2 {spo2[0]:g}% is below 92%.")
        else:
            facts.append(f"SpO2 {spo2[0]:g}%.")
    done = observe is not None and left == 0
    return DischargeCheck(live.info.id, at, done, left, vitals_ok, tuple(reasons), tuple(facts),
                          last)

