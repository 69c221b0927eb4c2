"""Rules and profiles as JSON, and the checks an admin's edit must pass, one sentence each."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from monitor.alarms.model import Priority
from monitor.alarms.rules import Condition, Profile, Rule
from monitor.errors import AlarmRulesError
from monitor.vitals import BY_CODE, Vital

MAX_DELAY = 120.0  # seconds; CLINICAL.md's useful delays are 10-20 s
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
_RULE_KEYS = ("vital", "condition", "limit", "priority", "delay", "hysteresis")
_PRIORITIES = {p.word: p for p in (Priority.LOW, Priority.MEDIUM, Priority.HIGH)}
# Profile-level timings: (key, words, lowest, highest)
_TIMINGS = (
    ("silence_seconds", "The no-data time", 2, 300),
    ("invalid_seconds", "The no-valid-signal time", 2, 300),
    ("errors_seconds", "The data-error window", 5, 3600),
)


def _unit(vital: Vital) -> str:
    # UCUM's brackets are for machines; a form says mmHg and °C.
    return vital.unit.replace("mm[Hg]", "mmHg").replace("Cel", "°C")


def _num(value: float) -> str:
    return f"{value:g}"


# -- one rule -------------------------------------------------------------------------------


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    return {"vital": rule.vital, "condition": rule.condition.value, "limit": rule.limit,
            "priority": rule.priority.word, "delay": rule.delay, "hysteresis": rule.hysteresis}


def rule_problems(rule: Rule) -> list[str]:
    """What is wrong with one rule, one plain sentence each (empty when nothing is)."""
    vital = BY_CODE.get(rule.vital)
    if vital is None:
        return [f"{rule.vital!r} is not a vital; expected one of {', '.join(BY_CODE)}."]
    label, unit, found = vital.label, _unit(vital), []
    span = vital.high - vital.low
    if not all(math.isfinite(x) for x in (rule.limit, rule.delay, rule.hysteresis)):
        return [f"{label} rule has a number that is not finite."]
    if rule.condition is Condition.RISE:
        if not vital.episodic:
            found.append(f"{label} cannot use a rise from baseline: the session's baseline is "
                         f"a cuff measurement, so only NIBP rules can.")
        if not 0 < rule.limit <= span:
            found.append(f"{label} rise {_num(rule.limit)} is outside 1-{_num(span)} {unit}.")
    else:
        side = "low" if rule.condition is Condition.BELOW else "high"
        if not vital.low <= rule.limit <= vital.high:
            found.append(f"{label} {side} limit {_num(rule.limit)} is outside "
                         f"{_num(vital.low)}-{_num(vital.high)} {unit}.")
    if rule.priority not in _PRIORITIES.values():
        found.append(f"{label} rule priority must be low, medium or high.")
    if vital.episodic and rule.delay != 0:
        found.append(f"{label} is judged per measurement, so its delay must be 0 s, "
                     f"not {_num(rule.delay)} s.")
    elif not 0 <= rule.delay <= MAX_DELAY:
        found.append(f"{label} delay {_num(rule.delay)} s must be from 0 to {MAX_DELAY:g} s.")
    if not 0 <= rule.hysteresis <= span / 10:
        found.append(f"{label} hysteresis {_num(rule.hysteresis)} must be from 0 to "
                     f"{_num(span / 10)} {unit}.")
    return found


def rule_from_dict(data: Any, where: str = "A rule") -> Rule:
    """A rule from JSON-like data, or AlarmRulesError with every problem found."""
    if not isinstance(data, Mapping):
        raise AlarmRulesError([f"{where} must be an object with {', '.join(_RULE_KEYS)}."])
    problems = [f"{where} has an unknown key {k!r}; expected {', '.join(_RULE_KEYS)}."
                for k in data if k not in _RULE_KEYS]
    problems += [f"{where} has no {k!r}." for k in ("vital", "condition", "limit", "priority")
                 if k not in data]
    if problems:
        raise AlarmRulesError(problems)
    try:
        condition = Condition(data["condition"])
    except ValueError:
        problems.append(f"{where} condition {data['condition']!r} must be '>', '<' or 'rise'.")
    priority = _PRIORITIES.get(data["priority"])
    if priority is None:
        problems.append(f"{where} priority {data['priority']!r} must be low, medium or high.")
    numbers = {}
    for key, default in (("limit", None), ("delay", 0.0), ("hysteresis", 0.0)):
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where} {key} {value!r} must be a number.")
        else:
            numbers[key] = float(value)
    if not isinstance(data["vital"], str):
        problems.append(f"{where} vital must be a vital code such as hr.")
    if problems:
        raise AlarmRulesError(problems)
    rule = Rule(data["vital"], condition, numbers["limit"], priority,  # type: ignore[arg-type]
                delay=numbers["delay"], hysteresis=numbers["hysteresis"])
    problems = rule_problems(rule)
    if problems:
        raise AlarmRulesError(problems)
    return rule


def rules_problems(rules: Iterable[Rule]) -> list[str]:
    """Problems of each rule, then of the rules together (duplicates, crossed limits)."""
    rules = tuple(rules)
    found = [p for r in rules for p in rule_problems(r)]
    seen: set[tuple[str, Condition, float]] = set()
    for r in rules:
        key = (r.vital, r.condition, r.limit)
        if key in seen and r.vital in BY_CODE:
            text = "rise" if r.condition is Condition.RISE else r.condition.value
            found.append(f"{BY_CODE[r.vital].label} {text} {_num(r.limit)} appears twice.")
        seen.add(key)
    for code in dict.fromkeys(r.vital for r in rules if r.vital in BY_CODE):
        lows = [r.limit for r in rules if r.vital == code and r.condition is Condition.BELOW]
        highs = [r.limit for r in rules if r.vital == code and r.condition is Condition.ABOVE]
        if lows and highs and max(lows) >= min(highs):
            found.append(f"{BY_CODE[code].label} low limit {_num(max(lows))} is not below the "
                         f"high limit {_num(min(highs))}.")
    return found


def rules_to_json(rules: Iterable[Rule]) -> str:
    return json.dumps([rule_to_dict(r) for r in rules])


def rules_from_json(text: str | list[Any]) -> tuple[Rule, ...]:
    """Rules from JSON text (or its parsed list), checked alone and together."""
    data = _parse(text) if isinstance(text, str) else text
    if not isinstance(data, list):
        raise AlarmRulesError(["The rules must be a list."])
    rules, problems = [], []
    for i, item in enumerate(data, start=1):
        try:
            rules.append(rule_from_dict(item, f"Rule {i}"))
        except AlarmRulesError as exc:
            problems += exc.problems
    if not problems:
        problems = rules_problems(rules)
    if problems:
        raise AlarmRulesError(problems)
    return tuple(rules)


# -- a profile ------------------------------------------------------------------------------


def profile_to_dict(profile: Profile) -> dict[str, Any]:
    return {
        "name": profile.name, "title": profile.title,
        "rules": [rule_to_dict(r) for r in profile.rules],
        "silence_seconds": profile.silence_seconds,
        "silence_priority": profile.silence_priority.word,
        "invalid_seconds": profile.invalid_seconds,
        "invalid_priority": profile.invalid_priority.word,
        "errors_count": profile.errors_count, "errors_seconds": profile.errors_seconds,
        "errors_priority": profile.errors_priority.word,
    }


def profile_problems(profile: Profile) -> list[str]:
    """Everything wrong with a profile, one plain sentence each."""
    found = []
    if not isinstance(profile.name, str) or not _NAME.match(profile.name):
        found.append(f"The profile name {profile.name!r} must be up to 32 lowercase letters, "
                     f"digits and dashes, like iv-ketamine.")
    if not isinstance(profile.title, str) or not profile.title.strip():
        found.append("The profile needs a title, such as 'IV ketamine'.")
    if not profile.rules:
        found.append("The profile has no rules, so it would raise no physiological alarm.")
    found += rules_problems(profile.rules)
    for key, words, low, high in _TIMINGS:
        value = getattr(profile, key)
        if not low <= value <= high:
            found.append(f"{words} {_num(value)} s must be from {low} to {high} s.")
    if not 1 <= profile.errors_count <= 1000:
        found.append(f"The data-error count {profile.errors_count} must be from 1 to 1000.")
    return found


def profile_from_dict(data: Any) -> Profile:
    """A profile from JSON-like data, or AlarmRulesError with every problem found."""
    if not isinstance(data, Mapping):
        raise AlarmRulesError(["A profile must be an object with a name, a title and rules."])
    defaults = Profile("x", "x", ())
    known = set(profile_to_dict(defaults))
    problems = [f"The profile has an unknown key {k!r}." for k in data if k not in known]
    for key in ("name", "title", "rules"):
        if key not in data:
            problems.append(f"The profile has no {key!r}.")
    rules: tuple[Rule, ...] = ()
    if "rules" in data:
        try:
            rules = rules_from_json(data["rules"])
        except AlarmRulesError as exc:
            problems += exc.problems
    values: dict[str, Any] = {}
    for key in ("silence", "invalid", "errors"):
        word = data.get(f"{key}_priority", getattr(defaults, f"{key}_priority").word)
        if word not in _PRIORITIES:
            problems.append(f"The {key} priority {word!r} must be low, medium or high.")
        else:
            values[f"{key}_priority"] = _PRIORITIES[word]
    for key in ("silence_seconds", "invalid_seconds", "errors_seconds", "errors_count"):
        value = data.get(key, getattr(defaults, key))
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or (key == "errors_count" and value != int(value)):
            problems.append(f"The profile's {key} {value!r} must be a "
                            f"{'whole ' if key == 'errors_count' else ''}number.")
        else:
            values[key] = int(value) if key == "errors_count" else float(value)
    if problems:
        raise AlarmRulesError(problems)
    profile = Profile(name=data["name"], title=data["title"], rules=rules, **values)
    problems = profile_problems(profile)
    if problems:
        raise AlarmRulesError(problems)
    return profile


def profile_to_json(profile: Profile) -> str:
    return json.dumps(profile_to_dict(profile), indent=2)


def profile_from_json(text: str) -> Profile:
    return profile_from_dict(_parse(text))


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise AlarmRulesError([f"The text is not valid JSON ({exc.msg} at line {exc.lineno})."]
                              ) from exc
