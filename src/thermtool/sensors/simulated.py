"""What the simulated cameras look at: noisy, reproducible samples of a synthetic scene.

Every simulated camera (`sim`, `sim-lepton`, `sim-mlx90641`, `sim-amg88xx`, `sim-uvc`: sensors/*/sim.py)
feeds these samples to its emulator, whose output the real driver decodes. The noise is drawn from a
generator seeded per measurement index, so on a virtual clock (`realtime=False`, `--no-realtime`) a seed
reproduces the same frames on every run. In real time, which measurements a read catches depends on when
it reads (a loaded machine reads later), so frames of one seed can differ between runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError
from .scene import Scene, SceneModel

MLX90640_SHAPE = (24, 32)
LEPTON_SHAPES = {"2": (60, 80), "3": (120, 160)}


class SceneSource:
    """Noisy samples of a scene at one resolution: `sample(index, t)` is reproducible for a seed."""

    def __init__(self, shape: tuple[int, int], scene: SceneModel | None = None, noise: float = 0.15,
                 seed: int | None = None) -> None:
        self.shape = shape
        self.scene: SceneModel = scene or Scene()
        self.noise = noise
        self.seed = int(np.random.SeedSequence().entropy % (1 << 63)) if seed is None else int(seed)

    def sample(self, index: int, t: float) -> np.ndarray:
        """Temperatures (C, float64) of frame `index` taken at scene time `t` seconds."""
        rng = np.random.default_rng([self.seed, index])
        return self.scene.temperatures(t, self.shape) + rng.normal(0.0, self.noise, self.shape)

    def per_measurement(self, rate: float) -> Callable[[float], np.ndarray]:
        """An emulator's scene: at time t, the sample of the measurement `rate` per second nearest t.

        One noise draw per measurement, and scene time snapped to the measurement grid, so the few milliseconds
        a driver takes to configure the sensor do not change the frames of a seed.
        """
        def sample(t: float) -> np.ndarray:
            index = round(t * rate)
            return self.sample(index, index / rate)

        return sample


class SimulatedMixin:
    """For a real driver reading an emulator: marks every frame's meta and the info as simulated."""

    seed = 0
    extra_meta: dict[str, Any]

    def _simulate(self, emulator: Any, seed: int) -> None:
        self.emulator = emulator
        self.seed = seed
        self.extra_meta = {"simulated": True}

    def _info(self) -> dict[str, Any]:
        return {**super()._info(), "simulated": True, "seed": self.seed}  # type: ignore[misc]


def one_rate(rate: float | None, refresh_hz: float | None) -> float | None:
    """The rate a simulated camera was given as `--rate` or `--refresh-hz` (they must agree), or None."""
    if rate is not None and refresh_hz is not None and abs(rate - refresh_hz) > 1e-9:
        raise InputError(f"--rate {rate:g} and --refresh-hz {refresh_hz:g} disagree; give one of them")
    return rate if rate is not None else refresh_hz
