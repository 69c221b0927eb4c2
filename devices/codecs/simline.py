"""ivmon's own simulator line protocol: readable ASCII lines, decoded by the generic ASCII codec.

    VITALS HR=72 PR=71 SPO2=98 RR=14
    NIBP SYS=121 DIA=79 MAP=93

A vital the monitor reports as invalid (probe off) is sent as ``---``.
"""

from __future__ import annotations

from collections.abc import Mapping

TERMINATOR = b"\r\n"

_STREAM = (("hr", "HR"), ("pr", "PR"), ("spo2", "SPO2"), ("rr", "RR"), ("etco2", "ETCO2"),
           ("temp", "TEMP"))
_NIBP = (("nibp_sys", "SYS"), ("nibp_dia", "DIA"), ("nibp_mean", "MAP"))

PATTERNS: tuple[str, ...] = tuple(
    [rf"^VITALS\b.*\b{tag}=(?P<{code}>\S+)" for code, tag in _STREAM]
    + [rf"^NIBP\b.*\b{tag}=(?P<{code}>\S+)" for code, tag in _NIBP]
)


def _field(tag: str, value: float | None) -> str:
    return f"{tag}=---" if value is None else f"{tag}={round(value, 1):g}"


def encode_vitals(values: Mapping[str, float], invalid: frozenset[str] = frozenset()) -> bytes:
    """One VITALS line for the streamed vitals present or reported invalid."""
    fields = [_field(tag, None if code in invalid else values[code])
              for code, tag in _STREAM if code in values or code in invalid]
    return ("VITALS " + " ".join(fields)).encode("ascii") + TERMINATOR if fields else b""


def encode_nibp(sys: float, dia: float, mean: float) -> bytes:
    """One NIBP line for a completed cuff measurement."""
    return f"NIBP SYS={sys:.0f} DIA={dia:.0f} MAP={mean:.0f}".encode("ascii") + TERMINATOR
