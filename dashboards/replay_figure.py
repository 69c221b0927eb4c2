"""The replay timeline: every vital with min/max bands, limits, alarm spans, acks and events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboards.figures import TREND_PANELS
from dashboards.theme import PANEL, PRIORITY_COLOURS, TEXT, VITAL_COLOURS
from monitor.alarms.model import Priority
from monitor.alarms.rules import Rule
from monitor.history import AlarmSpan, NibpMeasurement, Series, SessionEvent
from monitor.vitals import BY_CODE

CURSOR = "replay-cursor"  # the name of the shape that marks the scrubbed moment


def _band(fig: go.Figure, series: Series, row: int) -> None:
    colour = VITAL_COLOURS[series.code]
    label = BY_CODE[series.code].label
    if not series.raw:
        # Min/max of each bucket as a band, so a brief peak survives downsampling.
        fig.add_trace(go.Scatter(x=series.times_ms, y=series.hi, mode="lines",
                                 line={"width": 0}, hoverinfo="skip", showlegend=False),
                      row=row, col=1)
        fig.add_trace(go.Scatter(x=series.times_ms, y=series.lo, mode="lines",
                                 line={"width": 0}, fill="tonexty", fillcolor=colour,
                                 opacity=0.3, hoverinfo="skip", showlegend=False),
                      row=row, col=1)
    fig.add_trace(go.Scatter(
        x=series.times_ms, y=series.mean, mode="lines", name=label,
        line={"color": colour, "width": 1.5},
        hovertemplate=f"{label} %{{y:.0f}} {BY_CODE[series.code].display_unit}"
                      "<extra>%{x|%H:%M:%S}</extra>"), row=row, col=1)


def replay_figure(series: Mapping[str, Series], nibp: Sequence[NibpMeasurement],
                  spans: Sequence[AlarmSpan], events: Sequence[SessionEvent],
                  rules: Sequence[Rule], baseline: Mapping[str, float], start: datetime,
                  end: datetime, cursor: datetime | None = None) -> go.Figure:
    fig = make_subplots(rows=len(TREND_PANELS), cols=1, shared_xaxes=True,
                        vertical_spacing=0.035, subplot_titles=[p[0] for p in TREND_PANELS])
    nibp_row = len(TREND_PANELS)
    for row, (_title, codes, yrange) in enumerate(TREND_PANELS, start=1):
        for code in codes:
            if code in series and not BY_CODE[code].episodic:
                _band(fig, series[code], row)
        fig.update_yaxes(range=list(yrange), row=row, col=1)
        for rule in rules:
            limit = rule.threshold(baseline.get(rule.vital))
            if rule.vital in codes and limit is not None:
                fig.add_hline(y=limit, row=row, col=1, line_dash="dash", line_width=1,
                              line_color=PRIORITY_COLOURS[rule.priority])
    for part, colour in (("sys", "#ff8a80"), ("dia", "#ff8a80"), ("mean", "#ffcdd2")):
        points = [(m.at, getattr(m, part)) for m in nibp if getattr(m, part) is not None]
        fig.add_trace(go.Scatter(
            x=[p[0] for p in points], y=[p[1] for p in points], mode="markers+lines",
            name=f"NIBP {part}", marker={"size": 8, "color": colour},
            line={"color": colour, "width": 1, "dash": "dot" if part == "mean" else "solid"},
            hovertemplate=f"NIBP {part} %{{y:.0f}} mmHg<extra>%{{x|%H:%M:%S}}</extra>"),
            row=nibp_row, col=1)
    for span in spans:
        priority = Priority.__members__.get(span.priority.upper(), Priority.LOW)
        fig.add_vrect(x0=span.raised, x1=span.cleared or end, fillcolor=PRIORITY_COLOURS[priority],
                      opacity=0.18, line_width=0, layer="below", row="all", col=1)
        for ack in span.acknowledgements:
            fig.add_annotation(x=ack.at, y=1.0, yref="paper", text=f"✓ {ack.by_user}",
                               showarrow=False, font={"size": 10, "color": TEXT},
                               bgcolor=PRIORITY_COLOURS[priority], opacity=0.9)
    for event in events:
        fig.add_vline(x=event.at, line_dash="dot", line_color="#9da7b3", line_width=1)
        fig.add_annotation(x=event.at, y=0.0, yref="paper", yanchor="bottom",
                           text=event.kind.replace("_", " "), textangle=-90, showarrow=False,
                           font={"size": 9, "color": "#9da7b3"})
    fig.add_shape(type="line", x0=cursor or start, x1=cursor or start, y0=0, y1=1,
                  yref="paper", line={"color": "#ffffff", "width": 2}, name=CURSOR)
    fig.update_xaxes(type="date", range=[start, end], gridcolor="#30363d")
    fig.update_yaxes(gridcolor="#30363d")
    fig.update_layout(template="plotly_dark", paper_bgcolor=PANEL, plot_bgcolor=PANEL,
                      margin={"l": 50, "r": 20, "t": 30, "b": 30}, showlegend=False,
                      uirevision="replay", font={"color": TEXT})
    return fig
