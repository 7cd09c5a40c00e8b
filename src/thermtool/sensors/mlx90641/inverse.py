"""The MLX90641 calibration run backwards (pure numpy): scene temperatures -> the 242 raw words a sensor
would report, so the emulator and `sim-mlx90641` feed the real decoding path.

Each step inverts one of datasheet section 11.2.2 and is checked by decoding with `calibration`. Pixel
words are integers, so a pixel decodes within half an ADC count of its scene (`count_step`).
"""

from __future__ import annotations

import numpy as np

from ..mlx90640 import inverse as shared
from .calibration import (
    CONTROL,
    CP,
    FRAME_WORDS,
    GAIN,
    PIXELS,
    RESOLUTION_SHIFT,
    ROWS,
    SELF_HEATING_C,
    SUBPAGE,
    TA_PTAT,
    TA_VBE,
    VDD_PIX,
    Calibration,
    calculate_to,
    cp_compensated,
    first_estimate,
    frame_gain,
    frame_ta,
    frame_vdd,
    pixel_offsets,
    range_factor,
    reflected_term,
    sensitivity,
)

_GAIN_RATIO = 1.0245  # GAIN_EE over the GAIN word in the worked example (9972 / 9734)
_PTAT_25 = 1650.0  # Ta_PTAT near 25 C (worked example: 1752 at 42 C, the MLX90640's slope of 6 per C)
_WORD_MIN, _WORD_MAX = -32768, 32766  # int16 without 0x7FFF, the value drivers treat as a frame error
_TO_MIN, _TO_MAX = -40.0, 300.0  # object range of the datasheet's features list


def count_step(frame: np.ndarray, cal: Calibration, emissivity: float = 1.0,
               reflected_temp: float | None = None) -> np.ndarray:
    """Temperature change (C, (12, 16)) of one ADC count on each pixel: the larger of the steps up and down."""
    return shared.count_step(frame, cal, emissivity, reflected_temp, calculate_to, PIXELS)




def raw_frame(temperatures: np.ndarray, cal: Calibration, subpage: int, control: int, ta: float = 25.0,
              vdd: float = 3.3, emissivity: float = 1.0, reflected_temp: float | None = None) -> np.ndarray:
    """The 242-word frame (uint16) of `subpage` that decodes to `temperatures` (C, (12, 16)), `ta`, `vdd`
    at the ADC resolution in `control`; non-finite temperatures encode Ta, the rest is clamped to
    -40..300 C. `reflected_temp` None means the decoded Ta - 5, as `calculate_to` assumes."""
    scene, emissivity = shared.check_scene(temperatures, (ROWS, PIXELS // ROWS), subpage, emissivity)
    words = np.zeros(FRAME_WORDS, dtype=np.int64)
    words[CONTROL] = int(control) & 0xFFFF
    words[SUBPAGE] = subpage
    step = ((int(control) >> RESOLUTION_SHIFT) & 0x3) - cal.resolution_ee
    # 11.2.2.2 inverted: VDDpix at the control word's resolution.
    words[VDD_PIX] = shared.int16(((vdd - 3.3) * cal.k_vdd + cal.vdd25) * 2.0**step)
    vdd_decoded = frame_vdd(_u16(words), cal)
    words[TA_PTAT], words[TA_VBE] = shared.ptat_words(cal, ta, vdd_decoded, _PTAT_25)
    ta_decoded = frame_ta(_u16(words), cal)
    words[GAIN] = shared.int16(cal.gain_ee / _GAIN_RATIO * 2.0**step)
    gain = frame_gain(_u16(words), cal)
    # 11.2.2.6 inverted: a CP word whose compensated value is about zero, as in real frames.
    words[CP] = shared.int16(-cp_compensated(_u16(words), cal, gain, ta_decoded, vdd_decoded) / gain)
    ir_cp = cp_compensated(_u16(words), cal, gain, ta_decoded, vdd_decoded)
    tr = ta_decoded - SELF_HEATING_C if reflected_temp is None else float(reflected_temp)
    ta_tr = reflected_term(ta_decoded, tr, emissivity)
    target = np.clip(np.where(np.isfinite(scene), scene, ta_decoded), _TO_MIN, _TO_MAX).reshape(-1)
    # 11.2.2.8, 11.2.2.7 and 11.2.2.5 inverted, in reverse order.
    normalised = shared.normalised_ir(target, ta_tr, cal, first_estimate, range_factor)
    ir = normalised * emissivity * sensitivity(cal, ta_decoded)
    counts = (ir + cal.tgc * ir_cp + pixel_offsets(cal, subpage, ta_decoded, vdd_decoded)) / gain
    words[:PIXELS] = np.clip(np.rint(counts), _WORD_MIN, _WORD_MAX)
    return _u16(words)


def _u16(words: np.ndarray) -> np.ndarray:
    return (words & 0xFFFF).astype(np.uint16)
