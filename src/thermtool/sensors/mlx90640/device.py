"""The MLX90640 register protocol over any busio-like I2C bus, and the `mlx90640` sensor.

What the driver does per subpage (the datasheet's "subpage mode"): poll the status register until its
new-data bit is set, clear that bit, read the 832 RAM words in chunks, read the control register (the
frame is decoded with the value read alongside it, as Melexis' MLX90640_GetFrameData does) and the
status again (as GetFrameData does, to see whether the device rewrote RAM during the read), drop
subpages that fail the plausibility checks below, and decode the rest into a (24, 32) buffer. A full
frame is built only from two consecutive subpages of one run (no failure, repeat or gap between them),
so full frames come at HALF the refresh rate (the refresh rate is the subpage rate) and are never half
stale. The maths lives in `calibration`; here is only I/O, validation and state.

On a flaky bus (the field, not the bench): the EEPROM is read until two reads agree and is then checked
against what the datasheet allows; every subpage is checked before calibration (0x7FFF error words, runs
of 0x0000/0xFFFF a stuck data line leaves, Vdd, Ta and GAIN in range, a control word that reads the same
twice); every wait checks the read's deadline, so `read(timeout)` ends within the timeout plus one bus
transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta
from typing import Any

import numpy as np

from ...buses.i2c import BusioI2C, bus_frequency
from ...clock import Clock
from ...errors import InputError
from ...frame import Frame
from ..melexis import (
    ADDRESS,
    CONTROL_DIFFERS,
    DEFAULT_CHUNK_WORDS,
    FRAME_ERROR,
    FRAME_ERROR_WORD,
    RAM_START,
    REFRESH_RATES,
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
from ..registers import DEFAULT_RETRIES, bus_choice
from . import calibration
from .calibration import Calibration, CalibrationError

# Register map beyond what both Melexis sensors share (datasheet "Memory map").
EEPROM_WORDS = 832
RAM_WORDS = 832
PIXELS = 768
FRAME_WORDS = 834  # RAM words + control word + subpage number (MLX90640_GetFrameData layout)
PATTERN_CHESS = 0x1000  # control bit 12: 1 = chess pattern, 0 = interleaved (TV) pattern

PATTERNS: tuple[str, ...] = ("interleaved", "chess")

# Positions in the 64 aux words that Melexis' ValidateAuxData checks for 0x7FFF (the words between hold
# 0x7FFF on a healthy device, as the example frames show).
_AUX_CHECKED = np.r_[0, 8:19, 20:23, 24:33, 40:51, 52:55, 56:64]
_LINE_PARITY = np.arange(24) % 2

EEPROM_ADDRESS_WORD = 15  # 0x240F: bits 7:0 hold the device's I2C address (datasheet EEPROM map)
DEVICE_ID_WORDS = slice(7, 10)  # 0x2407..0x2409: the device ID (serial number)
# Ambient temperatures a subpage may report: the datasheet's -40..85 C operating range with margin for the
# sensor's own heating; an all-0xFFFF read (Ta 359 C) falls far outside. Vdd and GAIN limits: `melexis`
# (GAIN tracks GAIN_EE within a few percent on every real dump we have: 2,281 subpages of 4 units).
TA_RANGE = (-45.0, 125.0)
# A pair of subpages seen further apart than this many periods may have an even number of measurements
# between them (with the sensor's oscillator up to 10 % fast, a third measurement completes after 1.7):
# they are not treated as consecutive.
STALE_GAP_PERIODS = 1.5
# A RAM read may overlap the next measurement (it rewrites the other subpage's pixels and the aux words,
# which are read first) but not the one after (it rewrites ours): that completes no sooner than 2 * 0.9 - 1
# periods after we saw our subpage, or 3 * 0.9 - 1 when the status already shows the other subpage again.
OVERRUN_SAME_PERIODS = 0.75
OVERRUN_OTHER_PERIODS = 1.6
BUS_WARNING_FRAMES = 4  # full frames after the first to measure the delivered rate over
BUS_WARNING_SHORTFALL = 0.9  # warn when fewer than this share of the nominal full frames arrive
#: Bus bits per subpage: 832 RAM words in 128-word chunks (15,242 clocks), the status and control reads and
#: the status write, each transaction with its start, address and register bytes at 9 clocks a byte.
SUBPAGE_BUS_BITS = 15_500

log = logging.getLogger(__name__)


# -- pure helpers: control word <-> settings, frame validation ---------------------------------------------
def control_pattern(control: int) -> str:
    """Reading pattern ("chess" or "interleaved") set in a control word."""
    return "chess" if control & PATTERN_CHESS else "interleaved"


def configure_control(control: int, refresh_hz: float | None = None, resolution: int | None = None,
                      pattern: str | None = None) -> int:
    """`control` with only the asked-for fields replaced (refresh bits 9:7, resolution 11:10, pattern 12)."""
    control = configure_rate(control, refresh_hz, resolution)
    if pattern is not None:
        chess = check_pattern(pattern) == "chess"
        control = (control | PATTERN_CHESS) if chess else (control & ~PATTERN_CHESS)
    return control & 0xFFFF


def check_pattern(pattern: str) -> str:
    """The normalised pattern name, or InputError."""
    name = str(pattern).strip().lower()
    if name not in PATTERNS:
        raise InputError(f"MLX90640 reading pattern {pattern!r} is unknown; valid: chess, interleaved")
    return name


def has_frame_data_error(frame: np.ndarray) -> bool:
    """True when an 834-word frame carries the 0x7FFF pattern of a corrupted measurement.

    The checks are Melexis' ValidateFrameData (first pixel of each line of the frame's subpage) and
    ValidateAuxData (the aux words that never hold 0x7FFF). Melexis keeps the stale aux words when only
    those are bad; we drop the whole subpage, since Ta and the CP words would not match its pixels.
    """
    line_starts = frame[0:PIXELS:32]
    if np.any((line_starts == FRAME_ERROR_WORD) & (int(frame[833]) % 2 == _LINE_PARITY)):
        return True
    return bool(np.any(frame[PIXELS + _AUX_CHECKED] == FRAME_ERROR_WORD))


def implausible(frame: np.ndarray, cal: Calibration) -> str | None:
    """Why an 834-word subpage cannot be a real measurement (a short reason), or None when it is plausible.

    Checked before calibration: the 0x7FFF error pattern, runs of 0x0000/0xFFFF in the pixels, then the aux
    words the equations use: GAIN against GAIN_EE (resolution-corrected), Vdd and Ta in range.
    """
    if has_frame_data_error(frame):
        return FRAME_ERROR
    if stuck_run(frame[:PIXELS]):
        return STUCK
    ratio = gain_ratio(int(np.int16(frame[calibration.GAIN])), cal.gain_ee, cal.resolution_ee, int(frame[832]))
    denominator = int(np.int16(frame[calibration.TA_PTAT])) * cal.alpha_ptat + int(np.int16(frame[calibration.TA_VBE]))
    ta = calibration.frame_ta(frame, cal) if denominator else None
    return aux_out_of_range(ratio, calibration.frame_vdd(frame, cal), ta, TA_RANGE)


def check_identity(eeprom: np.ndarray, address: int) -> str | None:
    """What is wrong with the EEPROM's identity words for a device answering at `address`, or None.

    The datasheet's EEPROM map stores the device's own I2C address in 0x240F bits 7:0 and a device ID in
    0x2407..0x2409; a dump whose address byte differs, or whose ID is all 0x0000/0xFFFF, was misread.
    """
    stored = int(eeprom[EEPROM_ADDRESS_WORD]) & 0xFF
    if stored != address:
        return f"its address word 0x240F says 0x{stored:02x}, but the device answers at 0x{address:02x}"
    ids = eeprom[DEVICE_ID_WORDS]
    if (ids == 0).all() or (ids == 0xFFFF).all():
        return "its device ID words 0x2407-0x2409 are blank"
    return None


def bus_carries_hz(frequency: float) -> float:
    """The highest refresh rate whose subpage fits in one period at bus `frequency` Hz (0 when none does)."""
    fitting = [rate for rate in REFRESH_RATES if SUBPAGE_BUS_BITS / frequency <= 1.0 / rate]
    return max(fitting, default=0.0)


def timeout_message(where: str, wait: float, refresh_hz: float, status: int | None, stats: Counter[str]) -> str:
    """The SensorTimeoutError text: what the subpages that did arrive in `wait` seconds had wrong."""
    dropped = {k: n for k, n in stats.items() if k not in ("announced", "arrived", "repeated", "gap")}
    if stats["announced"] and not stats["arrived"]:
        return (f"{where}: no complete subpage within {wait:g} s: the bus stalled while one was being read; "
                "check the wiring, the pull-ups and what else uses the bus")
    if not stats["arrived"]:
        state = f"status 0x{status:04x}, " if status is not None else ""
        return (f"{where}: no new data within {wait:g} s ({state}refresh {refresh_hz:g} Hz); check the sensor's "
                "power and that nothing else reconfigured it")
    parts = [f"{n} {reason}" for reason, n in sorted(dropped.items())]
    if stats["repeated"]:
        parts.append(f"{stats['repeated']} repeated the previous subpage")
    if stats["gap"]:
        parts.append(f"{stats['gap']} came after a gap")
    if stats["repeated"] and not dropped:
        advice = ("the new-data bit seems stuck or the sensor is in subpage-repeat mode; power-cycle it and "
                  "check that nothing else writes its control register")
    else:
        advice = ("check the wiring and pull-ups, keep the wires short, and lower the bus speed (400 kHz) or "
                  "the refresh rate")
    return (f"{where}: no complete frame within {wait:g} s: every one of the {stats['arrived']} subpages that "
            f"arrived was unusable ({', '.join(parts)}); {advice}")


# -- the sensor --------------------------------------------------------------------------------------------
class MLX90640Sensor(MelexisSensor):
    """A Melexis MLX90640 (32x24) on an I2C bus: full frames of both subpages, or every subpage.

    `i2c` is any object with busio.I2C's methods; without it `bus` (an i2c-dev path) is opened through
    Linux i2c-dev at open(). Settings are written only when given: `refresh_hz` (subpages per second,
    0.5..64), `resolution` (ADC bits 16..19), `pattern` ("chess"/"interleaved"); otherwise the sensor keeps
    what its EEPROM configured. All state is per instance, so sensors on other buses or addresses are
    independent; one thread at a time reads one sensor, and sensors sharing a bus share its lock.
    """

    kind = "mlx90640"
    model = "MLX90640"
    eeprom_words = EEPROM_WORDS

    def __init__(self, i2c: BusioI2C | None = None, *, bus: str | None = None, address: int | str = ADDRESS,
                 refresh_hz: float | None = None, resolution: int | None = None, pattern: str | None = None,
                 emissivity: float = 0.95, reflected_temp: float | None = None, per_subpage: bool = False,
                 clock: Clock | None = None, timeout: float | None = None,
                 chunk_words: int = DEFAULT_CHUNK_WORDS, retries: int = DEFAULT_RETRIES) -> None:
        if not 1 <= int(chunk_words) <= RAM_WORDS:
            raise InputError(f"chunk_words must be 1..{RAM_WORDS}, got {chunk_words}")
        super().__init__(i2c, bus=bus, address=address, refresh_hz=refresh_hz, resolution=resolution, clock=clock,
                         timeout=timeout, chunk_words=chunk_words, retries=retries)
        self.pattern = None if pattern is None else check_pattern(pattern)
        self.emissivity = calibration.check_emissivity(emissivity)
        self.reflected_temp = None if reflected_temp is None else float(reflected_temp)
        self.per_subpage = bool(per_subpage)

    def _reset_session(self) -> None:
        super()._reset_session()
        self.calibration: Calibration | None = None
        self._image = np.full((24, 32), np.nan)
        self._run: list[int] = []  # subpages decoded in the current run of consecutive subpages
        self._run_at = 0.0  # when the last of them was announced by the status register
        self._pattern_bit: int | None = None
        self._ta = self._vdd = float("nan")
        self._full_frames = 0
        self._first_frame_at = 0.0
        self._bus_check: float | None = None  # the bus clock (Hz) while a bus-speed warning may be due
        self.bus_warning: str | None = None
        self.subpages_read = 0
        self.repeated_subpages = 0
        self.gaps = 0

    # -- Sensor hooks ----------------------------------------------------------------------------------
    def _start(self) -> None:
        eeprom = self._read_eeprom()
        advice = ("check the wiring and pull-ups and read the EEPROM at 400 kHz or less (a Pi: "
                  "dtparam=i2c_arm_baudrate=400000)")
        try:
            self.calibration = calibration.extract_parameters(eeprom)
        except CalibrationError as exc:
            raise CalibrationError(f"{self.where}: EEPROM rejected: {exc}; {advice}") from exc
        wrong = check_identity(eeprom, self.address)
        if wrong is not None:
            raise CalibrationError(f"{self.where}: EEPROM rejected: {wrong}; {advice}")
        control = self._set_control(lambda c: configure_control(c, self.refresh_hz, self.resolution, self.pattern))
        frequency = bus_frequency(self._bus)
        if frequency and control_refresh_hz(control) > bus_carries_hz(frequency):
            self._bus_check = frequency
        self._begin_session()

    def _next(self) -> Frame | None:
        order = self._next_frame()
        return self._frame(order) if order is not None else None

    def _abandon(self) -> None:
        self._break_run()  # a failure mid-frame: the pending half never meets a later one

    def _timeout_message(self, status: int | None) -> str:
        return timeout_message(self.where, self._wait, control_refresh_hz(self.control), status, self._stats)

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "model": "MLX90640", "shape": [24, 32], "units": "C", "bus": self.bus_name,
            "address": f"0x{self.address:02x}", "emissivity": self.emissivity,
            "reflected_temp": self.reflected_temp if self.reflected_temp is not None else "Ta - 8",
            "per_subpage": self.per_subpage, "subpages_read": self.subpages_read,
            "corrupt_subpages_dropped": sum(self.dropped.values()), "dropped_subpages": dict(self.dropped),
            "repeated_subpages_skipped": self.repeated_subpages, "gaps": self.gaps,
            "nack_retries": self.nack_retries,
            "eeprom_reads": self.eeprom_reads,
        }
        if self.bus_warning:
            info["bus_warning"] = self.bus_warning
        if self.calibration is not None:
            eeprom = self.calibration.eeprom
            info.update({
                "serial": "-".join(f"{int(w):04x}" for w in eeprom[DEVICE_ID_WORDS]),
                "refresh_hz": control_refresh_hz(self.control),
                "full_frame_hz": control_refresh_hz(self.control) / 2,
                "resolution_bits": control_resolution(self.control), "pattern": control_pattern(self.control),
                "broken_pixels": [_row_col(p) for p in self.calibration.broken],
                "outlier_pixels": [_row_col(p) for p in self.calibration.outliers],
            })
        return info

    # -- subpages and runs -----------------------------------------------------------------------------
    def _default_timeout(self) -> float:
        """Long enough for a full frame with one subpage missed, at the current refresh rate."""
        return 6.0 / control_refresh_hz(self.control) + 1.0

    def _break_run(self) -> None:
        """Forget the pending half: what comes next starts a new run."""
        self._run = []

    def _next_frame(self) -> list[int] | None:
        """Read one subpage; the subpage order of a frame when it completes one, else None."""
        frame = self._next_subpage()
        if frame is None:
            self._break_run()
            return None
        subpage = int(frame[833])
        period = 1.0 / control_refresh_hz(int(frame[832]))
        if self._run and subpage == self._run[-1]:
            # The other subpage was missed (a slow reader) or never measured: a run never spans the gap.
            self.repeated_subpages += 1
            self._stats["repeated"] += 1
            self._break_run()
        elif self._run and self._status_at - self._run_at > STALE_GAP_PERIODS * period:
            self.gaps += 1
            self._stats["gap"] += 1
            self._break_run()
        pattern_bit = int(frame[832]) & PATTERN_CHESS
        if pattern_bit != self._pattern_bit:  # pattern changed: the other subpage's pixels no longer fit
            self._image.fill(np.nan)
            self._pattern_bit = pattern_bit
            self._break_run()
        self._decode(frame)
        self._run = [*self._run[-1:], subpage]
        self._run_at = self._status_at
        if len(self._run) < 2:
            return None
        order = list(self._run)
        if not self.per_subpage:
            self._break_run()
        return order

    def _next_subpage(self) -> np.ndarray | None:
        """Wait for new data and read it as an 834-word frame; None (counted) when it fails a check."""
        status = self._wait_for_data()
        self._io().write_word(STATUS_REGISTER, STATUS_CLEAR)
        frame = np.empty(FRAME_WORDS, dtype=np.uint16)
        # Aux words (Ta, Vdd, gain, compensation pixels) first: the next measurement rewrites them and the
        # other subpage's pixels, so this order keeps them matched with our pixels even if the read runs long.
        frame[PIXELS:RAM_WORDS] = self._io().read_words(RAM_START + PIXELS, RAM_WORDS - PIXELS)
        frame[:PIXELS] = self._io().read_words(RAM_START, PIXELS)
        control = self._read_control()
        frame[832] = control or 0
        frame[833] = status & STATUS_SUBPAGE
        after = self._io().read_word(STATUS_REGISTER)
        self.subpages_read += 1
        self._stats["arrived"] += 1
        reason = None if control is not None else CONTROL_DIFFERS
        if reason is None and self._overrun(after, int(frame[833])):
            reason = REWRITTEN
        if reason is None:
            assert self.calibration is not None
            reason = implausible(frame, self.calibration)
        if reason is None:
            return frame
        self._drop(reason)
        return None

    def _overrun(self, after: int, subpage: int) -> bool:
        """True when the status read after the RAM shows that a measurement of our subpage may have rewritten
        its pixels during the read: new data of the same subpage (a second measurement at least), or of the
        other one so late that a third could have completed. Measurements come at most 10 % fast, and the
        one we read completed at most one period before we saw it."""
        if not after & STATUS_NEW_DATA:
            return False
        elapsed = (self.clock.monotonic() - self._status_at) * control_refresh_hz(self.control)
        limit = OVERRUN_SAME_PERIODS if after & STATUS_SUBPAGE == subpage else OVERRUN_OTHER_PERIODS
        return elapsed > limit

    def _decode(self, frame: np.ndarray) -> None:
        """Decode one subpage into the image buffer (the other subpage's pixels are kept)."""
        cal = self.calibration
        assert cal is not None
        self._ta = float(calibration.frame_ta(frame, cal))
        self._vdd = float(calibration.frame_vdd(frame, cal))
        calibration.calculate_to(frame, cal, self.emissivity, self.reflected_temp, out=self._image)

    def _frame(self, subpages: list[int]) -> Frame:
        cal = self.calibration
        assert cal is not None
        bad = sorted({*cal.broken, *cal.outliers})
        interleaved = not self.control & PATTERN_CHESS
        data = calibration.fix_bad_pixels(self._image, cal, interleaved=interleaved) if bad else self._image
        elapsed = self.clock.monotonic() - self._clock_start
        reflected = self.reflected_temp if self.reflected_temp is not None else self._ta - 8.0
        meta = {
            "ta": self._ta, "vdd": self._vdd, "subpage": subpages[-1], "subpages": subpages,
            "refresh_hz": control_refresh_hz(self.control), "resolution_bits": control_resolution(self.control),
            "pattern": control_pattern(self.control), "emissivity": self.emissivity,
            "reflected_temp": reflected, "bad_pixels": [_row_col(p) for p in bad], **self.extra_meta,
        }
        self._check_bus_speed()
        return Frame(data, "C", self._wall_start + timedelta(seconds=elapsed), self.kind, meta)

    def _check_bus_speed(self) -> None:
        """Once per session, when the refresh rate exceeds what the bus clock carries: measure the full-frame
        rate over BUS_WARNING_FRAMES frames and warn if it falls short, saying what is delivered."""
        self._full_frames += 1
        now = self.clock.monotonic()
        if self._full_frames == 1:
            self._first_frame_at = now
        if self._bus_check is None or self._full_frames != BUS_WARNING_FRAMES + 1:
            return
        frequency, self._bus_check = self._bus_check, None
        refresh = control_refresh_hz(self.control)
        delivered = BUS_WARNING_FRAMES / max(now - self._first_frame_at, 1e-9)
        if delivered >= BUS_WARNING_SHORTFALL * refresh / 2:
            return
        carries = bus_carries_hz(frequency)
        self.bus_warning = (f"{self.where}: refresh {refresh:g} Hz is more than a {frequency / 1000:g} kHz bus "
                            f"carries ({carries:g} Hz); delivering {delivered:.2g} full frames/s instead of "
                            f"{refresh / 2:g}; set --refresh-hz {carries:g} or raise the bus clock")
        log.warning("%s", self.bus_warning)


def _row_col(pixel: int) -> list[int]:
    return [int(pixel) // 32, int(pixel) % 32]


def open_mlx90640(target: str | None, *, i2c: BusioI2C | str | None = None, address: int | str = ADDRESS,
                  refresh_hz: float | None = None, emissivity: float = 0.95, reflected_temp: float | None = None,
                  pattern: str | None = None, resolution: int | None = None, per_subpage: bool = False,
                  clock: Clock | None = None, timeout: float | None = None,
                  chunk_words: int = DEFAULT_CHUNK_WORDS) -> MLX90640Sensor:
    """The `mlx90640[:BUS]` sensor: BUS is an i2c-dev path or number (default: the board's header bus), or pass `i2c=`.

    Full frames come at half `refresh_hz` (the sensor measures one subpage per refresh); `per_subpage`
    returns a frame after every subpage instead.
    """
    i2c, name = bus_choice(target, i2c)
    return MLX90640Sensor(i2c, bus=name, address=address, refresh_hz=refresh_hz, resolution=resolution,
                          pattern=pattern, emissivity=emissivity, reflected_temp=reflected_temp,
                          per_subpage=per_subpage, clock=clock, timeout=timeout, chunk_words=chunk_words)
