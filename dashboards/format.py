"""Pure text formatting for screens: durations, ages, blood pressure."""

from __future__ import annotations

from monitor.live import RoomView
from monitor.vitals import format_value


def duration(seconds: float | None) -> str:
    """``1:02:03`` or ``12:03`` for a session's elapsed time."""
    if seconds is None or seconds < 0:
        return "--:--"
    s = int(seconds)
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def age(seconds: float | None) -> str:
    """How old a value is, as a nurse would say it."""
    if seconds is None:
        return "no measurement"
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60:02d} min ago"


def nibp(view: RoomView) -> tuple[str, float | None, bool]:
    """The last cuff measurement as ``128/82 (97)``, its age in seconds, and staleness."""
    sys_, dia, mean = (view.vitals.get(c) for c in ("nibp_sys", "nibp_dia", "nibp_mean"))
    if sys_ is None or dia is None:
        return "---/---", None, True
    text = f"{format_value('nibp_sys', sys_.value)}/{format_value('nibp_dia', dia.value)}"
    if mean is not None:
        text += f" ({format_value('nibp_mean', mean.value)})"
    return text, sys_.age_seconds, sys_.stale
