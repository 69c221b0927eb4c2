"""Record layout of the GE/Datex-Ohmeda S/5 Computer Interface (DRI): header, subrecords, groups.

Everything is little-endian. A record is a 40-byte header (length, number, DRI level, plug
id, transmit time, main type and eight subrecord descriptors) followed by subrecords. A
displayed-values subrecord (``dri_phdb``) is 278 bytes: a 4-byte time, a 270-byte union
whose first class is the basic physiological data, a marker byte, a reserved byte and a
16-bit word whose bits 8-11 name the class (0 basic, 1-3 extended). The basic class is a
row of groups, each a 6-byte header (32-bit status, 16-bit label) and signed 16-bit values.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_LEN = 40
MAX_SUBRECORDS = 8
PHDB_LEN = 278
BASIC_LEN = 270

DRI_MT_PHDB = 0  # physiological data and its transmission requests
DRI_MT_WAVE = 1  # waveform data and its transmission requests
SR_PHDB_REQUEST = 0  # a host's transmission request inside a PHDB record
DRI_PH_DISPL = 1  # displayed values
DRI_PH_10S_TREND = 2
DRI_PH_60S_TREND = 3
DRI_EOL_SUBR_LIST = 0xFF
PHDB_CLASS_BASIC = 0

STATUS_EXISTS = 0x1
STATUS_ACTIVE = 0x2
DATA_INVALID = -32767  # what the monitor sends for a value it does not have
INVALID_LIMIT = -32001  # this and every value below it is a sentinel, not a number

# NIBP flags live in the group's label word, not in its status bits.
NIBP_MEASURING = 0x0020  # a cuff cycle is running: the numbers shown are the previous result
NIBP_OLD_DATA = 0x0100  # the numbers shown are older than 60 s

_HEADER = struct.Struct("<HBBHIBBHh")  # r_len, r_nbr, dri_level, plug_id, r_time, 3 reserved, type
_SR_DESC = struct.Struct("<HB")
_GROUP_HEAD = struct.Struct("<IH")
_PHDB_HEAD = struct.Struct("<I")
_PHDB_TAIL = struct.Struct("<BBH")  # marker, reserved, cl_drilvl_subt
_REQUEST = struct.Struct("<BhIH")  # phdb_rcrd_type, tx_ival, phdb_class_bf, reserved


@dataclass(frozen=True, slots=True)
class GroupLayout:
    """Where one group sits in the basic class and how many 16-bit values it carries."""

    offset: int
    count: int
    header: bool = True


# The basic class in the order the monitor lays it out; offsets follow from the sizes.
BASIC_GROUPS: dict[str, GroupLayout] = {
    "ecg": GroupLayout(0, 5),  # hr, st1, st2, st3, imp_rr
    "p1": GroupLayout(16, 4),  # sys, dia, mean, hr (invasive, 1/100 mmHg)
    "p2": GroupLayout(30, 4),
    "p3": GroupLayout(44, 4),
    "p4": GroupLayout(58, 4),
    "nibp": GroupLayout(72, 4),  # sys, dia, mean (1/100 mmHg), hr
    "t1": GroupLayout(86, 1),  # temperature, 1/100 degC
    "t2": GroupLayout(94, 1),
    "t3": GroupLayout(102, 1),
    "t4": GroupLayout(110, 1),
    "spo2": GroupLayout(118, 4),  # spo2 (1/100 %), pr, ir_amp, svo2
    "co2": GroupLayout(132, 4),  # et, fi (1/100 %), rr, amb_press (1/10 mmHg)
    "o2": GroupLayout(146, 2),  # et, fi (1/100 %)
    "n2o": GroupLayout(156, 2),
    "aa": GroupLayout(166, 3),
    "flow_vol": GroupLayout(178, 8),
    "co_wedge": GroupLayout(200, 4),
    "nmt": GroupLayout(214, 3),
    "ecg_extra": GroupLayout(226, 3, header=False),
    "svo2": GroupLayout(232, 1),
    "p5": GroupLayout(240, 4),
    "p6": GroupLayout(254, 4),
}


@dataclass(frozen=True, slots=True)
class RecordHeader:
    """The fields of a record header that a reader acts on."""

    r_len: int
    r_nbr: int
    dri_level: int
    plug_id: int
    r_time: int  # seconds since 1970-01-01 UTC, when the monitor sent the record
    maintype: int
    subrecords: tuple[tuple[int, int], ...]  # (offset after the header, type), up to the end mark


@dataclass(frozen=True, slots=True)
class Group:
    """One group of the basic class: status bits, label word and raw 16-bit values."""

    status: int
    label: int
    values: tuple[int, ...]

    @property
    def active(self) -> bool:
        """True when the measurement exists and is switched on at the monitor."""
        return self.status & (STATUS_EXISTS | STATUS_ACTIVE) == STATUS_EXISTS | STATUS_ACTIVE

    def value(self, index: int) -> int | None:
        """The raw value at ``index``, or None when the group is off or the value a sentinel."""
        raw = self.values[index]
        if not self.active or raw <= INVALID_LIMIT:
            return None
        return raw


@dataclass(frozen=True, slots=True)
class PhdbSubrecord:
    """One physiological-data subrecord, its class's 270 bytes kept raw."""

    subtype: int  # the descriptor's type: displayed values, 10 s or 60 s trend
    time: int
    data: bytes
    marker: int
    phdb_class: int


@dataclass(frozen=True, slots=True)
class Request:
    """A host's physiological-data transmission request."""

    record_type: int  # which values: displayed, 10 s or 60 s trend
    interval_s: int  # seconds between records; 0 stops, a negative value asks for one
    classes: int  # bit mask of the extended classes wanted; basic is implied


def parse_header(record: bytes) -> RecordHeader:
    """Read a record's header, raising ValueError when its length disagrees with the record."""
    if len(record) < HEADER_LEN:
        raise ValueError(f"record of {len(record)} bytes is shorter than its header")
    r_len, r_nbr, level, plug_id, r_time, _, _, _, maintype = _HEADER.unpack_from(record)
    if r_len != len(record):
        raise ValueError(f"record says it is {r_len} bytes but {len(record)} arrived")
    subrecords = []
    for i in range(MAX_SUBRECORDS):
        offset, sr_type = _SR_DESC.unpack_from(record, 16 + 3 * i)
        if sr_type == DRI_EOL_SUBR_LIST:
            break
        subrecords.append((offset, sr_type))
    return RecordHeader(r_len, r_nbr, level, plug_id, r_time, maintype, tuple(subrecords))


def phdb_subrecords(record: bytes, header: RecordHeader) -> list[PhdbSubrecord]:
    """The physiological-data subrecords of a PHDB record; ValueError if one overruns it."""
    out = []
    for offset, sr_type in header.subrecords:
        if sr_type not in (DRI_PH_DISPL, DRI_PH_10S_TREND, DRI_PH_60S_TREND):
            continue  # requests and auxiliary information carry no values we read
        start = HEADER_LEN + offset
        if start + PHDB_LEN > len(record):
            raise ValueError(f"subrecord at {offset} runs past the end of the record")
        (time,) = _PHDB_HEAD.unpack_from(record, start)
        marker, _, cl_drilvl_subt = _PHDB_TAIL.unpack_from(record, start + 4 + BASIC_LEN)
        data = bytes(record[start + 4:start + 4 + BASIC_LEN])
        out.append(PhdbSubrecord(sr_type, time, data, marker, (cl_drilvl_subt >> 8) & 0x0F))
    return out


def read_group(basic: bytes, name: str) -> Group:
    """Read one group of a basic-class block by its name in ``BASIC_GROUPS``."""
    layout = BASIC_GROUPS[name]
    offset = layout.offset
    status, label = 0, 0
    if layout.header:
        status, label = _GROUP_HEAD.unpack_from(basic, offset)
        offset += _GROUP_HEAD.size
    else:
        status = STATUS_EXISTS | STATUS_ACTIVE  # a group without a header is always present
    values = struct.unpack_from(f"<{layout.count}h", basic, offset)
    return Group(status, label, values)


def parse_request(record: bytes) -> Request | None:
    """The transmission request a record carries, or None when it carries none."""
    try:
        header = parse_header(record)
    except (ValueError, struct.error):
        return None
    if header.maintype != DRI_MT_PHDB:
        return None
    for offset, sr_type in header.subrecords:
        start = HEADER_LEN + offset
        if sr_type == SR_PHDB_REQUEST and start + _REQUEST.size <= len(record):
            record_type, interval, classes, _ = _REQUEST.unpack_from(record, start)
            return Request(record_type, interval, classes)
    return None


def build_record(maintype: int, subrecords: list[tuple[int, bytes]], *, r_time: int = 0,
                 r_nbr: int = 0, dri_level: int = 0, plug_id: int = 0) -> bytes:
    """Lay out a record: header, descriptors and the subrecords back to back."""
    if len(subrecords) > MAX_SUBRECORDS:
        raise ValueError(f"a record holds at most {MAX_SUBRECORDS} subrecords")
    descriptors = bytearray()
    body = bytearray()
    for sr_type, data in subrecords:
        descriptors += _SR_DESC.pack(len(body), sr_type)
        body += data
    if len(subrecords) < MAX_SUBRECORDS:
        descriptors += _SR_DESC.pack(0, DRI_EOL_SUBR_LIST)
    descriptors += bytes(3 * MAX_SUBRECORDS - len(descriptors))
    r_len = HEADER_LEN + len(body)
    head = _HEADER.pack(r_len, r_nbr & 0xFF, dri_level, plug_id, r_time, 0, 0, 0, maintype)
    return head + bytes(descriptors) + bytes(body)


def request_subrecord(record_type: int, interval_s: int, classes: int) -> bytes:
    """The 9-byte body of a physiological-data transmission request."""
    return _REQUEST.pack(record_type, interval_s, classes, 0)


def build_basic(groups: dict[str, Group]) -> bytes:
    """Lay out a basic-class block; groups not given are absent with invalid values."""
    out = bytearray(BASIC_LEN)
    for name, layout in BASIC_GROUPS.items():
        group = groups.get(name, Group(0, 0, (DATA_INVALID,) * layout.count))
        offset = layout.offset
        if layout.header:
            _GROUP_HEAD.pack_into(out, offset, group.status, group.label)
            offset += _GROUP_HEAD.size
        struct.pack_into(f"<{layout.count}h", out, offset, *group.values)
    return bytes(out)


def build_phdb(time: int, basic: bytes, *, subtype: int = DRI_PH_DISPL, dri_level: int = 0,
               marker: int = 0, phdb_class: int = PHDB_CLASS_BASIC) -> bytes:
    """A 278-byte physiological-data subrecord around a 270-byte class block."""
    if len(basic) != BASIC_LEN:
        raise ValueError(f"a class block is {BASIC_LEN} bytes, not {len(basic)}")
    # Bits 0-3 repeat the subrecord type and 4-7 the DRI level, as real monitors send them.
    cl_drilvl_subt = (phdb_class & 0x0F) << 8 | (dri_level & 0x0F) << 4 | (subtype & 0x0F)
    return _PHDB_HEAD.pack(time) + basic + _PHDB_TAIL.pack(marker, 0, cl_drilvl_subt)
