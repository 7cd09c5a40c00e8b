"""Frame layouts of USB thermal cameras (pure numpy): which camera a raw OpenCV frame came from, and its
temperatures.

- PureThermal boards (GroupGets; a FLIR Lepton behind a UVC bridge), pixel format Y16: one 16-bit value a
  pixel, 160x120 (Lepton 3.x) or 80x60 (Lepton 2.x). With radiometry on (Lepton 2.5/3.5, the PureThermal
  firmware's default) the values are TLinear centi-kelvin; otherwise raw 14-bit counts (< 16384).
- InfiRay P2 Pro and its relatives (Topdon TC001): a 256x384 YUYV frame whose top half is the camera's
  false-colour picture and whose bottom half holds one little-endian 16-bit value a pixel, in 1/64 K
  (the layout P2Pro-Viewer and PyThermalCamera decode).

OpenCV hands these frames over in several shapes once its RGB conversion is off: (H, W) uint16, (H, W, 2)
uint8 (YUYV as two channels) or the raw buffer as (1, N) / (N,) uint8. `as_words` brings each to (H, W)
uint16, given the frame size the camera announced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KELVIN = 273.15
RAW_LIMIT = 1 << 14  # raw Lepton counts are 14-bit; TLinear of any real scene is far above 163.84 K
INFIRAY_SIZE = (384, 256)  # (rows, columns) of the whole YUYV frame
LEPTON_SIZES = ((120, 160), (60, 80))


@dataclass(frozen=True)
class Model:
    """A camera model: its name, USB ids, the frame size (rows, columns) it sends, and the image it yields."""

    name: str
    description: str
    usb_ids: tuple[tuple[int, int], ...]
    frame_sizes: tuple[tuple[int, int], ...]


PURETHERMAL = Model("purethermal", "PureThermal (FLIR Lepton, Y16)", ((0x1E4E, 0x0100),), LEPTON_SIZES)
INFIRAY = Model("infiray", "InfiRay P2 Pro / Topdon TC001", ((0x0BDA, 0x5830),), (INFIRAY_SIZE,))
MODELS = {m.name: m for m in (PURETHERMAL, INFIRAY)}


class UnrecognisedFrame(ValueError):
    """A frame in none of the layouts this module knows."""


def model_for_usb(vendor: int, product: int) -> Model | None:
    """The model with these USB ids, or None."""
    return next((m for m in MODELS.values() if (vendor, product) in m.usb_ids), None)


def describe(frame: np.ndarray) -> str:
    """A short description of a raw frame for error messages: shape and dtype."""
    return f"{'x'.join(str(n) for n in frame.shape)} {frame.dtype}"


def as_words(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The frame as (rows, columns) uint16 little-endian words, from any of OpenCV's raw shapes."""
    rows, cols = size
    array = np.asarray(frame)
    if array.dtype == np.uint16 and array.shape == (rows, cols):
        return array
    if array.dtype == np.uint8 and array.size == 2 * rows * cols:
        return np.ascontiguousarray(array).reshape(-1).view("<u2").reshape(rows, cols).astype(np.uint16)
    raise UnrecognisedFrame(f"expected {cols}x{rows} 16-bit pixels, got {describe(array)}")


def guess_model(frame: np.ndarray) -> Model:
    """The model whose layout fits `frame` (used when the USB ids are unknown); UnrecognisedFrame otherwise."""
    for model in MODELS.values():
        for size in model.frame_sizes:
            try:
                as_words(frame, size)
            except UnrecognisedFrame:
                continue
            if model is INFIRAY or np.asarray(frame).dtype == np.uint16:
                return model
    raise UnrecognisedFrame(f"a {describe(np.asarray(frame))} frame is not a layout thermtool knows "
                            "(PureThermal Y16 160x120 or 80x60, InfiRay P2 Pro/TC001 256x384 YUYV)")


def decode_purethermal(frame: np.ndarray, radiometric: bool | None = None) -> tuple[np.ndarray, str]:
    """(image, units) of a PureThermal Y16 frame: C from TLinear centi-kelvin, or raw "counts".

    `radiometric` None decides from the values: all below 2^14 means raw counts (a real scene's TLinear
    is tens of thousands of centi-kelvin)."""
    words = None
    for size in PURETHERMAL.frame_sizes:
        try:
            words = as_words(frame, size)
            break
        except UnrecognisedFrame:
            continue
    if words is None:
        raise UnrecognisedFrame(f"PureThermal frames are 160x120 or 80x60 Y16, got {describe(np.asarray(frame))}")
    if radiometric is None:
        radiometric = bool(words.max() >= RAW_LIMIT)
    if radiometric:
        return words.astype(np.float64) / 100.0 - KELVIN, "C"
    return words.astype(np.float64), "counts"


def decode_infiray(frame: np.ndarray) -> np.ndarray:
    """Temperatures (C, (192, 256)) from the bottom half of an InfiRay P2 Pro / TC001 frame (1/64 K)."""
    words = as_words(frame, INFIRAY_SIZE)
    half = INFIRAY_SIZE[0] // 2
    return words[half:].astype(np.float64) / 64.0 - KELVIN


def encode_purethermal(image: np.ndarray, radiometric: bool = True) -> np.ndarray:
    """A Y16 frame (uint16) as a PureThermal sends it: TLinear centi-kelvin of `image` (C), or `image` as
    raw counts."""
    values = np.asarray(image, dtype=np.float64)
    words = np.rint((values + KELVIN) * 100.0) if radiometric else np.rint(values)
    return np.clip(words, 0, 0xFFFF).astype(np.uint16)


def encode_infiray(temperatures: np.ndarray) -> np.ndarray:
    """A 256x384 YUYV frame as (384, 256, 2) uint8, as OpenCV on Linux returns it with RGB conversion off:
    a grey picture of `temperatures` (C, (192, 256)) on top, 1/64 K words below."""
    t = np.asarray(temperatures, dtype=np.float64)
    if t.shape != (INFIRAY_SIZE[0] // 2, INFIRAY_SIZE[1]):
        raise ValueError(f"InfiRay temperatures are (192, 256), got {t.shape}")
    span = max(float(t.max() - t.min()), 1e-6)
    picture = np.empty((*t.shape, 2), dtype=np.uint8)
    picture[..., 0] = np.rint(16 + 219 * (t - t.min()) / span)  # Y
    picture[..., 1] = 128  # U and V alternate in YUYV; grey either way
    words = np.clip(np.rint((t + KELVIN) * 64.0), 0, 0xFFFF).astype("<u2")
    thermal = words.view(np.uint8).reshape((*t.shape, 2))
    return np.concatenate([picture, thermal])
