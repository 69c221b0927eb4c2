"""Every component id the pages use, in one place."""

from __future__ import annotations

GRID = "central-grid"
LINK_BANNER = "link-banner"
SOUND_WARNING = "sound-warning"
SOUND_TOGGLE = "sound-toggle"
CLOCK = "station-clock"
ROOM_TREND = "room-trend"
ROOM_ALARMS = "room-alarms"
ROOM_TILE = "room-tile"


ADMIN_USERS = "admin-users"
ADMIN_MESSAGE = "admin-message"
ADMIN_NEW_NAME = "admin-new-name"
ADMIN_NEW_ROLE = "admin-new-role"
ADMIN_NEW_PASSWORD = "admin-new-password"
ADMIN_ADD = "admin-add"
ADMIN_KIOSKS = "admin-kiosks"
ADMIN_KIOSK_LABEL = "admin-kiosk-label"
ADMIN_KIOSK_ADD = "admin-kiosk-add"


FIND_ROOM = "find-room"
FIND_LABEL = "find-label"
FIND_DATES = "find-dates"
FIND_ALARMS = "find-alarms"
FIND_RESULTS = "find-results"
REPLAY_GRAPH = "replay-graph"
REPLAY_SLIDER = "replay-slider"
REPLAY_PLAY = "replay-play"
REPLAY_SPEED = "replay-speed"
REPLAY_CLOCK = "replay-clock"
REPLAY_TICK = "replay-tick"
REPLAY_TILE = "replay-tile"
REPLAY_TIME = "replay-time"
REPLAY_SESSION = "replay-session"


SESSION_PANEL = "session-panel"
SESSION_LABEL = "session-label"
SESSION_MRN = "session-mrn"
SESSION_PROTOCOL = "session-protocol"
SESSION_WEIGHT = "session-weight"
SESSION_DOSE = "session-dose"
SESSION_DURATION = "session-duration"
SESSION_START = "session-start"
SESSION_NOTE = "session-note"
SESSION_END = "session-end"
SESSION_DISCHARGE = "session-discharge"
SESSION_MESSAGE = "session-message"
SESSION_ROOM = "session-room"
ESCALATION_BANNER = "escalation-banner"


def session_event(kind: str) -> dict[str, str]:
    return {"type": "session-event", "kind": kind}


def user_toggle(name: str) -> dict[str, str]:
    return {"type": "user-toggle", "name": name}


def kiosk_revoke(token_id: int) -> dict[str, object]:
    return {"type": "kiosk-revoke", "id": token_id}


def tile(room: str) -> dict[str, str]:
    return {"type": "tile", "room": room}


# -- the alarm pages (history, what-if, profiles) -----------------------------------------

HISTORY_ROOM = "history-room"
HISTORY_PRIORITY = "history-priority"
HISTORY_VITAL = "history-vital"
HISTORY_DATES = "history-dates"
HISTORY_UNACKNOWLEDGED = "history-unacknowledged"
HISTORY_TABLE = "history-table"
HISTORY_SUMMARY = "history-summary"
HISTORY_EXPORT = "history-export"
HISTORY_PREVIOUS = "history-previous"
HISTORY_NEXT = "history-next"
HISTORY_PAGE = "history-page"

WHATIF_SESSION = "whatif-session"
WHATIF_PROFILE = "whatif-profile"
WHATIF_RULES = "whatif-rules"
WHATIF_RUN = "whatif-run"
WHATIF_COUNTS = "whatif-counts"
WHATIF_GRAPH = "whatif-graph"
WHATIF_MESSAGE = "whatif-message"

PROFILE_PICK = "profile-pick"
PROFILE_NAME = "profile-name"
PROFILE_TITLE = "profile-title"
PROFILE_RULES = "profile-rules"
PROFILE_TECHNICAL = "profile-technical"
PROFILE_ADD_RULE = "profile-add-rule"
PROFILE_SAVE = "profile-save"
PROFILE_MESSAGE = "profile-message"
SETTINGS_LATCHING = "settings-latching"
SETTINGS_ESCALATION = "settings-escalation"
SETTINGS_AUDIO_PAUSE = "settings-audio-pause"
SETTINGS_REMINDER = "settings-reminder"
SETTINGS_WEBHOOK = "settings-webhook"
SETTINGS_WEBHOOK_STATUS = "settings-webhook-status"
SETTINGS_SAVE = "settings-save"
SETTINGS_MESSAGE = "settings-message"
SETTINGS_TICK = "settings-tick"


def rule_cell(form: str, row: int | object, field: str | object) -> dict[str, object]:
    """One field of one rule in an editable rules table ("profile" or "whatif")."""
    return {"type": "rule-cell", "form": form, "row": row, "field": field}


def rule_remove(form: str, row: int | object) -> dict[str, object]:
    return {"type": "rule-remove", "form": form, "row": row}
