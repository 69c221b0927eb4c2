"""What happens to an alarm after it is raised: latching, acknowledgement, escalation,
reminders, audio pause and break-through, data-error bursts and a nurse's limits."""

from __future__ import annotations

import pytest

from monitor.alarms import AlarmEvent, Kind, Priority, Transition
from monitor.alarms.engine import SERIAL
from monitor.alarms.rules import Condition, Rule
from monitor.alarms.settings import AlarmSettings
from monitor.errors import AlarmNotFound, AlarmRulesError
from monitor.messages import DeviceErrors, DeviceStatus, LinkState
from tests.monitor.alarm_helpers import (
    CLINIC,
    at,
    clinic_engine,
    feed,
    only,
    reading,
    transitions,
)


def nibp(engine, sys: float, seconds: float) -> list[AlarmEvent]:  # type: ignore[no-untyped-def]
    return engine.on_reading(reading("nibp_sys", sys, seconds))


# -- latching ------------------------------------------------------------------------------


def test_a_high_alarm_latches_when_its_condition_ends_and_acknowledging_ends_it() -> None:
    engine = clinic_engine()
    nibp(engine, 150, 0)
    raised = only(nibp(engine, 186, 300))
    latched = only(nibp(engine, 150, 600))
    assert latched.transition is Transition.LATCHED and latched.alarm_id == raised.alarm_id
    assert latched.priority is Priority.HIGH and latched.message == "SBP 186 > 180"
    [alarm] = engine.active()
    assert alarm.latched and not alarm.acknowledged
    # Time and normal values do not end a latched alarm.
    assert nibp(engine, 140, 900) == []
    ended = only(engine.acknowledge(raised.alarm_id, "nurse1", at(950), "seen, BP back"))
    assert ended.transition is Transition.LATCHED_CLEARED
    assert (ended.by_user, ended.note, ended.at) == ("nurse1", "seen, BP back", at(950))
    assert engine.active() == []


def test_latching_is_a_clinic_setting() -> None:
    engine = clinic_engine(AlarmSettings(latching_high=False))
    nibp(engine, 150, 0)
    nibp(engine, 186, 300)
    assert only(nibp(engine, 150, 600)).transition is Transition.CLEARED


def test_medium_alarms_never_latch() -> None:
    engine = clinic_engine()
    feed(engine, "hr", [140] * 11)
    assert only(feed(engine, "hr", [80], start=11)).transition is Transition.CLEARED


def test_an_alarm_acknowledged_while_high_clears_instead_of_latching() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [160] * 11))
    engine.acknowledge(raised.alarm_id, "nurse1", at(12))
    assert only(feed(engine, "hr", [80], start=13)).transition is Transition.CLEARED


def test_a_latched_alarm_shows_its_high_form_after_passing_through_medium() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [160] * 11))
    down = only(feed(engine, "hr", [140], start=11))
    assert down.priority is Priority.MEDIUM
    latched = only(feed(engine, "hr", [80], start=12))
    assert latched.transition is Transition.LATCHED and latched.alarm_id == raised.alarm_id
    assert latched.priority is Priority.HIGH and latched.message == "HR 160 > 150"


def test_a_latched_alarm_whose_condition_returns_is_the_same_alarm_again() -> None:
    engine = clinic_engine()
    nibp(engine, 150, 0)
    raised = only(nibp(engine, 186, 300))
    nibp(engine, 150, 600)
    again = only(nibp(engine, 190, 900))
    assert again.transition is Transition.UPDATED and again.alarm_id == raised.alarm_id
    [alarm] = engine.active()
    assert not alarm.latched and alarm.message == "SBP 190 > 180"


# -- acknowledgement -----------------------------------------------------------------------


def test_an_acknowledged_alarm_stays_shown_while_its_condition_holds() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [140] * 11))
    ack = only(engine.acknowledge(raised.alarm_id, "nurse1", at(12), "patient anxious"))
    assert ack.transition is Transition.ACKNOWLEDGED
    assert (ack.by_user, ack.note, ack.priority) == ("nurse1", "patient anxious",
                                                    Priority.MEDIUM)
    feed(engine, "hr", [140] * 30, start=13)
    [alarm] = engine.active()
    assert alarm.id == raised.alarm_id and alarm.acknowledged
    assert (alarm.acknowledged_by, alarm.acknowledged_at) == ("nurse1", at(12))
    assert engine.acknowledge(raised.alarm_id, "nurse2", at(50)) == []  # already done


def test_a_higher_priority_needs_a_new_acknowledgement() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [140] * 11))
    engine.acknowledge(raised.alarm_id, "nurse1", at(11))
    up = only(feed(engine, "hr", [160] * 11, start=12))
    assert up.transition is Transition.PRIORITY_CHANGED
    [alarm] = engine.active()
    assert not alarm.acknowledged


@pytest.mark.parametrize("alarm_id", ["no-such-alarm", "cleared"])
def test_acknowledging_an_unknown_or_ended_alarm_is_a_clear_error(alarm_id: str) -> None:
    engine = clinic_engine()
    if alarm_id == "cleared":
        alarm_id = only(feed(engine, "hr", [140] * 11)).alarm_id
        feed(engine, "hr", [80], start=11)
    with pytest.raises(AlarmNotFound, match=f"no active alarm '{alarm_id}'"):
        engine.acknowledge(alarm_id, "nurse1", at(20))


# -- escalation ----------------------------------------------------------------------------


def test_a_high_alarm_unacknowledged_for_the_escalation_time_escalates_once() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [160] * 11))  # high at t = 10
    assert [e for e in feed(engine, "hr", [160] * 59, start=11, tick=True)
            if e.transition is Transition.ESCALATED] == []  # up to t = 69.5
    escalated = only(engine.tick(at(70)))
    assert escalated.transition is Transition.ESCALATED
    assert escalated.alarm_id == raised.alarm_id and escalated.at == at(70)
    assert engine.active()[0].escalated
    assert engine.tick(at(200)) == []


def test_acknowledging_in_time_prevents_escalation_and_medium_never_escalates() -> None:
    engine = clinic_engine()
    high = only(feed(engine, "hr", [160] * 11))
    engine.acknowledge(high.alarm_id, "nurse1", at(30))
    feed(engine, "spo2", [90] * 16)
    assert [e for e in engine.tick(at(170)) if e.transition is Transition.ESCALATED] == []


def test_the_escalation_time_counts_from_becoming_high() -> None:
    engine = clinic_engine(AlarmSettings(escalation_seconds=30))
    only(feed(engine, "hr", [140] * 11))  # medium at 10
    feed(engine, "hr", [160] * 11, start=11)  # high at 21
    assert engine.tick(at(50)) == []
    assert only(engine.tick(at(51))).transition is Transition.ESCALATED


# -- reminders -----------------------------------------------------------------------------


def test_an_acknowledged_alarm_still_present_is_reminded_every_interval() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [140] * 11))
    engine.acknowledge(raised.alarm_id, "nurse1", at(20))
    assert engine.tick(at(199)) == []
    first = only(engine.tick(at(200)))
    assert first.transition is Transition.REMINDER and first.alarm_id == raised.alarm_id
    assert engine.tick(at(379)) == []
    assert only(engine.tick(at(380))).transition is Transition.REMINDER


def test_no_reminder_for_an_unacknowledged_alarm() -> None:
    engine = clinic_engine()
    feed(engine, "hr", [140] * 11)
    assert engine.tick(at(1000)) == []


# -- audio pause ---------------------------------------------------------------------------


def test_pausing_audio_runs_out_by_itself() -> None:
    engine = clinic_engine()
    feed(engine, "hr", [140] * 11)
    paused = only(engine.pause_audio("r1", "nurse1", at(20)))
    assert paused.transition is Transition.AUDIO_PAUSED and paused.by_user == "nurse1"
    assert paused.value == 120 and paused.priority is Priority.MEDIUM
    audio = engine.audio("r1")
    assert audio is not None and audio.until == at(140) and audio.by_user == "nurse1"
    assert audio.seconds_left(at(80)) == 60
    assert engine.audio("r2") is None
    assert engine.tick(at(139)) == []
    resumed = only(engine.tick(at(140)))
    assert resumed.transition is Transition.AUDIO_RESUMED and resumed.alarm_id == paused.alarm_id
    assert engine.audio("r1") is None


def test_a_new_alarm_breaks_through_a_pause() -> None:
    engine = clinic_engine()
    feed(engine, "hr", [140] * 11)
    engine.pause_audio("r1", "nurse1", at(20), seconds=60)
    events = feed(engine, "spo2", [90] * 16, start=21)
    assert transitions(events) == ["raised", "audio_resumed"]
    assert events[1].note == "break-through: SpO2 90 < 92" and events[1].at == events[0].at
    assert engine.audio("r1") is None


def test_a_higher_priority_breaks_through_but_a_lower_one_does_not() -> None:
    engine = clinic_engine()
    feed(engine, "hr", [140] * 11)
    engine.pause_audio("r1", "nurse1", at(20))
    # Another room's alarm is no business of this room's pause.
    assert transitions(feed(engine, "hr", [140] * 11, room="r2", start=21)) == ["raised"]
    assert engine.audio("r1") is not None
    events = feed(engine, "hr", [160] * 11, start=21)
    assert transitions(events) == ["priority_changed", "audio_resumed"]
    assert events[1].note == "break-through: HR 160 > 150"
    engine.pause_audio("r1", "nurse1", at(40))
    assert transitions(feed(engine, "hr", [140], start=41)) == ["priority_changed"]
    assert engine.audio("r1") is not None


def test_a_new_pause_replaces_the_running_one_and_ends_it_in_the_log() -> None:
    engine = clinic_engine()
    first = only(engine.pause_audio("r1", "nurse1", at(0)))
    assert first.priority is Priority.NONE  # no alarm was on: any alarm breaks through
    events = engine.pause_audio("r1", "nurse2", at(30), seconds=60)
    assert transitions(events) == ["audio_resumed", "audio_paused"]
    assert events[0].alarm_id == first.alarm_id
    audio = engine.audio("r1")
    assert audio is not None and audio.by_user == "nurse2" and audio.until == at(90)


def test_no_reminder_sounds_while_audio_is_paused() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [140] * 11))
    engine.acknowledge(raised.alarm_id, "nurse1", at(20))
    engine.pause_audio("r1", "nurse1", at(150))
    assert engine.tick(at(200)) == []
    assert transitions(engine.tick(at(270))) == ["audio_resumed", "reminder"]


@pytest.mark.parametrize("seconds", [0, -5, 601])
def test_an_audio_pause_must_be_sensible(seconds: float) -> None:
    with pytest.raises(AlarmRulesError, match="audio pause"):
        clinic_engine().pause_audio("r1", "nurse1", at(0), seconds)


# -- data errors on the serial line ----------------------------------------------------------


def errors(engine, total: int, seconds: float):  # type: ignore[no-untyped-def]
    return engine.on_errors(DeviceErrors("r1", "r1-monitor", at(seconds), total))


def test_a_burst_of_checksum_errors_is_a_low_technical_alarm() -> None:
    engine = clinic_engine()
    assert errors(engine, 2, 0) == [] and errors(engine, 4, 10) == []
    raised = only(errors(engine, 5, 20))
    assert raised.kind is Kind.TECHNICAL and raised.priority is Priority.LOW
    assert raised.vital == SERIAL
    assert raised.message == "Room monitor: data errors on the serial line"
    assert errors(engine, 9, 30) == []
    # A whole window without a new error ends it.
    assert engine.tick(at(90)) == []
    assert only(engine.tick(at(91))).transition is Transition.CLEARED


def test_errors_spread_thinner_than_the_window_do_not_alarm() -> None:
    engine = clinic_engine()
    for i in range(1, 20):
        assert errors(engine, i, i * 20) == []
        assert engine.tick(at(i * 20 + 1)) == []


def test_a_restarted_adapters_total_counts_from_zero() -> None:
    engine = clinic_engine()
    errors(engine, 100, 0)  # the first report: 100 since the adapter started
    assert engine.active()[0].vital == SERIAL


# -- a nurse's limits for one session ------------------------------------------------------


HR_145 = (Rule("hr", Condition.ABOVE, 145, Priority.MEDIUM, delay=10, hysteresis=2),
          Rule("hr", Condition.ABOVE, 160, Priority.HIGH, delay=10, hysteresis=2))


def test_widening_a_limit_ends_the_alarm_it_no_longer_covers() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [140] * 11))
    events = engine.set_rules("r1", HR_145, at(12), session_id=7)
    assert only(events).transition is Transition.CLEARED and events[0].alarm_id == raised.alarm_id
    assert feed(engine, "hr", [140] * 30, start=13) == []
    assert {r.limit for r in engine.profile_for("r1").rules_for("hr")} == {145, 160, 50, 40}
    # Only this room.
    assert only(feed(engine, "hr", [140] * 11, room="r2")).transition is Transition.RAISED


def test_narrowing_a_limit_keeps_an_alarm_that_still_holds_with_the_new_text() -> None:
    engine = clinic_engine()
    raised = only(feed(engine, "hr", [150] * 11))
    tighter = (Rule("hr", Condition.ABOVE, 120, Priority.MEDIUM, delay=10),)
    updated = only(engine.set_rules("r1", tighter, at(12)))
    assert updated.transition is Transition.UPDATED and updated.alarm_id == raised.alarm_id
    assert updated.message == "HR 150 > 120"


def test_a_new_session_drops_the_last_sessions_limits() -> None:
    engine = clinic_engine()
    engine.set_rules("r1", HR_145, at(0), session_id=7)
    assert engine.on_session("r1", 7, at(1)) == []
    assert {r.limit for r in engine.profile_for("r1").rules_for("hr")} >= {145}
    engine.on_session("r1", 8, at(2))
    assert engine.profile_for("r1") is engine.profile


# -- technical alarms through the lifecycle --------------------------------------------------


def test_a_new_link_detail_updates_the_technical_alarm() -> None:
    engine = clinic_engine()
    raised = only(engine.on_status(DeviceStatus("r1", "d", LinkState.SILENT, at(0), "quiet")))
    updated = only(engine.on_status(DeviceStatus("r1", "d", LinkState.LOST, at(5), "cable")))
    assert updated.transition is Transition.UPDATED and updated.alarm_id == raised.alarm_id
    assert updated.message == "cable"


def test_reset_room_clears_latched_alarms_too() -> None:
    engine = clinic_engine()
    nibp(engine, 150, 0)
    nibp(engine, 186, 300)
    nibp(engine, 150, 600)
    assert engine.active()[0].latched
    assert transitions(engine.reset_room("r1", at(700))) == ["cleared"]
    assert engine.active() == []


def test_the_clinic_settings_default_to_the_issue() -> None:
    assert AlarmSettings() == CLINIC
    assert (AlarmSettings().latching_high, AlarmSettings().webhook_url) == (True, None)
