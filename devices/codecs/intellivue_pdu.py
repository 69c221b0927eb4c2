"""IntelliVue Data Export data types: nomenclature, FLOAT-Type, time stamps, attribute lists.

Everything on the wire is big-endian. Parsing goes through ``Reader``, which raises
``Truncated`` (a ``ValueError``) instead of reading past what a length field announced,
so a malformed message is refused as a whole rather than half-decoded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

# --- nomenclature (Philips Data Export Interface Programming Guide) ---------------------

NOM_PART_OBJ = 1
NOM_MOC_VMO_METRIC_NU = 6  # numeric object class
NOM_MOC_VMS_MDS = 33
NOM_NOTI_MDS_CREAT = 0x0D06
NOM_ACT_POLL_MDIB_DATA_EXT = 0xF13B
NOM_ATTR_GRP_METRIC_VAL_OBS = 0x0803  # observed values and their time stamps

NOM_POLL_PROFILE_SUPPORT = 0x0001
NOM_ATTR_POLL_PROFILE_EXT = 0xF001
NOM_ATTR_NU_CMPD_VAL_OBS = 0x094B
NOM_ATTR_NU_VAL_OBS = 0x0950
NOM_ATTR_TIME_ABS = 0x0987
NOM_ATTR_TIME_REL = 0x098F
NOM_ATTR_TIME_STAMP_ABS = 0x0990
NOM_ATTR_TIME_STAMP_REL = 0x0991

# physio ids (partition SCADA)
NOM_ECG_CARD_BEAT_RATE = 0x4182
NOM_PLETH_PULS_RATE = 0x4822
NOM_PRESS_BLD_NONINV = 0x4A04
NOM_PRESS_BLD_NONINV_SYS = 0x4A05
NOM_PRESS_BLD_NONINV_DIA = 0x4A06
NOM_PRESS_BLD_NONINV_MEAN = 0x4A07
NOM_TEMP = 0x4B48
NOM_PULS_OXIM_SAT_O2 = 0x4BB8
NOM_RESP_RATE = 0x500A
NOM_AWAY_RESP_RATE = 0x5012
NOM_AWAY_CO2_ET = 0x50B0

# unit codes (partition DIM)
NOM_DIM_DIMLESS = 0x0200
NOM_DIM_PERCENT = 0x0220
NOM_DIM_BEAT_PER_MIN = 0x0AA0
NOM_DIM_RESP_PER_MIN = 0x0AE0
NOM_DIM_KILO_PASCAL = 0x0F03
NOM_DIM_MMHG = 0x0F20
NOM_DIM_FAHR = 0x1140
NOM_DIM_DEGC = 0x17A0

# MeasurementState bits
MS_INVALID = 0x8000
MS_QUESTIONABLE = 0x4000
MS_UNAVAILABLE = 0x2000
MS_CALIBRATION_ONGOING = 0x1000
MS_TEST_DATA = 0x0800
MS_DEMO_DATA = 0x0400

RELATIVE_TICKS_PER_SECOND = 8000  # RelativeTime counts 1/8 ms

# --- FLOAT-Type ------------------------------------------------------------------------

FLOAT_NAN = 0x007FFFFF
FLOAT_NRES = 0x00800000
FLOAT_POS_INF = 0x007FFFFE
FLOAT_NEG_INF = 0x00800002
# Reserved mantissas mean "no number" whatever the exponent: monitors are seen to send
# them with a non-zero exponent, so the mantissa alone decides.
_SPECIAL_MANTISSAS = frozenset((0x7FFFFF, 0x800000, 0x7FFFFE, 0x800002, 0x7FFFFD, 0x800001))
_MANTISSA_MAX = 0x7FFFFC  # largest magnitude that is not a reserved mantissa


def decode_float(raw: int) -> float | None:
    """Decode a 32-bit FLOAT-Type (signed 8-bit exponent, signed 24-bit mantissa).

    Returns None for NaN, NRes, +INF, -INF and the reserved mantissas: none of them is a
    number a nurse may see.
    """
    raw &= 0xFFFFFFFF
    mantissa = raw & 0xFFFFFF
    if mantissa in _SPECIAL_MANTISSAS:
        return None
    if mantissa & 0x800000:
        mantissa -= 0x1000000
    exponent = raw >> 24
    if exponent & 0x80:
        exponent -= 0x100
    if exponent < 0:
        # Dividing keeps decimal fractions exact where multiplying by 0.1 would not.
        return mantissa / 10**-exponent
    return float(mantissa * 10**exponent)


def encode_float(value: float) -> int:
    """Encode a number as FLOAT-Type with the finest exponent its mantissa allows.

    NaN and infinities map to their reserved codes; values too large for the type
    become +INF/-INF, values too small to show become 0.
    """
    if math.isnan(value):
        return FLOAT_NAN
    if math.isinf(value):
        return FLOAT_POS_INF if value > 0 else FLOAT_NEG_INF
    if value == 0:
        return 0
    # Start where about seven significant digits fit in 24 bits, then coarsen if needed.
    exponent = max(-128, math.floor(math.log10(abs(value))) - 6)
    while True:
        if exponent > 127:
            return FLOAT_POS_INF if value > 0 else FLOAT_NEG_INF
        scaled = value * 10**-exponent if exponent <= 0 else value / 10**exponent
        mantissa = round(scaled)
        if abs(mantissa) <= _MANTISSA_MAX:
            break
        exponent += 1
    if mantissa == 0:
        return 0
    while mantissa % 10 == 0 and exponent < 127:  # shortest form: 72 not 72000000e-6
        mantissa //= 10
        exponent += 1
    return ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)


# --- AbsoluteTime (8 BCD bytes: century, year, month, day, hour, minute, second, 1/100 s) -


def _bcd(byte: int) -> int | None:
    high, low = byte >> 4, byte & 0x0F
    if high > 9 or low > 9:
        return None
    return high * 10 + low


def _to_bcd(number: int) -> int:
    return ((number // 10) << 4) | (number % 10)


def decode_abs_time(raw: bytes) -> datetime | None:
    """Decode an AbsoluteTime; None when it is unset (0xFF filled) or not a real date."""
    if len(raw) != 8:
        return None
    digits = [_bcd(b) for b in raw]
    if any(d is None for d in digits):
        return None
    century, year, month, day, hour, minute, second, hundredths = digits  # type: ignore[misc]
    try:
        return datetime(
            century * 100 + year, month, day, hour, minute, second, hundredths * 10_000
        )
    except ValueError:
        return None


def encode_abs_time(when: datetime) -> bytes:
    """Encode a datetime as AbsoluteTime; the monitor's clock has no time zone."""
    return bytes(
        _to_bcd(n)
        for n in (
            when.year // 100,
            when.year % 100,
            when.month,
            when.day,
            when.hour,
            when.minute,
            when.second,
            when.microsecond // 10_000,
        )
    )


UNSET_ABS_TIME = b"\xff" * 8


# --- bounded reading -------------------------------------------------------------------


class Truncated(ValueError):
    """A message ended before a field it announced."""


class Reader:
    """Reads big-endian fields from a byte string, never past its end."""

    __slots__ = ("_data", "_end", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = bytes(data)
        self._pos = 0
        self._end = len(self._data)

    @property
    def remaining(self) -> int:
        return self._end - self._pos

    def take(self, count: int) -> bytes:
        if count < 0 or count > self.remaining:
            raise Truncated(f"wanted {count} bytes, {self.remaining} left")
        start = self._pos
        self._pos += count
        return self._data[start : self._pos]

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def sub(self, count: int) -> Reader:
        """A reader over the next ``count`` bytes, as a length field announced them."""
        return Reader(self.take(count))

    def rest(self) -> bytes:
        return self.take(self.remaining)


def u16(value: int) -> bytes:
    return (value & 0xFFFF).to_bytes(2, "big")


def u32(value: int) -> bytes:
    return (value & 0xFFFFFFFF).to_bytes(4, "big")


# --- attribute lists and numeric observed values ---------------------------------------

Attribute = tuple[int, bytes]  # (attribute id, value bytes)


def encode_attributes(attributes: list[Attribute] | tuple[Attribute, ...]) -> bytes:
    """Encode an AttributeList: count, length, then (id, length, value) entries."""
    body = b"".join(u16(attr_id) + u16(len(value)) + value for attr_id, value in attributes)
    return u16(len(attributes)) + u16(len(body)) + body


def read_attributes(reader: Reader) -> dict[int, bytes]:
    """Read an AttributeList; a repeated id keeps its last value."""
    count = reader.u16()
    body = reader.sub(reader.u16())
    attributes: dict[int, bytes] = {}
    for _ in range(count):
        attr_id = body.u16()
        attributes[attr_id] = body.take(body.u16())
    return attributes


@dataclass(frozen=True, slots=True)
class NuObsValue:
    """One numeric observed value: what was measured, its state, its unit, its number."""

    physio_id: int
    state: int
    unit: int
    raw_value: int  # FLOAT-Type; see decode_float

    SIZE = 10

    @property
    def value(self) -> float | None:
        return decode_float(self.raw_value)

    def encode(self) -> bytes:
        return u16(self.physio_id) + u16(self.state) + u16(self.unit) + u32(self.raw_value)

    @classmethod
    def read(cls, reader: Reader) -> NuObsValue:
        return cls(reader.u16(), reader.u16(), reader.u16(), reader.u32())


def encode_compound(values: list[NuObsValue] | tuple[NuObsValue, ...]) -> bytes:
    """Encode a NuObsValueCmp (count, length, values), as NIBP's sys/dia/mean travel."""
    body = b"".join(v.encode() for v in values)
    return u16(len(values)) + u16(len(body)) + body


def read_compound(raw: bytes) -> list[NuObsValue]:
    reader = Reader(raw)
    count = reader.u16()
    body = reader.sub(reader.u16())
    return [NuObsValue.read(body) for _ in range(count)]
