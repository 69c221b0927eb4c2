"""GE/Datex-Ohmeda S/5 Computer Interface (DRI) codec: framing, the request, displayed values.

Wire format: 19200 bit/s, 8 data bits, even parity, 1 stop bit, RTS/CTS. Each record travels
as ``0x7E escaped(record + checksum) 0x7E``; the checksum is the 8-bit sum of the record
bytes; inside a frame 0x7E and 0x7D go out as 0x7D followed by the byte XOR 0x20. The
monitor sends nothing until the host asks: the host sends a displayed-values request and
the monitor then sends one physiological record per requested interval.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime

from devices.codecs.base import MAX_BUFFER, Codec, Measurement
from devices.codecs.datex_records import (
    DRI_MT_PHDB,
    DRI_PH_DISPL,
    NIBP_MEASURING,
    NIBP_OLD_DATA,
    PHDB_CLASS_BASIC,
    SR_PHDB_REQUEST,
    build_record,
    parse_header,
    phdb_subrecords,
    read_group,
    request_subrecord,
)
from monitor.reading import Quality
from monitor.vitals import BY_CODE

SERIAL_SETTINGS: dict[str, object] = {
    "baudrate": 19200,
    "bytesize": 8,
    "parity": "E",
    "stopbits": 1,
    "rtscts": True,
}

FLAG = 0x7E
ESCAPE = 0x7D
ESCAPE_XOR = 0x20
# r_len is a signed 16-bit field, so no honest record is longer; more is a lost end flag.
MAX_FRAME = min(32767 + 1, MAX_BUFFER)

# The spec's example asks for 10 s and monitors honour 1 s; 5 s keeps a station current
# while a 318-byte record every interval leaves the 19200 bit/s line mostly idle.
DEFAULT_INTERVAL_S = 5
SILENCE_S = 10.0  # ask again after this long without a byte ...
RESEND_S = 10.0  # ... but no more often than this
STANDARD_PRESSURE_MMHG = 760.0  # used when the record carries no ambient pressure


def checksum(record: bytes) -> int:
    """The DRI checksum: the 8-bit sum of the record's bytes."""
    return sum(record) & 0xFF


def frame(payload: bytes) -> bytes:
    """Wrap a record for the wire: append its checksum, escape, and add the 0x7E flags."""
    body = bytes(payload) + bytes((checksum(payload),))
    out = bytearray((FLAG,))
    for b in body:
        if b in (FLAG, ESCAPE):
            out += bytes((ESCAPE, b ^ ESCAPE_XOR))
        else:
            out.append(b)
    out.append(FLAG)
    return bytes(out)


def displayed_values_request(interval_s: int = DEFAULT_INTERVAL_S, *, classes: int = 0) -> bytes:
    """A framed request for displayed values every ``interval_s`` seconds (0 stops them).

    ``classes`` is the spec's phdb_class_bf: the basic class (all ivmon reads) comes without
    asking, and bits 1-3 add the extended classes, which would only lengthen every record.
    """
    body = request_subrecord(DRI_PH_DISPL, interval_s, classes)
    return frame(build_record(DRI_MT_PHDB, [(SR_PHDB_REQUEST, body)]))


class Deframer:
    """Cuts a byte stream into unescaped frame bodies (record + checksum byte).

    Bytes outside a frame are skipped; each run of them counts once in ``resyncs``. Two
    flags in a row are an end and a start, so a lost flag costs one frame, not the stream.
    """

    def __init__(self) -> None:
        self.resyncs = 0
        self._buf = bytearray()
        self._in_frame = False
        self._escaped = False
        self._skipping = False

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the end of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[bytes]:
        bodies: list[bytes] = []
        pos, end = 0, len(data)
        while pos < end:
            if not self._in_frame:
                start = data.find(FLAG, pos)
                self._skip((end if start < 0 else start) - pos)
                if start < 0:
                    break
                self._start()
                pos = start + 1
                continue
            stop = data.find(FLAG, pos)
            if not self._append(data[pos:end if stop < 0 else stop]):
                self._in_frame = False
                self._buf.clear()
                self._skip(1)  # the frame so far is skipped as garbage
                pos = end if stop < 0 else stop
                continue
            if stop < 0:
                break
            pos = stop + 1
            if self._buf:
                bodies.append(bytes(self._buf))
                self._in_frame = False
                self._buf.clear()
            # An empty frame (two flags in a row) is an end flag followed by a start flag.
        return bodies

    def _start(self) -> None:
        self._in_frame = True
        self._skipping = False
        self._escaped = False
        self._buf.clear()

    def _skip(self, count: int) -> None:
        if count > 0 and not self._skipping:
            self.resyncs += 1
            self._skipping = True

    def _append(self, chunk: bytes) -> bool:
        if len(self._buf) + len(chunk) > MAX_FRAME:
            return False
        if not self._escaped and ESCAPE not in chunk:
            self._buf += chunk
            return True
        for b in chunk:
            if self._escaped:
                self._buf.append(b ^ ESCAPE_XOR)
                self._escaped = False
            elif b == ESCAPE:
                self._escaped = True
            else:
                self._buf.append(b)
        return True


class DatexCodec(Codec):
    """Decodes the basic displayed values of an S/5-family monitor (S/5, CARESCAPE B-series).

    ``stats.frames`` counts every complete frame; those failing the checksum also count in
    ``checksum_errors`` and those with a bad length or layout in ``dropped``; so does each
    value outside its vital's bounds, which is left out (sentinels just give no value).

    Choices the spec leaves to the reader:
    - rr is the capnograph's rate (co2.rr); the ECG impedance rate stands in only when the
      capnograph has none, since impedance counts cardiac and movement artefact as breaths.
    - etco2 arrives as 1/100 % of an atmosphere; mmHg = % / 100 * ambient pressure, taken
      from the CO2 group's amb_press (1/10 mmHg) when valid, else 760 mmHg.
    - NIBP is a cuff event: see ``_nibp`` for how a new measurement is told from a repeat.
    - device_time is the record's r_time (the monitor's clock, seconds since 1970 UTC).
    """

    name = "datex"

    def __init__(self, interval_s: int = DEFAULT_INTERVAL_S) -> None:
        super().__init__()
        if not 1 <= interval_s <= 32767:  # tx_ival is a signed 16-bit field
            raise ValueError(f"interval_s must be whole seconds from 1 to 32767, not {interval_s}")
        self.interval_s = interval_s
        # Never call a link silent before at least two records should have arrived.
        self.silence_s = max(SILENCE_S, 2.0 * interval_s)
        self._deframer = Deframer()
        self._last_request: float | None = None
        self._nibp_last: tuple[int, int, int] | None = None
        self._nibp_armed = False

    @property
    def buffered(self) -> int:
        """Bytes held while waiting for the end of a frame."""
        return self._deframer.buffered

    def opening(self) -> bytes:
        return displayed_values_request(self.interval_s)

    def tick(self, now: float, silent_for: float) -> bytes:
        # A monitor that was restarted or replugged forgets the request, so ask again.
        if silent_for < self.silence_s:
            return b""
        if self._last_request is not None and now - self._last_request < RESEND_S:
            return b""
        self._last_request = now
        return displayed_values_request(self.interval_s)

    def closing(self) -> bytes:
        return displayed_values_request(0)

    def feed(self, data: bytes) -> list[Measurement]:
        out: list[Measurement] = []
        try:
            data = bytes(data)
            self.stats.bytes += len(data)
            bodies = self._deframer.feed(data)
        except Exception:  # a codec bug must cost the chunk, never the port's reader
            self.stats.dropped += 1
            return out
        finally:
            self.stats.resyncs = self._deframer.resyncs
        for body in bodies:
            out += self._frame(body)
        self.stats.measurements += len(out)
        return out

    def _frame(self, body: bytes) -> list[Measurement]:
        self.stats.frames += 1
        if len(body) < 2 or checksum(body[:-1]) != body[-1]:
            self.stats.checksum_errors += 1
            return []
        try:
            return self._record(body[:-1])
        except (ValueError, struct.error):
            self.stats.dropped += 1
            return []
        except Exception:  # same reason as in feed(): one bad frame, never a dead port
            self.stats.dropped += 1
            return []

    def _record(self, record: bytes) -> list[Measurement]:
        header = parse_header(record)
        if header.maintype != DRI_MT_PHDB:
            return []
        # Decode every subrecord before using any, so a bad one drops the whole frame.
        basics = [sub.data for sub in phdb_subrecords(record, header)
                  if sub.subtype == DRI_PH_DISPL and sub.phdb_class == PHDB_CLASS_BASIC]
        when = datetime.fromtimestamp(header.r_time, tz=UTC)
        out: list[Measurement] = []
        for basic in basics:
            out += self._basic(basic, when)
        return out

    def _basic(self, basic: bytes, when: datetime) -> list[Measurement]:
        ecg = read_group(basic, "ecg")
        spo2 = read_group(basic, "spo2")
        co2 = read_group(basic, "co2")
        t1 = read_group(basic, "t1")
        values: dict[str, float | None] = {
            "hr": ecg.value(0),
            "spo2": _scaled(spo2.value(0), 100),
            "pr": spo2.value(1),
            "rr": co2.value(2) if co2.value(2) is not None else ecg.value(4),
            "etco2": _etco2(co2.value(0), co2.value(3)),
            "temp": _scaled(t1.value(0), 100),
        }
        out = self._measurements([(code, value) for code, value in values.items()
                                  if value is not None], when)
        return out + self._nibp(basic, when)

    def _measurements(self, values: list[tuple[str, float]],
                      when: datetime) -> list[Measurement]:
        """Measurements of the values inside their vital's bounds; each other one is dropped.

        A value outside what a body can show is a fault or damage the checksum missed: it is
        counted in ``stats.dropped`` and never reported, not even as invalid.
        """
        out: list[Measurement] = []
        for code, value in values:
            vital = BY_CODE[code]
            if vital.low <= value <= vital.high:
                out.append(Measurement(code, float(round(value, 2)), Quality.VALID, when))
            else:
                self.stats.dropped += 1
        return out

    def _nibp(self, basic: bytes, when: datetime) -> list[Measurement]:
        """Report the cuff result once, in the record where it first appears.

        The monitor repeats the last result in every record. A result is new when it differs
        from the last one seen, or when the monitor showed a cuff cycle running (label bit
        5) or the result ageing past 60 s (label bit 8) since then, which catches a new
        result equal to the old. A result already flagged older than 60 s is never new: it
        is what a station connecting late sees, and showing it as current would mislead.
        """
        group = read_group(basic, "nibp")
        if group.label & NIBP_MEASURING:
            self._nibp_armed = True
            return []
        raw = (group.value(0), group.value(1), group.value(2))
        if raw[0] is None or raw[1] is None or raw[2] is None:
            self._nibp_last = None  # no result (cuff failed, cleared): the next one is new
            return []
        triple = (raw[0], raw[1], raw[2])
        if group.label & NIBP_OLD_DATA:
            self._nibp_armed = True
            self._nibp_last = triple
            return []
        is_new = self._nibp_armed or triple != self._nibp_last
        self._nibp_armed = False
        self._nibp_last = triple
        if not is_new:
            return []
        codes = ("nibp_sys", "nibp_dia", "nibp_mean")
        return self._measurements([(code, raw_value / 100) for code, raw_value in zip(
            codes, triple, strict=True)], when)


def _scaled(raw: int | None, divisor: int) -> float | None:
    return None if raw is None else raw / divisor


def _etco2(raw_et: int | None, raw_ambient: int | None) -> float | None:
    if raw_et is None:
        return None
    ambient = raw_ambient / 10 if raw_ambient is not None and raw_ambient > 0 else None
    return raw_et / 10000 * (ambient or STANDARD_PRESSURE_MMHG)
