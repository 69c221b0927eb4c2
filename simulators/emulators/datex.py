"""A GE/Datex-Ohmeda S/5 monitor's Computer Interface port: DRI displayed-values records."""

from __future__ import annotations

from datetime import UTC

from devices.codecs.datex import Deframer, checksum, frame
from devices.codecs.datex_records import (
    DATA_INVALID,
    DRI_MT_PHDB,
    DRI_PH_DISPL,
    NIBP_MEASURING,
    NIBP_OLD_DATA,
    STATUS_ACTIVE,
    STATUS_EXISTS,
    Group,
    build_basic,
    build_phdb,
    build_record,
    parse_request,
)
from monitor.vitals import NIBP_CODES
from simulators.emulators.base import Emulator
from simulators.sample import VitalsSample

ON = STATUS_EXISTS | STATUS_ACTIVE
NIBP_OLD_AFTER_S = 60.0  # the monitor flags a cuff result older than this
_INT16_MAX = 32767
_INT16_MIN_VALID = -32000  # below this the monitor's sentinels begin


class DatexEmulator(Emulator):
    """Sends nothing until the host asks for displayed values, then one record per interval.

    Each record carries the latest values of the sample; vitals the model lacks go out as
    absent groups, vitals in ``sample.invalid`` as the monitor's invalid sentinel. The NIBP
    group always repeats the last cuff result, flagged older-than-60-s once it is, as the
    real monitor does; the codec tells a new result from that.
    """

    protocol = "datex"

    def __init__(self, plug_id: int = 0, dri_level: int = 10) -> None:
        self.plug_id = plug_id
        self.dri_level = dri_level
        self._deframer = Deframer()
        self._interval: float | None = None  # None: not streaming
        self._single = False  # a negative interval asks for one record only
        self._last_sent: float | None = None
        self._r_nbr = 0
        self._cuff: tuple[int, int, int] | None = None
        self._cuff_at = 0.0
        self._sent_cuff: tuple[int, int, int] | None = None
        self._sent_old = False
        self._announce = False

    def receive(self, data: bytes) -> bytes:
        for body in self._deframer.feed(bytes(data)):
            if len(body) < 2 or checksum(body[:-1]) != body[-1]:
                continue  # the monitor ignores a corrupted request
            request = parse_request(body[:-1])
            if request is None or request.record_type != DRI_PH_DISPL:
                continue
            if request.interval_s == 0:
                self._interval, self._single = None, False
            else:
                self._single = request.interval_s < 0
                self._interval = float(max(request.interval_s, 1))
                self._last_sent = None  # a new request starts a new cadence at once
        return b""

    def emit(self, sample: VitalsSample) -> bytes:
        if sample.nibp is not None:
            self._new_cuff(sample)
        if sample.silent or self._interval is None:
            return b""
        if self._last_sent is not None and sample.elapsed - self._last_sent < self._interval:
            return b""
        self._last_sent = sample.elapsed
        if self._single:
            self._interval, self._single = None, False
        return frame(self._record(sample))

    def _new_cuff(self, sample: VitalsSample) -> None:
        cuff = (_raw(sample.nibp[0], 100), _raw(sample.nibp[1], 100), _raw(sample.nibp[2], 100))
        # A result equal to the one on the wire, still fresh, would look like a repeat:
        # show one record with the cuff cycle running first, as the monitor would.
        if cuff == self._sent_cuff and not self._sent_old:
            self._announce = True
        self._cuff = cuff
        self._cuff_at = sample.elapsed

    def _record(self, sample: VitalsSample) -> bytes:
        seconds = _epoch(sample)
        basic = build_basic(self._groups(sample))
        phdb = build_phdb(seconds, basic, subtype=DRI_PH_DISPL, dri_level=self.dri_level)
        self._r_nbr = (self._r_nbr + 1) & 0xFF
        return build_record(DRI_MT_PHDB, [(DRI_PH_DISPL, phdb)], r_time=seconds,
                            r_nbr=self._r_nbr, dri_level=self.dri_level, plug_id=self.plug_id)

    def _groups(self, sample: VitalsSample) -> dict[str, Group]:
        def value(code: str, scale: float = 1.0) -> int:
            if code in sample.invalid or code not in sample.values:
                return DATA_INVALID
            return _raw(sample.values[code], scale)

        def present(*codes: str) -> bool:
            return any(c in sample.values or c in sample.invalid for c in codes)

        groups: dict[str, Group] = {}
        if present("hr", "rr"):
            # rr is sent as the impedance rate too; the codec prefers the capnograph's.
            groups["ecg"] = Group(ON, 0, (value("hr"), DATA_INVALID, DATA_INVALID,
                                          DATA_INVALID, value("rr")))
        if present("spo2", "pr"):
            groups["spo2"] = Group(ON, 0, (value("spo2", 100), value("pr"), DATA_INVALID,
                                           DATA_INVALID))
        if present("etco2"):
            # etco2 goes out as 1/100 % of the ambient pressure, which we set to 760.0 mmHg.
            et = value("etco2", 100 / 760 * 100)
            groups["co2"] = Group(ON, 0, (et, DATA_INVALID, value("rr"), 7600))
        if present("temp"):
            groups["t1"] = Group(ON, 0, (value("temp", 100),))
        groups["nibp"] = self._nibp_group(sample)
        return groups

    def _nibp_group(self, sample: VitalsSample) -> Group:
        if self._announce:
            self._announce = False
            shown = self._sent_cuff or (DATA_INVALID,) * 3
            return Group(ON, NIBP_MEASURING, (*shown, DATA_INVALID))
        if self._cuff is None or any(c in sample.invalid for c in NIBP_CODES):
            self._sent_cuff, self._sent_old = None, False
            return Group(ON, 0, (DATA_INVALID,) * 4)
        old = sample.elapsed - self._cuff_at > NIBP_OLD_AFTER_S
        self._sent_cuff, self._sent_old = self._cuff, old
        return Group(ON, NIBP_OLD_DATA if old else 0, (*self._cuff, DATA_INVALID))


def _raw(value: float, scale: float = 1.0) -> int:
    """A value in the record's units; one the 16-bit field cannot hold goes out as invalid."""
    try:
        scaled = round(value * scale)
    except (OverflowError, ValueError):  # inf or nan from a model: nothing sane to send
        return DATA_INVALID
    # Clamping would send a wrong number as if measured; the monitor would show "---".
    return scaled if _INT16_MIN_VALID <= scaled <= _INT16_MAX else DATA_INVALID


def _epoch(sample: VitalsSample) -> int:
    when = sample.time if sample.time.tzinfo else sample.time.replace(tzinfo=UTC)
    return max(0, min(0xFFFFFFFF, int(when.timestamp())))
