"""Alarms in IEC 60601-1-8's words: rules as data, a pure engine, events for the log."""

from monitor.alarms.engine import AlarmEngine
from monitor.alarms.log import AlarmBook, AudioPause, replay
from monitor.alarms.model import Alarm, AlarmEvent, Kind, Priority, Transition
from monitor.alarms.rules import PROFILES, Profile, Rule, profile
from monitor.alarms.settings import AlarmSettings

__all__ = ["PROFILES", "Alarm", "AlarmBook", "AlarmEngine", "AlarmEvent", "AlarmSettings",
           "AudioPause", "Kind", "Priority", "Profile", "Rule", "Transition", "profile",
           "replay"]
