"""Rules and profiles as data: the Spravato profile, JSON both ways, and the checks an admin's
edit must pass, each problem one plain sentence; the clinic settings' checks."""

from __future__ import annotations

import json

import pytest

from monitor.alarms import PROFILES, Priority, profile
from monitor.alarms.profiles import (
    profile_from_dict,
    profile_from_json,
    profile_problems,
    profile_to_dict,
    profile_to_json,
    rule_from_dict,
    rule_problems,
    rules_from_json,
    rules_to_json,
)
from monitor.alarms.rules import Condition, Profile, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.errors import AlarmRulesError

A, B, R = Condition.ABOVE, Condition.BELOW, Condition.RISE
H, M = Priority.HIGH, Priority.MEDIUM


def test_spravato_is_the_label_and_clinical_md() -> None:
    rules = {(r.vital, r.condition, r.limit): (r.priority, r.delay)
             for r in profile("spravato").rules}
    assert rules == {
        ("nibp_sys", A, 180): (H, 0), ("nibp_dia", A, 110): (H, 0),
        ("nibp_sys", R, 40): (M, 0), ("nibp_dia", R, 25): (M, 0),
        ("nibp_sys", B, 90): (H, 0),
        ("hr", A, 130): (M, 10), ("hr", A, 150): (H, 10),
        ("hr", B, 50): (M, 10), ("hr", B, 40): (H, 10),
        ("spo2", B, 92): (M, 15), ("spo2", B, 88): (H, 15),
        ("rr", B, 10): (M, 15), ("rr", A, 30): (M, 15),
    }
    assert set(PROFILES) == {"iv-ketamine", "spravato"}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_a_profile_survives_json_both_ways(name: str) -> None:
    original = profile(name)
    assert profile_problems(original) == []
    assert profile_from_json(profile_to_json(original)) == original
    assert profile_from_dict(json.loads(json.dumps(profile_to_dict(original)))) == original


def test_rules_survive_json_both_ways() -> None:
    rules = profile("iv-ketamine").rules_for("hr")
    assert rules_from_json(rules_to_json(rules)) == rules
    assert rules_from_json("[]") == ()


@pytest.mark.parametrize(("rule", "problem"), [
    (Rule("hr", A, 400, H), "HR high limit 400 is outside 0-350 /min."),
    (Rule("spo2", B, 120, M), "SpO2 low limit 120 is outside 0-100 %."),
    (Rule("nibp_sys", R, 0, M), "SBP rise 0 is outside 1-350 mmHg."),
    (Rule("hr", R, 20, M), "HR cannot use a rise from baseline: the session's baseline is a "
                           "cuff measurement, so only NIBP rules can."),
    (Rule("nibp_sys", A, 180, H, delay=10), "SBP is judged per measurement, so its delay "
                                            "must be 0 s, not 10 s."),
    (Rule("hr", A, 130, M, delay=-5), "HR delay -5 s must be from 0 to 120 s."),
    (Rule("hr", A, 130, M, hysteresis=50), "HR hysteresis 50 must be from 0 to 35 /min."),
    (Rule("temp", A, 39.5, M, hysteresis=-1), "Temp hysteresis -1 must be from 0 to 4 °C."),
    (Rule("hr", A, float("nan"), M), "HR rule has a number that is not finite."),
    (Rule("pulse", A, 130, M), "'pulse' is not a vital; expected one of hr, pr, spo2, "
                               "nibp_sys, nibp_dia, nibp_mean, rr, etco2, temp."),
])
def test_each_problem_is_one_plain_sentence(rule: Rule, problem: str) -> None:
    assert rule_problems(rule) == [problem]


def test_a_rule_from_json_names_every_problem() -> None:
    with pytest.raises(AlarmRulesError) as err:
        rule_from_dict({"vital": "hr", "condition": ">=", "limit": "x", "priority": "urgent"},
                       "Rule 3")
    assert err.value.problems == (
        "Rule 3 condition '>=' must be '>', '<' or 'rise'.",
        "Rule 3 priority 'urgent' must be low, medium or high.",
        "Rule 3 limit 'x' must be a number.",
    )
    with pytest.raises(AlarmRulesError, match="Rule 1 has no 'limit'"):
        rule_from_dict({"vital": "hr", "condition": ">", "priority": "high"}, "Rule 1")
    with pytest.raises(AlarmRulesError, match="unknown key 'colour'"):
        rule_from_dict({"vital": "hr", "condition": ">", "limit": 1, "priority": "low",
                        "colour": "red"})


def test_rules_together_must_make_sense() -> None:
    rules = [{"vital": "hr", "condition": ">", "limit": 130, "priority": "medium"},
             {"vital": "hr", "condition": ">", "limit": 130, "priority": "high"},
             {"vital": "hr", "condition": "<", "limit": 140, "priority": "medium"}]
    with pytest.raises(AlarmRulesError) as err:
        rules_from_json(json.dumps(rules))
    assert err.value.problems == ("HR > 130 appears twice.",
                                  "HR low limit 140 is not below the high limit 130.")


def test_a_profile_edit_is_checked_as_a_whole() -> None:
    bad = Profile("IV K", "", (), silence_seconds=0.5, errors_count=0)
    assert profile_problems(bad) == [
        "The profile name 'IV K' must be up to 32 lowercase letters, digits and dashes, like "
        "iv-ketamine.",
        "The profile needs a title, such as 'IV ketamine'.",
        "The profile has no rules, so it would raise no physiological alarm.",
        "The no-data time 0.5 s must be from 2 to 300 s.",
        "The data-error count 0 must be from 1 to 1000.",
    ]
    with pytest.raises(AlarmRulesError, match="not valid JSON"):
        profile_from_json("{")
    data = profile_to_dict(profile("iv-ketamine")) | {"silence_priority": "loud"}
    with pytest.raises(AlarmRulesError, match="silence priority 'loud'"):
        profile_from_dict(data)


def test_a_nurses_rules_replace_only_the_sides_they_cover() -> None:
    tighter = (Rule("hr", A, 120, M, delay=10),)
    rules = profile("iv-ketamine").with_rules(tighter).rules_for("hr")
    assert {(r.condition, r.limit) for r in rules} == {(A, 120), (B, 50), (B, 40)}


def test_clinic_settings_are_checked_one_sentence_each() -> None:
    assert AlarmSettings().problems() == []
    bad = AlarmSettings(escalation_seconds=5, audio_pause_seconds=900, reminder_seconds=0,
                        webhook_url="ftp://x")
    assert bad.problems() == [
        "The escalation time 5 s must be from 10 to 3600 s.",
        "The audio pause 900 s must be from 10 to 600 s.",
        "The reminder interval 0 s must be from 30 to 1800 s.",
        "The webhook URL 'ftp://x' must start with http:// or https:// and contain no spaces.",
    ]
    with pytest.raises(AlarmRulesError, match="'volume' is not an alarm setting"):
        AlarmSettings.from_dict({"volume": 3})
    assert AlarmSettings.from_dict({"webhook_url": "", "latching_high": False}) == \
        AlarmSettings(latching_high=False)
    assert AlarmSettings.from_dict(AlarmSettings().to_dict()) == AlarmSettings()
