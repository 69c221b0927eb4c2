"""One contract suite run against every registered device adapter, through a real pty.

Each adapter reads a ``PtyMonitor`` (the protocol's emulator driven by the seeded physiology
model on a pseudo-terminal) with ``Device.run`` in a thread, as it would read hardware. The
values it publishes are checked against the same model replayed with the same seed, so a
decoding slip shows as a value the patient never had.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from devices.base import Device
from devices.registry import BUILTIN, device_class
from monitor.clock import ScaledClock
from monitor.messages import DeviceStatus, LinkState
from monitor.reading import Quality, Reading
from monitor.vitals import BY_CODE, NIBP_CODES, NIBP_CYCLE_SECONDS
from simulators.emulators.base import Emulator
from simulators.physiology import SessionModel
from simulators.pty import PtyMonitor
from simulators.sample import VitalsSample

STREAMED = ("hr", "pr", "spo2", "rr")
EXPECTED_CODES = frozenset(STREAMED) | frozenset(NIBP_CODES)
RESOLUTION = 0.01  # every model value is whole, or hundredths on the wire (Datex SpO2)
TIMEOUT = 30.0  # wall seconds: generous, for a loaded machine; never a measured duration


# --- an ASCII monitor, so the generic line adapter runs the same contract -------------------

class AsciiLineEmulator(Emulator):
    """A line-printing monitor unlike ivmon's own: SpO2 in tenths, binary noise between
    lines, ``---`` for a vital it reports as invalid."""

    protocol = "ascii"
    NOISE = b"\x00\x1b\xfe\x7f"  # nothing printable: a line's text is unchanged by it

    def emit(self, sample: VitalsSample) -> bytes:
        if sample.silent:
            return b""

        def text(code: str, factor: float = 1) -> str:
            if code in sample.invalid:
                return "---"
            return f"{sample.values[code] * factor:.0f}"

        fields = [f"{tag}={text(code, factor)}"
                  for code, tag, factor in (("hr", "HR", 1), ("pr", "PR", 1),
                                            ("spo2", "SPO2", 10), ("rr", "RR", 1))
                  if code in sample.values or code in sample.invalid]
        out = self.NOISE + ("VS;" + ";".join(fields)).encode() + b"\r\n"
        if sample.nibp is not None:
            sys, dia, mean = sample.nibp
            out += self.NOISE + f"NIBP;{sys:.0f}/{dia:.0f}({mean:.0f})".encode() + b"\r\n"
        return out


ASCII_OPTIONS: dict[str, Any] = {
    "patterns": [r"^VS;.*\bHR=(?P<hr>[^;]+)", r"^VS;.*\bPR=(?P<pr>[^;]+)",
                 r"^VS;.*\bSPO2=(?P<spo2>[^;]+)", r"^VS;.*\bRR=(?P<rr>[^;]+)",
                 r"^NIBP;(?P<nibp_sys>\d+)/(?P<nibp_dia>\d+)\((?P<nibp_mean>\d+)\)"],
    "terminator": "\r\n",
    "scale": {"spo2": 0.1},
}

# The IntelliVue codec polls once a wall second (its tick() gets monotonic wall time), so
# its values are as many simulated seconds apart as the clock's speed; above 10 that is
# longer than the silence limit and the link would flap. The others follow the model.
SPEEDS = {"intellivue": 4.0}
DEFAULT_SPEED = 40.0


@dataclass(frozen=True)
class Adapter:
    protocol: str
    options: dict[str, Any] = field(default_factory=dict)
    emulator: Callable[[], Emulator] | None = None  # None: the protocol's registered one

    @property
    def speed(self) -> float:
        return SPEEDS.get(self.protocol, DEFAULT_SPEED)


# Adapters that do not read a serial port; each has its own suite (tests/devices/test_hl7.py).
NOT_SERIAL = {"hl7"}


def adapters() -> list[Any]:
    """Every built-in adapter; one that cannot be imported is skipped with the reason shown."""
    extras = {"ascii": Adapter("ascii", ASCII_OPTIONS, AsciiLineEmulator)}
    params = []
    for protocol in BUILTIN:
        if protocol in NOT_SERIAL:
            continue
        adapter = extras.get(protocol, Adapter(protocol))
        try:
            device_class(protocol)
            if adapter.emulator is None:
                from simulators.emulators.registry import EMULATORS
                importlib.import_module(EMULATORS[protocol][0])
        except (ImportError, KeyError, AttributeError) as exc:
            print(f"contract suite: adapter {protocol!r} NOT TESTED: {exc!r}")
            params.append(pytest.param(adapter, id=protocol, marks=pytest.mark.skip(
                reason=f"adapter {protocol!r} not importable: {exc!r}")))
            continue
        params.append(pytest.param(adapter, id=protocol))
    return params


ADAPTERS = adapters()


# --- the rig: a monitor on a pty, a device reading it ------------------------------------

@dataclass
class Rig:
    monitor: PtyMonitor
    device: Device
    clock: ScaledClock
    scenario: str
    seed: int
    offset: float
    nibp_cycle: float
    messages: list[object] = field(default_factory=list)

    def readings(self, since: int = 0) -> list[Reading]:
        return [m for m in list(self.messages)[since:] if isinstance(m, Reading)]

    def statuses(self, since: int = 0) -> list[DeviceStatus]:
        return [m for m in list(self.messages)[since:] if isinstance(m, DeviceStatus)]

    def count(self, code: str, since: int = 0) -> int:
        return sum(1 for r in self.readings(since) if r.code == code)

    def first_status(self, states: set[LinkState], since: int = 0) -> int | None:
        """Index in ``messages`` of the first status in ``states`` at or after ``since``."""
        for i, m in enumerate(list(self.messages)[since:], start=since):
            if isinstance(m, DeviceStatus) and m.state in states:
                return i
        return None

    def model_samples(self) -> list[VitalsSample]:
        model = SessionModel(self.scenario, self.seed, offset=self.offset,
                             nibp_cycle=self.nibp_cycle)
        return [model.step() for _ in range(self.monitor.seconds_sent + 1)]


@contextmanager
def rig(adapter: Adapter, *, scenario: str = "normal", seed: int = 11, offset: float = 0.0,
        silence_seconds: float = 10.0, nibp_cycle: float = NIBP_CYCLE_SECONDS) -> Iterator[Rig]:
    emulator = adapter.emulator() if adapter.emulator else None
    monitor = PtyMonitor(adapter.protocol, scenario, seed, speed=adapter.speed, offset=offset,
                         emulator=emulator, nibp_cycle=nibp_cycle)
    clock = ScaledClock(adapter.speed)
    device = device_class(adapter.protocol)("room-1", "bed-1", monitor.path, clock=clock,
                                            silence_seconds=silence_seconds,
                                            options=adapter.options)
    the_rig = Rig(monitor, device, clock, scenario, seed, offset, nibp_cycle)
    stop = threading.Event()
    worker = threading.Thread(target=device.run, args=(the_rig.messages.append, stop),
                              daemon=True)
    monitor.start()
    worker.start()
    try:
        yield the_rig
    finally:
        stop.set()
        worker.join(timeout=TIMEOUT)
        monitor.close()
    assert not worker.is_alive(), "Device.run did not return after stop was set"


def wait_for(condition: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- checking values against the model ---------------------------------------------------

def naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def is_subsequence(values: list[float], sequence: list[float]) -> bool:
    it = iter(sequence)
    return all(any(abs(v - s) <= RESOLUTION for s in it) for v in values)


def check_against_model(the_rig: Rig) -> None:
    """Every usable reading is a value the model produced: at its device time where the
    protocol has one, else in the model's order."""
    samples = the_rig.model_samples()
    by_time = {s.time: s for s in samples}
    readings = the_rig.readings()
    assert [r.seq for r in readings] == list(range(1, len(readings) + 1))
    for r in readings:
        assert (r.room, r.device) == ("room-1", "bed-1")
        assert r.code in EXPECTED_CODES, r
        assert r.unit == BY_CODE[r.code].unit
    valid = [r for r in readings if r.quality is not Quality.INVALID]
    for r in valid:
        if r.device_time is None or r.code in NIBP_CODES:
            continue
        sample = by_time.get(naive_utc(r.device_time))
        assert sample is not None, f"{r} carries a time the model never had"
        assert r.code in sample.values and r.code not in sample.invalid, r
        assert abs(r.value - sample.values[r.code]) <= RESOLUTION, (r, sample.values)
    for code in STREAMED:
        timeless = [r.value for r in valid if r.code == code and r.device_time is None]
        model = [s.values[code] for s in samples if code in s.values]
        assert is_subsequence(timeless, model), f"{code} values out of the model's order"
    check_nibp(valid, samples)


def check_nibp(valid: list[Reading], samples: list[VitalsSample]) -> None:
    cuffs = [(s.time, s.nibp) for s in samples if s.nibp is not None]
    events: dict[tuple[datetime, datetime | None], dict[str, float]] = {}
    for r in valid:
        if r.code in NIBP_CODES:
            events.setdefault((r.received, r.device_time), {})[r.code] = r.value
    for (_, device_time), parts in events.items():
        assert set(parts) == set(NIBP_CODES), f"an incomplete cuff result: {parts}"
        triple = tuple(parts[c] for c in NIBP_CODES)
        if device_time is not None:
            # The latest cuff at the record's time: a monitor repeats its last result.
            latest = [nibp for when, nibp in cuffs if when <= naive_utc(device_time)]
            assert latest and triple == latest[-1], (device_time, triple)
        else:
            assert triple in [nibp for _, nibp in cuffs], triple


# --- the contract ------------------------------------------------------------------------

@pytest.mark.parametrize("adapter", ADAPTERS)
def test_readings_match_the_model(adapter: Adapter) -> None:
    # The first cuff result comes at once, before the port is open (a monitor that has been
    # running a while): a short cuff cycle brings the next soon after.
    with rig(adapter, offset=240.0, nibp_cycle=60.0) as r:
        wait_for(lambda: r.count("hr") >= 3 and r.count("nibp_sys") >= 1,
                 "three heart rates and a cuff result")
    check_against_model(r)
    readings = r.readings()
    assert {x.code for x in readings} == EXPECTED_CODES
    assert r.first_status({LinkState.OK}) is not None
    assert r.first_status({LinkState.LOST, LinkState.SILENT}) is None
    cuffs = sum(1 for s in r.model_samples() if s.nibp is not None)
    assert sum(1 for x in readings if x.code == "nibp_sys") <= cuffs, \
        "a cuff result was reported more than once"
    c = r.device.counters
    assert c.readings == len(readings)
    assert c.bytes > 0 and c.frames > 0
    assert c.checksum_errors == 0
    assert c.reconnects == 0


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_pulled_cable_is_reported_and_recovered(adapter: Adapter) -> None:
    silence = 30.0  # clock seconds: the loss must be reported well within this
    with rig(adapter, seed=5, silence_seconds=silence) as r:
        wait_for(lambda: r.count("hr") >= 2, "readings before the pull")
        pulled_at, mark = r.clock.now(), len(r.messages)
        r.monitor.pull()
        wait_for(lambda: r.first_status({LinkState.LOST, LinkState.SILENT}, mark) is not None,
                 "the link reported lost after the pull")
        lost = r.first_status({LinkState.LOST, LinkState.SILENT}, mark)
        assert lost is not None
        assert (r.messages[lost].at - pulled_at).total_seconds() <= silence
        plugged_at = r.clock.now()
        r.monitor.plug()
        wait_for(lambda: r.first_status({LinkState.OK}, lost) is not None,
                 "the link back to OK after the plug")
        back = r.first_status({LinkState.OK}, lost)
        assert back is not None
        wait_for(lambda: r.count("hr", back) >= 2, "readings after the plug")
    # Nothing may be published as if measured while the cable was out: before the OK comes
    # only the batch of readings that ended the loss.
    between = [m for m in r.messages[lost:back] if isinstance(m, Reading)]
    assert all(m.received >= plugged_at for m in between)
    assert len({m.received for m in between}) <= 1
    check_against_model(r)
    assert r.device.counters.reconnects >= 1
    assert r.device.counters.checksum_errors == 0


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_silent_monitor_is_reported_and_recovered(adapter: Adapter) -> None:
    # The "disconnect" scenario sends nothing from 120 s to 165 s; start just before.
    with rig(adapter, scenario="disconnect", seed=3, offset=105.0) as r:
        wait_for(lambda: r.first_status({LinkState.SILENT}) is not None,
                 "the link reported silent", timeout=60.0)
        silent = r.first_status({LinkState.SILENT})
        assert silent is not None
        wait_for(lambda: r.first_status({LinkState.OK}, silent) is not None,
                 "the link back to OK when the monitor talks again", timeout=60.0)
        back = r.first_status({LinkState.OK}, silent)
        assert back is not None
        wait_for(lambda: r.count("hr", back) >= 2, "readings after the silence")
    between = [m for m in r.messages[silent:back] if isinstance(m, Reading)]
    assert len({m.received for m in between}) <= 1, "readings while the monitor was silent"
    check_against_model(r)
    assert r.first_status({LinkState.LOST}) is None, "a silent monitor is not a lost port"
