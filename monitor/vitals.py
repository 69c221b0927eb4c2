"""The vitals vocabulary: stable codes with their units, IEEE 11073 MDC and LOINC codes."""

from __future__ import annotations

from dataclasses import dataclass

FRESH_SECONDS = 10.0  # a streamed value older than this is stale, never shown as current
NIBP_CYCLE_SECONDS = 300.0  # the default cuff cycle (CLINICAL.md: NIBP about every 5 min)


@dataclass(frozen=True, slots=True)
class Vital:
    """One measured quantity, as the CLI, exports, config and the database name it."""

    code: str
    label: str  # short label a nurse reads on a tile or in an alarm message
    name: str
    unit: str  # UCUM
    display_unit: str  # what the screen shows
    mdc: int  # IEEE 11073-10101 term code
    mdc_ref: str  # IEEE 11073 reference id, for HL7 OBX-3
    loinc: str
    low: float  # physiological bounds: a value outside is a device fault, not a reading
    high: float
    decimals: int = 0
    episodic: bool = False  # measured as discrete events (a cuff cycle), not a stream

    @property
    def fresh_seconds(self) -> float:
        """How long a value may be shown as current: 10 s, or two 5-min cuff cycles for NIBP."""
        return 2 * NIBP_CYCLE_SECONDS if self.episodic else FRESH_SECONDS


VITALS: tuple[Vital, ...] = (
    Vital("hr", "HR", "heart rate (ECG)", "/min", "bpm", 147842,
          "MDC_ECG_HEART_RATE", "8867-4", 0, 350),
    Vital("pr", "PR", "pulse rate", "/min", "bpm", 149530,
          "MDC_PULS_RATE", "8889-8", 0, 350),
    Vital("spo2", "SpO2", "oxygen saturation", "%", "%", 150456,
          "MDC_PULS_OXIM_SAT_O2", "59408-5", 0, 100),
    Vital("nibp_sys", "SBP", "non-invasive blood pressure, systolic", "mm[Hg]", "mmHg",
          150021, "MDC_PRESS_BLD_NONINV_SYS", "8480-6", 0, 350, episodic=True),
    Vital("nibp_dia", "DBP", "non-invasive blood pressure, diastolic", "mm[Hg]", "mmHg",
          150022, "MDC_PRESS_BLD_NONINV_DIA", "8462-4", 0, 300, episodic=True),
    Vital("nibp_mean", "MAP", "non-invasive blood pressure, mean", "mm[Hg]", "mmHg",
          150023, "MDC_PRESS_BLD_NONINV_MEAN", "8478-0", 0, 300, episodic=True),
    Vital("rr", "RR", "respiratory rate", "/min", "rpm", 151562,
          "MDC_RESP_RATE", "9279-1", 0, 150),
    Vital("etco2", "EtCO2", "end-tidal CO2", "mm[Hg]", "mmHg", 151708,
          "MDC_AWAY_CO2_ET", "19889-5", 0, 150),
    Vital("temp", "Temp", "temperature", "Cel", "°C", 150344,
          "MDC_TEMP", "8310-5", 10, 50, decimals=1),
)

BY_CODE: dict[str, Vital] = {v.code: v for v in VITALS}
BY_MDC: dict[int, Vital] = {v.mdc: v for v in VITALS}
NIBP_CODES: tuple[str, ...] = ("nibp_sys", "nibp_dia", "nibp_mean")


def vital(code: str) -> Vital:
    """Return the vital for a code, or raise KeyError naming the codes that exist."""
    try:
        return BY_CODE[code]
    except KeyError:
        raise KeyError(
            f"unknown vital {code!r}; expected one of {', '.join(BY_CODE)}"
        ) from None


def format_value(code: str, value: float | None) -> str:
    """Format a value with the vital's usual precision, or a dash when absent."""
    if value is None:
        return "--"
    return f"{value:.{BY_CODE[code].decimals}f}"
