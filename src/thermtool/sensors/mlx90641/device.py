"""The MLX90641 register protocol over any busio-like I2C bus, and the `mlx90641` sensor.

Per measurement (MLX90641_GetFrameData): poll the status register until its new-data bit is set, clear
it, read the aux words (Ta, Vdd, gain, compensation pixel) and the six 32-word pixel blocks of the
measured subpage, then read the status again: if a newer measurement landed meanwhile, the words may mix
two measurements and the frame is dropped (never a half-stale frame). Frames with the 0x7FFF
frame-data-error word, or a supply voltage or ambient temperature outside the datasheet's operating
range, are dropped and counted. Every subpage holds all 192 pixels, so every measurement is a frame.
The EEPROM is read twice at open and must read the same both times (a third read breaks a tie).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from ...buses.i2c import BusioI2C, LinuxI2C
from ...clock import Clock, SystemClock
from ...errors import InputError, SensorError, SensorTimeoutError
from ...frame import Frame
from ..base import Sensor, sleep_or_stop
from ..mlx90640.device import (
    REFRESH_RATES,
    STATUS_CLEAR,
    STATUS_NEW_DATA,
    STATUS_SUBPAGE,
    bus_path,
    check_resolution,
    control_refresh_hz,
    control_resolution,
    parse_address,
    refresh_code,
)
from ..registers import I2CRegisters
from . import calibration
from .calibration import Calibration, CalibrationError

ADDRESS = 0x33
EEPROM_START = 0x2400
RAM_START, RAM_WORDS = 0x0400, 0x01C0  # 0x0400..0x05BF
AUX_START, AUX_WORDS = 0x0580, 48
STATUS_REGISTER = 0x8000
CONTROL_REGISTER = 0x800D
REFRESH_MASK, REFRESH_SHIFT = 0x0380, 7
RESOLUTION_MASK, RESOLUTION_SHIFT = 0x0C00, 10
FRAME_ERROR_WORD = 0x7FFF
BLOCK_WORDS = 32  # pixel words per RAM block (two rows of 16)
# Datasheet operating conditions, with a margin: a reading outside them is a bus glitch, not the sensor.
VDD_RANGE = (2.8, 3.8)
TA_RANGE = (-45.0, 130.0)
EEPROM_READS = 2
_AUX_USED = [calibration.TA_VBE, calibration.CP, calibration.GAIN, calibration.TA_PTAT, calibration.VDD_PIX]
_EARLY_WAKE = 0.8  # of a period after the last arrival: when to start polling for the next


def pixel_addresses(subpage: int) -> np.ndarray:
    """RAM addresses of the 192 pixels of `subpage`, in row-major pixel order (MLX90641_GetFrameData)."""
    blocks = RAM_START + 0x40 * np.arange(6)[:, None] + 0x20 * (subpage & 1) + np.arange(BLOCK_WORDS)
    return blocks.reshape(-1)


def configure_control(control: int, refresh_hz: float | None, resolution: int | None) -> int:
    """`control` with only the asked-for fields replaced (refresh bits 9:7, resolution bits 11:10)."""
    if refresh_hz is not None:
        control = (control & ~REFRESH_MASK) | (refresh_code(refresh_hz) << REFRESH_SHIFT)
    if resolution is not None:
        control = (control & ~RESOLUTION_MASK) | ((check_resolution(resolution) - 16) << RESOLUTION_SHIFT)
    return control & 0xFFFF


def implausible(frame: np.ndarray, cal: Calibration) -> str | None:
    """Why a 242-word frame cannot be a real measurement, or None: a 0x7FFF word, a GAIN word of 0, or a
    supply voltage or ambient temperature outside the operating range."""
    if np.any(frame[:calibration.PIXELS] == FRAME_ERROR_WORD) or np.any(frame[_AUX_USED] == FRAME_ERROR_WORD):
        return "frame-data-error word 0x7FFF"
    if int(frame[calibration.GAIN]) == 0:
        return "GAIN word 0"
    vdd = calibration.frame_vdd(frame, cal)
    if not VDD_RANGE[0] <= vdd <= VDD_RANGE[1]:
        return f"supply {vdd:.2f} V"
    try:
        ta = calibration.frame_ta(frame, cal)
    except SensorError:
        return "Ta words cancel out"
    if not TA_RANGE[0] <= ta <= TA_RANGE[1]:
        return f"ambient {ta:.1f} C"
    return None


def agreed_eeprom(reads: list[np.ndarray]) -> np.ndarray | None:
    """The EEPROM content two of `reads` agree on word for word, or None."""
    for i, first in enumerate(reads):
        for second in reads[i + 1:]:
            if np.array_equal(first, second):
                return first
    return None


class MLX90641Sensor(Sensor):
    """A Melexis MLX90641 (16x12) on an I2C bus: one frame per measurement.

    `i2c` is any busio.I2C-like object; without it `bus` (an i2c-dev path) is opened at open(). Settings
    are written only when given: `refresh_hz` (0.5..64), `resolution` (ADC bits 16..19). `emissivity`
    None uses the one stored in the EEPROM (1.0 if it is not in (0, 1]); `reflected_temp` None is Ta - 5.
    """

    kind = "mlx90641"

    def __init__(self, i2c: BusioI2C | None = None, *, bus: str | None = None, address: int | str = ADDRESS,
                 refresh_hz: float | None = None, resolution: int | None = None, emissivity: float | None = None,
                 reflected_temp: float | None = None, clock: Clock | None = None, timeout: float | None = None,
                 retries: int = 4) -> None:
        super().__init__()
        self._given_bus = i2c
        self.bus_name = bus or (bus_path(None) if i2c is None else str(getattr(i2c, "path", type(i2c).__name__)))
        self.address = parse_address(address)
        self.refresh_hz = None if refresh_hz is None else REFRESH_RATES[refresh_code(refresh_hz)]
        self.resolution = None if resolution is None else check_resolution(resolution)
        self.emissivity = None if emissivity is None else calibration.check_emissivity(emissivity)
        self.reflected_temp = None if reflected_temp is None else float(reflected_temp)
        self.clock: Clock = clock if clock is not None else SystemClock()
        if timeout is not None and not timeout > 0:
            raise InputError(f"timeout must be above 0 seconds, got {timeout}")
        self.timeout = timeout
        self.retries = retries
        self.extra_meta: dict[str, Any] = {}
        self._bus: BusioI2C | None = None
        self._regs: I2CRegisters | None = None
        self._reset_session()

    @property
    def where(self) -> str:
        """The prefix of every error message."""
        return f"MLX90641 at 0x{self.address:02x} on {self.bus_name}"

    def _reset_session(self) -> None:
        self.calibration: Calibration | None = None
        self.control = 0
        self._arrival: float | None = None
        self._wall_start = datetime.now(timezone.utc)
        self._clock_start = self.clock.monotonic()
        self.measurements_read = 0
        self.dropped: dict[str, int] = {"torn": 0, "implausible": 0}
        self.eeprom_rereads = 0

    # -- Sensor hooks ------------------------------------------------------------------------------------
    def _open(self) -> None:
        self._reset_session()
        self._bus = self._given_bus if self._given_bus is not None else LinuxI2C(self.bus_name)
        self._regs = I2CRegisters(self._bus, self.address, where=self.where, bus_name=self.bus_name,
                                   clock=self.clock, retries=self.retries)
        try:
            self._start()
        except BaseException:
            self._release()
            raise

    def _start(self) -> None:
        regs = self._io()
        reads = [regs.read_words(EEPROM_START, calibration.EEPROM_WORDS) for _ in range(EEPROM_READS)]
        eeprom = agreed_eeprom(reads)
        if eeprom is None:
            self.eeprom_rereads += 1
            reads.append(regs.read_words(EEPROM_START, calibration.EEPROM_WORDS))
            eeprom = agreed_eeprom(reads)
        if eeprom is None:
            raise SensorError(f"{self.where}: the EEPROM read differently three times; the bus is unreliable "
                              "(shorten the wires, lower the I2C clock, check the pull-ups)")
        try:
            self.calibration = calibration.extract_parameters(eeprom)
        except CalibrationError as exc:
            raise CalibrationError(f"{self.where}: EEPROM rejected: {exc}") from exc
        control = regs.read_word(CONTROL_REGISTER)
        wanted = configure_control(control, self.refresh_hz, self.resolution)
        if wanted != control:
            regs.write_word(CONTROL_REGISTER, wanted)
            control = regs.read_word(CONTROL_REGISTER)
            if control != wanted:
                raise SensorError(f"{self.where}: control register reads 0x{control:04x} after writing "
                                  f"0x{wanted:04x}; check the wiring and power")
        self.control = control
        regs.write_word(STATUS_REGISTER, STATUS_CLEAR)  # the first frame is measured after open
        self._wall_start = datetime.now(timezone.utc)
        self._clock_start = self.clock.monotonic()

    def _close(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._given_bus is None and isinstance(self._bus, LinuxI2C):
            self._bus.close()
        self._bus = self._regs = None

    def _io(self) -> I2CRegisters:
        if self._regs is None:
            raise SensorError(f"{self.where}: the sensor is not open")
        return self._regs

    def _read(self, timeout: float | None) -> Frame:
        wait = timeout if timeout is not None else self.timeout
        period = 1.0 / control_refresh_hz(self.control)
        deadline = self.clock.monotonic() + (wait if wait is not None else 3 * period + 1.0)
        while True:
            frame = self._measurement(deadline)
            if frame is not None:
                return self._frame(frame)

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "model": "MLX90641", "shape": [calibration.ROWS, calibration.COLS], "units": "C",
            "bus": self.bus_name, "address": f"0x{self.address:02x}", "measurements_read": self.measurements_read,
            "torn_frames_dropped": self.dropped["torn"], "implausible_frames_dropped": self.dropped["implausible"],
            "eeprom_rereads": self.eeprom_rereads,
            "nack_retries": self._regs.nack_retries if self._regs is not None else 0,
        }
        cal = self.calibration
        if cal is not None:
            info.update({
                "serial": "-".join(f"{int(w):04x}" for w in cal.eeprom[7:10]),
                "refresh_hz": control_refresh_hz(self.control),
                "resolution_bits": control_resolution(self.control), "emissivity": self._emissivity(),
                "eeprom_words_corrected": [f"0x{0x2400 + i:04x}" for i in cal.corrected_words],
                "broken_pixels": [divmod(p, calibration.COLS) for p in cal.broken],
            })
        return info

    # -- one measurement ---------------------------------------------------------------------------------
    def _measurement(self, deadline: float) -> np.ndarray | None:
        """Wait for new data and read it as a 242-word frame; None (counted) when torn or implausible."""
        regs = self._io()
        status = self._wait_for_data(deadline)
        regs.write_word(STATUS_REGISTER, STATUS_CLEAR)
        subpage = status & STATUS_SUBPAGE
        frame = np.empty(calibration.FRAME_WORDS, dtype=np.uint16)
        frame[calibration.PIXELS:calibration.PIXELS + AUX_WORDS] = regs.read_words(AUX_START, AUX_WORDS)
        for block in range(6):
            start = RAM_START + 0x40 * block + 0x20 * subpage
            frame[BLOCK_WORDS * block:BLOCK_WORDS * (block + 1)] = regs.read_words(start, BLOCK_WORDS)
        after = regs.read_word(STATUS_REGISTER)
        frame[calibration.CONTROL] = self.control = regs.read_word(CONTROL_REGISTER)
        frame[calibration.SUBPAGE] = subpage
        self.measurements_read += 1
        if after & STATUS_NEW_DATA:  # a newer measurement landed while we read: words may mix two
            self.dropped["torn"] += 1
            self._arrival = None
            return None
        cal = self.calibration
        assert cal is not None
        if implausible(frame, cal) is not None:
            self.dropped["implausible"] += 1
            return None
        return frame

    def _wait_for_data(self, deadline: float) -> int:
        """Poll the status register until its new-data bit is set; SensorTimeoutError at `deadline`."""
        regs = self._io()
        period = 1.0 / control_refresh_hz(self.control)
        step = max(period / 32, 0.0005)
        while True:
            status = regs.read_word(STATUS_REGISTER)
            now = self.clock.monotonic()
            if status & STATUS_NEW_DATA:
                self._arrival = now
                return status
            if now >= deadline:
                dropped = sum(self.dropped.values())
                raise SensorTimeoutError(
                    f"{self.where}: no good frame before the timeout (status 0x{status:04x}, refresh "
                    f"{1 / period:g} Hz, {dropped} bad frames dropped so far); check the sensor's power "
                    "and wiring")
            wake = step if self._arrival is None else max(self._arrival + _EARLY_WAKE * period - now, step)
            sleep_or_stop(self.clock, min(wake, deadline - now), self.where)

    def _emissivity(self) -> float:
        if self.emissivity is not None:
            return self.emissivity
        stored = self.calibration.emissivity_ee if self.calibration is not None else 1.0
        return stored if 0 < stored <= 1 else 1.0

    def _frame(self, frame: np.ndarray) -> Frame:
        cal = self.calibration
        assert cal is not None
        emissivity = self._emissivity()
        data = calibration.calculate_to(frame, cal, emissivity, self.reflected_temp)
        if cal.broken:
            data = calibration.fix_bad_pixels(data, cal)
        ta = calibration.frame_ta(frame, cal)
        meta = {
            "ta": ta, "vdd": calibration.frame_vdd(frame, cal), "subpage": int(frame[calibration.SUBPAGE]),
            "refresh_hz": control_refresh_hz(self.control), "resolution_bits": control_resolution(self.control),
            "emissivity": emissivity,
            "reflected_temp": self.reflected_temp if self.reflected_temp is not None
            else ta - calibration.SELF_HEATING_C,
            "bad_pixels": [list(divmod(p, calibration.COLS)) for p in cal.broken], **self.extra_meta,
        }
        elapsed = self.clock.monotonic() - self._clock_start
        return Frame(data, "C", self._wall_start + timedelta(seconds=elapsed), self.kind, meta)


def open_mlx90641(target: str | None, *, i2c: BusioI2C | None = None, address: int | str = ADDRESS,
                  refresh_hz: float | None = None, resolution: int | None = None, emissivity: float | None = None,
                  reflected_temp: float | None = None, clock: Clock | None = None,
                  timeout: float | None = None) -> MLX90641Sensor:
    """The `mlx90641[:BUS]` sensor: BUS is an i2c-dev path or number (default /dev/i2c-1), or pass `i2c=`."""
    name = bus_path(target) if (target or i2c is None) else None
    return MLX90641Sensor(i2c, bus=name, address=address, refresh_hz=refresh_hz, resolution=resolution,
                          emissivity=emissivity, reflected_temp=reflected_temp, clock=clock, timeout=timeout)
