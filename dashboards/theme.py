"""Colours and words for priorities and states, in one place for pages, figures and CSS."""

from __future__ import annotations

from monitor.alarms.model import Priority

# IEC 60601-1-8 colours: red high, yellow medium, cyan low.
PRIORITY_COLOURS: dict[Priority, str] = {
    Priority.HIGH: "#e0262b",
    Priority.MEDIUM: "#f5c400",
    Priority.LOW: "#22c3d8",
    Priority.NONE: "#2e3440",
}

# Trend line colours per vital, as bedside monitors conventionally draw them.
VITAL_COLOURS: dict[str, str] = {
    "hr": "#3ddc84",
    "pr": "#9be7b5",
    "spo2": "#4fc3f7",
    "rr": "#ffd54f",
    "nibp_sys": "#ff8a80",
    "nibp_dia": "#ff8a80",
    "nibp_mean": "#ffcdd2",
    "etco2": "#fff176",
    "temp": "#ce93d8",
}

BACKGROUND = "#0d1117"
PANEL = "#161b22"
TEXT = "#e6edf3"
MUTED = "#7d8590"
