"""The running station, handed to pages at request time (never read at import time)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dashboards.admin import AdminOps
    from monitor.service import Station

_station: Station | None = None
_admin: AdminOps | None = None


def set_admin_ops(ops: AdminOps) -> None:
    global _admin
    _admin = ops


def admin_ops() -> AdminOps:
    if _admin is None:
        raise RuntimeError("the dashboard was started without administration")
    return _admin


def set_station(station: Station) -> None:
    global _station
    _station = station


def station() -> Station:
    if _station is None:
        raise RuntimeError("the dashboard was started without a station")
    return _station
