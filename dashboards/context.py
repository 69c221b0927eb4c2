"""The running station, handed to pages at request time (never read at import time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from monitor.service import Station

_station: Station | None = None


def set_station(station: Station) -> None:
    global _station
    _station = station


def station() -> Station:
    if _station is None:
        raise RuntimeError("the dashboard was started without a station")
    return _station
