"""The MLX90641 register protocol over any busio-like I2C bus, and the `mlx90641` sensor.

Per measurement (MLX90641_GetFrameData): poll the status register until its new-data bit is set, clear
it, read the aux words (Ta, Vdd, gain, compensation pixel) and the six 32-word pixel blocks of the
measured subpage, then read the status again: if a newer measurement landed meanwhile, the words may mix
two measurements and the frame is dropped (never a half-stale frame). Frames with the 0x7FFF
frame-data-error word, a run of 0x0000/0xFFFF pixel words, a GAIN word, supply voltage or ambient
temperature the sensor cannot report, or a control word that does not read the same twice, are dropped
and counted by reason. Every subpage holds all 192 pixels, so every measurement is a frame. The I/O
shared with the MLX90640 (EEPROM read until two reads agree, deadlines, stop requests): `..melexis`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from ...buses.i2c import BusioI2C
from ...clock import Clock
from ...errors import SensorError
from ...frame import Frame
from ..melexis import (
    ADDRESS,
    CONTROL_DIFFERS,
    FRAME_ERROR,
    FRAME_ERROR_WORD,
    RAM_START,
    REWRITTEN,
    STATUS_CLEAR,
    STATUS_NEW_DATA,
    STATUS_REGISTER,
    STATUS_SUBPAGE,
    STUCK,
    MelexisSensor,
    aux_out_of_range,
    configure_rate,
    control_refresh_hz,
    control_resolution,
    gain_ratio,
    stuck_run,
)
from ..registers import bus_choice
from . import calibration
from .calibration import Calibration, CalibrationError

RAM_WORDS = 0x01C0  # 0x0400..0x05BF
AUX_START, AUX_WORDS = 0x0580, 48
BLOCK_WORDS = 32  # pixel words per RAM block (two rows of 16)
# Ambient temperatures a frame may report: the datasheet's operating range with a margin (Vdd and GAIN
# limits: `melexis`); a reading outside them is a bus glitch, not the sensor.
TA_RANGE = (-45.0, 130.0)
EEPROM_READS = 3  # at most this many EEPROM reads to find two that agree word for word
_AUX_USED = [calibration.TA_VBE, calibration.CP, calibration.GAIN, calibration.TA_PTAT, calibration.VDD_PIX]


def pixel_addresses(subpage: int) -> np.ndarray:
    """RAM addresses of the 192 pixels of `subpage`, in row-major pixel order (MLX90641_GetFrameData)."""
    blocks = RAM_START + 0x40 * np.arange(6)[:, None] + 0x20 * (subpage & 1) + np.arange(BLOCK_WORDS)
    return blocks.reshape(-1)


def implausible(frame: np.ndarray, cal: Calibration) -> str | None:
    """Why a 242-word frame cannot be a real measurement (a drop reason shared with the MLX90640), or None:
    a 0x7FFF word, a run of 0x0000/0xFFFF pixel words, or GAIN, Vdd or Ta out of range."""
    if np.any(frame[:calibration.PIXELS] == FRAME_ERROR_WORD) or np.any(frame[_AUX_USED] == FRAME_ERROR_WORD):
        return FRAME_ERROR
    if stuck_run(frame[:calibration.PIXELS]):
        return STUCK
    ratio = gain_ratio(int(calibration.words(frame)[calibration.GAIN]), cal.gain_ee, cal.resolution_ee,
                       int(frame[calibration.CONTROL]))
    try:
        ta: float | None = calibration.frame_ta(frame, cal)
    except SensorError:  # the Ta words cancel out
        ta = None
    return aux_out_of_range(ratio, calibration.frame_vdd(frame, cal), ta, TA_RANGE)


class MLX90641Sensor(MelexisSensor):
    """A Melexis MLX90641 (16x12) on an I2C bus: one frame per measurement.

    `i2c` is any busio.I2C-like object; without it `bus` (an i2c-dev path) is opened at open(). Settings
    are written only when given: `refresh_hz` (0.5..64), `resolution` (ADC bits 16..19). `emissivity`
    None uses the one stored in the EEPROM (1.0 if it is not in (0, 1]); `reflected_temp` None is Ta - 5.
    """

    kind = "mlx90641"
    model = "MLX90641"
    eeprom_words = calibration.EEPROM_WORDS
    eeprom_tries = EEPROM_READS

    def __init__(self, i2c: BusioI2C | None = None, *, bus: str | None = None, address: int | str = ADDRESS,
                 refresh_hz: float | None = None, resolution: int | None = None, emissivity: float | None = None,
                 reflected_temp: float | None = None, clock: Clock | None = None, timeout: float | None = None,
                 retries: int = 4) -> None:
        super().__init__(i2c, bus=bus, address=address, refresh_hz=refresh_hz, resolution=resolution, clock=clock,
                         timeout=timeout, retries=retries)
        self.emissivity = None if emissivity is None else calibration.check_emissivity(emissivity)
        self.reflected_temp = None if reflected_temp is None else float(reflected_temp)

    def _reset_session(self) -> None:
        super()._reset_session()
        self.calibration: Calibration | None = None
        self.measurements_read = 0

    # -- Sensor hooks ------------------------------------------------------------------------------------
    def _start(self) -> None:
        eeprom = self._read_eeprom()
        try:
            self.calibration = calibration.extract_parameters(eeprom)
        except CalibrationError as exc:
            raise CalibrationError(f"{self.where}: EEPROM rejected: {exc}") from exc
        self._set_control(lambda c: configure_rate(c, self.refresh_hz, self.resolution, self.model))
        self._begin_session()

    def _next(self) -> Frame | None:
        frame = self._measurement()
        return self._frame(frame) if frame is not None else None

    def _default_timeout(self) -> float:
        """Three measurement periods plus a second."""
        return 3.0 / control_refresh_hz(self.control) + 1.0

    def _timeout_message(self, status: int | None) -> str:
        dropped = sum(self.dropped.values())
        reasons = "".join(f", {n} {reason}" for reason, n in sorted(self._stats.items())
                          if reason not in ("announced", "arrived"))
        state = f"status 0x{status:04x}, " if status is not None else ""
        return (f"{self.where}: no good frame within {self._wait:g} s ({state}refresh "
                f"{control_refresh_hz(self.control):g} Hz, {dropped} bad frames dropped so far{reasons}); check "
                "the sensor's power and wiring, keep the wires short and the bus at 400 kHz or less")

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "model": "MLX90641", "shape": [calibration.ROWS, calibration.COLS], "units": "C",
            "bus": self.bus_name, "address": f"0x{self.address:02x}", "measurements_read": self.measurements_read,
            "torn_frames_dropped": self.dropped[REWRITTEN],
            "implausible_frames_dropped": sum(n for reason, n in self.dropped.items() if reason != REWRITTEN),
            "dropped_frames": dict(self.dropped), "eeprom_reads": self.eeprom_reads,
            "eeprom_rereads": max(self.eeprom_reads - 2, 0), "nack_retries": self.nack_retries,
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
    def _measurement(self) -> np.ndarray | None:
        """Wait for new data and read it as a 242-word frame; None (counted by reason) when it fails a check."""
        regs = self._io()
        status = self._wait_for_data()
        regs.write_word(STATUS_REGISTER, STATUS_CLEAR)
        subpage = status & STATUS_SUBPAGE
        frame = np.empty(calibration.FRAME_WORDS, dtype=np.uint16)
        frame[calibration.PIXELS:calibration.PIXELS + AUX_WORDS] = regs.read_words(AUX_START, AUX_WORDS)
        for block in range(6):
            start = RAM_START + 0x40 * block + 0x20 * subpage
            frame[BLOCK_WORDS * block:BLOCK_WORDS * (block + 1)] = regs.read_words(start, BLOCK_WORDS)
        after = regs.read_word(STATUS_REGISTER)
        control = self._read_control()
        frame[calibration.CONTROL] = control or 0
        frame[calibration.SUBPAGE] = subpage
        self.measurements_read += 1
        self._stats["arrived"] += 1
        if control is None:
            reason: str | None = CONTROL_DIFFERS
        elif after & STATUS_NEW_DATA:  # a newer measurement landed while we read: words may mix two
            self._arrival = None
            reason = REWRITTEN
        else:
            assert self.calibration is not None
            reason = implausible(frame, self.calibration)
        if reason is None:
            return frame
        self._drop(reason)
        return None

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


def open_mlx90641(target: str | None, *, i2c: BusioI2C | str | None = None, address: int | str = ADDRESS,
                  refresh_hz: float | None = None, resolution: int | None = None, emissivity: float | None = None,
                  reflected_temp: float | None = None, clock: Clock | None = None,
                  timeout: float | None = None) -> MLX90641Sensor:
    """The `mlx90641[:BUS]` sensor: BUS is an i2c-dev path or number (default: the board's header bus), or
    pass `i2c=`."""
    i2c, name = bus_choice(target, i2c)
    return MLX90641Sensor(i2c, bus=name, address=address, refresh_hz=refresh_hz, resolution=resolution,
                          emissivity=emissivity, reflected_temp=reflected_temp, clock=clock, timeout=timeout)
