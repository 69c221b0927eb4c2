"""Alarm rules and profiles as data; the engine, the UI and exports all read these."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from monitor.alarms.model import Priority
from monitor.vitals import BY_CODE, format_value


class Condition(enum.StrEnum):
    """How a rule compares a value with its limit."""

    ABOVE = ">"
    BELOW = "<"
    RISE = "rise"  # at or above the session baseline plus the limit


@dataclass(frozen=True, slots=True)
class Rule:
    """One limit on one vital. Episodic vitals (NIBP) are judged per measurement."""

    vital: str
    condition: Condition
    limit: float
    priority: Priority
    delay: float = 0.0  # condition delay in seconds (continuous vitals only)
    hysteresis: float = 0.0  # how far back past the limit a value must go to clear

    @property
    def side(self) -> str:
        """Rules on the same vital and side form one alarm whose priority is the worst met."""
        return "low" if self.condition is Condition.BELOW else "high"

    @property
    def episodic(self) -> bool:
        return BY_CODE[self.vital].episodic

    def threshold(self, baseline: float | None) -> float | None:
        """The value the rule compares against, or None when it needs a baseline not yet set."""
        if self.condition is Condition.RISE:
            return None if baseline is None else baseline + self.limit
        return self.limit

    def satisfied(self, value: float, baseline: float | None = None) -> bool:
        limit = self.threshold(baseline)
        if limit is None:
            return False
        if self.condition is Condition.ABOVE:
            return value > limit
        if self.condition is Condition.BELOW:
            return value < limit
        return value >= limit

    def cleared(self, value: float, baseline: float | None = None) -> bool:
        """True once the value is back past the limit by the hysteresis margin."""
        limit = self.threshold(baseline)
        if limit is None:
            return True
        if self.condition is Condition.BELOW:
            return value >= limit + self.hysteresis
        if self.condition is Condition.ABOVE:
            return value <= limit - self.hysteresis
        return value < limit - self.hysteresis

    def message(self, value: float, baseline: float | None = None) -> str:
        """The alarm text: vital, value and limit, e.g. ``SBP 186 > 180``."""
        label = BY_CODE[self.vital].label
        shown = format_value(self.vital, value)
        limit = self.threshold(baseline)
        if self.condition is Condition.RISE and baseline is not None and limit is not None:
            return (f"{label} {shown} ≥ {format_value(self.vital, limit)} "
                    f"(baseline {format_value(self.vital, baseline)} + "
                    f"{format_value(self.vital, self.limit)})")
        return f"{label} {shown} {self.condition.value} {format_value(self.vital, self.limit)}"


@dataclass(frozen=True, slots=True)
class Profile:
    """A named set of rules a clinic chooses for its rooms."""

    name: str
    title: str
    rules: tuple[Rule, ...]
    silence_seconds: float = 10.0  # no data from a device for this long is a technical alarm
    silence_priority: Priority = Priority.MEDIUM
    invalid_seconds: float = 10.0  # a vital reported invalid this long (probe off)
    invalid_priority: Priority = Priority.LOW
    # A burst of frames failing their checksum (a loose connector, electrical noise): the
    # values that do arrive are still checked, but the link needs a look.
    errors_count: int = 5
    errors_seconds: float = 60.0
    errors_priority: Priority = Priority.LOW

    def rules_for(self, vital: str) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.vital == vital)

    def with_rules(self, rules: tuple[Rule, ...]) -> Profile:
        """This profile with the rules of every vital and side that ``rules`` cover replaced
        by them (a nurse's limits for one session). Sides not mentioned keep the profile's
        rules: changing the high HR limits must never drop the low ones."""
        sides = {(r.vital, r.side) for r in rules}
        return replace(self, rules=tuple(r for r in self.rules if (r.vital, r.side) not in sides)
                       + rules)


_H, _M = Priority.HIGH, Priority.MEDIUM
A, B, R = Condition.ABOVE, Condition.BELOW, Condition.RISE

# CLINICAL.md, "Default alarm profile IV ketamine"; a starting point the medical director edits.
IV_KETAMINE = Profile(
    name="iv-ketamine",
    title="IV ketamine",
    rules=(
        Rule("nibp_sys", A, 180, _H),
        Rule("nibp_dia", A, 110, _H),
        Rule("nibp_sys", A, 160, _M),
        Rule("nibp_sys", R, 40, _M),
        Rule("nibp_dia", R, 25, _M),
        Rule("nibp_sys", B, 90, _H),
        Rule("hr", A, 130, _M, delay=10, hysteresis=2),
        Rule("hr", A, 150, _H, delay=10, hysteresis=2),
        Rule("hr", B, 50, _M, delay=10, hysteresis=2),
        Rule("hr", B, 40, _H, delay=10, hysteresis=2),
        Rule("spo2", B, 92, _M, delay=15, hysteresis=1),
        Rule("spo2", B, 88, _H, delay=15, hysteresis=1),
        Rule("rr", B, 10, _M, delay=15, hysteresis=1),
        Rule("rr", A, 30, _M, delay=15, hysteresis=1),
    ),
)

# Esketamine (Spravato) from CLINICAL.md and the Spravato label. Choices, for the medical
# director to review:
# - BP > 180/110 is high, as for IV ketamine (the clinic rule stops dosing there).
# - A rise of >= 40 systolic or >= 25 diastolic from the pre-dose cuff is medium: the label's
#   own criterion, seen in 8-19 % of patients.
# - No fixed "SBP > 160" medium rule: BP is taken before dosing and about 40 min after, and
#   with the rise rule a fixed 160 would alarm on patients who start near it and rise little.
# - SBP < 90 stays high: esketamine rarely lowers BP, but a vasovagal faint during
#   dissociation does, and no clinic wants that silent.
# - HR, SpO2 and RR as for IV ketamine (pulse oximetry every session; same sedation limits).
SPRAVATO = Profile(
    name="spravato",
    title="Esketamine (Spravato)",
    rules=(
        Rule("nibp_sys", A, 180, _H),
        Rule("nibp_dia", A, 110, _H),
        Rule("nibp_sys", R, 40, _M),
        Rule("nibp_dia", R, 25, _M),
        Rule("nibp_sys", B, 90, _H),
        *(r for r in IV_KETAMINE.rules if r.vital in ("hr", "spo2", "rr")),
    ),
)

PROFILES: dict[str, Profile] = {p.name: p for p in (IV_KETAMINE, SPRAVATO)}


def profile(name: str) -> Profile:
    """Return a profile by name, or raise KeyError listing the profiles that exist."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown alarm profile {name!r}; expected one of "
                       f"{', '.join(PROFILES)}") from None
