"""The `sim-uvc[:infiray|purethermal]` camera: a synthetic scene encoded in a USB camera's frame layout,
served by a fake capture and read by the real `uvc` driver (layout decoding, model detection, checks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ...clock import Clock, SystemClock, VirtualClock
from ...emulators.uvc import FakeCapture
from ...errors import InputError
from ..scenes import make_scene
from ..simulated import SceneSource, SimulatedMixin
from . import layouts
from .device import UVCSensor

#: Model -> (image shape, frames per second): the P2 Pro's 25 Hz, the Lepton's 8.7 Hz (9 for simplicity).
SIM_MODELS = {"infiray": ((192, 256), 25.0), "purethermal": ((120, 160), 9.0)}


class SimulatedUVC(SimulatedMixin, UVCSensor):
    """The UVC driver reading a fake capture; frames are marked `simulated`."""

    kind = "sim-uvc"

    def __init__(self, capture: FakeCapture, seed: int, model: str, **options: Any) -> None:
        super().__init__(f"simulated {model}", model=None, capture=lambda _: capture, sysfs=Path("/nonexistent"),
                         clock=capture.clock, **options)
        self._simulate(capture, seed)


def open_sim_uvc(target: str | None, *, rate: float | None = None, seed: int | None = None, realtime: bool = True,
                 noise: float = 0.1, radiometry: bool | None = None, timeout: float | None = None,
                 scene: str | None = None) -> SimulatedUVC:
    """A simulated InfiRay P2 Pro (default; 256x192) or PureThermal Lepton 3.5 (160x120) on USB."""
    model = (target or "infiray").lower()
    if model not in SIM_MODELS:
        raise InputError(f"sim-uvc models are {', '.join(SIM_MODELS)}, got sim-uvc:{target}")
    shape, fps = SIM_MODELS[model]
    if rate is not None:
        if not rate > 0:
            raise InputError(f"--rate must be above 0, got {rate}")
        fps = float(rate)
    clock: Clock = SystemClock() if realtime else VirtualClock()
    source = SceneSource(shape, scene=make_scene(scene) if scene else None, noise=noise, seed=seed)
    radiometric = radiometry is not False

    def frame(index: int) -> np.ndarray:
        temperatures = source.sample(index, index / fps)
        if model == "infiray":
            return layouts.encode_infiray(temperatures)
        counts = 8000 + 30 * (temperatures - source.scene.ambient)  # a raw Lepton's counts around the room
        return layouts.encode_purethermal(temperatures if radiometric else counts, radiometric)

    capture = FakeCapture(frame, fps=fps, clock=clock)
    return SimulatedUVC(capture, source.seed, model, radiometric=radiometry, timeout=timeout)
