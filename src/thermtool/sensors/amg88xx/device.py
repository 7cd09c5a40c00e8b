"""The Grid-EYE (AMG8833/AMG8834/AMG8853/AMG8854) register protocol over any busio-like I2C bus.

At open: normal power mode, an initial reset (defaults, flags cleared), the frame rate (FPSC: 10 or 1
frames/s) and, only when asked, the moving-average mode through the specification's unlock sequence
(0x50, 0x45, 0x57 to register 0x1F, then AVE, then 0x00 to 0x1F). The sensor has no new-data flag, so the
driver reads on its own clock, one frame period apart, each frame's 128 pixel bytes in one transfer.
Readings outside the registers' documented range (or all-zero registers) are dropped and counted; the
pixel-overflow flag is reported in the frame's meta and cleared.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from ...buses.i2c import BusioI2C, LinuxI2C
from ...clock import Clock, SystemClock
from ...errors import InputError, SensorError, SensorTimeoutError
from ...frame import Frame
from ..base import Sensor, sleep_or_stop
from ..registers import I2CRegisters, bus_choice, bus_path, parse_address
from . import codec

ADDRESSES = (0x68, 0x69)  # AD_SELECT low / high
PCTL, RST, FPSC, STAT, SCLR, AVE, TTHL, T01L, AVE_UNLOCK = 0x00, 0x01, 0x02, 0x04, 0x05, 0x07, 0x0E, 0x80, 0x1F
PCTL_NORMAL = 0x00
RST_INITIAL, RST_FLAGS = 0x3F, 0x30
FPSC_1FPS = 0x01
STAT_OVF_IRS, STAT_OVF_THS = 0x04, 0x08
AVE_MAMOD = 0x20
UNLOCK_SEQUENCE = (0x50, 0x45, 0x57)
FRAME_RATES = (1.0, 10.0)
SETTLE_S = 0.05  # "time to enable communication after setup": 50 ms


def check_rate(rate: float) -> float:
    """1 or 10 (frames per second), the rates FPSC offers; InputError otherwise."""
    for valid in FRAME_RATES:
        if abs(float(rate) - valid) < 1e-9:
            return valid
    raise InputError(f"Grid-EYE frame rate {rate:g} is not one it has; valid: 1, 10 (frames/s)")


class AMG88xxSensor(Sensor):
    """A Panasonic Grid-EYE (8x8) at `address` (0x68 or 0x69) on an I2C bus."""

    kind = "amg88xx"

    def __init__(self, i2c: BusioI2C | None = None, *, bus: str | None = None, address: int | str = ADDRESSES[0],
                 rate: float = 10.0, moving_average: bool = False, clock: Clock | None = None,
                 timeout: float | None = None, retries: int = 4) -> None:
        super().__init__()
        self._given_bus = i2c
        self.bus_name = bus or (bus_path(None) if i2c is None else str(getattr(i2c, "path", type(i2c).__name__)))
        self.address = parse_address(address)
        self.rate = check_rate(rate)
        self.moving_average = bool(moving_average)
        self.clock: Clock = clock if clock is not None else SystemClock()
        if timeout is not None and not timeout > 0:
            raise InputError(f"timeout must be above 0 seconds, got {timeout}")
        self.timeout = timeout
        self.retries = retries
        self.extra_meta: dict[str, Any] = {}
        self._bus: BusioI2C | None = None
        self._regs: I2CRegisters | None = None
        self._next_at = 0.0
        self._deadline: float | None = None  # of the read() in progress
        self.implausible_dropped = 0
        self.overflows = 0

    @property
    def where(self) -> str:
        """The prefix of every error message."""
        return f"Grid-EYE at 0x{self.address:02x} on {self.bus_name}"

    def _open(self) -> None:
        self._bus = self._given_bus if self._given_bus is not None else LinuxI2C(self.bus_name)
        self._regs = I2CRegisters(self._bus, self.address, where=self.where, bus_name=self.bus_name,
                                  clock=self.clock, address_bytes=1, register_bytes=1, chunk_bytes=2 * codec.PIXELS,
                                  retries=self.retries, before=self._check_deadline)
        try:
            self._start(self._regs)
        except BaseException:
            self._release()
            raise

    def _start(self, regs: I2CRegisters) -> None:
        regs.write(PCTL, bytes([PCTL_NORMAL]))
        regs.write(RST, bytes([RST_INITIAL]))
        self.clock.sleep(SETTLE_S)
        regs.write(FPSC, bytes([FPSC_1FPS if self.rate == 1.0 else 0]))
        if regs.read(FPSC, 1)[0] & FPSC_1FPS != (self.rate == 1.0):
            raise SensorError(f"{self.where}: the frame-rate register did not take the new value; is this a "
                              "Grid-EYE? (`thermtool sensors` probes 0x68 and 0x69)")
        if self.moving_average:
            for key in UNLOCK_SEQUENCE:
                regs.write(AVE_UNLOCK, bytes([key]))
            regs.write(AVE, bytes([AVE_MAMOD]))
            regs.write(AVE_UNLOCK, bytes([0x00]))
        regs.write(RST, bytes([RST_FLAGS]))
        now = self.clock.monotonic()
        self._next_at = now + 1.0 / self.rate  # the first frame measured after the settings
        self._wall_start, self._clock_start = datetime.now(timezone.utc), now

    def _close(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._given_bus is None and isinstance(self._bus, LinuxI2C):
            self._bus.close()
        self._bus = self._regs = None

    def _read(self, timeout: float | None) -> Frame:
        regs = self._regs
        if regs is None:
            raise SensorError(f"{self.where}: the sensor is not open")
        period = 1.0 / self.rate
        wait = timeout if timeout is not None else self.timeout
        self._deadline = self.clock.monotonic() + (wait if wait is not None else 2 * period + 1.0)
        try:
            return self._next_frame(regs, period)
        finally:
            self._deadline = None

    def _check_deadline(self) -> None:
        """SensorTimeoutError once the read's deadline has passed (checked before every bus transaction too)."""
        if self._deadline is not None and self.clock.monotonic() >= self._deadline:
            raise self._timeout_error()

    def _timeout_error(self) -> SensorTimeoutError:
        """What a read that ran out of time says."""
        return SensorTimeoutError(f"{self.where}: no good frame before the timeout ({self.rate:g} frames/s, "
                                  f"{self.implausible_dropped} implausible readings dropped); check the "
                                  "sensor's power and wiring")

    def _next_frame(self, regs: I2CRegisters, period: float) -> Frame:
        """Read at each measurement time until a plausible frame arrives."""
        while True:
            now = self.clock.monotonic()
            if self._deadline is not None and self._next_at > self._deadline:
                raise self._timeout_error()
            sleep_or_stop(self.clock, self._next_at - now, self.where)
            self._next_at = max(self._next_at + period, self.clock.monotonic())
            status = regs.read(STAT, 1)[0]
            thermistor = codec.decode_thermistor(regs.read(TTHL, 2))
            pixels = codec.decode_pixels(regs.read(T01L, 2 * codec.PIXELS))
            overflow = bool(status & (STAT_OVF_IRS | STAT_OVF_THS))
            if overflow:
                self.overflows += 1
                regs.write(SCLR, bytes([STAT_OVF_IRS | STAT_OVF_THS]))
            if codec.implausible(pixels, thermistor) is not None:
                self.implausible_dropped += 1
                continue
            meta = {"ta": thermistor, "rate_hz": self.rate, "moving_average": self.moving_average,
                    "overflow": overflow, **self.extra_meta}
            elapsed = self.clock.monotonic() - self._clock_start
            return Frame(pixels, "C", self._wall_start + timedelta(seconds=elapsed), self.kind, meta)

    def _info(self) -> dict[str, Any]:
        return {"model": "Grid-EYE AMG88xx", "shape": [codec.ROWS, codec.COLS], "units": "C",
                "bus": self.bus_name, "address": f"0x{self.address:02x}", "rate_hz": self.rate,
                "moving_average": self.moving_average, "implausible_frames_dropped": self.implausible_dropped,
                "overflows": self.overflows, "nack_retries": self._regs.nack_retries if self._regs else 0}


def open_amg88xx(target: str | None, *, i2c: BusioI2C | str | None = None, address: int | str = ADDRESSES[0],
                 refresh_hz: float | None = None, moving_average: bool = False, clock: Clock | None = None,
                 timeout: float | None = None) -> AMG88xxSensor:
    """The `amg88xx[:BUS[@ADDRESS]]` sensor: 10 (default) or 1 frames/s (`refresh_hz`), optional moving
    average; "amg88xx:/dev/i2c-1@0x69" names the second address (what `thermtool sensors` prints)."""
    if target and "@" in target:
        target, _, at = target.rpartition("@")
        address = at
    i2c, name = bus_choice(target, i2c)
    return AMG88xxSensor(i2c, bus=name, address=address, rate=10.0 if refresh_hz is None else refresh_hz,
                         moving_average=moving_average, clock=clock, timeout=timeout)
