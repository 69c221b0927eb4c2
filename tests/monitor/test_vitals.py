"""The vitals vocabulary (DESIGN.md table) and the Reading that carries one value."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from monitor.reading import Quality, Reading
from monitor.vitals import (
    BY_CODE,
    BY_MDC,
    FRESH_SECONDS,
    NIBP_CODES,
    VITALS,
    format_value,
    vital,
)

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

# code, UCUM unit, IEEE 11073 MDC, LOINC: copied from DESIGN.md's vocabulary table.
DESIGN_TABLE = [
    ("hr", "/min", 147842, "8867-4"),
    ("pr", "/min", 149530, "8889-8"),
    ("spo2", "%", 150456, "59408-5"),
    ("nibp_sys", "mm[Hg]", 150021, "8480-6"),
    ("nibp_dia", "mm[Hg]", 150022, "8462-4"),
    ("nibp_mean", "mm[Hg]", 150023, "8478-0"),
    ("rr", "/min", 151562, "9279-1"),
    ("etco2", "mm[Hg]", 151708, "19889-5"),
    ("temp", "Cel", 150344, "8310-5"),
]


def test_the_vocabulary_is_exactly_the_design_table() -> None:
    assert [v.code for v in VITALS] == [row[0] for row in DESIGN_TABLE]


@pytest.mark.parametrize(("code", "unit", "mdc", "loinc"), DESIGN_TABLE)
def test_each_vital_has_its_ucum_unit_mdc_and_loinc(code: str, unit: str, mdc: int,
                                                   loinc: str) -> None:
    v = vital(code)
    assert (v.unit, v.mdc, v.loinc) == (unit, mdc, loinc)
    assert BY_MDC[mdc] is v
    assert v.label and v.name and v.mdc_ref.startswith("MDC_")
    assert v.low < v.high


def test_codes_and_mdc_codes_are_unique() -> None:
    assert len(BY_CODE) == len(VITALS)
    assert len(BY_MDC) == len(VITALS)


def test_vitals_are_frozen_data() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        vital("hr").unit = "bpm"  # type: ignore[misc]


@pytest.mark.parametrize("code", ["hr", "pr", "spo2", "rr", "etco2", "temp"])
def test_a_streamed_vital_is_fresh_for_10_seconds(code: str) -> None:
    assert FRESH_SECONDS == 10.0
    assert vital(code).fresh_seconds == 10.0
    assert not vital(code).episodic


@pytest.mark.parametrize("code", NIBP_CODES)
def test_nibp_is_episodic_and_fresh_for_two_cuff_cycles(code: str) -> None:
    assert vital(code).episodic
    assert vital(code).fresh_seconds == 600.0


def test_an_unknown_code_names_the_codes_that_exist() -> None:
    with pytest.raises(KeyError, match="unknown vital 'bp'; expected one of hr, pr, spo2"):
        vital("bp")


@pytest.mark.parametrize(("code", "value", "shown"), [
    ("hr", 72.4, "72"), ("temp", 36.64, "36.6"), ("spo2", None, "--"),
])
def test_format_value_uses_the_vitals_precision(code: str, value: float | None,
                                                shown: str) -> None:
    assert format_value(code, value) == shown


def test_a_reading_takes_its_unit_from_the_code() -> None:
    r = Reading("r1", "r1-monitor", "nibp_sys", 121, NOW)
    assert r.unit == "mm[Hg]"
    assert r.quality is Quality.VALID
    assert r.device_time is None and r.seq == 0


def test_a_reading_keeps_an_explicit_unit() -> None:
    assert Reading("r1", "d", "temp", 36.6, NOW, unit="Cel").unit == "Cel"


def test_an_unknown_code_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown vital code 'heart_rate'"):
        Reading("r1", "d", "heart_rate", 72, NOW)


@pytest.mark.parametrize(("quality", "usable"), [
    (Quality.VALID, True), (Quality.QUESTIONABLE, True), (Quality.INVALID, False),
])
def test_only_an_invalid_reading_is_unusable(quality: Quality, usable: bool) -> None:
    assert Reading("r1", "d", "spo2", 97, NOW, quality=quality).usable is usable


def test_quality_is_stored_by_its_word() -> None:
    assert [str(q) for q in Quality] == ["valid", "questionable", "invalid"]


def test_a_reading_is_immutable() -> None:
    r = Reading("r1", "d", "hr", 72, NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 80  # type: ignore[misc]
