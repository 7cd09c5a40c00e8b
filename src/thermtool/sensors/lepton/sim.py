"""`sim-lepton`: a synthetic scene encoded as a radiometric Lepton would send it, through the VoSPI and CCI
emulators, decoded by the real driver. The demo therefore exercises the hardware code path.

Scene temperatures (C) become TLinear words (kelvin / resolution, the camera's power-on output); with
`radiometry=False` (`--no-radiometry`) or `agc=True` (`--agc`) the driver switches the emulated camera over
CCI, as it would a real one, and a synthetic Raw14 response or a min-max AGC stand-in is sent instead
(neither models a real camera's calibration), so raw-count and AGC workflows run without hardware. The
emulator runs on a virtual clock; frames are paced in real time at `rate` unless `realtime` is False.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...clock import VirtualClock
from ...emulators.lepton import LeptonEmulator, LeptonState
from ...errors import InputError
from ...frame import Frame
from ..base import Sensor
from ..pacing import Pacer
from ..scenes import make_scene
from ..simulated import LEPTON_SHAPES, SceneSource
from .device import LeptonSensor
from .telemetry import KELVIN_OFFSET

#: Synthetic Raw14 response for raw mode: counts at 25 C and counts per kelvin (illustrative only).
RAW_COUNTS_AT_25C = 8192
RAW_COUNTS_PER_K = 60


def scene_frames(source: SceneSource, rate: float) -> Callable[[int, LeptonState], np.ndarray]:
    """frame(index, state): the wire words of unique frame `index` for the camera's current output mode."""

    def frame(index: int, state: LeptonState) -> np.ndarray:
        celsius = source.sample(index, index / rate)
        if state.agc:
            low, high = celsius.min(), celsius.max()
            return np.round((celsius - low) / max(high - low, 1e-6) * 255).astype(np.uint16)
        if state.tlinear:
            return np.clip(np.round((celsius + KELVIN_OFFSET) / state.resolution), 0, 0xFFFF).astype(np.uint16)
        counts = RAW_COUNTS_AT_25C + (celsius - 25.0) * RAW_COUNTS_PER_K
        return np.clip(np.round(counts), 0, 0x3FFF).astype(np.uint16)

    return frame


class SimLepton(Sensor):
    """The real Lepton driver on an emulated camera, paced to `rate` frames per second."""

    kind = "sim-lepton"

    def __init__(self, driver: LeptonSensor, emulator: LeptonEmulator, rate: float, realtime: bool,
                 seed: int) -> None:
        super().__init__()
        self.driver, self.emulator, self.rate, self.seed = driver, emulator, rate, seed
        self._pacer = Pacer(realtime, where=self.kind)

    def _open(self) -> None:
        self._pacer.reset()
        self.driver.open()

    def _close(self) -> None:
        self.driver.close()

    def _read(self, timeout: float | None) -> Frame:
        self._pacer.wait(1.0 / self.rate)
        frame = self.driver.read(timeout)
        return frame.replace(meta={**frame.meta, "simulated": True})

    def _info(self) -> dict[str, Any]:
        info = {k: v for k, v in self.driver.info.items() if k not in ("sensor", "frames_read")}
        return {**info, "simulated": True, "rate_hz": self.rate, "seed": self.seed,
                "emulator_syncs": self.emulator.spi.stats.syncs}


def open_sim_lepton(target: str | None, *, rate: float = 8.7, seed: int | None = None, realtime: bool = True,
                    noise: float = 0.05, telemetry: bool | str | None = "off", scene: str | None = None,
                    radiometry: bool | None = None, agc: bool | None = None) -> SimLepton:
    """The simulated radiometric Lepton (target "3" = 160x120, default; "2" = 80x60) via emulator and driver;
    TLinear temperatures unless `radiometry` is False (raw counts) or `agc` is True (8-bit AGC)."""
    model = (target or "3").strip().lower().removeprefix("lepton")
    if model not in LEPTON_SHAPES:
        raise InputError(f"sim-lepton:{target}: unknown model; valid: 2 (80x60), 3 (160x120)")
    if not 0 < rate <= 9.0:
        raise InputError(f"--rate {rate}: a Lepton sends at most about 9 unique frames per second")
    source = SceneSource(LEPTON_SHAPES[model], scene=make_scene(scene) if scene else None, noise=noise, seed=seed)
    emulator = LeptonEmulator(scene_frames(source, rate), model=int(model), rate=rate, clock=VirtualClock())
    driver = LeptonSensor("sim-lepton", spi=emulator.spi, i2c=emulator.bus, model=int(model), clock=emulator.clock,
                          telemetry=telemetry, radiometry=not agc if radiometry is None else radiometry, agc=agc,
                          background=False, label="sim-lepton")
    return SimLepton(driver, emulator, rate, realtime, source.seed)
