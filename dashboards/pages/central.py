"""The central station: one tile per room, sized so 32 rooms fit a 1920x1080 screen."""

from __future__ import annotations

import math

import dash
from dash import html

from dashboards import ids
from dashboards.components.tile import tile
from dashboards.context import station

dash.register_page(__name__, path="/", title="ivmon · central station", name="Central station")


def grid_shape(rooms: int) -> tuple[int, int]:
    """Columns and rows for ``rooms`` tiles on a 16:9 screen (8 x 4 for 32 rooms)."""
    cols = max(1, min(8, math.ceil(math.sqrt(rooms * 1.8))))
    return cols, max(1, math.ceil(rooms / cols))


def layout(**_query: str) -> html.Div:
    st = station()
    now = st.clock.now()
    views = st.live.snapshot(now)
    cols, rows = grid_shape(len(views))
    return html.Div(
        [tile(v, now) for v in views] or [html.P(
            "No rooms are configured. Add [[rooms]] to the configuration file "
            "(see 'ivmon init').", className="empty")],
        id=ids.GRID, className="grid",
        style={"--cols": str(cols), "--rows": str(rows)},
        **{"data-rooms": str(len(views))},
    )
