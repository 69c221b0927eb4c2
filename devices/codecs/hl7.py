"""HL7 v2 over MLLP: framing, IHE PCD-01 ORU^R01 observations, and acknowledgements. Pure.

MLLP wraps each message as ``0x0B message 0x1C 0x0D``. An ORU^R01's numeric OBX segments
become measurements: OBX-3 names the metric by its IEEE 11073 MDC code (``150456^...^MDC``)
or reference id (``MDC_PULS_OXIM_SAT_O2``), OBX-6 its unit (MDC unit code or UCUM), OBX-14
(else OBR-7, else MSH-7) its time; OBX-11 ``X`` or ``D`` (cannot be obtained, deleted) is
no value. Every message gets an ACK: AA when it was taken in, AE when it was an ORU^R01 with
nothing usable in it, AR when it was not an ORU^R01 of HL7 v2 (or not HL7 at all). Nothing
here raises on any input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from devices.codecs.base import MAX_BUFFER, Codec, Measurement
from monitor.vitals import BY_CODE, VITALS

START, END = b"\x0b", b"\x1c\x0d"

# Our vocabulary by MDC code, plus the codes monitors use for the same quantities.
MDC_CODES: dict[int, str] = {v.mdc: v.code for v in VITALS} | {
    149546: "pr",  # MDC_PULS_RATE_NON_INV: pulse rate from the cuff
    150301: "nibp_sys", 150302: "nibp_dia", 150303: "nibp_mean",  # MDC_PRESS_CUFF_*
    151578: "rr", 151594: "rr",  # MDC_TTHOR_RESP_RATE, MDC_CO2_RESP_RATE
}
MDC_REFS: dict[str, str] = {v.mdc_ref: v.code for v in VITALS} | {
    "MDC_PULS_OXIM_PULS_RATE": "pr", "MDC_PULS_RATE_NON_INV": "pr", "MDC_PULS_RATE": "pr",
    "MDC_PRESS_CUFF_SYS": "nibp_sys", "MDC_PRESS_CUFF_DIA": "nibp_dia",
    "MDC_PRESS_CUFF_MEAN": "nibp_mean", "MDC_TTHOR_RESP_RATE": "rr",
    "MDC_CO2_RESP_RATE": "rr", "MDC_TEMP_BODY": "temp",
}
# Units by MDC code, MDC reference id or UCUM: the UCUM unit, and scale and offset to it.
_PER_MIN, _PERCENT, _MMHG, _CEL = ("/min", 1, 0), ("%", 1, 0), ("mm[Hg]", 1, 0), ("Cel", 1, 0)
_FAHRENHEIT = ("Cel", 5 / 9, -160 / 9)
_KPA = ("mm[Hg]", 7.50062, 0)
UNITS: dict[str, tuple[str, float, float]] = {
    "264864": _PER_MIN, "MDC_DIM_BEAT_PER_MIN": _PER_MIN, "264928": _PER_MIN,
    "MDC_DIM_RESP_PER_MIN": _PER_MIN, "/min": _PER_MIN, "{beats}/min": _PER_MIN,
    "{breaths}/min": _PER_MIN, "bpm": _PER_MIN,
    "262688": _PERCENT, "MDC_DIM_PERCENT": _PERCENT, "%": _PERCENT,
    "266016": _MMHG, "MDC_DIM_MMHG": _MMHG, "mm[Hg]": _MMHG, "mmHg": _MMHG,
    "kPa": _KPA, "MDC_DIM_KILO_PASCAL": _KPA,
    "268192": _CEL, "MDC_DIM_DEGC": _CEL, "Cel": _CEL,
    "266560": _FAHRENHEIT, "MDC_DIM_FAHR": _FAHRENHEIT, "[degF]": _FAHRENHEIT,
}
_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?"
                  r"(?:([+-])(\d{2})(\d{2}))?$")


class MllpFramer:
    """Splits a byte stream into MLLP message bodies; bytes outside a frame are skipped."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self.skipped = 0  # times bytes before a frame start were thrown away

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        out = []
        while True:
            start = self._buffer.find(START)
            if start < 0:
                if self._buffer:
                    self.skipped += 1
                self._buffer.clear()
                return out
            if start > 0:
                self.skipped += 1
                del self._buffer[:start]
            end = self._buffer.find(END)
            if end < 0:
                if len(self._buffer) > MAX_BUFFER:  # no end in sight: garbage, start over
                    self.skipped += 1
                    self._buffer.clear()
                return out
            # A start byte inside the body means the earlier frame was cut short.
            restart = self._buffer.rfind(START, 1, end)
            if restart > 0:
                self.skipped += 1
                del self._buffer[:restart]
                continue
            out.append(bytes(self._buffer[1:end]))
            del self._buffer[:end + 2]


def frame(message: str) -> bytes:
    """An HL7 message wrapped for MLLP."""
    return START + message.encode("utf-8") + END


@dataclass(frozen=True, slots=True)
class Observation:
    code: str  # our vital code
    value: float
    time: datetime | None


@dataclass(slots=True)
class Parsed:
    """What one message said, and what to answer."""

    control_id: str = ""
    sender: str = ""  # MSH-3, echoed as the ACK's receiving application
    facility: str = ""
    version: str = "2.6"
    trigger: str = "R01"  # MSH-9.2, echoed in the ACK's message type
    ack_code: str = "AA"
    error: str = ""
    observations: list[Observation] = field(default_factory=list)
    ignored: int = 0  # OBX segments that were not a vital we know, or had no value


def parse_time(text: str) -> datetime | None:
    """HL7 DTM (``YYYYMMDDHHMMSS.SSSS+ZZZZ``) as an aware datetime; zoneless is UTC."""
    m = _DTM.match(text.strip())
    if not m:
        return None
    try:
        parts = [int(p) if p else d for p, d in zip(m.groups()[:6], (0, 1, 1, 0, 0, 0),
                                                      strict=True)]
        zone = UTC
        if m[8]:
            offset = timedelta(hours=int(m[9]), minutes=int(m[10]))
            zone = timezone(offset if m[8] == "+" else -offset)
        when = datetime(*parts, tzinfo=zone)  # type: ignore[misc]
        if m[7]:
            when += timedelta(seconds=float("0." + m[7]))
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _vital(identifier: str) -> str | None:
    parts = identifier.split("^")
    first = parts[0].strip()
    if first.isdigit():
        code = MDC_CODES.get(int(first))
        if code is not None:
            return code
    for part in parts[:2]:
        code = MDC_REFS.get(part.strip())
        if code is not None:
            return code
    return None


def _unit(code: str, text: str, value: float) -> float | None:
    """``value`` in the vital's UCUM unit, or None when the unit is not one for it."""
    parts = [p.strip() for p in text.split("^") if p.strip()]
    if not parts:
        return value  # no unit given: the vital's own
    for part in parts[:2]:
        known = UNITS.get(part)
        if known is not None:
            unit, scale, offset = known
            return value * scale + offset if unit == BY_CODE[code].unit else None
    return None


def parse_message(body: bytes) -> Parsed:
    """Read one message's header and numeric observations; never raises."""
    result = Parsed()
    try:
        _parse(body.decode("utf-8", errors="replace"), result)
    except Exception as exc:  # a malformed message is answered, never a crash
        result.ack_code, result.error = "AR", f"unreadable message ({exc.__class__.__name__})"
        result.observations.clear()
    return result


def _parse(text: str, result: Parsed) -> None:
    segments = [s for s in re.split(r"\r\n|\r|\n", text) if s.strip()]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 8:
        result.ack_code, result.error = "AR", "no MSH segment"
        return
    msh = segments[0]
    sep, comp = msh[3], msh[4]
    fields = msh.split(sep)
    # MSH-1 is the separator itself, so MSH-n is fields[n - 1].
    get = lambda i: fields[i - 1] if len(fields) >= i else ""  # noqa: E731
    result.sender, result.facility = get(3).replace(comp, "^"), get(4).replace(comp, "^")
    result.control_id, result.version = get(10), get(12).split(comp)[0] or "2.6"
    kind = get(9).split(comp)
    result.trigger = kind[1] if len(kind) > 1 and kind[1].isalnum() else "R01"
    if kind[:2] != ["ORU", "R01"]:
        result.ack_code, result.error = "AR", f"unsupported message type {get(9)!r}"
        return
    if not result.version.startswith("2."):
        result.ack_code, result.error = "AR", f"unsupported HL7 version {result.version!r}"
        return
    default_time = parse_time(get(7).split(comp)[0])
    for seg in segments[1:]:
        f = seg.split(sep)
        if f[0] == "OBR" and len(f) > 7:
            default_time = parse_time(f[7].split(comp)[0]) or default_time
        if f[0] != "OBX":
            continue
        obs = _observation([x.replace(comp, "^") for x in f], default_time)
        if obs is None:
            result.ignored += 1
        else:
            result.observations.append(obs)
    if not result.observations:
        result.ack_code, result.error = "AE", "no vital sign this station knows in the message"


def _observation(f: list[str], default_time: datetime | None) -> Observation | None:
    def get(i: int) -> str:
        return f[i] if len(f) > i else ""

    if get(2) not in ("NM", "") or get(11).strip() in ("X", "D", "W"):
        return None
    code = _vital(get(3))
    if code is None:
        return None
    try:
        value = float(get(5).split("~")[0])
    except ValueError:
        return None
    value = _unit(code, get(6), value)
    vital = BY_CODE[code]
    if value is None or value != value or not vital.low <= value <= vital.high:
        return None
    when = parse_time(get(14).split("^")[0]) if get(14) else None
    return Observation(code, round(value, 4), when or default_time)


def build_ack(parsed: Parsed, now: datetime, receiver: str = "IVMON") -> str:
    """The ACK for a parsed message (MSA-1 AA/AE/AR, MSA-2 its control id, ERR on a refusal)."""
    def clean(text: str) -> str:
        return re.sub(r"[|~\\&\r\n]", " ", text)

    stamp = now.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "+0000"
    control = clean(parsed.control_id)
    segments = [
        f"MSH|^~\\&|{receiver}||{clean(parsed.sender)}|{clean(parsed.facility)}|{stamp}||"
        f"ACK^{clean(parsed.trigger)}^ACK|ACK{control}|P|{clean(parsed.version)[:8] or '2.6'}",
        f"MSA|{parsed.ack_code}|{control}",
    ]
    if parsed.ack_code != "AA":
        code = "200^Unsupported message type^HL70357" if parsed.ack_code == "AR" \
            else "207^Application internal error^HL70357"
        segments.append(f"ERR|||{code}|E||||{clean(parsed.error).replace('^', ' ')}")
    return "\r".join(segments) + "\r"


class Hl7Codec(Codec):
    """MLLP bytes in, measurements out; an ACK for every message waits in pending_output."""

    name = "hl7"

    def __init__(self, clock: object = None) -> None:
        super().__init__()
        self._framer = MllpFramer()
        self._out = bytearray()
        self._now = getattr(clock, "now", lambda: datetime.now(UTC))
        self.acks: dict[str, int] = {"AA": 0, "AE": 0, "AR": 0}

    def feed(self, data: bytes) -> list[Measurement]:
        self.stats.bytes += len(data)
        before = self._framer.skipped
        out: list[Measurement] = []
        for body in self._framer.feed(data):
            self.stats.frames += 1
            parsed = parse_message(body)
            self.acks[parsed.ack_code] = self.acks.get(parsed.ack_code, 0) + 1
            if parsed.ack_code != "AA":
                self.stats.dropped += 1
            self.stats.dropped += parsed.ignored if parsed.ack_code == "AA" else 0
            out += [Measurement(o.code, o.value, device_time=o.time)
                    for o in parsed.observations]
            self._out += frame(build_ack(parsed, self._now()))
        self.stats.resyncs += self._framer.skipped - before
        self.stats.measurements += len(out)
        return out

    def pending_output(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out
