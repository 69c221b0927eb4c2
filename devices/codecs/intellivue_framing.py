"""IntelliVue Data Export serial transport: FCS, byte transparency and frame (dis)assembly.

On the MIB/RS232 port every message travels as::

    BOF 0xC0 | header (0x11, 0x01, length BE16) | user data | FCS LE16 | EOF 0xC1

The FCS is CRC-16/X.25 over header and user data, computed before transparency is
applied; transparency then replaces 0xC0, 0xC1 and 0x7D inside the frame by 0x7D and the
byte XOR 0x20. ``0x7D 0xC1`` is the sender aborting a frame.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from devices.codecs.base import MAX_BUFFER, CodecStats

BOF = 0xC0
EOF = 0xC1
ESC = 0x7D
ESC_XOR = 0x20

PROTOCOL_ID = 0x11  # IntelliVue Data Export
MSG_TYPE_AS_DATA = 0x01  # "association and data export" message
HEADER_LEN = 4
FCS_LEN = 2
MAX_USER_DATA = 0xFFFF  # the header's length field is 16 bits

# Keyword arguments for serial.serial_for_url: the "fixed baudrate" variant of the
# protocol; the monitor's AutoSpeed variant is not supported.
SERIAL_SETTINGS: Mapping[str, object] = MappingProxyType(
    {
        "baudrate": 115200,
        "bytesize": 8,
        "parity": "N",
        "stopbits": 1,
        "xonxoff": False,
        "rtscts": False,
        "dsrdtr": False,
    }
)

_SPECIAL = frozenset((BOF, EOF, ESC))


def _fcs_table() -> tuple[int, ...]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_FCS_TABLE = _fcs_table()


def fcs(data: bytes) -> int:
    """CRC-16/X.25 (reflected CCITT, init 0xFFFF, final XOR 0xFFFF) of ``data``."""
    crc = 0xFFFF
    for byte in data:
        crc = (crc >> 8) ^ _FCS_TABLE[(crc ^ byte) & 0xFF]
    return crc ^ 0xFFFF


def escape(data: bytes) -> bytes:
    """Apply transparency so no frame delimiter appears inside a frame."""
    if not _SPECIAL.intersection(data):
        return bytes(data)
    out = bytearray()
    for byte in data:
        if byte in _SPECIAL:
            out += bytes((ESC, byte ^ ESC_XOR))
        else:
            out.append(byte)
    return bytes(out)


def frame(payload: bytes) -> bytes:
    """Wrap a payload (header + user data) with its FCS, transparency and delimiters."""
    body = bytes(payload) + fcs(payload).to_bytes(FCS_LEN, "little")
    return bytes((BOF,)) + escape(body) + bytes((EOF,))


def frame_message(user_data: bytes) -> bytes:
    """Frame one Data Export message: add the transport header, then ``frame()`` it."""
    if len(user_data) > MAX_USER_DATA:
        raise ValueError(f"user data of {len(user_data)} bytes exceeds {MAX_USER_DATA}")
    header = bytes((PROTOCOL_ID, MSG_TYPE_AS_DATA)) + len(user_data).to_bytes(2, "big")
    return frame(header + bytes(user_data))


def user_data(payload: bytes) -> bytes | None:
    """Return the user data of a checked payload, or None when its header is wrong."""
    if len(payload) < HEADER_LEN:
        return None
    if payload[0] != PROTOCOL_ID or payload[1] != MSG_TYPE_AS_DATA:
        return None
    if int.from_bytes(payload[2:4], "big") != len(payload) - HEADER_LEN:
        return None
    return bytes(payload[HEADER_LEN:])


class Deframer:
    """Turns a byte stream into payloads (header + user data) whose FCS checked out.

    Counts into the given ``CodecStats``: ``frames`` for each good FCS,
    ``checksum_errors`` for each bad one, ``resyncs`` each time bytes are skipped to
    find a frame start (noise, a frame cut short by a new BOF, an oversized frame), and
    ``dropped`` for frames the sender aborted or that are too short to hold an FCS.
    Memory stays bounded by ``max_frame``.
    """

    def __init__(self, stats: CodecStats, max_frame: int = MAX_BUFFER) -> None:
        self._stats = stats
        self._max_frame = max_frame
        self._frame = bytearray()
        self._in_frame = False
        self._escaped = False
        self._skipping = False  # inside a run of skipped bytes, counted once

    def _skip(self) -> None:
        if not self._skipping:
            self._stats.resyncs += 1
            self._skipping = True

    def _start(self) -> None:
        self._frame.clear()
        self._in_frame = True
        self._escaped = False
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes]:
        """Take bytes from the wire and return the payloads of the frames they completed."""
        payloads: list[bytes] = []
        pos, end = 0, len(data)
        while pos < end:
            if not self._in_frame:
                # Fast path over noise: jump to the next frame start.
                start = data.find(BOF, pos)
                if start < 0:
                    self._skip()
                    break
                if start > pos:
                    self._skip()
                self._start()
                pos = start + 1
                continue
            byte = data[pos]
            pos += 1
            if byte == BOF:
                # A new frame began before this one ended: what we had is lost.
                self._skip()
                self._start()
            elif byte == EOF:
                self._in_frame = False
                if self._escaped:
                    self._stats.dropped += 1  # 0x7D 0xC1: the sender aborted the frame
                else:
                    payload = self._check()
                    if payload is not None:
                        payloads.append(payload)
            elif self._escaped:
                self._frame.append(byte ^ ESC_XOR)
                self._escaped = False
            elif byte == ESC:
                self._escaped = True
            else:
                self._frame.append(byte)
            if self._in_frame and len(self._frame) > self._max_frame:
                # No real message is this long: treat it as noise and look for the next BOF.
                self._in_frame = False
                self._frame.clear()
                self._skip()
        return payloads

    def _check(self) -> bytes | None:
        content = bytes(self._frame)
        self._frame.clear()
        if len(content) < FCS_LEN:
            self._stats.dropped += 1
            return None
        payload, received = content[:-FCS_LEN], content[-FCS_LEN:]
        if fcs(payload) != int.from_bytes(received, "little"):
            self._stats.checksum_errors += 1
            return None
        self._stats.frames += 1
        return payload
