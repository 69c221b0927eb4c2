"""Philips IntelliVue Data Export (MIB/RS232) codec: association, numeric polling, decoding."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from devices.codecs.base import MAX_BUFFER, Codec, Measurement
from devices.codecs.intellivue_framing import (
    SERIAL_SETTINGS,
    Deframer,
    fcs,
    frame,
    frame_message,
    user_data,
)
from devices.codecs.intellivue_messages import (
    CMD_CONFIRMED_ACTION,
    CMD_CONFIRMED_EVENT_REPORT,
    ROIV,
    ROLRS,
    RORS,
    SPDU_ABORT,
    SPDU_ACCEPT,
    SPDU_DATA_EXPORT,
    SPDU_DISCONNECT,
    SPDU_FINISH,
    SPDU_REFUSE,
    PollReply,
    association_request,
    event_report_result,
    parse_event_report,
    parse_operation,
    parse_poll_reply,
    poll_request,
    release_request,
    release_response,
)
from devices.codecs.intellivue_pdu import (
    MS_CALIBRATION_ONGOING,
    MS_DEMO_DATA,
    MS_INVALID,
    MS_QUESTIONABLE,
    MS_TEST_DATA,
    MS_UNAVAILABLE,
    NOM_ACT_POLL_MDIB_DATA_EXT,
    NOM_ATTR_NU_CMPD_VAL_OBS,
    NOM_ATTR_NU_VAL_OBS,
    NOM_ATTR_TIME_STAMP_ABS,
    NOM_ATTR_TIME_STAMP_REL,
    NOM_AWAY_CO2_ET,
    NOM_AWAY_RESP_RATE,
    NOM_DIM_BEAT_PER_MIN,
    NOM_DIM_DEGC,
    NOM_DIM_FAHR,
    NOM_DIM_KILO_PASCAL,
    NOM_DIM_MMHG,
    NOM_DIM_PERCENT,
    NOM_DIM_RESP_PER_MIN,
    NOM_ECG_CARD_BEAT_RATE,
    NOM_NOTI_MDS_CREAT,
    NOM_PLETH_PULS_RATE,
    NOM_PRESS_BLD_NONINV_DIA,
    NOM_PRESS_BLD_NONINV_MEAN,
    NOM_PRESS_BLD_NONINV_SYS,
    NOM_PULS_OXIM_SAT_O2,
    NOM_RESP_RATE,
    NOM_TEMP,
    NuObsValue,
    Reader,
    decode_abs_time,
    decode_float,
    encode_float,
    read_compound,
)
from monitor.reading import Quality
from monitor.vitals import BY_CODE

__all__ = [
    "ASSOCIATION_RETRY",
    "POLL_PERIOD",
    "SERIAL_SETTINGS",
    "SILENCE_LIMIT",
    "IntellivueCodec",
    "Link",
    "decode_float",
    "encode_float",
    "fcs",
    "frame",
]

POLL_PERIOD = 1.0  # seconds between numeric polls; each poll also keeps the association alive
SILENCE_LIMIT = 10.0  # seconds without data before the association is taken as lost
ASSOCIATION_RETRY = 10.0  # seconds to wait for an answer before asking again
_POLL_JITTER = 0.1  # tick() comes "about" once a second; do not skip a poll for a few ms

KPA_TO_MMHG = 7.500617


def _same(value: float) -> float:
    return value


def _kpa_to_mmhg(value: float) -> float:
    return value * KPA_TO_MMHG


def _fahrenheit_to_celsius(value: float) -> float:
    return (value - 32.0) * 5.0 / 9.0


_RATE_UNITS: dict[int, Callable[[float], float]] = {
    NOM_DIM_BEAT_PER_MIN: _same,
    NOM_DIM_RESP_PER_MIN: _same,
}
_PRESSURE_UNITS: dict[int, Callable[[float], float]] = {
    NOM_DIM_MMHG: _same,
    NOM_DIM_KILO_PASCAL: _kpa_to_mmhg,
}


@dataclass(frozen=True, slots=True)
class _Numeric:
    """How one IntelliVue physio id becomes one of our vitals.

    A unit missing from ``units`` yields no measurement: a value in an unknown unit
    (e.g. EtCO2 in %, which needs the ambient pressure) must not be shown as mmHg.
    """

    code: str
    units: dict[int, Callable[[float], float]]


NUMERICS: dict[int, _Numeric] = {
    NOM_ECG_CARD_BEAT_RATE: _Numeric("hr", _RATE_UNITS),
    NOM_PLETH_PULS_RATE: _Numeric("pr", _RATE_UNITS),
    NOM_PULS_OXIM_SAT_O2: _Numeric("spo2", {NOM_DIM_PERCENT: _same}),
    NOM_RESP_RATE: _Numeric("rr", _RATE_UNITS),
    NOM_AWAY_RESP_RATE: _Numeric("rr", _RATE_UNITS),
    NOM_AWAY_CO2_ET: _Numeric("etco2", _PRESSURE_UNITS),
    NOM_TEMP: _Numeric("temp", {NOM_DIM_DEGC: _same, NOM_DIM_FAHR: _fahrenheit_to_celsius}),
    NOM_PRESS_BLD_NONINV_SYS: _Numeric("nibp_sys", _PRESSURE_UNITS),
    NOM_PRESS_BLD_NONINV_DIA: _Numeric("nibp_dia", _PRESSURE_UNITS),
    NOM_PRESS_BLD_NONINV_MEAN: _Numeric("nibp_mean", _PRESSURE_UNITS),
}
_NIBP_PARTS = frozenset((NOM_PRESS_BLD_NONINV_SYS, NOM_PRESS_BLD_NONINV_DIA,
                         NOM_PRESS_BLD_NONINV_MEAN))

# Unavailable means the monitor has no value to stand behind. Calibration, test and
# demo data are real numbers but not this patient's physiology: never silently valid.
_INVALID_STATES = MS_INVALID | MS_UNAVAILABLE
_QUESTIONABLE_STATES = MS_QUESTIONABLE | MS_CALIBRATION_ONGOING | MS_TEST_DATA | MS_DEMO_DATA


def _quality(state: int) -> Quality:
    if state & _INVALID_STATES:
        return Quality.INVALID
    if state & _QUESTIONABLE_STATES:
        return Quality.QUESTIONABLE
    return Quality.VALID


class Link(enum.Enum):
    """Where the codec stands in the association dialogue."""

    IDLE = "idle"  # nothing asked yet, or the association was lost
    ASSOCIATING = "associating"  # association request sent
    AWAITING_MDS = "awaiting_mds"  # accepted; the MDS create event report is due
    POLLING = "polling"  # create result sent; polling numerics
    CLOSED = "closed"  # release sent; stay quiet


class IntellivueCodec(Codec):
    """Host side of the IntelliVue Data Export protocol over the monitor's MIB/RS232 port.

    Dialogue: ``opening()`` returns the association request; the monitor answers with
    an association response, then an MDS Create Event Report. The codec answers that
    report with an MDS Create Result and its first Extended Poll Data Request for the
    observed values of all numerics; ``tick()`` then polls every ``POLL_PERIOD`` s, and
    the polls double as the association keep-alive. ``tick()`` sends a fresh association
    request when the monitor refuses, aborts or releases the association, when the port
    has been silent for more than ``SILENCE_LIMIT`` s, or when an association request or
    the MDS create event stays unanswered for ``ASSOCIATION_RETRY`` s. ``closing()``
    returns a release request.

    **pending_output() contract.** ``feed()`` returns measurements, yet some frames demand
    an immediate answer (the MDS Create Result and first poll, the release response when
    the monitor releases). Those bytes wait in an outbox: the device layer must call
    ``pending_output()`` after every ``feed()`` and write whatever it returns (often
    ``b""``); each call empties the outbox. Anything still in the outbox when ``tick()``
    runs is sent ahead of the tick's own bytes, so nothing is lost if a caller is late.

    **NIBP rule.** A NIBP reading is reported only when a new cuff measurement arrives:
    when the NIBP numeric's absolute time stamp, relative time stamp or sys/dia/mean
    values differ from those last reported. The monitor repeats the last cuff values on
    every poll; those repeats yield nothing. The memory survives re-association, so a
    reconnect does not replay an old cuff value; the first NIBP seen after start-up is
    reported, carrying its own time stamp as ``device_time``.

    ``device_time`` is the numeric's own absolute time stamp when it has one, else the
    poll reply's absolute time stamp, else None (the monitor's clock, no time zone).
    """

    name: ClassVar[str] = "intellivue"

    def __init__(self) -> None:
        super().__init__()
        self._deframer = Deframer(self.stats)
        self._outbox = bytearray()
        self.link = Link.IDLE
        # feed() and opening() have no clock: they date what they send with the last
        # tick's time, and a None is dated by the next tick.
        self._clock: float | None = None
        self._asked_at: float | None = None  # when the current association request went out
        self._last_poll_at: float | None = None
        self._invoke_id = 0
        self._poll_number = 0
        self._last_nibp: tuple[object, ...] | None = None

    # --- the Codec hooks ------------------------------------------------------------------

    def opening(self) -> bytes:
        return self._associate()

    def tick(self, now: float, silent_for: float) -> bytes:
        out = self.pending_output()
        self._clock = now
        if self.link is Link.CLOSED:
            return out
        if self.link is Link.IDLE:
            # Never asked, or lost: ask again, but not faster than a monitor can refuse.
            if self._asked_at is None or now - self._asked_at >= ASSOCIATION_RETRY:
                out += self._associate()
        elif self.link in (Link.ASSOCIATING, Link.AWAITING_MDS):
            if self._asked_at is None:
                self._asked_at = now
            elif now - self._asked_at >= ASSOCIATION_RETRY:
                out += self._associate()
        elif silent_for > SILENCE_LIMIT:
            out += self._associate()
        elif self._last_poll_at is None or now - self._last_poll_at >= POLL_PERIOD - _POLL_JITTER:
            out += self._poll()
        return out

    def closing(self) -> bytes:
        was = self.link
        self.link = Link.CLOSED
        if was in (Link.IDLE, Link.CLOSED):
            return b""  # no association to release
        return frame_message(release_request())

    def pending_output(self) -> bytes:
        """Bytes owed to the monitor in answer to what ``feed()`` decoded; empties the outbox."""
        out = bytes(self._outbox)
        self._outbox.clear()
        return out

    def feed(self, data: bytes) -> list[Measurement]:
        data = bytes(data)
        self.stats.bytes += len(data)
        measurements: list[Measurement] = []
        for payload in self._deframer.feed(data):
            try:
                measurements.extend(self._message(payload))
            except Exception:
                # Known bad input is refused inside _message; this guard keeps the
                # no-raise contract even against a decoding bug, losing only this frame.
                self.stats.dropped += 1
        self.stats.measurements += len(measurements)
        return measurements

    # --- the dialogue ---------------------------------------------------------------------

    def _owe(self, data: bytes) -> None:
        # A monitor flooding us while nobody drains the outbox must not grow memory;
        # what does not fit is not sent (the monitor repeats or gives up, as on a bad line).
        if len(self._outbox) + len(data) <= MAX_BUFFER:
            self._outbox += data

    def _next_invoke_id(self) -> int:
        self._invoke_id = (self._invoke_id + 1) & 0xFFFF
        return self._invoke_id

    def _associate(self) -> bytes:
        self.link = Link.ASSOCIATING
        self._asked_at = self._clock
        return frame_message(association_request())

    def _poll(self) -> bytes:
        self._last_poll_at = self._clock
        self._poll_number = (self._poll_number + 1) & 0xFFFF
        return frame_message(poll_request(self._next_invoke_id(), self._poll_number))

    def _message(self, payload: bytes) -> list[Measurement]:
        message = user_data(payload)
        if not message:
            self.stats.dropped += 1
            return []
        kind = message[0]
        if kind == SPDU_DATA_EXPORT:
            try:
                return self._data_export(message)
            except ValueError:  # Truncated: a length field promised more than was sent
                self.stats.dropped += 1
                return []
        if self.link is Link.CLOSED:
            return []
        if kind == SPDU_ACCEPT:
            if self.link is Link.ASSOCIATING:
                self.link = Link.AWAITING_MDS
        elif kind in (SPDU_REFUSE, SPDU_ABORT, SPDU_DISCONNECT):
            self.link = Link.IDLE
        elif kind == SPDU_FINISH:
            # The monitor releases the association: confirm, then start over from tick().
            self._owe(frame_message(release_response()))
            self.link = Link.IDLE
        else:
            self.stats.dropped += 1
        return []

    def _data_export(self, message: bytes) -> list[Measurement]:
        operation = parse_operation(message)
        if operation.ro_type == ROIV and operation.command == CMD_CONFIRMED_EVENT_REPORT:
            report = parse_event_report(operation.argument)
            if self.link is Link.CLOSED:
                return []
            # A confirmed report left unanswered makes the monitor drop the association.
            answer = event_report_result(
                operation.invoke_id, report.event_time, report.event_type
            )
            self._owe(frame_message(answer))
            if report.event_type == NOM_NOTI_MDS_CREAT and self.link in (
                Link.AWAITING_MDS, Link.ASSOCIATING, Link.POLLING
            ):
                self.link = Link.POLLING
                self._owe(self._poll())
            return []
        if operation.ro_type in (RORS, ROLRS) and operation.command == CMD_CONFIRMED_ACTION:
            reply = parse_poll_reply(operation.argument)
            if reply.action_type != NOM_ACT_POLL_MDIB_DATA_EXT:
                return []
            return self._measurements(reply)
        return []  # errors and results we did not ask for carry no vitals

    # --- poll replies to measurements -----------------------------------------------------

    def _measurements(self, reply: PollReply) -> list[Measurement]:
        poll_time = decode_abs_time(reply.abs_time)
        # Decode everything first so a malformed attribute drops the whole frame.
        decoded: list[tuple[list[NuObsValue], bytes | None, int | None]] = []
        for observation in reply.observations:
            attrs = observation.attributes
            values: list[NuObsValue] = []
            if NOM_ATTR_NU_VAL_OBS in attrs:
                values.append(NuObsValue.read(Reader(attrs[NOM_ATTR_NU_VAL_OBS])))
            if NOM_ATTR_NU_CMPD_VAL_OBS in attrs:
                values.extend(read_compound(attrs[NOM_ATTR_NU_CMPD_VAL_OBS]))
            abs_stamp = attrs.get(NOM_ATTR_TIME_STAMP_ABS)
            rel_raw = attrs.get(NOM_ATTR_TIME_STAMP_REL)
            rel_stamp = Reader(rel_raw).u32() if rel_raw is not None else None
            decoded.append((values, abs_stamp, rel_stamp))

        out: list[Measurement] = []
        # NIBP parts are gathered over the whole reply: some monitors send sys, dia and
        # mean as one compound numeric, others as three numerics.
        nibp: list[tuple[NuObsValue, datetime | None]] = []
        nibp_key: list[tuple[object, ...]] = []
        for values, abs_stamp, rel_stamp in decoded:
            own_time = decode_abs_time(abs_stamp) if abs_stamp is not None else None
            device_time = own_time or poll_time
            for value in values:
                if value.physio_id in _NIBP_PARTS:
                    nibp.append((value, device_time))
                    nibp_key.append((value.physio_id, value.raw_value, abs_stamp, rel_stamp))
                else:
                    out.extend(self._measurement(value, device_time))
        if nibp and self._new_nibp(tuple(sorted(nibp_key, key=repr))):
            for value, device_time in nibp:
                out.extend(self._measurement(value, device_time))
        return out

    def _new_nibp(self, key: tuple[object, ...]) -> bool:
        """True when the cuff values or their time stamps differ from the last reported."""
        if key == self._last_nibp:
            return False
        self._last_nibp = key
        return True

    def _measurement(self, value: NuObsValue, device_time: datetime | None) -> list[Measurement]:
        numeric = NUMERICS.get(value.physio_id)
        number = value.value
        if numeric is None or number is None:
            return []
        convert = numeric.units.get(value.unit)
        if convert is None:
            return []
        quality = _quality(value.state)
        if quality is Quality.INVALID:
            # The monitor stands behind no number: carry none, so none can be shown.
            return [Measurement(numeric.code, math.nan, quality, device_time)]
        number = convert(number)
        vital = BY_CODE[numeric.code]
        if not (math.isfinite(number) and vital.low <= number <= vital.high):
            # Outside what a body can show: damage the FCS did not catch, never a reading.
            self.stats.dropped += 1
            return []
        return [Measurement(numeric.code, number, quality, device_time)]
