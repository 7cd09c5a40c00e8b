"""MLX90640 calibration maths (pure numpy): EEPROM words -> parameters -> Vdd, Ta and object temperatures.

The steps follow the MLX90640 datasheet section 11 ("Calculating object temperature") and Melexis'
reference library (MLX90640_API.c: ExtractParameters, GetVdd, GetTa, CalculateTo, BadPixelsCorrection),
vectorised over the pixels of a subpage and computed in float64. Everything that does not depend on a
frame is computed once by `extract_parameters`; `calculate_to` only combines it with the frame's words.

Where the datasheet text and Melexis' current library differ, this module follows the library and says
so at the step: its values are the ones the conformance vectors (and the Melexis sample data) pin down.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from ...errors import InputError, SensorError

ROWS, COLS = 24, 32
PIXELS = ROWS * COLS
EEPROM_WORDS = 832
FRAME_WORDS = 834
KELVIN = 273.15

# Frame word positions in the MLX90640_GetFrameData layout: RAM 0x0400.. (pixels), 0x0700.. (aux), then
# the control register and the subpage number (datasheet RAM address map).
TA_VBE, CP_SP0, GAIN, TA_PTAT, CP_SP1, VDD_PIX = 768, 776, 778, 800, 808, 810
CONTROL, SUBPAGE = 832, 833
# Control register 0x800D: bit 12 = reading pattern (1 chess, 0 interleaved), bits 11:10 = ADC resolution.
CHESS_BIT = 0x1000
RESOLUTION_SHIFT = 10
_Int = TypeVar("_Int", int, np.ndarray)
MAX_BAD_PIXELS = 4  # datasheet "False pixel correction": at most 4 broken + outlier pixels per device


class CalibrationError(SensorError):
    """The EEPROM does not hold a usable calibration (blank, out of the datasheet's ranges, bad pixels)."""


def _frozen(array: np.ndarray) -> np.ndarray:
    """`array`, marked read-only (module constants and Calibration fields are shared, never written)."""
    array.setflags(write=False)
    return array


_ROW, _COL = (_frozen(a) for a in np.indices((ROWS, COLS)))
# Datasheet 11.2.2.5 (reading patterns, Fig 5): interleaved subpage = row parity, chess = (row+col) parity.
_IL_PATTERN = _frozen(_ROW % 2)
_CHESS_PATTERN = _frozen((_ROW + _COL) % 2)
# Pattern-conversion sign used with ilChessC[1]: columns 4k+1 -> -1, 4k+3 -> +1, even columns 0, and the
# sign flips on odd rows (Melexis' conversionPattern).
_CONVERSION = _frozen(np.choose(_COL % 4, [0, -1, 0, 1]) * (1 - 2 * _IL_PATTERN))
# Kta/Kv "split" (datasheet 11.1, restoring Kta and Kv): index 2*(row parity) + (column parity).
_SPLIT = _frozen(2 * _IL_PATTERN + _COL % 2)


def subpage_mask(subpage: int, interleaved: bool) -> np.ndarray:
    """(24, 32) bool mask of the pixels a subpage measures, for the chess or the interleaved pattern."""
    if subpage not in (0, 1):
        raise InputError(f"subpage must be 0 or 1, got {subpage!r}")
    pattern = _IL_PATTERN if interleaved else _CHESS_PATTERN
    return pattern == subpage


# (interleaved, subpage) -> (rows, cols) of its pixels, and the same as flat indices 0..767.
_SUBPAGE_INDEX = {
    (il, sp): tuple(_frozen(a) for a in np.nonzero(subpage_mask(sp, il))) for il in (False, True) for sp in (0, 1)
}
_SUBPAGE_FLAT = {key: _frozen(rows * COLS + cols) for key, (rows, cols) in _SUBPAGE_INDEX.items()}


@dataclass(frozen=True, eq=False)
class PixelSet:
    """The pixels one subpage measures in one reading pattern, with their frame-independent terms gathered
    once: `offset_terms` (n, 4) holds offset - pattern conversion, offset*Kta, offset*Kv, offset*Kta*Kv, so
    the offsets at (Ta, Vdd) are one product with (1, Ta-25, Vdd-3.3, (Ta-25)(Vdd-3.3)) (11.2.2.5.3)."""

    rows: np.ndarray
    cols: np.ndarray
    flat: np.ndarray  # row * 32 + column
    offset_terms: np.ndarray
    alpha: np.ndarray  # alpha_comp of these pixels


@dataclass(frozen=True, eq=False)
class SensorConstants:
    """The EEPROM constants both Melexis sensors' equations share (supply, ambient, gain, TGC, KsTa and the
    ADC resolution they were calibrated at); each model's Calibration adds its own."""

    # Supply (datasheet 11.1, restoring the VDD sensor parameters)
    k_vdd: float
    vdd25: float
    # Ambient (datasheet 11.1, restoring the Ta sensor parameters)
    kv_ptat: float
    kt_ptat: float
    v_ptat25: float
    alpha_ptat: float
    gain_ee: float
    tgc: float
    ks_ta: float
    resolution_ee: int


@dataclass(frozen=True, eq=False)
class Calibration(SensorConstants):
    """Every parameter of MLX90640_ExtractParameters (float64, per-pixel arrays (24, 32)), plus the
    frame-independent per-pixel terms of the To equation, precomputed once. Arrays are read-only."""

    chess_ee: bool  # Melexis' calibrationModeEE: the device was calibrated in chess mode
    ks_to: np.ndarray  # (4,) sensitivity slope of each object temperature range
    ct: np.ndarray  # (4,) corner temperatures: -40, 0, CT3, CT4
    cp_alpha: np.ndarray  # (2,) compensation pixel sensitivity, subpage 0 and 1
    cp_offset: np.ndarray  # (2,)
    cp_kta: float
    cp_kv: float
    il_chess_c: np.ndarray  # (3,) chess/interleaved conversion coefficients
    alpha: np.ndarray  # per-pixel sensitivity as stored in the EEPROM
    offset: np.ndarray
    kta: np.ndarray
    kv: np.ndarray
    broken: tuple[int, ...]
    outliers: tuple[int, ...]
    eeprom: np.ndarray
    # Frame-independent terms
    alpha_comp: np.ndarray  # alpha minus the TGC part of the compensation pixel's sensitivity
    alpha_corr_r: np.ndarray  # (4,) sensitivity correction at the start of each range
    pixel_sets: dict[tuple[bool, int], PixelSet]  # (interleaved, subpage) -> its pixels' terms

    @property
    def bad_pixels(self) -> tuple[int, ...]:
        """Broken and outlier pixel indices (0..767), sorted."""
        return tuple(sorted(self.broken + self.outliers))


def signed_field(value: _Int, bits: int) -> _Int:
    """Two's complement of a `bits`-wide field (int or integer array)."""
    half = 1 << (bits - 1)
    return ((value + half) & ((1 << bits) - 1)) - half


def _nibbles(words: np.ndarray) -> np.ndarray:
    """Nibbles of each word, least significant first: word i -> entries 4i..4i+3."""
    words = np.asarray(words, dtype=np.int64)
    return ((words[:, None] >> np.array([0, 4, 8, 12])) & 0xF).reshape(-1)


def _readonly(a: np.ndarray) -> np.ndarray:
    return _frozen(np.array(a, dtype=np.float64))


def extract_parameters(eeprom: np.ndarray) -> Calibration:
    """Decode and validate the 832 EEPROM words (0x2400..0x273F) into a `Calibration`.

    Raises CalibrationError for a blank EEPROM, fields outside the datasheet's ranges, more than four
    broken/outlier pixels, or bad pixels next to each other (Melexis' current rules).
    """
    raw = np.asarray(eeprom)
    if raw.shape != (EEPROM_WORDS,):
        raise CalibrationError(f"EEPROM dump has shape {raw.shape}, expected {EEPROM_WORDS} words")
    ee = raw.astype(np.int64) & 0xFFFF
    if not ee.any():
        raise CalibrationError("EEPROM reads as all 0x0000: no calibration data (check power and wiring)")
    if (ee == 0xFFFF).all():
        raise CalibrationError("EEPROM reads as all 0xFFFF: no calibration data (check pull-ups and wiring)")
    w = [int(x) for x in ee[:64]]

    # 11.1 restoring the VDD sensor parameters: Kvdd = signed MSB * 32, Vdd25 = (LSB - 256) * 32 - 8192.
    k_vdd = signed_field(w[51] >> 8, 8) * 32
    vdd25 = ((w[51] & 0xFF) - 256) * 32 - 8192
    # 11.1 restoring the Ta sensor parameters.
    kv_ptat = signed_field(w[50] >> 10, 6) / 4096
    kt_ptat = signed_field(w[50] & 0x3FF, 10) / 8
    v_ptat25 = signed_field(w[49], 16)
    alpha_ptat = (w[16] >> 12) / 4 + 8
    # 11.1 restoring the GAIN coefficient, KsTa and TGC; the EEPROM's ADC resolution (bits 13:12 of 0x2438).
    gain_ee = signed_field(w[48], 16)
    tgc = signed_field(w[60] & 0xFF, 8) / 32
    ks_ta = signed_field(w[60] >> 8, 8) / 8192
    resolution_ee = (w[56] >> 12) & 0x3
    # 0x240A bit 11 clear = calibrated in chess mode (Melexis' calibrationModeEE).
    chess_ee = not (w[10] & 0x0800)

    # 11.2.2.9.1 extended ranges: corner temperatures (11.2.2.9.1.1) and the KsTo of the four ranges.
    step = ((w[63] >> 12) & 0x3) * 10
    ct3 = ((w[63] >> 4) & 0xF) * step
    ct4 = ct3 + ((w[63] >> 8) & 0xF) * step
    ct = np.array([-40.0, 0.0, ct3, ct4])
    ks_to_scale = 2.0 ** ((w[63] & 0xF) + 8)
    ks_to = np.array([signed_field(w[61] & 0xFF, 8), signed_field(w[61] >> 8, 8), signed_field(w[62] & 0xFF, 8),
                      signed_field(w[62] >> 8, 8)]) / ks_to_scale

    # 11.1 restoring the compensation pixel (CP) sensitivity, offset, Kv and Kta.
    kta_scale1 = ((w[56] >> 4) & 0xF) + 8
    kta_scale2 = w[56] & 0xF
    kv_scale = (w[56] >> 8) & 0xF
    cp_alpha0 = signed_field(w[57] & 0x3FF, 10) / 2.0 ** ((w[32] >> 12) + 27)
    cp_alpha = np.array([cp_alpha0, cp_alpha0 * (1 + signed_field(w[57] >> 10, 6) / 128)])
    cp_offset0 = signed_field(w[58] & 0x3FF, 10)
    cp_offset = np.array([cp_offset0, cp_offset0 + signed_field(w[58] >> 10, 6)], dtype=np.float64)
    cp_kta = signed_field(w[59] & 0xFF, 8) / 2.0**kta_scale1
    cp_kv = signed_field(w[59] >> 8, 8) / 2.0**kv_scale

    # Chess/interleaved conversion coefficients (0x2435): 6-bit /16, 5-bit /2, 5-bit /8.
    il_chess_c = np.array([signed_field(w[53] & 0x3F, 6) / 16, signed_field((w[53] >> 6) & 0x1F, 5) / 2,
                           signed_field(w[53] >> 11, 5) / 8])

    pix = ee[64:].reshape(ROWS, COLS)
    # 11.1 restoring the offset: reference + row and column corrections + per-pixel remainder.
    occ_row = signed_field(_nibbles(ee[18:24]), 4)[:, None]
    occ_col = signed_field(_nibbles(ee[24:32]), 4)[None, :]
    offset = (signed_field(w[17], 16) + occ_row * 2 ** ((w[16] >> 8) & 0xF) + occ_col * 2 ** ((w[16] >> 4) & 0xF)
              + signed_field(pix >> 10, 6) * 2 ** (w[16] & 0xF))
    # 11.1 restoring the sensitivity alpha(i, j).
    acc_row = signed_field(_nibbles(ee[34:40]), 4)[:, None]
    acc_col = signed_field(_nibbles(ee[40:48]), 4)[None, :]
    alpha = (w[33] + acc_row * 2 ** ((w[32] >> 8) & 0xF) + acc_col * 2 ** ((w[32] >> 4) & 0xF)
             + signed_field((pix >> 4) & 0x3F, 6) * 2 ** (w[32] & 0xF)) / 2.0 ** ((w[32] >> 12) + 30)
    # 11.1 restoring Kta(i, j): KtaRC by row/column parity + per-pixel 3-bit remainder.
    kta_rc = np.array([signed_field(w[54] >> 8, 8), signed_field(w[55] >> 8, 8), signed_field(w[54] & 0xFF, 8),
                       signed_field(w[55] & 0xFF, 8)])
    kta = (kta_rc[_SPLIT] + signed_field((pix >> 1) & 0x7, 3) * 2**kta_scale2) / 2.0**kta_scale1
    # 11.1 restoring Kv(i, j): one 4-bit value per row/column parity.
    kv_t = signed_field(np.array([w[52] >> 12, (w[52] >> 4) & 0xF, (w[52] >> 8) & 0xF, w[52] & 0xF]), 4)
    kv = kv_t[_SPLIT] / 2.0**kv_scale

    # Datasheet 11.2.2.8 compensates alpha with TGC * alpha_CP of the frame's subpage; Melexis' current
    # library uses the mean of both subpages' alpha_CP for every pixel. We follow the library (its values
    # are what the reference vectors pin down); the two differ only when TGC != 0.
    alpha_comp = alpha - tgc * (cp_alpha[0] + cp_alpha[1]) / 2
    # 11.2.2.9.1 sensitivity correction at the start of each range, continuous across the corners.
    corr2 = 1 + ks_to[1] * ct[2]
    alpha_corr_r = np.array([1 / (1 + ks_to[0] * (ct[1] - ct[0])), 1.0, corr2,
                             corr2 * (1 + ks_to[2] * (ct[3] - ct[2]))])
    # Pattern conversion: added to the IR data in the pattern the device was not calibrated in (library).
    il_correction = il_chess_c[2] * (2 * _IL_PATTERN - 1) - il_chess_c[1] * _CONVERSION

    broken, outliers = _deviating_pixels(pix)
    _check_ranges(k_vdd=k_vdd, kt_ptat=kt_ptat, v_ptat25=v_ptat25, gain_ee=gain_ee, ct=ct, alpha_comp=alpha_comp,
                  alpha_corr_r=alpha_corr_r, broken=broken)

    conversion = {chess_ee: il_correction, not chess_ee: np.zeros_like(il_correction)}  # by `interleaved`
    pixel_sets = {key: _pixel_set(key, offset, conversion[key[0]], kta, kv, alpha_comp) for key in _SUBPAGE_INDEX}
    return Calibration(
        k_vdd=float(k_vdd), vdd25=float(vdd25), kv_ptat=kv_ptat, kt_ptat=kt_ptat, v_ptat25=float(v_ptat25),
        alpha_ptat=alpha_ptat, gain_ee=float(gain_ee), tgc=tgc, ks_ta=ks_ta, resolution_ee=resolution_ee,
        chess_ee=chess_ee, ks_to=_readonly(ks_to), ct=_readonly(ct), cp_alpha=_readonly(cp_alpha),
        cp_offset=_readonly(cp_offset), cp_kta=cp_kta, cp_kv=cp_kv, il_chess_c=_readonly(il_chess_c),
        alpha=_readonly(alpha), offset=_readonly(offset), kta=_readonly(kta), kv=_readonly(kv),
        broken=broken, outliers=outliers, eeprom=_frozen(ee.astype(np.uint16)), alpha_comp=_readonly(alpha_comp),
        alpha_corr_r=_readonly(alpha_corr_r), pixel_sets=pixel_sets,
    )


def _pixel_set(key: tuple[bool, int], offset: np.ndarray, conversion: np.ndarray, kta: np.ndarray, kv: np.ndarray,
               alpha_comp: np.ndarray) -> PixelSet:
    """The terms of the pixels of `key` = (interleaved, subpage)."""
    at = rows, cols = _SUBPAGE_INDEX[key]
    terms = np.stack([offset[at] - conversion[at], offset[at] * kta[at], offset[at] * kv[at],
                      offset[at] * kta[at] * kv[at]], axis=1)
    return PixelSet(rows=rows, cols=cols, flat=_SUBPAGE_FLAT[key], offset_terms=_readonly(terms),
                    alpha=_readonly(alpha_comp[at]))


def _deviating_pixels(pix: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Broken (word 0) and outlier (bit 0 set) pixels, validated as in the datasheet's "False pixel
    correction" and Melexis' current ExtractDeviatingPixels: at most 4 in all, none next to another."""
    flat = pix.reshape(-1)
    broken = tuple(int(i) for i in np.flatnonzero(flat == 0))
    outliers = tuple(int(i) for i in np.flatnonzero((flat & 1) == 1))
    if len(broken) + len(outliers) > MAX_BAD_PIXELS:
        raise CalibrationError(f"EEPROM marks {len(broken)} broken and {len(outliers)} outlier pixels; "
                               f"at most {MAX_BAD_PIXELS} in all are allowed (damaged sensor or bad read)")
    bad = sorted(broken + outliers)
    for n, a in enumerate(bad):
        for b in bad[n + 1:]:
            # Adjacent = within one row and one column (the 8-neighbourhood), as in the corrected
            # CheckAdjacentPixels; the old index-difference test also matched pixels on other rows.
            if abs(a // COLS - b // COLS) <= 1 and abs(a % COLS - b % COLS) <= 1:
                raise CalibrationError(f"EEPROM marks adjacent bad pixels {a} and {b} "
                                       f"(row, column {divmod(a, COLS)} and {divmod(b, COLS)}); cannot correct them")
    return broken, outliers


#: Pixel sensitivities above this are not a thermopile's: real units span 2e-8..1.4e-7 (the datasheet's
#: worked example 1.3e-7); a flipped bit in a scale nibble multiplies them by a power of two.
MAX_ALPHA = 1e-6


def _check_ranges(*, k_vdd: float, kt_ptat: float, v_ptat25: float, gain_ee: float, ct: np.ndarray,
                  alpha_comp: np.ndarray, alpha_corr_r: np.ndarray, broken: tuple[int, ...]) -> None:
    """Reject fields the datasheet's equations cannot use: zero or wrong-signed slopes, empty ranges,
    sensitivities no thermopile has."""
    if v_ptat25 <= 0:
        raise CalibrationError(f"EEPROM VPTAT25 is {v_ptat25:g}, must be positive (corrupt calibration word 0x2431)")
    check_slopes(k_vdd, kt_ptat, gain_ee, ("calibration word 0x2433", "calibration word 0x2432",
                                           "calibration word 0x2430"))
    if not 0 < ct[2] <= ct[3]:
        raise CalibrationError(f"EEPROM corner temperatures CT3={ct[2]:g} C, CT4={ct[3]:g} C do not start above "
                               "0 C and increase (corrupt calibration word 0x243F)")
    if not (alpha_corr_r > 0).all():
        raise CalibrationError("EEPROM KsTo values give a non-positive range sensitivity (corrupt words 0x243D-F)")
    valid = check_sensitivities(alpha_comp.reshape(-1), broken, "calibration words 0x2420-0x242F or pixel words")
    high = np.flatnonzero((alpha_comp.reshape(-1) > MAX_ALPHA) & valid)
    if high.size:
        raise CalibrationError(f"EEPROM gives {high.size} pixels a sensitivity above {MAX_ALPHA:g} (first: pixel "
                               f"{int(high[0])}); corrupt scale or calibration words 0x2420-0x242F")


def check_slopes(k_vdd: float, kt_ptat: float, gain_ee: float, words: tuple[str, str, str]) -> None:
    """CalibrationError unless Kvdd < 0, KtPTAT > 0 and GAIN_EE > 0 (both Melexis sensors' equations divide by
    them); `words` names where each is stored, for the message."""
    if k_vdd >= 0:
        raise CalibrationError(f"EEPROM Kvdd is {k_vdd:g}, must be negative (corrupt {words[0]})")
    if kt_ptat <= 0:
        raise CalibrationError(f"EEPROM KtPTAT is {kt_ptat:g}, must be positive (corrupt {words[1]})")
    if gain_ee <= 0:
        raise CalibrationError(f"EEPROM GAIN is {gain_ee:g}, must be positive (corrupt {words[2]})")


def check_sensitivities(alpha: np.ndarray, broken: tuple[int, ...], words: str) -> np.ndarray:
    """CalibrationError when a pixel not marked broken has a sensitivity <= 0 (`words`: where alpha is
    stored); else the mask of pixels that are not broken."""
    valid = np.ones(alpha.size, dtype=bool)
    valid[list(broken)] = False
    low = np.flatnonzero(~(alpha > 0) & valid)
    if low.size:
        raise CalibrationError(f"EEPROM gives {low.size} pixels a non-positive sensitivity (first: pixel "
                               f"{int(low[0])}); corrupt {words}")
    return valid


def signed_words(frame: np.ndarray, length: int, model: str) -> np.ndarray:
    """A frame of `length` words as signed 16-bit words, after checking its length."""
    words = np.asarray(frame)
    if words.shape != (length,):
        raise InputError(f"{model} frame has shape {words.shape}, expected {length} words")
    return words.astype(np.uint16, copy=False).view(np.int16)


def supply_voltage(vdd_word: int, control: int, cal: SensorConstants) -> float:
    """Supply voltage (V) from the VDDpix word (datasheet 11.2.2.2), restored from the ADC resolution in the
    control word to the EEPROM's (11.2.2.1); the same equations on both Melexis sensors."""
    correction = 2.0 ** (cal.resolution_ee - ((control >> RESOLUTION_SHIFT) & 0x3))
    return (correction * vdd_word - cal.vdd25) / cal.k_vdd + 3.3


def ambient_temperature(ptat: int, vbe: int, vdd: float, cal: SensorConstants, model: str) -> float:
    """Sensor ambient temperature (C) from the Ta_PTAT and Ta_VBE words (datasheet 11.2.2.3):
    V_PTAT_art = V_PTAT / (V_PTAT * alpha_PTAT + V_BE) * 2^18; SensorError when the words cancel out."""
    denominator = ptat * cal.alpha_ptat + vbe
    if denominator == 0:
        raise SensorError(f"{model} frame has Ta_PTAT and Ta_VBE words that cancel out (corrupt frame)")
    ptat_art = ptat / denominator * 2.0**18
    return (ptat_art / (1 + cal.kv_ptat * (vdd - 3.3)) - cal.v_ptat25) / cal.kt_ptat + 25


def _words(frame: np.ndarray) -> np.ndarray:
    return signed_words(frame, FRAME_WORDS, "MLX90640")


def _vdd(words: np.ndarray, cal: Calibration) -> float:
    return supply_voltage(int(words[VDD_PIX]), int(words[CONTROL]), cal)


def _ta(words: np.ndarray, cal: Calibration, vdd: float) -> float:
    return ambient_temperature(int(words[TA_PTAT]), int(words[TA_VBE]), vdd, cal, "MLX90640")


def frame_vdd(frame: np.ndarray, cal: Calibration) -> float:
    """Supply voltage (V) at capture time (datasheet 11.2.2.2), resolution-corrected (11.2.2.1)."""
    return _vdd(_words(frame), cal)


def frame_ta(frame: np.ndarray, cal: Calibration) -> float:
    """Sensor ambient temperature (deg C) at capture time (datasheet 11.2.2.3)."""
    words = _words(frame)
    return _ta(words, cal, _vdd(words, cal))


def reflected_term(ta: float, reflected_temp: float, emissivity: float) -> float:
    """Ta-r of datasheet 11.2.2.9: Tr^4 - (Tr^4 - Ta^4) / emissivity, in K^4."""
    tr4 = (reflected_temp + KELVIN) ** 4
    return tr4 - (tr4 - (ta + KELVIN) ** 4) / emissivity


def cp_compensated(words: np.ndarray, cal: Calibration, subpage: int, interleaved: bool, gain: float,
                   ta: float, vdd: float) -> float:
    """Compensation pixel reading of `subpage` after gain, offset, Ta and Vdd (datasheet 11.2.2.6)."""
    offset = cal.cp_offset[subpage]
    if subpage == 1 and interleaved == cal.chess_ee:
        # 11.2.2.6.2: in the pattern the device was not calibrated in, CP subpage 1 takes ilChessC[0].
        offset += cal.il_chess_c[0]
    raw = int(words[CP_SP1 if subpage else CP_SP0])
    return raw * gain - offset * (1 + cal.cp_kta * (ta - 25)) * (1 + cal.cp_kv * (vdd - 3.3))


def check_emissivity(emissivity: float) -> float:
    """`emissivity` as a float in (0, 1], or InputError."""
    emissivity = float(emissivity)
    if not 0 < emissivity <= 1:
        raise InputError(f"emissivity must be in (0, 1], got {emissivity:g}")
    return emissivity


def pixel_offsets(pixels: PixelSet, ta: float, vdd: float, scale: float = 1.0) -> np.ndarray:
    """Offsets of `pixels` at (ta, vdd), times `scale`, to subtract from gain-compensated data (datasheet
    11.2.2.5.3): offset * (1 + Kta (Ta - 25)) * (1 + Kv (Vdd - 3.3)), less the pattern-conversion term."""
    dta, dvdd = ta - 25, vdd - 3.3
    return pixels.offset_terms @ np.array([scale, scale * dta, scale * dvdd, scale * dta * dvdd])


def frame_scale(cal: Calibration, ta: float, emissivity: float) -> float:
    """The per-frame factors of the IR data: 1 / emissivity (datasheet 11.2.2.5.4) and the KsTa term of the
    sensitivity, 1 / (1 + KsTa (Ta - 25)) (11.2.2.8); folded into one scalar so pixels take one multiply."""
    return 1 / (emissivity * (1 + cal.ks_ta * (ta - 25)))


def _root(normalised: np.ndarray, factor: np.ndarray, ta_tr: float) -> np.ndarray:
    """(IR / (alpha * factor) + Ta-r)^(1/4) in K, from `normalised` = IR / alpha (K^4).

    NaN (and a numpy warning, which callers silence) where the sum is negative: no physical To.
    """
    result = normalised / factor
    result += ta_tr
    np.sqrt(result, out=result)
    np.sqrt(result, out=result)
    return result


def first_estimate(normalised: np.ndarray, ta_tr: float, cal: Calibration) -> np.ndarray:
    """First pass of datasheet 11.2.2.9 (range-2 slope KsTo2), in K, from `normalised` = IR / alpha (K^4).

    The datasheet's To = (IR / (alpha (1 - KsTo2 273.15) + Sx) + Ta-r)^(1/4) with
    Sx = KsTo2 (alpha^3 IR + alpha^4 Ta-r)^(1/4); as alpha > 0, Sx = KsTo2 alpha (IR / alpha + Ta-r)^(1/4),
    so the denominator is alpha (1 + KsTo2 (T0 - 273.15)), T0 the uncorrected To in K. Same value, fewer
    operations.
    """
    ks = cal.ks_to[1]
    factor = normalised + ta_tr
    np.sqrt(factor, out=factor)
    np.sqrt(factor, out=factor)
    factor *= ks
    factor += 1 - ks * KELVIN
    return _root(normalised, factor, ta_tr)


def range_factor(estimate: np.ndarray, cal: Calibration) -> np.ndarray:
    """Sensitivity factor of the range each first estimate (K) falls in (datasheet 11.2.2.9.1):
    alphaCorrR(range) * (1 + KsTo(range) (To - CT(range)))."""
    ct, ks_to = cal.ct, cal.ks_to
    if np.minimum.reduce(estimate) >= ct[1] + KELVIN and np.maximum.reduce(estimate) < ct[2] + KELVIN:
        # Everything in range 2 (0 C .. CT3, the usual case): alphaCorrR = 1 and CT = 0.
        factor = estimate * ks_to[1]
        factor += 1 - ks_to[1] * KELVIN
        return factor
    # Range index: < 0 C, < CT3, < CT4, above; a NaN estimate sorts last and stays NaN.
    celsius = estimate - KELVIN
    rng = np.searchsorted(ct[1:], celsius, side="right")
    return cal.alpha_corr_r[rng] * (1 + ks_to[rng] * (celsius - ct[rng]))


def object_temperature(normalised: np.ndarray, ta_tr: float, cal: Calibration) -> np.ndarray:
    """To (deg C) from IR data normalised to sensitivity (IR / alpha, datasheet 11.2.2.8): the first pass of
    11.2.2.9, then the pass with the slope of the estimate's temperature range (11.2.2.9.1)."""
    with np.errstate(invalid="ignore"):
        to = _root(normalised, range_factor(first_estimate(normalised, ta_tr, cal), cal), ta_tr)
    to -= KELVIN
    return to


def frame_pattern(frame_words: np.ndarray) -> tuple[int, bool]:
    """(subpage, interleaved) of a frame: word 833 and control bit 12 (0 = interleaved)."""
    return int(frame_words[SUBPAGE]) & 1, not (int(frame_words[CONTROL]) & CHESS_BIT)


def calculate_to(frame: np.ndarray, cal: Calibration, emissivity: float = 1.0,
                 reflected_temp: float | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Object temperatures (deg C) of the frame's subpage pixels, written into `out` (24, 32) and returned.

    The pattern (chess or interleaved) comes from control bit 12 of the frame; pixels of the other subpage
    keep their value in `out` (NaN when `out` is None). `reflected_temp` None means Ta - 8 (Melexis' rule).
    """
    emissivity = check_emissivity(emissivity)
    words = _words(frame)
    if out is None:
        out = np.full((ROWS, COLS), np.nan)
    elif out.shape != (ROWS, COLS):
        raise InputError(f"out has shape {out.shape}, expected ({ROWS}, {COLS})")
    subpage, interleaved = frame_pattern(words)
    vdd = _vdd(words, cal)
    ta = _ta(words, cal, vdd)
    tr = ta - 8.0 if reflected_temp is None else float(reflected_temp)
    # 11.2.2.4 gain: GAIN_EE over this frame's GAIN word.
    if not words[GAIN]:
        raise SensorError("MLX90640 frame has a GAIN word of 0 (corrupt frame)")
    gain = cal.gain_ee / int(words[GAIN])
    ir_cp = cp_compensated(words, cal, subpage, interleaved, gain, ta, vdd)
    pixels = cal.pixel_sets[(interleaved, subpage)]
    scale = frame_scale(cal, ta, emissivity)
    # 11.2.2.5.1 gain and 11.2.2.5.3 offset compensation (emissivity and KsTa folded into `scale`).
    normalised = words[pixels.flat] * (gain * scale)
    normalised -= pixel_offsets(pixels, ta, vdd, scale)
    if cal.tgc:  # 11.2.2.7 gradient compensation with the CP of this subpage (TGC is 0 on most devices)
        normalised -= cal.tgc * ir_cp * scale
    normalised /= pixels.alpha  # 11.2.2.8 normalising to sensitivity
    to = object_temperature(normalised, reflected_term(ta, tr, emissivity), cal)  # 11.2.2.9
    if out.flags.c_contiguous:
        out.reshape(-1)[pixels.flat] = to
    else:
        out[pixels.rows, pixels.cols] = to
    return out


def fix_bad_pixels(image: np.ndarray, cal: Calibration, *, interleaved: bool | None = None) -> np.ndarray:
    """A copy of `image` (24, 32) with broken and outlier pixels replaced from valid neighbours.

    Melexis' BadPixelsCorrection rules: chess pattern -> median of the diagonal neighbours (the same
    subpage); interleaved -> the row neighbours, extrapolating the flatter side. `interleaved` None uses
    the pattern the EEPROM was calibrated in. Where those neighbours are not finite, the mean of the finite,
    valid 8-neighbours is used; NaN remains only when no neighbour is usable.
    """
    fixed = np.array(image, copy=True, order="C")
    if fixed.shape != (ROWS, COLS):
        raise InputError(f"image has shape {fixed.shape}, expected ({ROWS}, {COLS})")
    if interleaved is None:
        interleaved = not cal.chess_ee
    bad = set(cal.bad_pixels)
    flat = fixed.reshape(-1)  # a view: `fixed` is a fresh contiguous copy
    source = np.array(image, dtype=np.float64).reshape(-1)
    for p in sorted(bad):
        value = _row_neighbours(source, p, bad) if interleaved else _diagonal_neighbours(source, p)
        if not np.isfinite(value):
            value = _any_neighbours(source, p, bad)
        flat[p] = value
    return fixed


def _diagonal_neighbours(to: np.ndarray, p: int) -> float:
    r, c = divmod(p, COLS)
    values = [to[(r + dr) * COLS + c + dc] for dr in (-1, 1) for dc in (-1, 1)
              if 0 <= r + dr < ROWS and 0 <= c + dc < COLS]
    # Median of 4 interior neighbours, the mean of 2 on an edge, the one in a corner (as Melexis).
    return float(np.median(values))


def _row_neighbours(to: np.ndarray, p: int, bad: set[int]) -> float:
    c = p % COLS
    if c == 0:
        return float(to[p + 1])
    if c == COLS - 1:
        return float(to[p - 1])
    if c in (1, COLS - 2) or p - 2 in bad or p + 2 in bad:
        return float((to[p - 1] + to[p + 1]) / 2)
    right = to[p + 1] - to[p + 2]
    left = to[p - 1] - to[p - 2]
    return float(to[p - 1] + left if abs(right) > abs(left) else to[p + 1] + right)


def _any_neighbours(to: np.ndarray, p: int, bad: set[int]) -> float:
    r, c = divmod(p, COLS)
    values = [to[q] for q in ((r + dr) * COLS + c + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                              if (dr or dc) and 0 <= r + dr < ROWS and 0 <= c + dc < COLS)
              if q not in bad and np.isfinite(to[q])]
    return float(np.mean(values)) if values else float("nan")
