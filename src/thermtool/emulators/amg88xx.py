"""A register-level Grid-EYE (AMG88xx) for the fake I2C bus: byte registers, frame timing, faults.

The host writes a register address byte, then reads bytes with auto-increment, or writes bytes after the
address. A measurement completes every 0.1 s (FPSC bit 0 clear) or 1 s (set) of the bus clock while the
power mode is normal; it writes the 64 pixels (0x80..) and the thermistor (0x0E..). The moving-average
mode (AVE bit 5) takes effect only when written inside the specification's unlock sequence on register
0x1F; it then outputs the mean of the last two measurements ("twice moving average"). Scene temperatures
beyond the model's output range (AMG8833: 0..80 C) set the overflow flag. Faults: NACKs (bus rules),
`clear_registers(n)` (the next n measurements leave all registers 0, as after a brown-out) and
`rate_error` (the device's oscillator off by that fraction).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..clock import Clock, VirtualClock
from ..sensors.amg88xx import codec
from ..sensors.amg88xx.device import (
    ADDRESSES,
    AVE,
    AVE_MAMOD,
    AVE_UNLOCK,
    FPSC,
    FPSC_1FPS,
    PCTL,
    PCTL_NORMAL,
    RST,
    RST_FLAGS,
    RST_INITIAL,
    SCLR,
    STAT,
    STAT_OVF_IRS,
    T01L,
    TTHL,
    UNLOCK_SEQUENCE,
)
from .i2c import FakeI2CBus

#: A scene: time in seconds since the emulator started -> (8, 8) temperatures in C.
SceneFunction = Callable[[float], np.ndarray]
OUTPUT_RANGE_C = (0.0, 80.0)  # AMG8833 (high gain); the AMG8834 reports -20..100 C
_EPSILON = 1e-9


class AMG88xxEmulator:
    """A Grid-EYE on the bus clock `clock` looking at `scene`, its thermistor at `thermistor` C."""

    def __init__(self, clock: Clock, *, scene: SceneFunction, thermistor: float = 26.0, rate_error: float = 0.0,
                 output_range: tuple[float, float] = OUTPUT_RANGE_C) -> None:
        self.clock = clock
        self.scene = scene
        self.thermistor = float(thermistor)
        self.rate_error = float(rate_error)
        self.output_range = output_range
        self.regs = bytearray(256)
        self.measurements = 0
        self._clear_pending = 0
        self._unlock: list[int] = []
        self._previous: np.ndarray | None = None
        self._pointer = 0
        self._start = clock.monotonic()
        self._schedule_start, self._schedule_done = self._start, 0
        self._measure(0.0)

    # -- faults ------------------------------------------------------------------------------------------
    def clear_registers(self, count: int = 1) -> None:
        """The next `count` measurements leave the pixel and thermistor registers at 0."""
        self._clear_pending += int(count)

    # -- the I2C device interface ------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """A write message: a register address byte, optionally followed by bytes to store there."""
        self._advance()
        if not data:
            return
        self._pointer = data[0]
        for offset, value in enumerate(data[1:]):
            self._write_register((self._pointer + offset) & 0xFF, value)

    def read(self, count: int) -> bytes:
        """A read message: bytes from the register pointer on, auto-incrementing."""
        self._advance()
        out = bytes(self.regs[(self._pointer + i) & 0xFF] for i in range(count))
        self._pointer = (self._pointer + count) & 0xFF
        return out

    # -- registers ---------------------------------------------------------------------------------------
    @property
    def period(self) -> float:
        """Seconds per measurement at the current frame rate."""
        return (1.0 if self.regs[FPSC] & FPSC_1FPS else 0.1) / (1.0 + self.rate_error)

    @property
    def moving_average(self) -> bool:
        """True while the twice-moving-average output mode is on."""
        return bool(self.regs[AVE] & AVE_MAMOD)

    def _write_register(self, register: int, value: int) -> None:
        if register == AVE_UNLOCK:
            self._unlock = [*self._unlock, value][-3:] if value else []
        elif register == AVE:
            if tuple(self._unlock) == UNLOCK_SEQUENCE:
                self.regs[AVE] = value & AVE_MAMOD
        elif register == RST:
            if value == RST_INITIAL:
                self.regs[FPSC] = self.regs[AVE] = self.regs[STAT] = 0
                self._previous = None
            if value in (RST_INITIAL, RST_FLAGS):
                self.regs[STAT] = 0
        elif register == SCLR:
            self.regs[STAT] &= ~value & 0xFF
        elif register == FPSC:
            old = self.period
            self.regs[FPSC] = value & FPSC_1FPS
            if self.period != old:
                self._schedule_start, self._schedule_done = self.clock.monotonic(), 0
        elif register in (PCTL, 0x03) or 0x08 <= register <= 0x0D:
            self.regs[register] = value  # power mode, interrupt control and levels (interrupts not modelled)

    # -- measurements ------------------------------------------------------------------------------------
    def _advance(self) -> None:
        due = int((self.clock.monotonic() - self._schedule_start) / self.period + _EPSILON)
        if due > self._schedule_done and self.regs[PCTL] == PCTL_NORMAL:
            for k in range(max(self._schedule_done + 1, due - 1), due + 1):
                self._measure(self._schedule_start - self._start + k * self.period)
        self._schedule_done = max(self._schedule_done, due)

    def _measure(self, t: float) -> None:
        self.measurements += 1
        if self._clear_pending:
            self._clear_pending -= 1
            self.regs[TTHL:TTHL + 2] = bytes(2)
            self.regs[T01L:T01L + 2 * codec.PIXELS] = bytes(2 * codec.PIXELS)
            return
        scene = np.asarray(self.scene(t), dtype=np.float64)
        low, high = self.output_range
        if scene.min() < low or scene.max() > high:
            self.regs[STAT] |= STAT_OVF_IRS
        current = np.clip(scene, low, high)
        shown = current if not self.moving_average or self._previous is None else (current + self._previous) / 2
        self._previous = current
        self.regs[TTHL:TTHL + 2] = codec.encode_thermistor(self.thermistor)
        self.regs[T01L:T01L + 2 * codec.PIXELS] = codec.encode_pixels(shown)


def emulated_amg88xx(frequency: int = 400_000, clock: Clock | None = None, address: int = ADDRESSES[0], *,
                     scene: SceneFunction, **options: object) -> tuple[FakeI2CBus, AMG88xxEmulator]:
    """A fake bus with one emulated Grid-EYE at `address` (options go to the emulator)."""
    bus = FakeI2CBus(frequency, clock if clock is not None else VirtualClock())
    device = AMG88xxEmulator(bus.clock, scene=scene, **options)  # type: ignore[arg-type]
    bus.attach(address, device)
    return bus, device
