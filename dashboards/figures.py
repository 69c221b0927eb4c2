"""Figure builders: pure functions from data to plotly figures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards.theme import PANEL, PRIORITY_COLOURS, TEXT, VITAL_COLOURS
from monitor.alarms.rules import Rule
from monitor.vitals import BY_CODE

# One panel per row: what is drawn in it, and the y range a nurse expects to see.
TREND_PANELS: tuple[tuple[str, tuple[str, ...], tuple[float, float]], ...] = (
    ("HR / PR (bpm)", ("hr", "pr"), (30, 180)),
    ("SpO2 (%)", ("spo2",), (80, 100)),
    ("RR (rpm)", ("rr",), (0, 40)),
    ("NIBP (mmHg)", ("nibp_sys", "nibp_dia", "nibp_mean"), (40, 220)),
)
TREND_CODES: tuple[str, ...] = tuple(c for _, codes, _ in TREND_PANELS for c in codes)


def trend_figure(points: Mapping[str, Sequence[tuple[int, float]]], rules: Sequence[Rule],
                 baseline: Mapping[str, float], now: datetime,
                 minutes: int = 60) -> go.Figure:
    """Trends of every vital over the last ``minutes`` with the profile's limit lines.

    Trace order follows TREND_CODES, so the live push can extend a trace by its index.
    """
    fig = make_subplots(rows=len(TREND_PANELS), cols=1, shared_xaxes=True,
                        vertical_spacing=0.04, subplot_titles=[p[0] for p in TREND_PANELS])
    for row, (_title, codes, yrange) in enumerate(TREND_PANELS, start=1):
        for code in codes:
            xs = [ms for ms, _ in points.get(code, ())]
            ys = [v for _, v in points.get(code, ())]
            episodic = BY_CODE[code].episodic
            fig.add_trace(go.Scatter(
                x=xs, y=ys, name=BY_CODE[code].label,
                mode="markers+lines" if episodic else "lines",
                line={"color": VITAL_COLOURS[code], "width": 1.5,
                      "dash": "dot" if code == "nibp_mean" else "solid"},
                marker={"size": 7}, connectgaps=False,
                hovertemplate=f"{BY_CODE[code].label} %{{y}} {BY_CODE[code].display_unit}"
                              "<extra>%{x|%H:%M:%S}</extra>"), row=row, col=1)
        fig.update_yaxes(range=list(yrange), row=row, col=1)
        for rule in rules:
            if rule.vital not in codes:
                continue
            limit = rule.threshold(baseline.get(rule.vital))
            if limit is None:
                continue
            fig.add_hline(y=limit, row=row, col=1, line_dash="dash", line_width=1,
                          line_color=PRIORITY_COLOURS[rule.priority],
                          annotation_text=f"{BY_CODE[rule.vital].label} "
                                          f"{'<' if rule.side == 'low' else '>'} {limit:g}",
                          annotation_font_size=10, annotation_font_color=TEXT)
    start = now - timedelta(minutes=minutes)
    fig.update_xaxes(type="date", range=[start, now], gridcolor="#30363d")
    fig.update_yaxes(gridcolor="#30363d")
    fig.update_layout(
        template="plotly_dark", paper_bgcolor=PANEL, plot_bgcolor=PANEL,
        margin={"l": 50, "r": 20, "t": 30, "b": 30}, showlegend=False,
        uirevision="room-trend", font={"color": TEXT},
    )
    return fig
