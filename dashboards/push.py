"""The live push: one batched frame for every open screen over a WebSocket; never per-room polling.

Frames go out at most every ``interval`` (0.2 s) carrying only the rooms that changed, at once
when an alarm changes, and with every room once a second so staleness and ages move on even
when a device is silent. Each frame is serialised once and sent to every screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from dashboards.components.tile import room_frame
from dashboards.figures import TREND_CODES
from dashboards.format import duration
from monitor.storage.schema import from_ms, to_ms

log = logging.getLogger(__name__)

# Short words for a tile's corner; the room page spells the phase out too.
PHASE_WORDS = {"pre-infusion": "pre", "pre_infusion": "pre", "infusion": "infusion",
               "observation": "obs", "discharged": "done"}
SPARK_SECONDS = 5.0  # sparklines move slowly; redraw them every 5 s, not every frame
SEND_TIMEOUT = 2.0  # a screen that cannot take a frame this fast is dropped and reconnects


class LivePush:
    """Builds frames from the station's live state and broadcasts them."""

    def __init__(self, station: Any, interval: float = 0.2, full_every: float = 1.0,
                 allowed: Callable[[WebSocket], bool] | None = None) -> None:
        self.station = station
        self.allowed = allowed or (lambda _ws: True)
        self.interval = interval
        self.full_every = full_every
        self.clients: set[WebSocket] = set()
        self._subscriptions: dict[WebSocket, set[str]] = {}
        self._trend_cursor: dict[str, int] = {}
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.seq = 0
        self.frames_sent = 0

    # -- lifecycle (called from the server's event loop) ------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.station.live.watch_alarms(self._alarm_changed)
        self._task = asyncio.create_task(self._run(), name="ivmon-live-push")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def _alarm_changed(self) -> None:
        # Called on the bus thread: hand over to the event loop without blocking.
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    # -- frames -----------------------------------------------------------------------

    def frame(self, rooms: set[str] | None, spark: bool) -> dict[str, Any]:
        """A frame for ``rooms`` (None: all), with sparklines and trend points when due."""
        live = self.station.live
        now = self.station.clock.now()
        views = live.snapshot(now, None if rooms is None else sorted(rooms))
        self.seq += 1
        out: dict[str, Any] = {
            "seq": self.seq, "now": now.isoformat(), "sent_ms": int(time.time() * 1000),
            "clock": f"{now.astimezone():%H:%M:%S}",
            "full": rooms is None,
            "rooms": {v.room: {**room_frame(v, now), **self._session(v.session_id, now)}
                      for v in views},
            "storage_problem": self.station.recorder.problem,
        }
        if spark:
            out["spark"] = {v.room: {c: _compact(live.sparkline(v.room, c, now))
                                     for c in ("hr", "spo2")} for v in views}
        # Trend points ride on the once-a-second full frame: a chart need not move faster.
        trend = self._trend_points() if rooms is None else None
        if trend:
            out["trend"] = trend
        return out

    def _session(self, session_id: int | None, now: Any) -> dict[str, Any]:
        """The session's phase and observation countdown for the tile and the room page."""
        if session_id is None:
            return {"session_id": None, "phase": "", "observation_left": ""}
        try:
            status = self.station.sessions.status(session_id, now)
        except Exception:  # a session ended between the snapshot and now
            return {"session_id": None, "phase": "", "observation_left": ""}
        left = status.observation_left_s
        return {"session_id": session_id, "phase": PHASE_WORDS.get(status.phase, status.phase),
                "observation_left": "" if left is None else duration(left)}

    def _trend_points(self) -> dict[str, dict[str, list[list[float]]]]:
        watched = set().union(*self._subscriptions.values()) if self._subscriptions else set()
        out: dict[str, dict[str, list[list[float]]]] = {}
        now_ms = to_ms(self.station.clock.now())
        for room in watched:
            cursor = self._trend_cursor.get(room, now_ms)
            points: dict[str, list[list[float]]] = {}
            newest = cursor
            for code in TREND_CODES:
                pts = [[ms, v] for ms, v in self.station.live.trend(room, code, from_ms(cursor))
                       if ms > cursor]
                if pts:
                    points[code] = pts
                    newest = max(newest, int(pts[-1][0]))
            self._trend_cursor[room] = newest
            if points:
                out[room] = points
        return out

    async def _run(self) -> None:
        assert self._wake is not None
        last_full = last_spark = 0.0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            if not self.clients:
                self.station.live.take_changed()
                continue
            started = time.monotonic()
            full = started - last_full >= self.full_every
            spark = started - last_spark >= SPARK_SECONDS
            changed = self.station.live.take_changed()
            if not full and not changed:
                continue
            try:
                frame = self.frame(None if full else changed, spark)
            except Exception:
                log.exception("building a live frame failed")
                continue
            if full:
                last_full = started
            if spark:
                last_spark = started
            await self.broadcast(json.dumps(frame, separators=(",", ":")))

    async def broadcast(self, text: str) -> None:
        for ws in [c for c in self.clients if not self.allowed(c)]:
            # The screen's sign-in ended (signed out, idle, disabled): stop its data at once.
            self._forget(ws)
            with contextlib.suppress(Exception):
                await ws.close(code=4401, reason="signed out")
        clients = list(self.clients)
        results = await asyncio.gather(
            *(asyncio.wait_for(ws.send_text(text), SEND_TIMEOUT) for ws in clients),
            return_exceptions=True)
        for ws, result in zip(clients, results, strict=True):
            if isinstance(result, BaseException):
                self._forget(ws)
        self.frames_sent += 1

    # -- one screen -------------------------------------------------------------------

    async def handle(self, ws: WebSocket) -> None:
        """Serve one screen: a full frame at once, then every broadcast, until it goes."""
        await ws.accept()
        self.clients.add(ws)
        self._subscriptions[ws] = set()
        try:
            await ws.send_text(json.dumps(self.frame(None, spark=True), separators=(",", ":")))
            while True:
                message = await ws.receive_json()
                room = message.get("room") if isinstance(message, dict) else None
                if isinstance(room, str) and room in self.station.rooms:
                    self._subscriptions[ws] = {room}
                    self._trend_cursor.setdefault(room, to_ms(self.station.clock.now()))
        except (WebSocketDisconnect, RuntimeError, ValueError):
            pass
        finally:
            self._forget(ws)

    def _forget(self, ws: WebSocket) -> None:
        self.clients.discard(ws)
        self._subscriptions.pop(ws, None)


def _compact(series: list[float | None]) -> list[int | None]:
    return [None if v is None else round(v) for v in series]
