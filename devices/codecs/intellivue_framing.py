"""IntelliVue Data Export serial transport: FCS, byte transparency and frame (dis)assembly.

On the MIB/RS232 port every message travels as::

    BOF 0xC0 | header (0x11, 0x01, length BE16) | user data | FCS LE16 | EOF 0xC1

The FCS is CRC-16/X.25 over header and user data, computed before transparency is
applied; transparency then replaces 0xC0, 0xC1 and 0x7D inside the frame by 0x7D and the
byte XOR 0x20. ``0x7D 0xC1`` is the sender aborting a frame.
"""

from __future__ import annotations

import binascii
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


def _reverse_bits(value: int, width: int) -> int:
    return int(f"{value:0{width}b}"[::-1], 2)


# CRC-16/X.25 is the reflected form of the CCITT CRC that binascii.crc_hqx computes bit
# for bit: fed the bit-reversed bytes, crc_hqx yields the bit-reversed X.25 register. The
# loop then runs in C, which matters at 115200 baud.
_REVERSE_BYTES = bytes(_reverse_bits(byte, 8) for byte in range(256))


def fcs(data: bytes) -> int:
    """CRC-16/X.25 (reflected CCITT, init 0xFFFF, final XOR 0xFFFF) of ``data``."""
    crc = binascii.crc_hqx(bytes(data).translate(_REVERSE_BYTES), 0xFFFF)
    return _reverse_bits(crc, 16) ^ 0xFFFF


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
        # Where the next BOF and EOF lie at or after pos (end when there is none); a find
        # is only repeated once pos has passed what it found, so no byte is scanned twice.
        next_bof = next_eof = -1
        while pos < end:
            if next_bof < pos:
                next_bof = data.find(BOF, pos)
                if next_bof < 0:
                    next_bof = end
            if not self._in_frame:
                # Jump over noise to the next frame start.
                if next_bof > pos:
                    self._skip()
                if next_bof == end:
                    break
                self._start()
                pos = next_bof + 1
                continue
            if next_eof < pos:
                next_eof = data.find(EOF, pos)
                if next_eof < 0:
                    next_eof = end
            stop = min(next_bof, next_eof)
            if stop > pos and not self._append(data[pos:stop]):
                # No real message is this long: treat it as noise and look for the next BOF.
                self._in_frame = False
                self._frame.clear()
                self._skip()
                pos = stop
                continue
            if stop == end:
                break
            pos = stop + 1
            if stop == next_bof:
                # A new frame began before this one ended: what we had is lost.
                self._skip()
                self._start()
                continue
            self._in_frame = False
            if self._escaped:
                self._frame.clear()
                self._stats.dropped += 1  # 0x7D 0xC1: the sender aborted the frame
            else:
                payload = self._check()
                if payload is not None:
                    payloads.append(payload)
        return payloads

    def _append(self, chunk: bytes) -> bool:
        """Undo transparency on a run holding no BOF or EOF and add it to the frame.

        Returns False, adding nothing, when the frame would grow past ``max_frame``.
        """
        if self._escaped or ESC in chunk:
            out = bytearray()
            i, size = 0, len(chunk)
            if self._escaped:
                out.append(chunk[0] ^ ESC_XOR)
                self._escaped = False
                i = 1
            while i < size:
                esc = chunk.find(ESC, i)
                if esc < 0:
                    out += chunk[i:]
                    break
                out += chunk[i:esc]
                if esc + 1 == size:
                    self._escaped = True  # the escaped byte comes in the next chunk
                    break
                out.append(chunk[esc + 1] ^ ESC_XOR)
                i = esc + 2
            chunk = bytes(out)
        if len(self._frame) + len(chunk) > self._max_frame:
            return False
        self._frame += chunk
        return True

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
