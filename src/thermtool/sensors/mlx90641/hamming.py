"""The MLX90641 EEPROM's Hamming code (pure numpy): check, correct single-bit errors, refuse the rest.

Each calibration word (0x2410..0x273F) holds 11 data bits (10:0) and 5 check bits (15:11): four Hamming
parity bits P0..P3 and an overall parity bit P4, so one flipped bit is corrected and two are detected
(SEC-DED). The bit coverage is that of Melexis' reference library (MLX90641_API HammingDecode); the first
16 words (0x2400..0x240F, device configuration) carry no code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DATA_MASK = 0x07FF
CODED_FROM = 16  # words before this index carry no Hamming code
# Data bits each parity bit P0..P3 covers (HammingDecode's parity equations); P4 covers the whole word.
_COVERAGE = ((0, 1, 3, 4, 6, 8, 10), (0, 2, 3, 5, 6, 9, 10), (1, 2, 3, 7, 8, 9, 10), (4, 5, 6, 7, 8, 9, 10))
_DATA_MASKS = tuple(sum(1 << b for b in bits) for bits in _COVERAGE)
# With its own parity bit (11 + i) included, a mask's parity is 0 on a valid word.
_CHECK_MASKS = np.array([m | (1 << (11 + i)) for i, m in enumerate(_DATA_MASKS)], dtype=np.int64)
# Syndrome (P0..P3 failures as bits 0..3, when the overall parity fails) -> the bit that flipped.
_FLIPPED_BIT = np.full(16, -1, dtype=np.int64)
_FLIPPED_BIT[0] = 15  # only the overall parity bit itself
for _i in range(4):
    _FLIPPED_BIT[1 << _i] = 11 + _i
for _bit in range(11):
    _FLIPPED_BIT[sum(1 << i for i, bits in enumerate(_COVERAGE) if _bit in bits)] = _bit


def _parity(values: np.ndarray) -> np.ndarray:
    """Parity (0/1) of each 16-bit value."""
    return np.bitwise_count(values.astype(np.uint16)).astype(np.int64) & 1


def encode(data: np.ndarray | int) -> np.ndarray:
    """16-bit words carrying the 11-bit `data` values with their check bits (what the EEPROM stores)."""
    values = np.asarray(data, dtype=np.int64)
    if np.any((values < 0) | (values > DATA_MASK)):
        raise ValueError("Hamming-coded EEPROM fields hold 11 bits (0..0x7FF)")
    words = values.copy()
    for i, mask in enumerate(_DATA_MASKS):
        words |= _parity(values & mask) << (11 + i)
    words |= _parity(words) << 15
    return words.astype(np.uint16)


@dataclass(frozen=True)
class Decoded:
    """The 11-bit data of every word, and which words were corrected or could not be."""

    data: np.ndarray  # (n,) uint16, 11-bit values
    corrected: np.ndarray  # indices of words with one flipped bit, corrected
    uncorrectable: np.ndarray  # indices of words with two or more flipped bits


def decode(words: np.ndarray) -> Decoded:
    """Check and correct `words` (16-bit, all coded): single-bit errors fixed, double errors reported."""
    w = np.asarray(words).astype(np.int64) & 0xFFFF
    syndrome = np.zeros(w.shape, dtype=np.int64)
    for i, mask in enumerate(_CHECK_MASKS):
        syndrome |= _parity(w & mask) << i
    overall = _parity(w)
    single = overall == 1
    flipped = _FLIPPED_BIT[syndrome]
    fixed = np.where(single, w ^ (1 << np.maximum(flipped, 0)), w)
    bad = (overall == 0) & (syndrome != 0)
    return Decoded(data=(fixed & DATA_MASK).astype(np.uint16), corrected=np.flatnonzero(single),
                   uncorrectable=np.flatnonzero(bad))
