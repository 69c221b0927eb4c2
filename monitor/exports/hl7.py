"""HL7 v2.6 export: a session as ORU^R01 messages shaped as IHE PCD-01 (DEC) prescribes.

One message per moment the readings arrived together (one monitor frame, or one cuff
cycle with its systolic, diastolic and mean), as a gateway sends them live; so a receiver
files each observation at its own time. Each message has MSH, PID (the session's label as
the name, the MRN as PID-3 when one was given; nothing else about the patient), PV1 (the
room as PV1-3's room, the session id as the visit number PV1-19), one OBR for the
monitoring, an OBX for the monitor (MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS) and one numeric OBX
per reading: OBX-3 ``code^MDC_REF_ID^MDC``, OBX-5 the value, OBX-6 the UCUM unit
``mm[Hg]^mm[Hg]^UCUM``, OBX-14 the observation time, OBX-18 the device. The file is an HL7
batch (FHS/BHS ... BTS/FTS), segments ended by a carriage return.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import groupby
from pathlib import Path

from sqlalchemy import Engine

from monitor.exports import ExportError, number
from monitor.history import SessionInfo, get_session, readings
from monitor.storage.schema import from_ms
from monitor.vitals import BY_CODE, VITALS

SENDER = "IVMON"
PCD01_PROFILE = "IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO"
MDS = "69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC"
# OBX-4 places each metric in the monitor's containment tree (MDS.VMD.channel.metric).
SUB_ID = {"hr": "1.1.1.1", "spo2": "1.2.1.1", "pr": "1.2.1.2", "nibp_sys": "1.3.1.1",
          "nibp_dia": "1.3.1.2", "nibp_mean": "1.3.1.3", "rr": "1.4.1.1", "etco2": "1.5.1.1",
          "temp": "1.6.1.1"}
ORDER = {v.code: i for i, v in enumerate(VITALS)}
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("~", "\\R\\"), ("&", "\\T\\"))


def escape(text: str) -> str:
    """Text made safe for a field: HL7's escape sequences for its delimiters, no newlines."""
    for raw, escaped in _ESCAPES:
        text = text.replace(raw, escaped)
    return " ".join(text.split())


def hl7_time(when: datetime) -> str:
    """HL7 DTM in UTC: ``YYYYMMDDHHMMSS[.SSS]+0000``."""
    when = when.astimezone(UTC)
    text = when.strftime("%Y%m%d%H%M%S")
    if when.microsecond:
        text += f".{when.microsecond // 1000:03d}"
    return text + "+0000"


def _segment(*fields: str) -> str:
    return "|".join(fields)


def oru_message(info: SessionInfo, when: datetime, values: Iterable[tuple[str, float, str]],
                control_id: str) -> str:
    """One ORU^R01 with an OBX per (code, value, device) observed at ``when``."""
    t = hl7_time(when)
    values = list(values)
    device = escape(values[0][2]) if values else ""
    pid3 = f"{escape(info.mrn)}^^^{SENDER}^MR" if info.mrn else ""
    segments = [
        "MSH|^~\\&|" + _segment(SENDER, "", "", "", t, "", "ORU^R01^ORU_R01", control_id, "P",
                                "2.6", "", "", "NE", "AL", "", "UNICODE UTF-8", "", "",
                                PCD01_PROFILE),
        _segment("PID", "", "", pid3, "", escape(info.label)),
        _segment("PV1", "", "O", f"^{escape(info.room)}", *[""] * 15, str(info.id)),
        _segment("OBR", "1", f"{control_id}^{SENDER}", f"{control_id}^{SENDER}",
                 "182777000^monitoring of patient^SCT", "", "", t),
        _segment("OBX", "1", "", MDS, "1.0.0.0", "", "", "", "", "", "", "X", *[""] * 6,
                 device),
    ]
    for n, (code, value, dev) in enumerate(values, start=2):
        v = BY_CODE[code]
        segments.append(_segment(
            "OBX", str(n), "NM", f"{v.mdc}^{v.mdc_ref}^MDC", SUB_ID.get(code, "1.0.0.1"),
            number(value), f"{v.unit}^{v.unit}^UCUM", "", "", "", "", "R", "", "", t, "", "",
            "", escape(dev)))
    return "\r".join(segments) + "\r"


def session_messages(engine: Engine, session_id: int) -> Iterator[str]:
    """The session's readings as ORU^R01 messages, in time order."""
    info = get_session(engine, session_id)
    if info is None:
        raise ExportError(f"There is no session {session_id}.")
    for n, (ms, group) in enumerate(groupby(readings(engine, session_id), key=lambda r: r[0]),
                                    start=1):
        # OBX in the vocabulary's order (HR, PR, SpO2, NIBP sys/dia/mean, ...), as on a tile.
        values = sorted(((code, value, device) for _, code, value, device in group),
                        key=lambda r: ORDER[r[0]])
        yield oru_message(info, from_ms(ms), values, f"S{session_id}-{n}")


def write_hl7(engine: Engine, session_id: int, out: Path, now: datetime | None = None) -> int:
    """Write the session as an HL7 batch file; return how many messages it holds."""
    stamp = hl7_time(now or datetime.now(UTC))
    count = 0
    with out.open("w", encoding="utf-8", newline="") as f:
        f.write(f"FHS|^~\\&|{SENDER}||||{stamp}\rBHS|^~\\&|{SENDER}||||{stamp}\r")
        for message in session_messages(engine, session_id):
            f.write(message)
            count += 1
        f.write(f"BTS|{count}\rFTS|1\r")
    return count
