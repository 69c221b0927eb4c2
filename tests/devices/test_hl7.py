"""HL7 inbound: the pure MLLP/PCD-01 codec, and the listening adapter over a real TCP socket,
fed the shared sample and messages ivmon's own exporter writes."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.codecs.hl7 import Hl7Codec, MllpFramer, build_ack, frame, parse_message
from devices.hl7 import Hl7Device, listen_address
from monitor.clock import ManualClock
from monitor.exports.hl7 import session_messages
from monitor.history import readings
from monitor.messages import DeviceStatus, LinkState
from monitor.reading import Reading
from monitor.storage.database import migrate, open_database
from monitor.storage.schema import to_ms
from monitor.vitals import BY_CODE
from tests.conftest import SHARED_DATA
from tests.monitor.session_data import record_session
from tests.servers import wait_until

SAMPLE = (SHARED_DATA / "monitor_protocols" / "hl7_pcd01" /
          "synthetic_pcd01_oru_r01.hl7").read_bytes()
EXPECTED = {"hr": 72, "spo2": 98, "pr": 71, "nibp_sys": 120, "nibp_dia": 80, "nibp_mean": 93,
            "rr": 16, "temp": 36.8}
NOON = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def oru(*obx: str, msh9: str = "ORU^R01^ORU_R01", version: str = "2.6") -> bytes:
    head = f"MSH|^~\\&|GW||||20240101120000+0000||{msh9}|C1|P|{version}"
    return "\r".join((head, "PID|||1", *obx)).encode() + b"\r"


def acks(data: bytes) -> list[str]:
    return [body.decode() for body in MllpFramer().feed(data)]


# --- the codec --------------------------------------------------------------------------

def test_the_shared_sample_decodes_to_its_stated_values() -> None:
    parsed = parse_message(SAMPLE)
    assert parsed.ack_code == "AA" and parsed.control_id == "MSG00001"
    assert {o.code: o.value for o in parsed.observations} == EXPECTED
    times = {o.code: o.time for o in parsed.observations}
    assert times["hr"] == NOON and times["nibp_sys"] == datetime(2024, 1, 1, 11, 59, tzinfo=UTC)
    assert parsed.ignored == 1  # the monitor's own (MDS) OBX carries no value


def test_frames_split_anywhere_and_garbage_between_them() -> None:
    codec = Hl7Codec(ManualClock())
    stream = b"\x00noise" + frame(SAMPLE.decode()) + b"\r\n" + b"\x0bcut short" + \
        frame(SAMPLE.decode())
    got = []
    for i in range(len(stream)):  # one byte at a time
        got += codec.feed(stream[i:i + 1])
    assert [m.code for m in got] == list(EXPECTED) * 2
    replies = acks(codec.pending_output())
    assert len(replies) == 2 and all("MSA|AA|MSG00001" in r for r in replies)
    assert codec.stats.frames == 2 and codec.stats.resyncs >= 2


@pytest.mark.parametrize(("message", "code", "text"), [
    (oru(msh9="ADT^A01^ADT_A01"), "AR", "unsupported message type"),
    (oru("OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||97|262688^MDC_DIM_PERCENT^MDC",
         version="3.0"), "AR", "unsupported HL7 version"),
    (b"hello, world", "AR", "no MSH segment"),
    (oru("OBX|1|NM|999999^MDC_UNKNOWN^MDC||5"), "AE", "no vital sign"),
    (oru("OBX|1|ST|150456^MDC_PULS_OXIM_SAT_O2^MDC||ninety"), "AE", "no vital sign"),
])
def test_refusals_are_acknowledged_with_the_right_code(message: bytes, code: str,
                                                       text: str) -> None:
    parsed = parse_message(message)
    assert parsed.ack_code == code and text in parsed.error and not parsed.observations
    ack = build_ack(parsed, NOON)
    segments = ack.split("\r")
    assert segments[1] == f"MSA|{code}|{parsed.control_id}"
    assert segments[2].startswith("ERR|||")


@pytest.mark.parametrize(("obx", "code", "value"), [
    ("OBX|1|NM|150344^MDC_TEMP^MDC||98.6|266560^MDC_DIM_FAHR^MDC", "temp", 37.0),
    ("OBX|1|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC||16|kPa^kPa^UCUM", "nibp_sys", 120.01),
    ("OBX|1|NM|150301^MDC_PRESS_CUFF_SYS^MDC||131|266016^MDC_DIM_MMHG^MDC", "nibp_sys", 131),
    ("OBX|1|NM|^MDC_PULS_OXIM_SAT_O2||96|%^%^UCUM", "spo2", 96),
    ("OBX|1|NM|MDC_RESP_RATE||14", "rr", 14),
    ("OBX|1|NM|151578^MDC_TTHOR_RESP_RATE^MDC||18|264928^MDC_DIM_RESP_PER_MIN^MDC", "rr", 18),
])
def test_mdc_aliases_and_units(obx: str, code: str, value: float) -> None:
    [obs] = parse_message(oru(obx)).observations
    assert obs.code == code and obs.value == pytest.approx(value, abs=0.01)


@pytest.mark.parametrize("obx", [
    "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||72|262688^MDC_DIM_PERCENT^MDC",  # wrong unit
    "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||72|furlongs",  # unknown unit
    "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC||||||||X",  # cannot be obtained
    "OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC||140|%",  # out of bounds
    "OBX|1|NM|150033^MDC_PRESS_BLD_ART_SYS^MDC||120|266016",  # arterial: no ivmon vital
])
def test_values_that_are_not_readings_are_left_out(obx: str) -> None:
    parsed = parse_message(oru(obx, "OBX|2|NM|149530^MDC_PULS_OXIM_PULS_RATE^MDC||70"))
    assert [o.code for o in parsed.observations] == ["pr"] and parsed.ignored == 1


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=len(SAMPLE)),
       st.binary(max_size=40))
def test_no_input_makes_the_codec_raise(noise: bytes, cut: int, insert: bytes) -> None:
    codec = Hl7Codec(ManualClock())
    mangled = SAMPLE[:cut] + insert + SAMPLE[cut:]
    out = codec.feed(noise) + codec.feed(frame(mangled.decode("latin-1"))) + \
        codec.feed(b"\x0b" + noise + b"\x1c\r")
    for m in out:
        assert BY_CODE[m.code].low <= m.value <= BY_CODE[m.code].high
    for reply in acks(codec.pending_output()):
        assert reply.split("\r")[1][:7] in ("MSA|AA|", "MSA|AE|", "MSA|AR|")


def test_listening_urls() -> None:
    assert listen_address("mllp://0.0.0.0:2575") == ("0.0.0.0", 2575)
    assert listen_address("tcp://:2600") == ("0.0.0.0", 2600)
    for bad in ("/dev/ttyUSB0", "mllp://host", "socket://h:1", "mllp://h:99999"):
        with pytest.raises(ValueError, match="expected mllp://HOST:PORT"):
            Hl7Device("r1", "gw", bad)
    with pytest.raises(ValueError, match="silence_seconds"):
        Hl7Device("r1", "gw", "mllp://127.0.0.1:0", options={"baud": 9600})


# --- the adapter over TCP ---------------------------------------------------------------

class Listener:
    def __init__(self, device: Hl7Device) -> None:
        self.device = device
        self.messages: list[object] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=device.run, args=(self.messages.append, self.stop))

    def readings(self) -> list[Reading]:
        return [m for m in self.messages if isinstance(m, Reading)]

    def states(self) -> list[LinkState]:
        return [m.state for m in self.messages if isinstance(m, DeviceStatus)]

    def send(self, *messages: bytes) -> list[str]:
        """Send each message on one connection and wait for its ACK."""
        replies: list[str] = []
        with socket.create_connection(("127.0.0.1", self.device.bound_port or 0), 5) as s:
            framer = MllpFramer()
            for message in messages:
                s.sendall(frame(message.decode()))
                got: list[bytes] = []
                while not got:
                    data = s.recv(65536)
                    assert data, "the adapter closed the connection"
                    got = framer.feed(data)
                replies += [g.decode() for g in got]
        return replies


@contextmanager
def listening(**options: object) -> Iterator[Listener]:
    listener = Listener(Hl7Device("r3", "gw1", "mllp://127.0.0.1:0", options=options))
    listener.thread.start()
    try:
        assert listener.device.listening.wait(10)
        yield listener
    finally:
        listener.stop.set()
        listener.thread.join(10)
        assert not listener.thread.is_alive()


def test_the_sample_over_tcp_is_acknowledged_and_published() -> None:
    with listening() as rig:
        replies = rig.send(SAMPLE, oru(msh9="QRY^A19"))
        assert [r.split("\r")[1] for r in replies] == ["MSA|AA|MSG00001", "MSA|AR|C1"]
        got = wait_until(lambda: rig.readings() if len(rig.readings()) == 8 else None, 10,
                         what="eight readings")
        assert {r.code: r.value for r in got} == EXPECTED
        assert {(r.room, r.device) for r in got} == {("r3", "gw1")}
        assert got[0].device_time == NOON and [r.seq for r in got] == list(range(1, 9))
        assert rig.states() == [LinkState.OK]
        # A second sender, at the same time as a first that stays connected.
        with socket.create_connection(("127.0.0.1", rig.device.bound_port or 0), 5):
            assert rig.send(SAMPLE)[0].split("\r")[1] == "MSA|AA|MSG00001"
    assert rig.device.acks == {"AA": 2, "AE": 0, "AR": 1}
    assert rig.device.counters.readings == 16


def test_silence_is_reported_and_data_recovers_the_link() -> None:
    with listening(silence_seconds=0.3) as rig:
        rig.send(SAMPLE)
        wait_until(lambda: LinkState.SILENT in rig.states(), 10, what="a silent link")
        rig.send(SAMPLE)
        wait_until(lambda: rig.states()[-1] is LinkState.OK, 10, what="the link back")
    # (it may fall silent again before the listener stops)
    assert rig.states()[:3] == [LinkState.OK, LinkState.SILENT, LinkState.OK]


def test_a_port_in_use_is_a_lost_link_with_a_sentence() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        listener = Listener(Hl7Device("r3", "gw1", f"mllp://127.0.0.1:{port}"))
        listener.thread.start()
        try:
            status = wait_until(lambda: next((m for m in listener.messages
                                              if isinstance(m, DeviceStatus)), None), 10,
                                what="a link state")
        finally:
            listener.stop.set()
            listener.thread.join(10)
    assert status.state is LinkState.LOST
    assert status.detail.startswith(f"Cannot listen for HL7 on 127.0.0.1:{port}")


def test_round_trip_from_our_own_exporter(tmp_path: Path) -> None:
    engine = open_database(f"sqlite:///{tmp_path / 'ivmon.db'}")
    migrate(engine)
    rec = record_session(engine, "r1", minutes=3)
    stored = sorted((ms, code, value) for ms, code, value, _ in readings(engine, rec.id))
    messages = [m.encode() for m in session_messages(engine, rec.id)]
    engine.dispose()
    with listening() as rig:
        replies = rig.send(*messages)
        assert len(replies) == len(messages) == 180
        assert all(r.split("\r")[1].startswith("MSA|AA|S") for r in replies)
        got = wait_until(lambda: rig.readings() if len(rig.readings()) == len(stored) else None,
                         10, what="every reading")
    received = sorted((to_ms(r.device_time), r.code, r.value) for r in got
                      if r.device_time is not None)
    assert received == stored
