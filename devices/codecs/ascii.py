"""Generic ASCII line monitors: each line is matched against patterns whose named groups are
vital codes, e.g. ``NIBP=\\d+;(?P<nibp_sys>\\d+);(?P<nibp_dia>\\d+);(?P<nibp_mean>\\d+)``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from devices.codecs.base import MAX_BUFFER, Codec, Measurement
from monitor.reading import Quality
from monitor.vitals import BY_CODE

MAX_LINE = 1024  # a longer run without a terminator is garbage, not a line


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    """Compile patterns, checking that every named group is a vital code."""
    compiled: list[re.Pattern[str]] = []
    for text in patterns:
        try:
            pattern = re.compile(text)
        except re.error as exc:
            raise ValueError(f"pattern {text!r} is not a valid regular expression: {exc}") from None
        unknown = [g for g in pattern.groupindex if g not in BY_CODE]
        if unknown:
            raise ValueError(f"pattern {text!r} names {unknown[0]!r}, which is not a vital code; "
                             f"expected group names from {', '.join(BY_CODE)}")
        if not pattern.groupindex:
            raise ValueError(f"pattern {text!r} has no named group such as (?P<hr>\\d+)")
        compiled.append(pattern)
    return compiled


class AsciiCodec(Codec):
    """Splits the stream into lines and turns each pattern match into measurements.

    A group whose text is not a number (``---``, ``?``) means the monitor reports the vital
    as invalid; it becomes an INVALID measurement so a probe-off shows as such. Bytes that
    are not printable ASCII are dropped, so binary noise between lines does no harm.
    """

    name = "ascii"

    def __init__(self, patterns: Iterable[str], terminator: bytes = b"\n",
                 scale: Mapping[str, float] | None = None) -> None:
        super().__init__()
        self.patterns = compile_patterns(patterns)
        if not terminator:
            raise ValueError("the line terminator must not be empty")
        self.terminator = terminator
        self.scale = dict(scale or {})
        self._buffer = bytearray()
        # After a run longer than a line, everything up to the next terminator is the rest
        # of that run: the bytes just before the terminator are a fragment, never a line.
        self._skipping = False

    def feed(self, data: bytes) -> list[Measurement]:
        self.stats.bytes += len(data)
        self._buffer += data
        out: list[Measurement] = []
        limit = min(MAX_LINE, MAX_BUFFER)
        while True:
            end = self._buffer.find(self.terminator)
            if end < 0:
                break
            line = bytes(self._buffer[:end]) if not self._skipping and end <= limit else None
            del self._buffer[:end + len(self.terminator)]
            if self._skipping:
                self._skipping = False  # the end of the overlong run: decode from here on
            elif line is None:
                self.stats.resyncs += 1  # a whole overlong run in one read: garbage too
            else:
                out += self._line(line)
        if len(self._buffer) > limit and not self._skipping:
            # No terminator in a line's worth of bytes: skip to the next terminator.
            self.stats.resyncs += 1
            self._skipping = True
        if self._skipping:
            # Keep only what may be the start of a terminator split across reads.
            del self._buffer[:max(0, len(self._buffer) - (len(self.terminator) - 1))]
        return out

    def _line(self, raw: bytes) -> list[Measurement]:
        text = "".join(chr(b) for b in raw if 32 <= b < 127 or b == 9).strip()
        if not text:
            return []
        self.stats.frames += 1
        out: list[Measurement] = []
        matched = False
        for pattern in self.patterns:
            match = pattern.search(text)
            if match is None:
                continue
            matched = True
            for code, raw_value in match.groupdict().items():
                if raw_value is None:
                    continue
                measurement = self._measure(code, raw_value)
                if measurement is None:
                    self.stats.dropped += 1
                else:
                    out.append(measurement)
        if not matched:
            self.stats.dropped += 1
        self.stats.measurements += len(out)
        return out

    def _measure(self, code: str, raw_value: str) -> Measurement | None:
        vital = BY_CODE[code]
        try:
            value = float(raw_value) * self.scale.get(code, 1.0)
        except ValueError:
            return Measurement(code, float("nan"), Quality.INVALID)
        if not vital.low <= value <= vital.high:
            # Outside what a body can show: a device fault, never a reading.
            return None
        return Measurement(code, value)
