"""Grid-EYE register formats (pure numpy), from Panasonic's Grid-EYE reference specification.

Pixels (registers 0x80..0xFF, two bytes each, low byte first): 12-bit two's complement, 0.25 C per count.
Thermistor (0x0E low, 0x0F high): 12-bit sign-magnitude (bit 11 = sign), 0.0625 C per count.
"""

from __future__ import annotations

import numpy as np

ROWS = COLS = 8
PIXELS = ROWS * COLS
PIXEL_C = 0.25
THERMISTOR_C = 0.0625
_SIGN_12 = 0x800
_MASK_12 = 0xFFF
# Output range of the pixel registers in the specification's conversion table (0xF24 = -55 C .. 0x1F4 =
# +125 C); a value outside it is not a measurement but a bus glitch.
PIXEL_RANGE_C = (-55.0, 125.0)
THERMISTOR_RANGE_C = (-40.0, 125.0)  # beyond the -20..80 C operating range, with a margin


def decode_pixels(data: bytes) -> np.ndarray:
    """(8, 8) temperatures (C, float64) from the 128 pixel bytes (pixel 1 first, row by row)."""
    if len(data) != 2 * PIXELS:
        raise ValueError(f"Grid-EYE pixel data is {2 * PIXELS} bytes, got {len(data)}")
    raw = np.frombuffer(data, dtype="<u2").astype(np.int64) & _MASK_12
    counts = np.where(raw & _SIGN_12, raw - (1 << 12), raw)
    return (counts * PIXEL_C).reshape(ROWS, COLS)


def encode_pixels(temperatures: np.ndarray) -> bytes:
    """The 128 pixel bytes a Grid-EYE reports for `temperatures` (C): nearest count, clipped to 12 bits."""
    counts = np.clip(np.rint(np.asarray(temperatures, dtype=np.float64).reshape(-1) / PIXEL_C), -2048, 2047)
    return (counts.astype(np.int64) & _MASK_12).astype("<u2").tobytes()


def decode_thermistor(data: bytes) -> float:
    """Thermistor temperature (C) from registers 0x0E, 0x0F."""
    raw = int.from_bytes(data[:2], "little") & _MASK_12
    magnitude = (raw & (_SIGN_12 - 1)) * THERMISTOR_C
    return -magnitude if raw & _SIGN_12 else magnitude


def encode_thermistor(temperature: float) -> bytes:
    """Registers 0x0E, 0x0F for a thermistor temperature (C)."""
    magnitude = min(round(abs(temperature) / THERMISTOR_C), _SIGN_12 - 1)
    raw = magnitude | (_SIGN_12 if temperature < 0 and magnitude else 0)
    return raw.to_bytes(2, "little")


def implausible(pixels: np.ndarray, thermistor: float) -> str | None:
    """Why a reading cannot be a measurement, or None: values outside the registers' documented range, or
    all pixels and the thermistor exactly 0 (a device that answered with cleared registers)."""
    if not THERMISTOR_RANGE_C[0] <= thermistor <= THERMISTOR_RANGE_C[1]:
        return f"thermistor {thermistor:g} C"
    low, high = float(pixels.min()), float(pixels.max())
    if low < PIXEL_RANGE_C[0] or high > PIXEL_RANGE_C[1]:
        return f"pixels {low:g}..{high:g} C"
    if thermistor == 0 and not pixels.any():
        return "all registers 0"
    return None
