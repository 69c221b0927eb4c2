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


def user_toggle(name: str) -> dict[str, str]:
    return {"type": "user-toggle", "name": name}


def kiosk_revoke(token_id: int) -> dict[str, object]:
    return {"type": "kiosk-revoke", "id": token_id}


def tile(room: str) -> dict[str, str]:
    return {"type": "tile", "room": room}
