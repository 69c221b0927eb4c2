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
