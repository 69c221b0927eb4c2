"""IntelliVue Data Export messages: association, MDS create, extended poll, release.

Each builder returns the user data of one message (unframed); ``frame_message`` in
``intellivue_framing`` puts it on the wire. Association-layer messages start with a
session byte (0x0D connect, 0x0E accept, ...); data export messages start with 0xE1 and
carry a remote-operation (ROSE) APDU.
"""

from __future__ import annotations

from dataclasses import dataclass

from devices.codecs.intellivue_pdu import (
    NOM_ACT_POLL_MDIB_DATA_EXT,
    NOM_ATTR_GRP_METRIC_VAL_OBS,
    NOM_ATTR_POLL_PROFILE_EXT,
    NOM_MOC_VMO_METRIC_NU,
    NOM_MOC_VMS_MDS,
    NOM_NOTI_MDS_CREAT,
    NOM_PART_OBJ,
    NOM_POLL_PROFILE_SUPPORT,
    UNSET_ABS_TIME,
    Attribute,
    Reader,
    Truncated,
    encode_attributes,
    read_attributes,
    u16,
    u32,
)

# --- session layer ---------------------------------------------------------------------

SPDU_CONNECT = 0x0D  # association request
SPDU_ACCEPT = 0x0E  # association response
SPDU_REFUSE = 0x0C
SPDU_FINISH = 0x09  # release request
SPDU_DISCONNECT = 0x0A  # release response
SPDU_ABORT = 0x19
SPDU_DATA_EXPORT = 0xE1

# Fixed session parameters of connect/accept (version and options the guide prescribes).
_SESSION_DATA = bytes.fromhex("05 08 13 01 00 16 01 02 80 00" "14 02 00 02")

# The presentation headers are fixed ASN.1 BER blocks (indefinite lengths) from the guide;
# only the user information that follows them varies. Each ends with tag 0x81, after which
# comes the BER length of the user information.
_CONNECT_PRESENTATION = bytes.fromhex(
    "31 80 a0 80 80 01 01 00 00 a2 80 a0 03 00 00 01 a4 80 30 80 02 01 01 06 04 52 01 00 01"
    "30 80 06 02 51 01 00 00 00 00 30 80 02 01 02 06 0c 2a 86 48 ce 14 02 01 00 00 00 01 01"
    "30 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 02 01 00 00 00 00 00 00 61 80 30 80 02 01 01"
    "a0 80 60 80 a1 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 03 01 00 00 be 80 28 80"
    "06 0c 2a 86 48 ce 14 02 01 00 00 00 01 01 02 01 02 81"
)
_ACCEPT_PRESENTATION = bytes.fromhex(
    "31 80 a0 80 80 01 01 00 00 a2 80 a0 03 00 00 01 a5 80 30 80 80 01 00 81 02 51 01 00 00"
    "30 80 80 01 00 81 0c 2a 86 48 ce 14 02 01 00 00 00 02 01 00 00 00 00 61 80 30 80"
    "02 01 01 a0 80 61 80 a1 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 03 01 00 00"
    "a2 03 02 01 00 a3 05 a1 03 02 01 00 be 80 28 80 02 01 02 81"
)
_ASSOCIATION_TRAILER = bytes(16)  # closes the indefinite-length BER constructs
# Release request (RLRQ, tag 0x62) and response (RLRE, tag 0x63), trailer included.
_RLRQ = bytes.fromhex("61 80 30 80 02 01 01 a0 80 62 80 80 01 00") + bytes(8)
_RLRE = bytes.fromhex("61 80 30 80 02 01 01 a0 80 63 80 80 01 00") + bytes(8)

# MDSEUserInfoStd fields
_MDDL_VERSION1 = 0x80000000
_NOMEN_VERSION = 0x40000000
SYST_CLIENT = 0x80000000
SYST_SERVER = 0x00800000
_COLD_START = 0x20000000
_POLL_PROFILE_REV_0 = 0x80000000
_P_OPT_DYN_CREATE_DELETE = 0x60000000  # the monitor may add and remove numerics on the fly
_POLL_EXT_PERIOD_NU_1SEC = 0x80000000
_MIN_POLL_PERIOD = 1000  # RelativeTime, 125 ms
_MAX_MTU = 1000  # larger poll replies arrive as linked partial results


def _length_indicator(length: int) -> bytes:
    """Session/presentation length indicator: one byte, or 0xFF and a 16-bit length."""
    return bytes((length,)) if length < 0xFF else b"\xff" + u16(length)


def _ber_length(length: int) -> bytes:
    return bytes((length,)) if length < 0x80 else b"\x82" + u16(length)


def _user_info(system_type: int) -> bytes:
    """MDSEUserInfoStd: versions, role, start-up mode and the poll profile we support."""
    profile_ext = u32(_POLL_EXT_PERIOD_NU_1SEC) + encode_attributes(())
    profile = (
        u32(_POLL_PROFILE_REV_0)
        + u32(_MIN_POLL_PERIOD)
        + u32(_MAX_MTU)
        + u32(_MAX_MTU)
        + u32(0xFFFFFFFF)  # max_bw_tx: no limit
        + u32(_P_OPT_DYN_CREATE_DELETE)
        + encode_attributes([(NOM_ATTR_POLL_PROFILE_EXT, profile_ext)])
    )
    return (
        u32(_MDDL_VERSION1)
        + u32(_NOMEN_VERSION)
        + u32(0)  # functional units
        + u32(system_type)
        + u32(_COLD_START)
        + encode_attributes(())  # option list
        + encode_attributes([(NOM_POLL_PROFILE_SUPPORT, profile)])
    )


def _session(spdu: int, session_data: bytes, presentation: bytes) -> bytes:
    body = session_data + b"\xc1" + _length_indicator(len(presentation)) + presentation
    return bytes((spdu,)) + _length_indicator(len(body)) + body


def _association(spdu: int, header: bytes, system_type: int) -> bytes:
    info = _user_info(system_type)
    presentation = header + _ber_length(len(info)) + info + _ASSOCIATION_TRAILER
    return _session(spdu, _SESSION_DATA, presentation)


def association_request() -> bytes:
    """The host's association request (connect SPDU) asking for 1 s numeric polling."""
    return _association(SPDU_CONNECT, _CONNECT_PRESENTATION, SYST_CLIENT)


def association_response() -> bytes:
    """The monitor's acceptance of an association (the emulator's answer)."""
    return _association(SPDU_ACCEPT, _ACCEPT_PRESENTATION, SYST_SERVER)


def release_request() -> bytes:
    return _session(SPDU_FINISH, b"", _RLRQ)


def release_response() -> bytes:
    return _session(SPDU_DISCONNECT, b"", _RLRE)


# --- data export (ROSE) ----------------------------------------------------------------

ROIV = 1  # invoke
RORS = 2  # result
ROER = 3  # error
ROLRS = 5  # linked (partial) result
CMD_CONFIRMED_EVENT_REPORT = 1
CMD_CONFIRMED_ACTION = 7

_SESSION_ID = 0xE100
_CONTEXT_ID = 2
_MDS = u16(NOM_MOC_VMS_MDS) + u16(0) + u16(0)  # ManagedObjectId of the monitor's MDS


def _data_export(ro_type: int, invoke_id: int, command: int, argument: bytes) -> bytes:
    apdu = u16(invoke_id) + u16(command) + u16(len(argument)) + argument
    return u16(_SESSION_ID) + u16(_CONTEXT_ID) + u16(ro_type) + u16(len(apdu)) + apdu


@dataclass(frozen=True, slots=True)
class Operation:
    """A decoded remote operation: what kind, which invocation, and its argument bytes."""

    ro_type: int
    invoke_id: int
    command: int  # for ROER: the error value
    argument: bytes


def parse_operation(data: bytes) -> Operation:
    """Split a data export message (starting 0xE1) into its remote operation."""
    reader = Reader(data)
    if reader.u16() != _SESSION_ID:
        raise Truncated("not a data export message")
    reader.u16()  # presentation context
    ro_type = reader.u16()
    apdu = reader.sub(reader.u16())
    if ro_type == ROLRS:
        apdu.take(2)  # linked id: state and count; each part decodes on its own
    invoke_id = apdu.u16()
    command = apdu.u16()
    argument = apdu.take(apdu.u16())
    return Operation(ro_type, invoke_id, command, argument)


@dataclass(frozen=True, slots=True)
class EventReport:
    obj_class: int
    event_time: int
    event_type: int
    info: bytes


def parse_event_report(argument: bytes) -> EventReport:
    reader = Reader(argument)
    obj_class = reader.u16()
    reader.take(4)  # context id, handle
    event_time = reader.u32()
    event_type = reader.u16()
    return EventReport(obj_class, event_time, event_type, reader.take(reader.u16()))


def mds_create_event(invoke_id: int, rel_time: int, attributes: list[Attribute]) -> bytes:
    """The monitor's MDS Create Event Report, sent right after it accepts an association."""
    info = _MDS + encode_attributes(attributes)
    argument = _MDS + u32(rel_time) + u16(NOM_NOTI_MDS_CREAT) + u16(len(info)) + info
    return _data_export(ROIV, invoke_id, CMD_CONFIRMED_EVENT_REPORT, argument)


def event_report_result(invoke_id: int, event_time: int, event_type: int) -> bytes:
    """Confirm an event report; for MDS create this is the MDS Create Result."""
    argument = _MDS + u32(event_time) + u16(event_type) + u16(0)
    return _data_export(RORS, invoke_id, CMD_CONFIRMED_EVENT_REPORT, argument)


@dataclass(frozen=True, slots=True)
class PollRequest:
    action_type: int
    poll_number: int
    obj_partition: int
    obj_code: int
    attr_group: int


def poll_request(invoke_id: int, poll_number: int) -> bytes:
    """Extended Poll Data Request for the observed values of all numerics, answered once."""
    request = (
        u16(poll_number)
        + u16(NOM_PART_OBJ)
        + u16(NOM_MOC_VMO_METRIC_NU)
        + u16(NOM_ATTR_GRP_METRIC_VAL_OBS)
        + encode_attributes(())  # no poll period: one reply per request
    )
    argument = _MDS + u32(0) + u16(NOM_ACT_POLL_MDIB_DATA_EXT) + u16(len(request)) + request
    return _data_export(ROIV, invoke_id, CMD_CONFIRMED_ACTION, argument)


def parse_poll_request(argument: bytes) -> PollRequest:
    reader = Reader(argument)
    reader.take(6 + 4)  # managed object, scope
    action_type = reader.u16()
    body = reader.sub(reader.u16())
    return PollRequest(action_type, body.u16(), body.u16(), body.u16(), body.u16())


@dataclass(frozen=True, slots=True)
class Observation:
    """One polled object (a numeric) and its attributes by id."""

    handle: int
    attributes: dict[int, bytes]


@dataclass(frozen=True, slots=True)
class PollReply:
    action_type: int
    poll_number: int
    rel_time: int
    abs_time: bytes  # raw AbsoluteTime; see decode_abs_time
    obj_code: int
    observations: tuple[Observation, ...]


def poll_result(
    invoke_id: int,
    poll_number: int,
    rel_time: int,
    abs_time: bytes | None,
    observations: list[tuple[int, list[Attribute]]],
    *,
    obj_code: int = NOM_MOC_VMO_METRIC_NU,
    attr_group: int = NOM_ATTR_GRP_METRIC_VAL_OBS,
) -> bytes:
    """The monitor's answer to an extended poll: one context holding ``observations``."""
    polls = b"".join(u16(handle) + encode_attributes(attrs) for handle, attrs in observations)
    context = u16(0) + u16(len(observations)) + u16(len(polls)) + polls
    reply = (
        u16(poll_number)
        + u16(0)  # sequence number
        + u32(rel_time)
        + (abs_time if abs_time is not None else UNSET_ABS_TIME)
        + u16(NOM_PART_OBJ)
        + u16(obj_code)
        + u16(attr_group)
        + u16(1)
        + u16(len(context))
        + context
    )
    argument = _MDS + u16(NOM_ACT_POLL_MDIB_DATA_EXT) + u16(len(reply)) + reply
    return _data_export(RORS, invoke_id, CMD_CONFIRMED_ACTION, argument)


def parse_poll_reply(argument: bytes) -> PollReply:
    """Decode an action result carrying a poll reply, every context and observation."""
    reader = Reader(argument)
    reader.take(6)  # managed object
    action_type = reader.u16()
    body = reader.sub(reader.u16())
    poll_number = body.u16()
    body.u16()  # sequence number
    rel_time = body.u32()
    abs_time = body.take(8)
    body.u16()  # partition
    obj_code = body.u16()
    body.u16()  # attribute group
    context_count = body.u16()
    contexts = body.sub(body.u16())
    observations: list[Observation] = []
    for _ in range(context_count):
        contexts.u16()  # context id
        count = contexts.u16()
        polls = contexts.sub(contexts.u16())
        for _ in range(count):
            handle = polls.u16()
            observations.append(Observation(handle, read_attributes(polls)))
    return PollReply(action_type, poll_number, rel_time, abs_time, obj_code, tuple(observations))
