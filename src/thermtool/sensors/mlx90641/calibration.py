"""MLX90641 calibration maths (pure numpy): EEPROM words -> parameters -> Vdd, Ta and object temperatures.

The steps follow the MLX90641 datasheet section 11 (restoring the calibration parameters, 11.1, and
calculating the object temperature, 11.2) and Melexis' reference library (MLX90641_API: HammingDecode,
ExtractParameters, GetVdd, GetTa, CalculateTo, BadPixelsCorrection), vectorised over the 192 pixels and
computed in float64. Unlike the MLX90640, every subpage measures all pixels (each with its own offset), so
every subpage is a whole frame. Where the library departs from the datasheet, the datasheet wins and the
step says so; the library also stores Kta, Kv and alpha as rescaled integers for small MCUs, which we
do not (the datasheet's equations take the values themselves).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import SensorError
from ..mlx90640.calibration import (
    CalibrationError,
    SensorConstants,
    ambient_temperature,
    check_emissivity,
    check_sensitivities,
    check_slopes,
    reflected_term,
    signed_field,
    signed_words,
    supply_voltage,
)
from . import hamming

ROWS, COLS = 12, 16
PIXELS = ROWS * COLS
EEPROM_WORDS = 832
FRAME_WORDS = 242  # 192 pixels + 48 aux words (RAM 0x0580..0x05AF) + control register + subpage
KELVIN = 273.15
# Frame word positions in the MLX90641_GetFrameData layout (RAM address - 0x0580 + 192 for aux words).
TA_VBE, CP, GAIN, TA_PTAT, VDD_PIX = 192, 200, 202, 224, 234
CONTROL, SUBPAGE = 240, 241
RESOLUTION_SHIFT = 10
DEVICE_SELECT_WORD, DEVICE_SELECT_BIT = 10, 0x0040  # 0x240A bit 6: set on an MLX90641 (CheckEEPROMValid)
MAX_BROKEN_PIXELS = 1  # the library's ExtractDeviatingPixels flags more than one as an error
BASIC_RANGE = 2  # 0..80 C: the range whose KsTo the first estimate uses (datasheet 11.2.2.9)
SELF_HEATING_C = 5.0  # the datasheet's default reflected temperature is Ta - 5 for the MLX90641





def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, dtype=np.float64) if array.dtype.kind == "f" else array
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class Calibration(SensorConstants):
    """The parameters of MLX90641_ExtractParameters as floats, plus frame-independent terms. Read-only."""

    emissivity_ee: float
    ks_to: np.ndarray  # (8,)
    ct: np.ndarray  # (8,) corner temperatures, C
    alpha_corr_r: np.ndarray  # (8,) sensitivity correction at the start of each range
    cp_alpha: float
    cp_offset: float
    cp_kta: float
    cp_kv: float
    alpha: np.ndarray  # (192,) pixel sensitivity
    offset: np.ndarray  # (2, 192) per-subpage pixel offset
    kta: np.ndarray  # (192,)
    kv: np.ndarray  # (192,)
    broken: tuple[int, ...]
    corrected_words: tuple[int, ...]  # EEPROM word indices whose single-bit error the Hamming code fixed
    eeprom: np.ndarray  # the 832 words as read (with their check bits)
    offset_terms: np.ndarray  # (2, 192, 4): offset, offset*Kta, offset*Kv, offset*Kta*Kv per subpage
    alpha_comp: np.ndarray  # (192,) alpha - TGC * alpha_CP (datasheet 11.2.2.8)


def decode_words(eeprom: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """(11-bit data of the 832 words, corrected word indices); CalibrationError on an uncorrectable word.

    Words 0..15 are returned as read (they carry no Hamming code).
    """
    raw = np.asarray(eeprom)
    if raw.shape != (EEPROM_WORDS,):
        raise CalibrationError(f"EEPROM dump has shape {raw.shape}, expected {EEPROM_WORDS} words")
    words = raw.astype(np.int64) & 0xFFFF
    if not words.any():
        raise CalibrationError("EEPROM reads as all 0x0000: no calibration data (check power and wiring)")
    if (words == 0xFFFF).all():
        raise CalibrationError("EEPROM reads as all 0xFFFF: no calibration data (check pull-ups and wiring)")
    decoded = hamming.decode(words[hamming.CODED_FROM:])
    if decoded.uncorrectable.size:
        first = int(decoded.uncorrectable[0]) + hamming.CODED_FROM
        raise CalibrationError(f"EEPROM has {decoded.uncorrectable.size} word(s) with an uncorrectable Hamming "
                               f"error (first at 0x{0x2400 + first:04x}: 0x{int(words[first]):04x}); "
                               "re-read it, and replace the sensor if this persists")
    data = words.copy()
    data[hamming.CODED_FROM:] = decoded.data
    return data, tuple(int(i) + hamming.CODED_FROM for i in decoded.corrected)


def _ksto_and_corners(w: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """KsTo of the 8 ranges and their corner temperatures (datasheet 11.1, KsTo / CT)."""
    scale = 2.0 ** w[52]
    ks_to = np.array([signed_field(w[i], 11) for i in (53, 54, 55, 56, 57, 59, 61, 63)]) / scale
    ct = np.array([-40.0, -20.0, 0.0, 80.0, 120.0, w[58], w[60], w[62]])
    return ks_to, ct


def alpha_corrections(ks_to: np.ndarray, ct: np.ndarray) -> np.ndarray:
    """Sensitivity correction at the start of each range, 1 in the basic range (datasheet 11.2.2.9.1)."""
    corr = np.ones(8)
    corr[1] = 1 / (1 + ks_to[1] * (ct[2] - ct[1]))
    corr[0] = corr[1] / (1 + ks_to[0] * (ct[1] - ct[0]))
    corr[3] = 1 + ks_to[2] * (ct[3] - ct[2])
    for r in range(4, 8):
        corr[r] = corr[r - 1] * (1 + ks_to[r - 1] * (ct[r] - ct[r - 1]))
    return corr


def extract_parameters(eeprom: np.ndarray) -> Calibration:
    """Check, correct and decode the 832 EEPROM words (0x2400..0x273F) into a `Calibration`.

    Raises CalibrationError for a blank EEPROM, an uncorrectable Hamming error, a device that is not an
    MLX90641, fields outside what the equations can use, or more than one broken pixel.
    """
    data, corrected = decode_words(eeprom)
    w = [int(x) for x in data[:64]]
    if not w[DEVICE_SELECT_WORD] & DEVICE_SELECT_BIT:
        raise CalibrationError("EEPROM word 0x240A lacks the MLX90641 device bit (is this an MLX90640?)")
    # 11.1 VDD: Kvdd and Vdd25, 11-bit signed, times 32.
    k_vdd = signed_field(w[39], 11) * 32
    vdd25 = signed_field(w[38], 11) * 32
    # 11.1 Ta: KvPTAT / 2^12, KtPTAT / 2^3, VPTAT25 (two words), alphaPTAT / 2^7 (the library's scale; the
    # address map's 2^11 would give alphaPTAT ~0.6, far from the ~9 the worked example uses).
    kv_ptat = signed_field(w[43], 11) / 4096
    kt_ptat = signed_field(w[42], 11) / 8
    v_ptat25 = 32 * w[40] + w[41]
    alpha_ptat = w[44] / 128
    gain_ee = signed_field(32 * w[36] + w[37], 16)
    tgc = signed_field(w[51] & 0x01FF, 9) / 64
    resolution_ee = (w[51] & 0x0600) >> 9
    ks_ta = signed_field(w[34], 11) / 32768
    emissivity_ee = signed_field(w[35], 11) / 512
    ks_to, ct = _ksto_and_corners(w)
    # 11.1 compensation pixel: alpha / 2^scale, offset (two words), Kta and Kv as 6-bit values with a
    # 5-bit scale. The library masks Kta/Kv with 0x1F (5 bits) and so never sees their sign; the datasheet
    # gives 6 bits, which we follow.
    cp_alpha = signed_field(w[45], 11) / 2.0 ** w[46]
    cp_offset = signed_field(32 * w[47] + w[48], 16)
    cp_kta = signed_field(w[49] & 0x3F, 6) / 2.0 ** (w[49] >> 6)
    cp_kv = signed_field(w[50] & 0x3F, 6) / 2.0 ** (w[50] >> 6)

    pix = data[64:].reshape(4, PIXELS)  # offset SP0, alpha, Kta|Kv, offset SP1
    # 11.1 offsets: average + per-pixel 11-bit value * 2^scale, one table per subpage.
    offset_ref = signed_field(32 * w[17] + w[18], 16)
    offset = np.stack([signed_field(pix[0], 11), signed_field(pix[3], 11)]) * 2 ** (w[16] >> 5) + offset_ref
    # 11.1 sensitivity: a reference per 32 pixels (two rows) = row max / 2^(scale + 20), times alpha / 2047.
    scales = np.array([(w[25 + i // 2] >> 5) if i % 2 == 0 else (w[25 + i // 2] & 0x1F) for i in range(6)]) + 20
    row_ref = np.array(w[28:34]) / 2.0**scales / 2047
    alpha = pix[1] * np.repeat(row_ref, 32)
    # 11.1 Kta (bits 10:5, 6-bit) and Kv (bits 4:0, 5-bit): (value * 2^scale2 + average) / 2^scale1.
    kta = (signed_field(pix[2] >> 5, 6) * 2.0 ** (w[22] & 0x1F) + signed_field(w[21], 11)) / 2.0 ** (w[22] >> 5)
    kv = (signed_field(pix[2] & 0x1F, 5) * 2.0 ** (w[24] & 0x1F) + signed_field(w[23], 11)) / 2.0 ** (w[24] >> 5)
    # The library folds TGC * alpha_CP into alpha before it has read alpha_CP (so with 0); the datasheet
    # (11.2.2.8) subtracts the real alpha_CP, which we follow.
    alpha_comp = alpha - tgc * cp_alpha
    broken = tuple(int(i) for i in np.flatnonzero((pix == 0).all(axis=0)))
    alpha_corr_r = alpha_corrections(ks_to, ct)
    _check_ranges(k_vdd=k_vdd, kt_ptat=kt_ptat, gain_ee=gain_ee, ct=ct, alpha_comp=alpha_comp,
                  alpha_corr_r=alpha_corr_r, broken=broken)
    terms = np.stack([offset, offset * kta, offset * kv, offset * kta * kv], axis=-1)
    return Calibration(
        k_vdd=float(k_vdd), vdd25=float(vdd25), kv_ptat=kv_ptat, kt_ptat=kt_ptat, v_ptat25=float(v_ptat25),
        alpha_ptat=alpha_ptat, gain_ee=float(gain_ee), tgc=tgc, ks_ta=ks_ta, emissivity_ee=emissivity_ee,
        resolution_ee=int(resolution_ee), ks_to=_frozen(ks_to), ct=_frozen(ct), alpha_corr_r=_frozen(alpha_corr_r),
        cp_alpha=cp_alpha, cp_offset=float(cp_offset), cp_kta=cp_kta, cp_kv=cp_kv, alpha=_frozen(alpha),
        offset=_frozen(offset.astype(np.float64)), kta=_frozen(kta), kv=_frozen(kv), broken=broken,
        corrected_words=corrected, eeprom=_frozen(np.asarray(eeprom).astype(np.uint16)),
        offset_terms=_frozen(terms.astype(np.float64)), alpha_comp=_frozen(alpha_comp),
    )


def _check_ranges(*, k_vdd: float, kt_ptat: float, gain_ee: float, ct: np.ndarray, alpha_comp: np.ndarray,
                  alpha_corr_r: np.ndarray, broken: tuple[int, ...]) -> None:
    """Reject fields the equations cannot use: zero or wrong-signed slopes, unordered corners, bad pixels."""
    if len(broken) > MAX_BROKEN_PIXELS:
        raise CalibrationError(f"EEPROM marks {len(broken)} broken pixels (at most {MAX_BROKEN_PIXELS} allowed); "
                               "damaged sensor or bad read")
    check_slopes(k_vdd, kt_ptat, gain_ee, ("word 0x2427", "word 0x242A", "words 0x2424-5"))
    if not np.all(np.diff(ct) > 0):
        raise CalibrationError(f"EEPROM corner temperatures {ct[5:].tolist()} do not rise above 120 C "
                               "(corrupt words 0x243A-E)")
    if not (alpha_corr_r > 0).all():
        raise CalibrationError("EEPROM KsTo values give a non-positive range sensitivity (corrupt words 0x2434-F)")
    check_sensitivities(alpha_comp, broken, "words 0x2419-0x2421 or 0x2500-0x25BF")


def words(frame: np.ndarray) -> np.ndarray:
    """The 242-word frame as signed 16-bit words, after checking its length."""
    return signed_words(frame, FRAME_WORDS, "MLX90641")


def frame_vdd(frame: np.ndarray, cal: Calibration) -> float:
    """Supply voltage (V) at capture (datasheet 11.2.2.2), corrected for the ADC resolution (11.2.2.1)."""
    w = words(frame)
    return supply_voltage(int(w[VDD_PIX]), int(w[CONTROL]), cal)


def frame_ta(frame: np.ndarray, cal: Calibration) -> float:
    """Sensor ambient temperature (C) at capture (datasheet 11.2.2.3)."""
    w = words(frame)
    return ambient_temperature(int(w[TA_PTAT]), int(w[TA_VBE]), frame_vdd(frame, cal), cal, "MLX90641")


def frame_gain(frame: np.ndarray, cal: Calibration) -> float:
    """GAIN_EE over the frame's GAIN word (datasheet 11.2.2.4)."""
    gain = int(words(frame)[GAIN])
    if gain == 0:
        raise SensorError("MLX90641 frame has a GAIN word of 0 (corrupt frame)")
    return cal.gain_ee / gain


def cp_compensated(frame: np.ndarray, cal: Calibration, gain: float, ta: float, vdd: float) -> float:
    """The compensation pixel after gain, offset, Ta and Vdd (datasheet 11.2.2.6). Both subpages use the
    word at RAM 0x0588, as the reference library's CalculateTo does."""
    return (int(words(frame)[CP]) * gain
            - cal.cp_offset * (1 + cal.cp_kta * (ta - 25)) * (1 + cal.cp_kv * (vdd - 3.3)))


def pixel_offsets(cal: Calibration, subpage: int, ta: float, vdd: float) -> np.ndarray:
    """Offsets of every pixel for `subpage` at (ta, vdd) (datasheet 11.2.2.5.3)."""
    dta, dvdd = ta - 25, vdd - 3.3
    return cal.offset_terms[subpage] @ np.array([1.0, dta, dvdd, dta * dvdd])


def sensitivity(cal: Calibration, ta: float) -> np.ndarray:
    """alpha_comp * (1 + KsTa (Ta - 25)) per pixel (datasheet 11.2.2.8)."""
    return cal.alpha_comp * (1 + cal.ks_ta * (ta - 25))


def first_estimate(normalised: np.ndarray, ta_tr: float, cal: Calibration) -> np.ndarray:
    """First pass of datasheet 11.2.2.9 with the basic range's KsTo, in K, from IR / alpha (K^4).

    The datasheet's Sx = KsTo (alpha^3 (IR + alpha Ta-r))^(1/4) = KsTo alpha (IR / alpha + Ta-r)^(1/4) for
    alpha > 0, so To = (IR / (alpha (1 + KsTo (T0 - 273.15))) + Ta-r)^(1/4), T0 the uncorrected To in K.
    """
    ks = cal.ks_to[BASIC_RANGE]
    with np.errstate(invalid="ignore"):
        t0 = np.sqrt(np.sqrt(normalised + ta_tr))
        return np.sqrt(np.sqrt(normalised / (1 + ks * (t0 - KELVIN)) + ta_tr))


def range_factor(estimate: np.ndarray, cal: Calibration) -> np.ndarray:
    """alphaCorrR(range) * (1 + KsTo(range) (To - CT(range))) for each first estimate in K (11.2.2.9.1)."""
    celsius = estimate - KELVIN
    rng = np.clip(np.searchsorted(cal.ct, celsius, side="right") - 1, 0, 7)
    return cal.alpha_corr_r[rng] * (1 + cal.ks_to[rng] * (celsius - cal.ct[rng]))


def object_temperature(normalised: np.ndarray, ta_tr: float, cal: Calibration) -> np.ndarray:
    """To (C) from IR normalised to sensitivity: the first pass, then the estimate's range (11.2.2.9)."""
    with np.errstate(invalid="ignore"):
        factor = range_factor(first_estimate(normalised, ta_tr, cal), cal)
        return np.sqrt(np.sqrt(normalised / factor + ta_tr)) - KELVIN


def calculate_to(frame: np.ndarray, cal: Calibration, emissivity: float = 1.0,
                 reflected_temp: float | None = None) -> np.ndarray:
    """Object temperatures (C, (12, 16)) of one 242-word frame; `reflected_temp` None means Ta - 5."""
    emissivity = check_emissivity(emissivity)
    w = words(frame)
    subpage = int(w[SUBPAGE]) & 1
    vdd = frame_vdd(frame, cal)
    ta = frame_ta(frame, cal)
    tr = ta - SELF_HEATING_C if reflected_temp is None else float(reflected_temp)
    gain = frame_gain(frame, cal)
    # 11.2.2.5 gain and offset compensation, 11.2.2.7 gradient (TGC) compensation, 11.2.2.5.4 emissivity.
    ir = w[:PIXELS] * gain - pixel_offsets(cal, subpage, ta, vdd)
    if cal.tgc:
        ir -= cal.tgc * cp_compensated(frame, cal, gain, ta, vdd)
    normalised = ir / (emissivity * sensitivity(cal, ta))  # 11.2.2.8
    return object_temperature(normalised, reflected_term(ta, tr, emissivity), cal).reshape(ROWS, COLS)


def fix_bad_pixels(image: np.ndarray, cal: Calibration) -> np.ndarray:
    """A copy of `image` (12, 16) with broken pixels replaced from their row neighbours (Melexis'
    BadPixelsCorrection, with the column taken modulo 16: the library's modulo 32 is a carry-over from
    the MLX90640), extrapolating from the flatter side."""
    fixed = np.array(image, dtype=np.float64, copy=True)
    flat = fixed.reshape(-1)
    for p in cal.broken:
        c = p % COLS
        if c == 0:
            flat[p] = flat[p + 1]
        elif c == COLS - 1:
            flat[p] = flat[p - 1]
        elif c in (1, COLS - 2):
            flat[p] = (flat[p - 1] + flat[p + 1]) / 2
        else:
            right, left = flat[p + 1] - flat[p + 2], flat[p - 1] - flat[p - 2]
            flat[p] = flat[p - 1] + left if abs(right) > abs(left) else flat[p + 1] + right
    return fixed
