"""Every component id the pages use, in one place."""

from __future__ import annotations

GRID = "central-grid"
LINK_BANNER = "link-banner"
CLOCK = "station-clock"
ROOM_TREND = "room-trend"
ROOM_ALARMS = "room-alarms"
ROOM_TILE = "room-tile"


def tile(room: str) -> dict[str, str]:
    return {"type": "tile", "room": room}
