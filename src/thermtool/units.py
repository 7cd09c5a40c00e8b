"""Temperature units and pure conversions between them (computed in float64, stored as float32)."""

from __future__ import annotations

import numpy as np

from .errors import InputError

TEMPERATURE_UNITS = ("C", "F", "K")
#: Units of frames that are not temperatures: Lepton raw 14-bit counts and 8-bit AGC output.
NON_TEMPERATURE_UNITS = ("counts", "agc")
ALL_UNITS = TEMPERATURE_UNITS + NON_TEMPERATURE_UNITS

ABSOLUTE_ZERO_C = -273.15
UNIT_SYMBOLS = {"C": "°C", "F": "°F", "K": "K", "counts": "counts", "agc": "AGC"}


def normalise_units(units: str) -> str:
    """Return the canonical spelling of `units` ('c', 'celsius', 'degC' -> 'C'); raise InputError otherwise."""
    if not isinstance(units, str):
        raise InputError(f"units must be a name such as 'C', got {type(units).__name__}")
    key = units.strip()
    aliases = {
        "c": "C", "celsius": "C", "degc": "C", "°c": "C",
        "f": "F", "fahrenheit": "F", "degf": "F", "°f": "F",
        "k": "K", "kelvin": "K",
        "counts": "counts", "raw": "counts", "agc": "agc",
    }
    try:
        return aliases[key.lower()]
    except KeyError:
        raise InputError(f"unknown units {units!r}; valid: {', '.join(ALL_UNITS)}") from None


def _to_kelvin(values: np.ndarray, units: str) -> np.ndarray:
    if units == "K":
        return values
    if units == "C":
        return values - ABSOLUTE_ZERO_C
    return (values - 32.0) * (5.0 / 9.0) - ABSOLUTE_ZERO_C


def _from_kelvin(kelvin: np.ndarray, units: str) -> np.ndarray:
    if units == "K":
        return kelvin
    if units == "C":
        return kelvin + ABSOLUTE_ZERO_C
    return (kelvin + ABSOLUTE_ZERO_C) * (9.0 / 5.0) + 32.0


def convert(values: np.ndarray | float, src: str, dst: str) -> np.ndarray:
    """Convert temperatures from `src` to `dst` units, in float64; raw counts cannot be converted."""
    src, dst = normalise_units(src), normalise_units(dst)
    arr = np.asarray(values, dtype=np.float64)
    if src == dst:
        return arr
    if src not in TEMPERATURE_UNITS or dst not in TEMPERATURE_UNITS:
        raise InputError(f"cannot convert {src} to {dst}: only C, F and K are temperatures")
    return _from_kelvin(_to_kelvin(arr, src), dst)


def convert_delta(delta: float, units: str) -> float:
    """Size of a temperature difference given in C (K) expressed in `units` (F: x 9/5)."""
    return delta * 9.0 / 5.0 if normalise_units(units) == "F" else delta
