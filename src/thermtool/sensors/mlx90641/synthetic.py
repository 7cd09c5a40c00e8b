"""A synthetic but plausible MLX90641 EEPROM, for the emulator and the `sim-mlx90641` camera.

The global calibration fields are those of the datasheet's worked example (section 11), a few of them
varied with the seed; the per-pixel fields (two offset tables, sensitivities, Kta/Kv) are drawn with the
row and column trends real arrays show. Every field is ENCODED into the datasheet's layout with its
Hamming code, so `extract_parameters` decodes it like a device's EEPROM.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...errors import InputError
from . import hamming
from .calibration import COLS, DEVICE_SELECT_BIT, DEVICE_SELECT_WORD, EEPROM_WORDS, PIXELS, ROWS

# Words 0x2410..0x243F of the datasheet's worked example (11-bit data, before the Hamming code).
_GLOBALS = (0, 2024, 22, 0, 0, 765, 579, 666, 356, 396, 396, 396, 1201, 1388, 1484, 1489, 1407, 1236, 1976,
            486, 311, 20, 1624, 1950, 383, 24, 342, 23, 1152, 830, 38, 2044, 9, 851, 404, 1024, 20, 1314,
            1314, 1314, 1314, 1314, 200, 1314, 400, 1314, 600, 1314)
#: Power-on control register (0x240C): 18-bit ADC, refresh code 2 (2 Hz), as the worked example.
DEFAULT_CONTROL = 0x0901
_ADDRESS_WORD = 0x0033  # 0x240F: I2C address 0x33


def _field(values: np.ndarray, bits: int) -> np.ndarray:
    return np.asarray(values, dtype=np.int64) & ((1 << bits) - 1)


def _bell(n: int) -> np.ndarray:
    return np.sin(np.pi * (np.arange(n) + 0.5) / n)


def synthetic_eeprom(seed: int = 0, *, broken: Sequence[int] = ()) -> np.ndarray:
    """A valid 832-word MLX90641 EEPROM (uint16, Hamming-coded), reproducible from `seed`; `broken`
    pixels get all four of their words zero (the library's broken-pixel mark)."""
    bad = [int(p) for p in broken]
    if any(not 0 <= p < PIXELS for p in bad):
        raise InputError(f"broken pixel indices must be in 0..{PIXELS - 1}, got {bad}")
    rng = np.random.default_rng(seed)
    data = np.zeros(EEPROM_WORDS, dtype=np.int64)
    data[16:64] = _GLOBALS
    data[37] = rng.integers(0, 32)  # GAIN low word
    data[41] = rng.integers(0, 32)  # VPTAT25 low word
    rows, cols = np.indices((ROWS, COLS))
    # Offsets (11-bit, scale 2^0 around the reference): a row/column trend plus per-pixel scatter.
    trend = 40 * (rows / (ROWS - 1)) ** 2 - 30 * (cols / (COLS - 1)) + 20 * (cols % 2)
    offset0 = np.clip(np.rint(trend + rng.normal(0, 12, trend.shape)), -1000, 1000).reshape(-1)
    offset1 = np.clip(offset0 + np.rint(rng.normal(0, 3, PIXELS)), -1000, 1000)
    # Sensitivity: highest in the centre of the array, relative to each two-row group's maximum.
    profile = 0.88 + 0.1 * np.outer(_bell(ROWS), _bell(COLS)).reshape(-1) + rng.normal(0, 0.01, PIXELS)
    alpha = np.clip(np.rint(2047 * profile), 1, 2047)
    kta = rng.choice([-2, -1, 0, 1, 2], size=PIXELS, p=[0.05, 0.2, 0.5, 0.2, 0.05]) + 6
    kv = rng.choice([-1, 0, 1], size=PIXELS, p=[0.2, 0.6, 0.2])
    data[64:256] = _field(offset0, 11)
    data[256:448] = alpha
    data[448:640] = _field(kta, 6) << 5 | _field(kv, 5)
    data[640:832] = _field(offset1, 11)
    for p in bad:
        data[64 + p::PIXELS] = 0
    words = np.zeros(EEPROM_WORDS, dtype=np.uint16)
    words[hamming.CODED_FROM:] = hamming.encode(data[hamming.CODED_FROM:])
    words[DEVICE_SELECT_WORD] = DEVICE_SELECT_BIT
    words[12] = DEFAULT_CONTROL
    words[15] = _ADDRESS_WORD
    words[7:10] = rng.integers(0, 0x10000, 3)  # device ID
    return words
