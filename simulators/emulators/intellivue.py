"""A Philips IntelliVue monitor's MIB/RS232 Data Export side, polled for a simulated patient."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from devices.codecs.base import CodecStats
from devices.codecs.intellivue_framing import Deframer, frame_message, user_data
from devices.codecs.intellivue_messages import (
    CMD_CONFIRMED_ACTION,
    CMD_CONFIRMED_EVENT_REPORT,
    ROIV,
    RORS,
    SPDU_ABORT,
    SPDU_CONNECT,
    SPDU_DATA_EXPORT,
    SPDU_FINISH,
    association_response,
    mds_create_event,
    parse_operation,
    parse_poll_request,
    poll_result,
    release_response,
)
from devices.codecs.intellivue_pdu import (
    MS_INVALID,
    NOM_ACT_POLL_MDIB_DATA_EXT,
    NOM_ATTR_NU_CMPD_VAL_OBS,
    NOM_ATTR_NU_VAL_OBS,
    NOM_ATTR_TIME_ABS,
    NOM_ATTR_TIME_REL,
    NOM_ATTR_TIME_STAMP_ABS,
    NOM_ATTR_TIME_STAMP_REL,
    NOM_AWAY_CO2_ET,
    NOM_DIM_BEAT_PER_MIN,
    NOM_DIM_DEGC,
    NOM_DIM_KILO_PASCAL,
    NOM_DIM_MMHG,
    NOM_DIM_PERCENT,
    NOM_DIM_RESP_PER_MIN,
    NOM_ECG_CARD_BEAT_RATE,
    NOM_MOC_VMO_METRIC_NU,
    NOM_PLETH_PULS_RATE,
    NOM_PRESS_BLD_NONINV_DIA,
    NOM_PRESS_BLD_NONINV_MEAN,
    NOM_PRESS_BLD_NONINV_SYS,
    NOM_PULS_OXIM_SAT_O2,
    NOM_RESP_RATE,
    NOM_TEMP,
    RELATIVE_TICKS_PER_SECOND,
    Attribute,
    NuObsValue,
    encode_abs_time,
    encode_compound,
    encode_float,
    u32,
)
from simulators.emulators.base import Emulator
from simulators.sample import VitalsSample

MMHG_PER_KPA = 7.500617

# (vital, physio id, unit code, object handle) for the continuous numerics.
_CONTINUOUS: tuple[tuple[str, int, int, int], ...] = (
    ("hr", NOM_ECG_CARD_BEAT_RATE, NOM_DIM_BEAT_PER_MIN, 0x0101),
    ("pr", NOM_PLETH_PULS_RATE, NOM_DIM_BEAT_PER_MIN, 0x0102),
    ("spo2", NOM_PULS_OXIM_SAT_O2, NOM_DIM_PERCENT, 0x0103),
    ("rr", NOM_RESP_RATE, NOM_DIM_RESP_PER_MIN, 0x0104),
    ("etco2", NOM_AWAY_CO2_ET, NOM_DIM_MMHG, 0x0105),
    ("temp", NOM_TEMP, NOM_DIM_DEGC, 0x0106),
)
_NIBP: tuple[tuple[str, int], ...] = (
    ("nibp_sys", NOM_PRESS_BLD_NONINV_SYS),
    ("nibp_dia", NOM_PRESS_BLD_NONINV_DIA),
    ("nibp_mean", NOM_PRESS_BLD_NONINV_MEAN),
)
_NIBP_HANDLE = 0x0107


def _relative(elapsed: float) -> int:
    return int(elapsed * RELATIVE_TICKS_PER_SECOND) & 0xFFFFFFFF


def _local(when: datetime) -> datetime:
    # The monitor's clock is wall time without a zone.
    return when.replace(tzinfo=None)


class _State(enum.Enum):
    IDLE = "idle"
    AWAITING_CREATE_RESULT = "awaiting_create_result"
    ASSOCIATED = "associated"


class IntellivueEmulator(Emulator):
    """An IntelliVue monitor as seen from its MIB port.

    Answers an association request with an association response followed by the MDS
    Create Event Report; once the host has sent the MDS Create Result, answers each
    Extended Poll Data Request for numerics with the values of the last sample given to
    ``emit()``. NIBP carries the time stamps of the cuff measurement, so they change
    only when a new one completes. A vital in ``sample.invalid`` carries the invalid
    measurement-state bit. While the last sample is ``silent`` the monitor neither
    hears nor answers anything. A release request is answered with a release response.
    ``etco2_unit`` ("mmHg" or "kPa") chooses how EtCO2 travels, as monitors differ.
    """

    protocol: ClassVar[str] = "intellivue"

    def __init__(self, *, etco2_unit: str = "mmHg") -> None:
        if etco2_unit not in ("mmHg", "kPa"):
            raise ValueError(f"etco2_unit must be 'mmHg' or 'kPa', not {etco2_unit!r}")
        self._etco2_kpa = etco2_unit == "kPa"
        self.stats = CodecStats()  # what the monitor's side of the link saw
        self._deframer = Deframer(self.stats)
        self._state = _State.IDLE
        self._sample: VitalsSample | None = None
        self._cuff: tuple[tuple[float, float, float], datetime, float] | None = None
        self._invoke_id = 0

    def emit(self, sample: VitalsSample) -> bytes:
        self._sample = sample
        if sample.nibp is not None:
            # The cuff completes whether or not the link is up; remember it with its time.
            self._cuff = (sample.nibp, _local(sample.time), sample.elapsed)
        return b""  # this monitor only speaks when asked

    def receive(self, data: bytes) -> bytes:
        if self._sample is not None and self._sample.silent:
            return b""
        out = bytearray()
        for payload in self._deframer.feed(bytes(data)):
            message = user_data(payload)
            if message:
                out += self._answer(message)
        return bytes(out)

    # --- the dialogue ---------------------------------------------------------------------

    def _answer(self, message: bytes) -> bytes:
        kind = message[0]
        if kind == SPDU_CONNECT:
            # A new association replaces any old one, as after a host restart.
            self._state = _State.AWAITING_CREATE_RESULT
            self._invoke_id = (self._invoke_id + 1) & 0xFFFF
            create = mds_create_event(self._invoke_id, self._now_relative(), self._mds_attributes())
            return frame_message(association_response()) + frame_message(create)
        if kind == SPDU_FINISH:
            self._state = _State.IDLE
            return frame_message(release_response())
        if kind == SPDU_ABORT:
            self._state = _State.IDLE
            return b""
        if kind != SPDU_DATA_EXPORT or self._state is _State.IDLE:
            return b""
        try:
            operation = parse_operation(message)
            if operation.ro_type == RORS and operation.command == CMD_CONFIRMED_EVENT_REPORT:
                if self._state is _State.AWAITING_CREATE_RESULT:
                    self._state = _State.ASSOCIATED
                return b""
            if (
                operation.ro_type == ROIV
                and operation.command == CMD_CONFIRMED_ACTION
                and self._state is _State.ASSOCIATED
            ):
                request = parse_poll_request(operation.argument)
                if request.action_type != NOM_ACT_POLL_MDIB_DATA_EXT:
                    return b""
                wanted = request.obj_code == NOM_MOC_VMO_METRIC_NU
                return frame_message(
                    poll_result(
                        operation.invoke_id,
                        request.poll_number,
                        self._now_relative(),
                        self._now_absolute(),
                        self._numerics() if wanted else [],
                        obj_code=request.obj_code,
                        attr_group=request.attr_group,
                    )
                )
        except ValueError:
            self.stats.dropped += 1  # a malformed request: a monitor ignores it
        return b""

    # --- what the monitor knows -----------------------------------------------------------

    def _now_relative(self) -> int:
        return _relative(self._sample.elapsed) if self._sample is not None else 0

    def _now_absolute(self) -> bytes | None:
        return encode_abs_time(_local(self._sample.time)) if self._sample is not None else None

    def _mds_attributes(self) -> list[Attribute]:
        attributes: list[Attribute] = [(NOM_ATTR_TIME_REL, u32(self._now_relative()))]
        absolute = self._now_absolute()
        if absolute is not None:
            attributes.append((NOM_ATTR_TIME_ABS, absolute))
        return attributes

    def _numerics(self) -> list[tuple[int, list[Attribute]]]:
        sample = self._sample
        if sample is None:
            return []
        observations: list[tuple[int, list[Attribute]]] = []
        for code, physio_id, unit, handle in _CONTINUOUS:
            if code not in sample.values and code not in sample.invalid:
                continue  # no such module plugged in
            value = sample.values.get(code, float("nan"))
            if code == "etco2" and self._etco2_kpa:
                unit, value = NOM_DIM_KILO_PASCAL, value / MMHG_PER_KPA
            state = MS_INVALID if code in sample.invalid else 0
            numeric = NuObsValue(physio_id, state, unit, encode_float(value))
            observations.append((handle, [(NOM_ATTR_NU_VAL_OBS, numeric.encode())]))
        if self._cuff is not None:
            values, when, elapsed = self._cuff
            parts = [
                NuObsValue(
                    physio_id,
                    MS_INVALID if code in sample.invalid else 0,
                    NOM_DIM_MMHG,
                    encode_float(value),
                )
                for (code, physio_id), value in zip(_NIBP, values, strict=True)
            ]
            observations.append(
                (
                    _NIBP_HANDLE,
                    [
                        (NOM_ATTR_NU_CMPD_VAL_OBS, encode_compound(parts)),
                        (NOM_ATTR_TIME_STAMP_ABS, encode_abs_time(when)),
                        (NOM_ATTR_TIME_STAMP_REL, u32(_relative(elapsed))),
                    ],
                )
            )
        return observations
