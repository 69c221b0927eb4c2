"""A room tile: the Dash markup and the live frame that updates it, from one RoomView."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import dcc, html

from dashboards import ids
from dashboards.format import age, duration, nibp
from monitor.live import RoomView
from monitor.vitals import BY_CODE, format_value

TILE_VITALS = ("hr", "spo2", "rr")
NIBP_PARTS = ("nibp_sys", "nibp_dia", "nibp_mean")


def room_frame(view: RoomView, now: datetime) -> dict[str, Any]:
    """Everything a screen needs to redraw one tile, as plain JSON-ready data."""
    top = view.top_alarm
    values = {}
    for code in (*TILE_VITALS, *NIBP_PARTS):
        v = view.vitals.get(code)
        values[code] = {
            "text": format_value(code, v.value if v else None),
            "stale": True if v is None else v.stale,
            "invalid": v is not None and v.quality == "invalid",
        }
    nibp_text, nibp_age, nibp_stale = nibp(view)
    paused_s = _audio_paused_seconds(view, now)
    unacknowledged = [a for a in view.alarms if not a.acknowledged]
    elapsed = (now - view.session_started).total_seconds() if view.session_started else None
    return {
        "name": view.name,
        "priority": top.priority.word if top else "none",
        "alarm": f"{top.message} · {top.since.astimezone():%H:%M}" if top else "",
        "alarm_kind": str(top.kind) if top else "",
        "alarm_count": len(view.alarms),
        "acknowledged": bool(top and top.acknowledged),
        "alarms": [{"id": a.id, "priority": a.priority.word, "message": a.message,
                    "kind": str(a.kind), "since": a.since.isoformat(),
                    "acknowledged_by": a.acknowledged_by, "latched": a.latched,
                    "escalated": a.escalated} for a in view.alarms],
        # The alarm the tile's Acknowledge button acts on: the most urgent not yet acknowledged.
        "ack_id": unacknowledged[0].id if unacknowledged else "",
        "link": str(view.link),
        "link_detail": view.link_detail,
        "session": duration(elapsed),
        # What this room's alarms should sound like on every screen: the most urgent
        # unacknowledged one, unless audio is paused for the room.
        "sound": unacknowledged[0].priority.word if unacknowledged and not paused_s else "none",
        "audio_paused_s": paused_s,
        "reminders": view.reminders,
        "escalated": any(a.escalated for a in view.alarms),
        "audio_paused_by": view.audio.by_user if view.audio and paused_s else "",
        "values": values,
        "nibp": {"text": nibp_text, "age": age(nibp_age), "stale": nibp_stale},
    }


def _audio_paused_seconds(view: RoomView, now: datetime) -> int:
    return max(0, int(view.audio_seconds_left(now)))


def _numeric(code: str, frame: dict[str, Any], big: bool = True) -> html.Div:
    vital = BY_CODE[code]
    value = frame["values"][code]
    return html.Div(
        [html.Span(vital.label, className="label"),
         html.Span(value["text"], className="value"),
         html.Span(vital.display_unit, className="unit")],
        className="numeric big" if big else "numeric",
        **{"data-vital": code, "data-stale": str(value["stale"]).lower(),
           "data-invalid": str(value["invalid"]).lower(),
           "title": f"{vital.name} ({vital.display_unit})"},
    )


def tile(view: RoomView, now: datetime, replay: bool = False) -> html.Div:
    """The tile for one room, drawn with its current state; the live push keeps it current
    (unless it is a replay's tile, which shows a past moment and must not be touched)."""
    frame = room_frame(view, now)
    nibp_frame = frame["nibp"]
    parts = []
    for code in NIBP_PARTS:
        v = frame["values"][code]
        text = v["text"] if code != "nibp_mean" else f"({v['text']})"
        parts.append(html.Span(text, className=f"part {code}",
                               **{"data-vital": code, "data-stale": str(v["stale"]).lower()}))
        if code == "nibp_sys":
            parts.append(html.Span("/", className="sep"))
    return html.Div(
        [
            dcc.Link([html.Span(view.name, className="room-name"),
                      html.Span([html.Span("", className="phase", **{"data-field": "phase"}),
                                 html.Span(frame["session"], className="session-time",
                                           **{"data-field": "session",
                                              "title": "session time"})],
                                className="session-info")],
                     href=f"/room/{view.room}", className="tile-head"),
            html.Div([_numeric(code, frame) for code in TILE_VITALS], className="numerics"),
            html.Div(
                [html.Div([html.Span("NIBP mmHg", className="label"),
                           html.Span(nibp_frame["age"], className="age",
                                     **{"data-field": "nibp-age"})], className="nibp-head"),
                 html.Span(parts, className="value")],
                className="nibp", **{"data-stale": str(nibp_frame["stale"]).lower()}),
            html.Canvas(className="spark", **{"data-spark": view.room,
                                              "title": "HR (green) and SpO2 (blue), 10 min"}),
            html.Div([
                html.Div(frame["alarm"] or "\u00a0", className="alarm",
                         **{"data-field": "alarm", "role": "status", "aria-live": "polite"}),
                html.Button("Ack", className="ack", title="Acknowledge this alarm",
                            **{"data-action": "ack", "data-alarm": frame["ack_id"],
                               "data-room-id": view.room}),
                html.Button("Pause", className="pause",
                            title="Pause this room's alarm sound for 2 minutes",
                            **{"data-action": "pause", "data-room-id": view.room,
                               "data-field": "pause"}),
            ], className="alarm-row"),
        ],
        id=ids.tile(view.room),
        className="tile",
        **{"data-room": view.room, "data-priority": frame["priority"],
           "data-replay": str(replay).lower(),
           "data-audio-paused": str(bool(frame["audio_paused_s"])).lower(),
           "data-link": frame["link"], "data-acknowledged": str(frame["acknowledged"]).lower(),
           "data-alarm-kind": frame["alarm_kind"]},
    )

