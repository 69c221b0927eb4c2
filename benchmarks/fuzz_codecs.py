"""Fuzz every protocol codec: random bytes and mutated real frames must never raise, never grow
the buffer past its bound, and never yield a value outside what a body can show.

Run: ``python benchmarks/fuzz_codecs.py [--count N] [--seed S]``. Prints counts and time per
codec and exits 1 if any check failed. Inputs are seeded, so a failure replays exactly.

Kinds of input, taken in turn: random bytes; a real frame or line from the emulators with
bits flipped, bytes inserted, deleted or cut; two real units spliced at random points; and
(for the framed protocols) a mutated record wrapped in a frame whose checksum is right, so
the record parser, not the checksum, meets the damage. The Datex and IntelliVue codecs end
in a last-guard ``except Exception``; to see past it, the mutated records are also handed to
their parsers directly, and any exception other than the parse errors they expect is
counted as a bug the guard would have hidden.
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# decode_throughput is a sibling script, not a package: found through the path set above.
from decode_throughput import (
    ASCII_PATTERNS,
    ascii_stream,
    samples,
    sim_stream,
)

from devices.codecs.ascii import MAX_LINE, AsciiCodec
from devices.codecs.base import MAX_BUFFER, Codec, Measurement
from devices.codecs.datex import MAX_FRAME, DatexCodec, Deframer, displayed_values_request
from devices.codecs.datex import frame as datex_frame
from devices.codecs.simline import PATTERNS, TERMINATOR
from monitor.reading import Quality
from monitor.vitals import BY_CODE
from simulators.emulators.datex import DatexEmulator


@dataclass
class Target:
    """One codec under fuzz, with real units to mutate."""

    name: str
    make_codec: Callable[[], Codec]
    units: list[bytes]  # wire units: lines or frames as sent
    records: list[bytes] = field(default_factory=list)  # unframed contents, for re-framing
    reframe: Callable[[bytes], bytes] | None = None
    parse: Callable[[Codec, bytes], object] | None = None  # the parser behind the last guard
    expected_errors: tuple[type[BaseException], ...] = ()
    buffered: Callable[[Codec], int] = lambda codec: 0
    bound: int = MAX_BUFFER


@dataclass
class Tally:
    inputs: int = 0
    bytes: int = 0
    measurements: int = 0
    escaped: int = 0
    hidden: int = 0
    impossible: int = 0
    over_bound: int = 0
    max_buffered: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        if len(self.examples) < 3:
            self.examples.append(text)


def split_lines(stream: bytes) -> list[bytes]:
    return [line + TERMINATOR for line in stream.split(TERMINATOR) if line]


def datex_target() -> Target:
    emulator = DatexEmulator()
    emulator.receive(displayed_values_request(1))
    units = [f for f in (emulator.emit(s) for s in samples(900, seed=2)) if f]
    records = [body[:-1] for u in units for body in Deframer().feed(u)]
    return Target(
        "datex", DatexCodec, units, records, reframe=datex_frame,
        parse=lambda codec, record: codec._record(record),  # type: ignore[attr-defined]
        expected_errors=(ValueError, struct.error),
        buffered=lambda codec: codec.buffered, bound=MAX_FRAME)  # type: ignore[attr-defined]


def intellivue_target() -> Target | None:
    try:
        from decode_throughput import intellivue_stream

        from devices.codecs.intellivue import IntellivueCodec
        from devices.codecs.intellivue_framing import Deframer as IvDeframer
        from devices.codecs.intellivue_framing import frame as iv_frame
    except ImportError as exc:
        print(f"intellivue: not importable ({exc}); not fuzzed")
        return None
    stream = intellivue_stream(samples(300, seed=2)) or b""
    stats = IntellivueCodec().stats
    payloads = IvDeframer(stats).feed(stream)
    return Target(
        "intellivue", IntellivueCodec, [iv_frame(p) for p in payloads], payloads,
        reframe=iv_frame,
        parse=lambda codec, payload: codec._message(payload),  # type: ignore[attr-defined]
        expected_errors=(ValueError,),
        # The deframer's frame buffer is private; its bound is what is checked here.
        buffered=lambda codec: len(codec._deframer._frame))  # type: ignore[attr-defined]


def targets() -> list[Target]:
    session = samples(900, seed=2)
    ascii_buffer = lambda codec: len(codec._buffer)  # noqa: E731  # private, checked on purpose
    found = [
        Target("sim", lambda: AsciiCodec(PATTERNS, TERMINATOR), split_lines(sim_stream(session)),
               buffered=ascii_buffer, bound=MAX_LINE),
        Target("ascii", lambda: AsciiCodec(ASCII_PATTERNS, b"\r\n"),
               split_lines(ascii_stream(session)), buffered=ascii_buffer, bound=MAX_LINE),
        datex_target(),
    ]
    iv = intellivue_target()
    return found + ([iv] if iv else [])


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        pos = rng.randrange(len(out) + 1)
        if op == 0 and out:  # flip a bit
            i = min(pos, len(out) - 1)
            out[i] ^= 1 << rng.randrange(8)
        elif op == 1 and out:  # replace a byte, often with a framing byte
            out[min(pos, len(out) - 1)] = rng.choice((0x7E, 0x7D, 0xC0, 0xC1, 0x0A, 0x0D,
                                                      rng.randrange(256)))
        elif op == 2:  # insert random bytes
            out[pos:pos] = rng.randbytes(rng.randint(1, 8))
        elif op == 3:  # delete a run
            del out[pos:pos + rng.randint(1, 8)]
        elif op == 4:  # cut short
            del out[pos:]
        else:  # repeat a slice (a length field now lies)
            out[pos:pos] = out[max(0, pos - 16):pos]
    return bytes(out)


def make_input(rng: random.Random, target: Target, kind: int) -> tuple[bytes, bytes | None]:
    """The bytes to feed, and for a re-framed record the record itself."""
    if kind == 0:
        return rng.randbytes(rng.randint(0, 300)), None
    if kind == 1:
        return mutate(rng, rng.choice(target.units)), None
    if kind == 2:
        a, b = rng.choice(target.units), rng.choice(target.units)
        return a[:rng.randint(0, len(a))] + b[rng.randint(0, len(b)):], None
    record = mutate(rng, rng.choice(target.records))
    assert target.reframe is not None
    return target.reframe(record), record


def check(target: Target, tally: Tally, codec: Codec, out: list[Measurement]) -> None:
    tally.measurements += len(out)
    for m in out:
        vital = BY_CODE.get(m.code)
        # An invalid measurement is never shown or alarmed on (Reading.usable), whatever
        # number it carries; every other one must be a value a body can have.
        bad = vital is None or (m.quality is not Quality.INVALID
                                and not vital.low <= m.value <= vital.high)
        if bad:
            tally.impossible += 1
            tally.note(f"impossible measurement {m}")
    held = target.buffered(codec)
    tally.max_buffered = max(tally.max_buffered, held)
    if held > target.bound:
        tally.over_bound += 1
        tally.note(f"buffer holds {held} bytes, bound {target.bound}")


def fuzz(target: Target, count: int, seed: int) -> Tally:
    rng = random.Random(f"{seed}-{target.name}")
    tally = Tally()
    kinds = 4 if target.records else 3
    long_lived = target.make_codec()
    for i in range(count):
        data, record = make_input(rng, target, i % kinds)
        tally.inputs += 1
        tally.bytes += len(data)
        # The long-lived codec is the live port: every input lands on whatever state the
        # last one left. A re-framed record also goes to a fresh codec, from a clean state.
        codecs = [long_lived] + ([target.make_codec()] if record is not None else [])
        for codec in codecs:
            try:
                out = codec.feed(data)
                codec.pending_output()
            except Exception:
                tally.escaped += 1
                tally.note(traceback.format_exc(limit=3))
                continue
            check(target, tally, codec, out)
        if record is not None and target.parse is not None:
            try:
                target.parse(target.make_codec(), record)
            except target.expected_errors:
                pass
            except Exception:
                tally.hidden += 1
                tally.note("hidden by the last guard: " + traceback.format_exc(limit=4))
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="inputs per codec")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    failed = False
    print(f"{'codec':<11}{'inputs':>9}{'MB':>7}{'meas':>9}{'seconds':>9}{'escaped':>9}"
          f"{'hidden':>8}{'impossible':>11}{'over bound':>11}{'max buf':>9}")
    for target in targets():
        start = time.perf_counter()
        tally = fuzz(target, args.count, args.seed)
        elapsed = time.perf_counter() - start
        print(f"{target.name:<11}{tally.inputs:>9}{tally.bytes / 1e6:>7.1f}"
              f"{tally.measurements:>9}{elapsed:>9.1f}{tally.escaped:>9}{tally.hidden:>8}"
              f"{tally.impossible:>11}{tally.over_bound:>11}{tally.max_buffered:>9}",
              flush=True)
        for example in tally.examples:
            print("    " + example.replace("\n", "\n    "))
        failed |= bool(tally.escaped or tally.hidden or tally.impossible or tally.over_bound)
    print("FAILED: see the examples above" if failed else "all checks held")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
