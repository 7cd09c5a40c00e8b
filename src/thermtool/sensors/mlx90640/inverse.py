"""The inverse of the MLX90640 calibration (pure numpy): scene temperatures -> the raw RAM words a sensor
would report, so emulators and `sim` feed the real decoding path.

Each step inverts one of datasheet section 11.2.2 and is checked by decoding with `calibration`. Words are
integers, so a pixel lands on the nearest ADC count and decodes within half a count of its scene: one
count is about 0.1-0.3 C at 18-bit resolution near room temperature, half that at 19-bit, 4x at 16-bit
(`count_step` gives it per pixel). A scene made of decodable temperatures round-trips exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from ...errors import InputError
from .calibration import (
    COLS,
    CONTROL,
    CP_SP0,
    CP_SP1,
    FRAME_WORDS,
    GAIN,
    KELVIN,
    PIXELS,
    RESOLUTION_SHIFT,
    ROWS,
    SUBPAGE,
    TA_PTAT,
    TA_VBE,
    VDD_PIX,
    Calibration,
    SensorConstants,
    calculate_to,
    check_emissivity,
    cp_compensated,
    first_estimate,
    frame_pattern,
    frame_scale,
    frame_ta,
    frame_vdd,
    pixel_offsets,
    range_factor,
    reflected_term,
)

# GAIN_EE over the frame's GAIN word in real frames at the EEPROM's resolution (1.013 and 1.018 in the
# Melexis sample and the datasheet example); the word scales by 2 per ADC resolution step.
_GAIN_RATIO = 1.015
# Typical Ta_PTAT word at 25 C and its slope per C (real frames: 1615 at 25.7 C, 1685 at 33.9 C).
_PTAT_25, _PTAT_PER_C = 1610.0, 6.0
_PTAT_SEARCH = np.arange(-64, 65)
# Pixel words are clipped to int16 without 0x7FFF, the "frame data error" marker drivers discard.
_WORD_MIN, _WORD_MAX = -32768, 32766
# Scenes are clamped to the object temperature range of the datasheet's features list.
_TO_MIN, _TO_MAX = -40.0, 300.0
C = TypeVar("C")  # a sensor's Calibration
_RANGE_PASSES = 4  # fixed-point passes for the range of the first estimate (converges in 2-3)


def raw_frame(temperatures: np.ndarray, cal: Calibration, subpage: int, control: int, ta: float = 25.0,
              vdd: float = 3.3, emissivity: float = 1.0, reflected_temp: float | None = None) -> np.ndarray:
    """The 834-word frame (uint16) that decodes to `temperatures` (deg C, (24, 32)) on `subpage`'s pixels,
    to `ta` and to `vdd`, for the pattern and ADC resolution in `control` (register 0x800D).

    Ta lands within 0.006 C (typically 1e-4 C): it is the ratio of two integer words near typical values.
    Other-subpage pixels encode the same scene (plausible neighbours); non-finite temperatures encode Ta,
    and the scene is clamped to the sensor's object range, -40..300 C.
    `reflected_temp` None means the decoded Ta - 8, as `calculate_to` assumes by default.
    """
    scene, emissivity = check_scene(temperatures, (ROWS, COLS), subpage, emissivity)
    words = np.zeros(FRAME_WORDS, dtype=np.int64)
    words[CONTROL] = int(control) & 0xFFFF
    words[SUBPAGE] = subpage
    resolution_step = ((int(control) >> RESOLUTION_SHIFT) & 0x3) - cal.resolution_ee

    # 11.2.2.2 inverted: the VDDpix word as the sensor reports it at the control word's resolution.
    words[VDD_PIX] = int16(((vdd - 3.3) * cal.k_vdd + cal.vdd25) * 2.0**resolution_step)
    vdd_decoded = frame_vdd(words, cal)
    words[TA_PTAT], words[TA_VBE] = ptat_words(cal, ta, vdd_decoded)
    ta_decoded = frame_ta(words, cal)

    # 11.2.2.4: a GAIN word like real frames' (it scales with the ADC resolution, as the pixel data do).
    words[GAIN] = int16(cal.gain_ee / _GAIN_RATIO * 2.0**resolution_step)
    gain = cal.gain_ee / int(words[GAIN])
    _, interleaved = frame_pattern(words)
    # 11.2.2.6 inverted: CP words whose compensated value is about zero, as in real frames.
    for sp, index in ((0, CP_SP0), (1, CP_SP1)):
        residual = cp_compensated(words, cal, sp, interleaved, gain, ta_decoded, vdd_decoded)
        words[index] = int16(int(words[index]) - residual / gain)
    ir_cp = cp_compensated(words, cal, subpage, interleaved, gain, ta_decoded, vdd_decoded)

    tr = ta_decoded - 8.0 if reflected_temp is None else float(reflected_temp)
    ta_tr = reflected_term(ta_decoded, tr, emissivity)
    target = np.clip(np.where(np.isfinite(scene), scene, ta_decoded), _TO_MIN, _TO_MAX).reshape(-1)
    for sp in (0, 1):
        pixels = cal.pixel_sets[(interleaved, sp)]
        normalised = normalised_ir(target[pixels.flat], ta_tr, cal)
        # 11.2.2.8, 11.2.2.5.4, 11.2.2.7, 11.2.2.5.3 and 11.2.2.5.1 inverted, in reverse order.
        ir = normalised * pixels.alpha / frame_scale(cal, ta_decoded, emissivity)
        counts = (ir + cal.tgc * ir_cp + pixel_offsets(pixels, ta_decoded, vdd_decoded)) / gain
        words[pixels.flat] = np.clip(np.rint(counts), _WORD_MIN, _WORD_MAX)
    return words.astype(np.uint16)


def check_scene(temperatures: np.ndarray, shape: tuple[int, int], subpage: int,
                emissivity: float) -> tuple[np.ndarray, float]:
    """The scene as float64 and the emissivity, after checking what `raw_frame` was given (InputError)."""
    scene = np.asarray(temperatures, dtype=np.float64)
    if scene.shape != shape:
        raise InputError(f"temperatures have shape {scene.shape}, expected {shape}")
    if subpage not in (0, 1):
        raise InputError(f"subpage must be 0 or 1, got {subpage!r}")
    return scene, check_emissivity(emissivity)


def count_step(frame: np.ndarray, cal: C, emissivity: float = 1.0, reflected_temp: float | None = None,
               calculate: Callable[[np.ndarray, C, float, float | None], np.ndarray] = calculate_to,
               pixels: int = PIXELS) -> np.ndarray:
    """Temperature change (C; NaN off the subpage) of one ADC count on each pixel of `frame`, decoded with
    `calculate` (default the MLX90640's; the MLX90641 passes its own and its `pixels` count).

    The larger of the steps up and down: a frame from `raw_frame` decodes to its scene within half of it.
    """
    frame = np.asarray(frame, dtype=np.uint16)
    steps = []
    for delta in (-1, 0, 1):
        shifted = frame.copy()
        shifted[:pixels] = (frame[:pixels].astype(np.int64) + delta).astype(np.uint16)
        steps.append(calculate(shifted, cal, emissivity, reflected_temp))
    return np.maximum(np.abs(steps[1] - steps[0]), np.abs(steps[2] - steps[1]))


def normalised_ir(to: np.ndarray, ta_tr: float, cal: C,
                  estimate_of: Callable[[np.ndarray, float, C], np.ndarray] = first_estimate,
                  factor_of: Callable[[np.ndarray, C], np.ndarray] = range_factor) -> np.ndarray:
    """IR / alpha (K^4) that datasheet 11.2.2.9 and 11.2.2.9.1 turn into `to` (deg C), with the sensor's
    first estimate and range factor (default the MLX90640's; the MLX90641's follow the same equations).

    (To + 273.15)^4 = IR / (alpha * range factor of the first estimate) + Ta-r, so IR follows once that
    estimate is known; it depends on IR only through the weak KsTo slope, so a few fixed-point passes settle it.
    """
    kelvin = to + KELVIN
    fourth = kelvin**4 - ta_tr
    estimate = kelvin
    with np.errstate(invalid="ignore"):  # clamped scenes keep every root real; NaN would only propagate
        for _ in range(_RANGE_PASSES):
            estimate = estimate_of(fourth * factor_of(estimate, cal), ta_tr, cal)
    return fourth * factor_of(estimate, cal)


def ptat_words(cal: SensorConstants, ta: float, vdd: float, ptat_25: float = _PTAT_25) -> tuple[int, int]:
    """(Ta_PTAT, Ta_VBE) words near typical values (Ta_PTAT about `ptat_25` at 25 C) whose ratio decodes
    closest to `ta` (11.2.2.3 inverted)."""
    ptat_art = ((ta - 25) * cal.kt_ptat + cal.v_ptat25) * (1 + cal.kv_ptat * (vdd - 3.3))
    ptat = np.rint(ptat_25 + _PTAT_PER_C * (ta - 25)) + _PTAT_SEARCH
    vbe = np.rint(ptat * 2.0**18 / ptat_art - ptat * cal.alpha_ptat)
    error = np.abs(ptat / (ptat * cal.alpha_ptat + vbe) * 2.0**18 - ptat_art)
    best = int(np.argmin(error))
    return int16(ptat[best]), int16(vbe[best])


def int16(value: float) -> int:
    """`value` rounded to the nearest integer and clipped to the int16 words the RAM holds."""
    return int(np.clip(np.rint(value), -32768, 32767))
