"""PDF report of a session for the chart: facts, the monitoring a Spravato REMS form asks for
(BP before and after dosing, observation times, discharge), vitals charts and table, alarms
with their acknowledgements, and events. Drawn with fpdf2 alone (no plotting library)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path

from fpdf import FPDF, FontFace
from sqlalchemy import Engine

from monitor import __version__
from monitor.exports import ExportError
from monitor.history import (
    AlarmSpan,
    NibpMeasurement,
    Series,
    SessionEvent,
    SessionInfo,
    alarm_spans,
    downsample,
    get_session,
    nibp_measurements,
    session_events,
    session_span,
    session_vitals,
)
from monitor.session_rules import DOSE_KINDS, PROTOCOLS
from monitor.vitals import BY_CODE, format_value

PRIORITY_RGB = {"high": (220, 38, 38), "medium": (234, 179, 8), "low": (6, 182, 212)}
SERIES_RGB = ((37, 99, 235), (22, 163, 74), (147, 51, 234))
CHARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Heart rate and pulse rate (/min)", ("hr", "pr")),
    ("SpO2 (%)", ("spo2",)),
    ("Non-invasive blood pressure (mm[Hg])", ("nibp_sys", "nibp_mean", "nibp_dia")),
    ("Respiratory rate (/min)", ("rr",)),
    ("End-tidal CO2 (mm[Hg])", ("etco2",)),
    ("Temperature (Cel)", ("temp",)),
)
TABLE_CODES = ("hr", "pr", "spo2", "rr", "etco2", "temp")
MAX_TABLE_ROWS = 120


@dataclass(frozen=True, slots=True)
class Monitoring:
    """The facts a REMS patient monitoring form asks for, found in the session's record."""

    bp_before: NibpMeasurement | None
    bp_after: NibpMeasurement | None  # the one nearest 40 min after the dose
    bp_highest_after: NibpMeasurement | None
    bp_last: NibpMeasurement | None
    dosed: datetime | None
    observation_start: datetime | None
    observation_end: datetime | None
    discharged: datetime | None
    discharged_by: str
    spo2_low: float | None


def monitoring_facts(info: SessionInfo, events: list[SessionEvent],
                     bps: list[NibpMeasurement], spo2: Series | None) -> Monitoring:
    doses = [e.at for e in events if e.kind in DOSE_KINDS]
    stops = [e.at for e in events if e.kind == "infusion_stopped"]
    dosed = doses[0] if doses else None
    rules = PROTOCOLS.get(info.protocol, PROTOCOLS["iv-ketamine"])
    observe = (stops[-1] if stops else None) if rules.infusion else (doses[-1] if doses else None)
    full = [m for m in bps if m.sys is not None and m.dia is not None]
    before = [m for m in full if dosed is None or m.at <= dosed]
    after = [m for m in full if dosed is not None and m.at > dosed]
    target = dosed + timedelta(minutes=40) if dosed else None
    discharge = next((e for e in reversed(events) if e.kind == "discharged"), None)
    return Monitoring(
        bp_before=before[-1] if before else None,
        bp_after=min(after, key=lambda m: abs(m.at - target)) if after and target else None,
        bp_highest_after=max(after, key=lambda m: m.sys or 0) if after else None,
        bp_last=full[-1] if full else None, dosed=dosed, observation_start=observe,
        observation_end=info.discharged or info.ended,
        discharged=info.discharged, discharged_by=discharge.by_user if discharge else "",
        spo2_low=min(spo2.lo) if spo2 is not None and spo2.lo else None)


class Report(FPDF):
    """A4 portrait with a running footer."""

    title_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=7)
        self.set_text_color(110)
        self.cell(0, 5, _latin(f"{self.title_text} - ivmon {__version__}, not a cleared "
                               f"medical device - page {self.page_no()}/{{nb}}"), align="C")
        self.set_text_color(0)


def _latin(text: str) -> str:
    # The PDF core fonts carry Latin-1 only; anything else prints as "?" instead of failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def render(engine: Engine, session_id: int, tz: tzinfo | None = None) -> bytes:
    """The report as PDF bytes; times in ``tz`` (default: this machine's zone)."""
    info = get_session(engine, session_id)
    if info is None:
        raise ExportError(f"There is no session {session_id}.")
    zone = tz or datetime.now().astimezone().tzinfo
    start_ms, end_ms = session_span(info, engine)
    codes = session_vitals(engine, session_id)
    series = downsample(engine, session_id, codes, start_ms, end_ms, buckets=400)
    events = session_events(engine, session_id)
    alarms = alarm_spans(engine, session_id)
    bps = nibp_measurements(engine, session_id)
    facts = monitoring_facts(info, events, bps, series.get("spo2"))

    def t(when: datetime | None, date: bool = False) -> str:
        if when is None:
            return "-"
        return when.astimezone(zone).strftime("%Y-%m-%d %H:%M" if date else "%H:%M:%S")

    pdf = Report(orientation="P", unit="mm", format="A4")
    pdf.title_text = f"Session {info.id}, {info.label or 'no label'}, room {info.room}"
    pdf.set_title(pdf.title_text)
    pdf.set_creator(f"ivmon {__version__}")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("helvetica", "B", 15)
    pdf.cell(0, 9, _latin(f"Session report: {info.label or 'no label'} - room {info.room}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)
    zone_name = datetime.now(zone).strftime("%Z") or str(zone)
    pdf.multi_cell(0, 4, _latin(
        f"Times are {zone_name}. Made by ivmon {__version__}, a secondary monitoring station; "
        "the bedside monitor's own record is primary."), new_x="LMARGIN", new_y="NEXT")
    rules = PROTOCOLS.get(info.protocol)

    _heading(pdf, "Session")
    dose = "-"
    if info.dose_mg_per_kg is not None:
        dose = f"{info.dose_mg_per_kg:g} mg/kg" + (f" ({info.dose_mg:g} mg)" if info.dose_mg
                                                    else "")
    _pairs(pdf, [
        ("Session", str(info.id)), ("Patient label", info.label or "-"),
        ("MRN", info.mrn or "-"), ("Room", info.room),
        ("Protocol", rules.title if rules else info.protocol or "-"),
        ("Alarm profile", info.profile or "-"),
        ("Weight", f"{info.weight_kg:g} kg" if info.weight_kg is not None else "-"),
        ("Planned dose", dose),
        ("Planned duration", f"{info.duration_min:g} min" if info.duration_min else "-"),
        ("Started", f"{t(info.started, True)} by {info.started_by or '-'}"),
        ("Baseline BP", f"{info.baseline_sys:g}/{info.baseline_dia:g} mm[Hg]"
         if info.baseline_sys is not None and info.baseline_dia is not None else "-"),
        ("Source", info.source),
    ])

    _heading(pdf, "Monitoring (the facts a Spravato REMS patient monitoring form asks for)")
    observed = "-"
    if facts.observation_start and facts.observation_end:
        minutes = round((facts.observation_end - facts.observation_start).total_seconds() / 60)
        observed = f"{minutes // 60} h {minutes % 60:02d} min"

    def bp(m: NibpMeasurement | None) -> str:
        return f"{m.sys:g}/{m.dia:g} mm[Hg] at {t(m.at)}" if m and m.sys and m.dia else \
            "not recorded"

    _pairs(pdf, [
        ("BP before dosing", bp(facts.bp_before)),
        ("Dose given / infusion started", t(facts.dosed, True)),
        ("BP after dosing (about 40 min)", bp(facts.bp_after)),
        ("Highest BP after dosing", bp(facts.bp_highest_after)),
        ("Last BP", bp(facts.bp_last)),
        ("Pulse oximetry", f"monitored; lowest SpO2 {facts.spo2_low:g} %"
         if facts.spo2_low is not None else "no readings"),
        ("Observation start", t(facts.observation_start, True)),
        ("Observation end", t(facts.observation_end, True)),
        ("Observation time", observed),
        ("Discharge time", t(facts.discharged, True)
         + (f" by {facts.discharged_by}" if facts.discharged_by else "")),
    ])

    charts = [(title, [c for c in group if c in series]) for title, group in CHARTS]
    charts = [(title, group) for title, group in charts if group]
    if charts:
        _heading(pdf, "Vitals")
        for title, group in charts:
            _chart(pdf, title, [series[c] for c in group], start_ms, end_ms, alarms, zone)

    _heading(pdf, "Vitals table")
    _vitals_table(pdf, engine, session_id, codes, start_ms, end_ms, bps, zone)

    _heading(pdf, f"Alarms ({len(alarms)})")
    if alarms:
        _table(pdf, ("Raised", "Cleared", "Priority", "Alarm", "Acknowledged"),
               (17, 17, 16, 72, 68),
               [(t(a.raised), t(a.cleared), a.priority, _alarm_text(a),
                 "; ".join(f"{k.by_user} {t(k.at)}" + (f" ({k.note})" if k.note else "")
                           for k in a.acknowledgements) or "-") for a in alarms])
    else:
        _line(pdf, "No alarms.")

    _heading(pdf, f"Events ({len(events)})")
    _table(pdf, ("Time", "Event", "Detail", "By"), (20, 38, 100, 32),
           [(t(e.at), e.kind.replace("_", " "), e.detail or "", e.by_user or "-")
            for e in events])
    return bytes(pdf.output())


def write_pdf(engine: Engine, session_id: int, out: Path, tz: tzinfo | None = None) -> Path:
    out.write_bytes(render(engine, session_id, tz))
    return out


def _alarm_text(a: AlarmSpan) -> str:
    text = a.message if a.last_message in ("", a.message) else f"{a.message} ({a.last_message})"
    return f"{text} [{a.kind}]" if a.kind != "physiological" else text


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("helvetica", "B", 11)
    pdf.cell(0, 7, _latin(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=8)


def _line(pdf: FPDF, text: str) -> None:
    pdf.cell(0, 5, _latin(text), new_x="LMARGIN", new_y="NEXT")


def _pairs(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    for label, value in rows:
        pdf.set_font("helvetica", "B", 8)
        pdf.cell(55, 4.6, _latin(label))
        pdf.set_font("helvetica", size=8)
        pdf.cell(0, 4.6, _latin(value), new_x="LMARGIN", new_y="NEXT")


def _table(pdf: FPDF, header: tuple[str, ...], widths: tuple[float, ...],
           rows: list[tuple[str, ...]]) -> None:
    if not rows:
        _line(pdf, "None.")
        return
    pdf.set_font("helvetica", size=7)
    pdf.set_fill_color(255)
    pdf.set_draw_color(170)
    with pdf.table(col_widths=widths, width=sum(widths), align="LEFT", line_height=3.6,
                   first_row_as_headings=True, text_align="LEFT",
                   headings_style=FontFace(emphasis="BOLD", fill_color=(232, 232, 232)),
                   cell_fill_mode="NONE") as table:
        for row in (header, *rows):
            cells = table.row()
            for value in row:
                cells.cell(_latin(value))
    pdf.set_font("helvetica", size=8)
    pdf.set_draw_color(0)


def _vitals_table(pdf: FPDF, engine: Engine, session_id: int, codes: list[str], start_ms: int,
                  end_ms: int, bps: list[NibpMeasurement], zone: tzinfo) -> None:
    span_min = max(1.0, (end_ms - start_ms) / 60_000)
    step = next((s for s in (5, 10, 15, 30, 60, 120, 240) if span_min / s <= MAX_TABLE_ROWS),
                480)
    buckets = max(1, round(span_min / step))
    streams = [c for c in TABLE_CODES if c in codes]
    means = downsample(engine, session_id, streams, start_ms, end_ms, buckets=buckets)
    width_ms = (end_ms - start_ms + 1) / buckets
    rows = []
    for b in range(buckets):
        lo, hi = start_ms + b * width_ms, start_ms + (b + 1) * width_ms
        cells = []
        for code in streams:
            s = means[code]
            vals = [m for tm, m in zip(s.times_ms, s.mean, strict=True) if lo <= tm < hi]
            cells.append(format_value(code, sum(vals) / len(vals)) if vals else "")
        cuff = [m for m in bps if lo <= m.at.timestamp() * 1000 < hi and m.sys and m.dia]
        cells.append(", ".join(f"{m.sys:g}/{m.dia:g}" for m in cuff))
        if any(cells):
            when = datetime.fromtimestamp(lo / 1000, zone).strftime("%H:%M")
            rows.append((when, *cells))
    _line(pdf, f"Mean of each {step}-min interval; every cuff measurement in its interval.")
    header = ("Time", *(f"{BY_CODE[c].label} [{BY_CODE[c].unit}]" for c in streams),
              "NIBP [mm[Hg]]")
    widths = (16, *([20.0] * len(streams)), 40)
    _table(pdf, header, widths, rows)


def _chart(pdf: FPDF, title: str, lines: list[Series], start_ms: int, end_ms: int,
           alarms: list[AlarmSpan], zone: tzinfo) -> None:
    height, width, left = 34.0, 170.0, pdf.l_margin + 12
    if pdf.will_page_break(height + 12):
        pdf.add_page()
    pdf.set_font("helvetica", "B", 8)
    pdf.cell(0, 5, _latin(title), new_x="LMARGIN", new_y="NEXT")
    top = pdf.get_y()
    values = [v for s in lines for v in (*s.lo, *s.hi)]
    if not values:
        return
    y_lo, y_hi = min(values), max(values)
    pad = max(2.0, (y_hi - y_lo) * 0.1)
    y_lo, y_hi = y_lo - pad, y_hi + pad
    span = max(1, end_ms - start_ms)

    def x(ms: float) -> float:
        return left + (ms - start_ms) / span * width

    def y(v: float) -> float:
        return top + height - (v - y_lo) / (y_hi - y_lo) * height

    codes = {s.code for s in lines}
    for a in alarms:  # alarm spans of these vitals, shaded in their priority's colour
        if a.vital in codes:
            end = a.cleared.timestamp() * 1000 if a.cleared else end_ms
            pdf.set_fill_color(*_pale(PRIORITY_RGB.get(a.priority, (200, 200, 200))))
            x0 = x(max(start_ms, a.raised.timestamp() * 1000))
            pdf.rect(x0, top, max(0.4, x(min(end, end_ms)) - x0), height, style="F")
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    pdf.rect(left, top, width, height)
    pdf.set_font("helvetica", size=6)
    for v in sorted({round(y_lo + pad), round((y_lo + y_hi) / 2), round(y_hi - pad)}):
        pdf.text(pdf.l_margin, y(v) + 1, f"{v}")
    for i in range(5):
        ms = start_ms + span * i / 4
        label = datetime.fromtimestamp(ms / 1000, zone).strftime("%H:%M")
        pdf.text(x(ms) - 3, top + height + 3, label)
    for s, rgb in zip(lines, SERIES_RGB, strict=False):
        pdf.set_draw_color(*rgb)
        pdf.set_fill_color(*rgb)
        if s.raw and BY_CODE[s.code].episodic:
            for tm, v in zip(s.times_ms, s.mean, strict=True):
                pdf.rect(x(tm) - 0.6, y(v) - 0.6, 1.2, 1.2, style="F")
        for t0, lo, hi in zip(s.times_ms, s.lo, s.hi, strict=True):
            if hi > lo:  # the bucket's range, so a short peak stays visible
                pdf.line(x(t0), y(lo), x(t0), y(hi))
        for segment in _segments(s):
            if len(segment) > 1:
                pdf.polyline([(x(tm), y(v)) for tm, v in segment])
    labels: list[float] = []
    for s, rgb in zip(lines, SERIES_RGB, strict=False):
        # Each line's name at its right end, moved down while it would cover another name.
        at = y(s.mean[-1]) - 1.5 if s.mean else top
        while any(abs(at - other) < 3 for other in labels):
            at += 3
        labels.append(at)
        pdf.set_text_color(*rgb)
        pdf.set_xy(left + width + 1, at)
        pdf.cell(10, 3, BY_CODE[s.code].label)
    pdf.set_text_color(0)
    pdf.set_draw_color(0)
    pdf.set_y(top + height + 5)


def _segments(s: Series) -> list[list[tuple[int, float]]]:
    """Split a line where readings are missing, so a gap is drawn as a gap."""
    if len(s.times_ms) < 2:
        return [list(zip(s.times_ms, s.mean, strict=True))]
    steps = sorted(b - a for a, b in zip(s.times_ms, s.times_ms[1:], strict=False))
    limit = max(3 * steps[len(steps) // 2], 60_000 if not BY_CODE[s.code].episodic else 0)
    if BY_CODE[s.code].episodic:
        limit = 45 * 60_000  # cuff values are joined unless an hour passes without one
    out: list[list[tuple[int, float]]] = [[]]
    for i, (tm, v) in enumerate(zip(s.times_ms, s.mean, strict=True)):
        if i and tm - s.times_ms[i - 1] > limit:
            out.append([])
        out[-1].append((tm, v))
    return out


def _pale(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    r, g, b = rgb
    return (r + (255 - r) * 3 // 4, g + (255 - g) * 3 // 4, b + (255 - b) * 3 // 4)
