"""Decode throughput of each protocol codec on one core, against its serial line's byte rate.

Run: ``python benchmarks/decode_throughput.py [--seconds N]``. Prints figures; never passes or
fails on time. The streams come from the emulators driven by the physiology model, so they
hold what a monitor really sends (the IntelliVue stream is the monitor's side of a polled
dialogue). "x line" compares with the line's full byte rate, "x sent" with the bytes the
monitor actually sends per second of the session, which is what a live room costs.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass

from devices.codecs.ascii import AsciiCodec
from devices.codecs.base import Codec
from devices.codecs.datex import DatexCodec, displayed_values_request
from devices.codecs.simline import PATTERNS, TERMINATOR
from simulators.emulators.datex import DatexEmulator
from simulators.emulators.simline import SimLineEmulator
from simulators.physiology import SessionModel
from simulators.sample import VitalsSample

# Bytes per second each monitor's line carries: bits/s over bits per character.
LINE_RATES = {
    "sim": 9600 / 10,  # read as the generic ASCII monitor: 9600 8N1
    "ascii": 9600 / 10,  # 9600 8N1
    "datex": 19200 / 11,  # 19200 8E1: start, 8 data, parity, stop
    "intellivue": 115200 / 10,  # 115200 8N1
}
ASCII_PATTERNS = [r"^VS;.*\bHR=(?P<hr>[^;]+)", r"^VS;.*\bPR=(?P<pr>[^;]+)",
                  r"^VS;.*\bSPO2=(?P<spo2>[^;]+)", r"^VS;.*\bRR=(?P<rr>[^;]+)",
                  r"^NIBP;(?P<nibp_sys>\d+)/(?P<nibp_dia>\d+)\((?P<nibp_mean>\d+)\)"]
SESSION_SECONDS = 3600  # one simulated hour of each monitor


@dataclass(frozen=True)
class Subject:
    name: str
    stream: bytes
    make_codec: Callable[[], Codec]


def samples(seconds: int = SESSION_SECONDS, seed: int = 1) -> list[VitalsSample]:
    model = SessionModel("probe_off", seed)  # includes invalid and absent SpO2 stretches
    return [model.step() for _ in range(seconds)]


def sim_stream(session: list[VitalsSample]) -> bytes:
    emulator = SimLineEmulator()
    return b"".join(emulator.emit(s) for s in session)


def ascii_stream(session: list[VitalsSample]) -> bytes:
    """A generic line monitor: ``VS;HR=72;PR=71;SPO2=98;RR=14`` and ``NIBP;121/79(93)``."""
    out = bytearray()
    for s in session:
        fields = [f"{tag}={'---' if code in s.invalid else f'{s.values[code]:.0f}'}"
                  for code, tag in (("hr", "HR"), ("pr", "PR"), ("spo2", "SPO2"), ("rr", "RR"))
                  if code in s.values or code in s.invalid]
        out += ("VS;" + ";".join(fields) + "\r\n").encode()
        if s.nibp is not None:
            out += "NIBP;{:.0f}/{:.0f}({:.0f})\r\n".format(*s.nibp).encode()
    return bytes(out)


def datex_stream(session: list[VitalsSample]) -> bytes:
    emulator = DatexEmulator()
    emulator.receive(displayed_values_request(1))  # a record every second: the densest
    return b"".join(emulator.emit(s) for s in session)


def intellivue_stream(session: list[VitalsSample]) -> bytes | None:
    """The monitor's side of an association and one poll per simulated second."""
    try:
        from devices.codecs.intellivue import IntellivueCodec
        from simulators.emulators.intellivue import IntellivueEmulator
    except ImportError:
        return None
    host, monitor = IntellivueCodec(), IntellivueEmulator()
    received = bytearray()

    def exchange(request: bytes) -> None:
        while request:
            reply = monitor.receive(request)
            received.extend(reply)
            host.feed(reply)
            request = host.pending_output()

    monitor.emit(session[0])
    host.tick(0.0, 0.0)
    exchange(host.opening())
    for i, s in enumerate(session, start=1):
        monitor.emit(s)
        exchange(host.tick(float(i), 0.0))
    return bytes(received)


def subjects() -> list[Subject]:
    session = samples()
    found = [
        Subject("sim", sim_stream(session), lambda: AsciiCodec(PATTERNS, TERMINATOR)),
        Subject("ascii", ascii_stream(session), lambda: AsciiCodec(ASCII_PATTERNS, b"\r\n")),
        Subject("datex", datex_stream(session), DatexCodec),
    ]
    iv = intellivue_stream(session)
    if iv is None:
        print("intellivue: codec or emulator not importable; not measured")
    else:
        from devices.codecs.intellivue import IntellivueCodec
        found.append(Subject("intellivue", iv, IntellivueCodec))
    return found


def measure(subject: Subject, chunk: int, min_seconds: float) -> tuple[float, int]:
    """Best bytes/s over repeated whole-stream decodes, and the measurements per pass."""
    data = subject.stream
    pieces = [data[i:i + chunk] for i in range(0, len(data), chunk)]
    best, count, spent = 0.0, 0, 0.0
    while spent < min_seconds or best == 0.0:
        codec = subject.make_codec()
        start = time.perf_counter()
        count = sum(len(codec.feed(p)) for p in pieces)
        elapsed = time.perf_counter() - start
        spent += elapsed
        best = max(best, len(data) / elapsed)
    return best, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0,
                        help="minimum time spent per codec and chunk size (default 2)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()} on {platform.machine()}, one core; streams are "
          f"{SESSION_SECONDS} simulated seconds of the probe_off scenario")
    print(f"{'codec':<11}{'stream':>10}{'chunk':>7}{'meas/pass':>11}{'MB/s':>9}"
          f"{'line B/s':>10}{'x line':>8}{'sent B/s':>10}{'x sent':>8}")
    for subject in subjects():
        rate = LINE_RATES[subject.name]
        sent = len(subject.stream) / SESSION_SECONDS  # what the monitor puts on the line
        # 64 bytes is about what a live read returns; 4096 is a file being decoded.
        for chunk in (64, 4096):
            bps, count = measure(subject, chunk, args.seconds)
            print(f"{subject.name:<11}{len(subject.stream):>10}{chunk:>7}{count:>11}"
                  f"{bps / 1e6:>9.2f}{rate:>10.0f}{bps / rate:>8.0f}{sent:>10.0f}"
                  f"{bps / sent:>8.0f}")


if __name__ == "__main__":
    main()
