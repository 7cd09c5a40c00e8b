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
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from ...buses.i2c import BusioI2C, LinuxI2C, bus_frequency, default_bus_path
from ...clock import Clock, SystemClock
from ...errors import InputError, SensorError, SensorTimeoutError
from ...frame import Frame
from ..base import Sensor, sleep_or_stop
from ..registers import DEFAULT_RETRIES, I2CRegisters
from . import calibration
from .calibration import Calibration, CalibrationError

# Register map (datasheet "Memory map" and the Status / Control register 1 tables).
ADDRESS = 0x33
EEPROM_START = 0x2400
EEPROM_WORDS = 832
RAM_START = 0x0400
RAM_WORDS = 832
PIXELS = 768
FRAME_WORDS = 834  # RAM words + control word + subpage number (MLX90640_GetFrameData layout)
STATUS_REGISTER = 0x8000
CONTROL_REGISTER = 0x800D

STATUS_SUBPAGE = 0x0001  # last measured subpage (bits 2:0; the MLX90640 only uses bit 0)
STATUS_NEW_DATA = 0x0008  # set by the device when a subpage is in RAM; the host clears it by writing 0
STATUS_OVERWRITE = 0x0010  # enable RAM overwrite by the next measurement
STATUS_START = 0x0020  # start of measurement (step mode)
STATUS_CLEAR = STATUS_OVERWRITE | STATUS_START  # 0x0030, what Melexis' library writes to clear new-data

REFRESH_SHIFT, REFRESH_MASK = 7, 0x0380  # control bits 9:7
RESOLUTION_SHIFT, RESOLUTION_MASK = 10, 0x0C00  # control bits 11:10
PATTERN_CHESS = 0x1000  # control bit 12: 1 = chess pattern, 0 = interleaved (TV) pattern

#: Refresh rates (subpages per second) by control-register code 0..7.
REFRESH_RATES: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
#: ADC resolutions in bits by control-register code 0..3.
RESOLUTIONS: tuple[int, ...] = (16, 17, 18, 19)
PATTERNS: tuple[str, ...] = ("interleaved", "chess")

# Positions in the 64 aux words that Melexis' ValidateAuxData checks for 0x7FFF (the words between hold
# 0x7FFF on a healthy device, as the example frames show).
_AUX_CHECKED = np.r_[0, 8:19, 20:23, 24:33, 40:51, 52:55, 56:64]
_LINE_PARITY = np.arange(24) % 2
FRAME_ERROR_WORD = 0x7FFF  # what a corrupted measurement leaves in RAM

DEFAULT_CHUNK_WORDS = 128  # 256-byte reads: within every adapter's transfer limit, ~2% protocol overhead
_EARLY_WAKE = 0.8  # of a subpage period after the last arrival: when to start polling for the next
EEPROM_READS = 4  # at most this many EEPROM reads to find two that agree word for word
EEPROM_ADDRESS_WORD = 15  # 0x240F: bits 7:0 hold the device's I2C address (datasheet EEPROM map)
DEVICE_ID_WORDS = slice(7, 10)  # 0x2407..0x2409: the device ID (serial number)
# Plausibility of a subpage's aux words. The datasheet specifies a 3.3 V supply (3.0..3.6 V operating) and
# -40..85 C ambient; the limits leave margin for the sensor's own heating and measurement spread, and an
# all-0xFFFF read (Vdd -0.6 V, Ta 359 C) falls far outside them. GAIN tracks the EEPROM's GAIN_EE within a
# few percent on every real dump we have (2,281 subpages of 4 units); +-25 % is allowed.
VDD_RANGE = (2.8, 3.8)
TA_RANGE = (-45.0, 125.0)
GAIN_RATIO_RANGE = (0.75, 1.25)
STUCK_RUN = 8  # this many consecutive pixel words of 0x0000 or 0xFFFF: a failed transfer, not a scene
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
def refresh_code(hz: float) -> int:
    """The control-register code (0..7) for a refresh rate in Hz; InputError naming the valid rates."""
    for code, rate in enumerate(REFRESH_RATES):
        if abs(float(hz) - rate) < 1e-9:
            return code
    valid = ", ".join(f"{r:g}" for r in REFRESH_RATES)
    raise InputError(f"MLX90640 refresh rate {hz:g} Hz is not one the sensor has; valid: {valid}")


def control_refresh_hz(control: int) -> float:
    """Subpage rate (Hz) set in a control word."""
    return REFRESH_RATES[(control & REFRESH_MASK) >> REFRESH_SHIFT]


def control_resolution(control: int) -> int:
    """ADC resolution (bits) set in a control word."""
    return RESOLUTIONS[(control & RESOLUTION_MASK) >> RESOLUTION_SHIFT]


def control_pattern(control: int) -> str:
    """Reading pattern ("chess" or "interleaved") set in a control word."""
    return "chess" if control & PATTERN_CHESS else "interleaved"


def configure_control(control: int, refresh_hz: float | None = None, resolution: int | None = None,
                      pattern: str | None = None) -> int:
    """`control` with only the asked-for fields replaced (refresh bits 9:7, resolution 11:10, pattern 12)."""
    if refresh_hz is not None:
        control = (control & ~REFRESH_MASK) | (refresh_code(refresh_hz) << REFRESH_SHIFT)
    if resolution is not None:
        control = (control & ~RESOLUTION_MASK) | (RESOLUTIONS.index(check_resolution(resolution))
                                                  << RESOLUTION_SHIFT)
    if pattern is not None:
        chess = check_pattern(pattern) == "chess"
        control = (control | PATTERN_CHESS) if chess else (control & ~PATTERN_CHESS)
    return control & 0xFFFF


def check_resolution(bits: int) -> int:
    """`bits` if the ADC supports it (16..19), else InputError."""
    if bits not in RESOLUTIONS:
        raise InputError(f"MLX90640 ADC resolution {bits} is not supported; valid: 16, 17, 18, 19 (bits)")
    return int(bits)


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


def stuck_run(pixels: np.ndarray) -> bool:
    """True when the pixel words hold a run of `STUCK_RUN` equal 0x0000 or 0xFFFF words (a dead data line)."""
    for value in (0x0000, 0xFFFF):
        hits = np.concatenate(([0], (pixels == value).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(hits))
        if edges.size and (edges[1::2] - edges[::2]).max() >= STUCK_RUN:
            return True
    return False


def implausible(frame: np.ndarray, cal: Calibration) -> str | None:
    """Why an 834-word subpage cannot be a real measurement (a short reason), or None when it is plausible.

    Checked before calibration: the 0x7FFF error pattern, runs of 0x0000/0xFFFF in the pixels, then the aux
    words the equations use: GAIN against GAIN_EE (resolution-corrected), Vdd and Ta in range.
    """
    if has_frame_data_error(frame):
        return "0x7FFF frame-data error"
    if stuck_run(frame[:PIXELS]):
        return "0x0000/0xFFFF run in the pixels"
    gain = int(np.int16(frame[calibration.GAIN]))
    resolution_shift = calibration.RESOLUTION_SHIFT
    correction = 2.0 ** (cal.resolution_ee - ((int(frame[832]) >> resolution_shift) & 0x3))
    if gain <= 0 or not GAIN_RATIO_RANGE[0] <= cal.gain_ee / (gain * correction) <= GAIN_RATIO_RANGE[1]:
        return "GAIN word out of range"
    vdd = calibration.frame_vdd(frame, cal)
    if not VDD_RANGE[0] <= vdd <= VDD_RANGE[1]:
        return "Vdd out of range"
    denominator = int(np.int16(frame[calibration.TA_PTAT])) * cal.alpha_ptat + int(np.int16(frame[calibration.TA_VBE]))
    if denominator == 0 or not TA_RANGE[0] <= calibration.frame_ta(frame, cal) <= TA_RANGE[1]:
        return "Ta out of range"
    return None


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


def parse_address(address: int | str) -> int:
    """A 7-bit I2C address from an int or a string such as "0x33"; InputError otherwise."""
    try:
        value = int(address, 0) if isinstance(address, str) else int(address)
    except ValueError:
        raise InputError(f"bad I2C address {address!r}; use a number such as 0x33") from None
    if not 0x03 <= value <= 0x77:
        raise InputError(f"I2C address 0x{value:02x} is outside the 7-bit range 0x03..0x77")
    return value


def bus_path(target: str | None) -> str:
    """The i2c-dev path a spec target names: None -> the board's header bus (/dev/i2c-1 on a Pi, the SoC's on
    a Jetson), "3" -> /dev/i2c-3, a path as is."""
    if not target:
        return default_bus_path()
    return f"/dev/i2c-{target}" if target.isdigit() else target


# -- the sensor --------------------------------------------------------------------------------------------
class MLX90640Sensor(Sensor):
    """A Melexis MLX90640 (32x24) on an I2C bus: full frames of both subpages, or every subpage.

    `i2c` is any object with busio.I2C's methods; without it `bus` (an i2c-dev path) is opened through
    Linux i2c-dev at open(). Settings are written only when given: `refresh_hz` (subpages per second,
    0.5..64), `resolution` (ADC bits 16..19), `pattern` ("chess"/"interleaved"); otherwise the sensor keeps
    what its EEPROM configured. All state is per instance, so sensors on other buses or addresses are
    independent; one thread at a time reads one sensor, and sensors sharing a bus share its lock.
    """

    kind = "mlx90640"

    def __init__(self, i2c: BusioI2C | None = None, *, bus: str | None = None, address: int | str = ADDRESS,
                 refresh_hz: float | None = None, resolution: int | None = None, pattern: str | None = None,
                 emissivity: float = 0.95, reflected_temp: float | None = None, per_subpage: bool = False,
                 clock: Clock | None = None, timeout: float | None = None,
                 chunk_words: int = DEFAULT_CHUNK_WORDS, retries: int = DEFAULT_RETRIES) -> None:
        super().__init__()
        self._given_bus = i2c
        self.bus_name = bus or (bus_path(None) if i2c is None else str(getattr(i2c, "path", type(i2c).__name__)))
        self.address = parse_address(address)
        self.refresh_hz = None if refresh_hz is None else REFRESH_RATES[refresh_code(refresh_hz)]
        self.resolution = None if resolution is None else check_resolution(resolution)
        self.pattern = None if pattern is None else check_pattern(pattern)
        self.emissivity = calibration.check_emissivity(emissivity)
        self.reflected_temp = None if reflected_temp is None else float(reflected_temp)
        self.per_subpage = bool(per_subpage)
        self.clock: Clock = clock if clock is not None else SystemClock()
        if timeout is not None and not timeout > 0:
            raise InputError(f"timeout must be above 0 seconds, got {timeout}")
        self.timeout = timeout
        if not 1 <= int(chunk_words) <= RAM_WORDS:
            raise InputError(f"chunk_words must be 1..{RAM_WORDS}, got {chunk_words}")
        self.chunk_words = int(chunk_words)
        self.retries = max(0, int(retries))
        #: Added to every frame's meta (the simulated camera marks its frames here).
        self.extra_meta: dict[str, Any] = {}
        self._bus: BusioI2C | None = None
        self._regs: I2CRegisters | None = None
        self._reading = threading.Lock()
        self._reset_session()

    # -- identification --------------------------------------------------------------------------------
    @property
    def where(self) -> str:
        """The prefix of every error message, such as "MLX90640 at 0x33 on /dev/i2c-1"."""
        return f"MLX90640 at 0x{self.address:02x} on {self.bus_name}"

    def _reset_session(self) -> None:
        self.calibration: Calibration | None = None
        self.control = 0
        self._image = np.full((24, 32), np.nan)
        self._run: list[int] = []  # subpages decoded in the current run of consecutive subpages
        self._run_at = 0.0  # when the last of them was announced by the status register
        self._pattern_bit: int | None = None
        self._arrival: float | None = None
        self._status_at = 0.0
        self._deadline: float | None = None  # of the read() in progress
        self._wait = 0.0
        self._stats: Counter[str] = Counter()  # what the current read() saw, for its timeout message
        self._ta = self._vdd = float("nan")
        self._wall_start = datetime.now(timezone.utc)
        self._clock_start = self.clock.monotonic()
        self._full_frames = 0
        self._first_frame_at = 0.0
        self._bus_check: float | None = None  # the bus clock (Hz) while a bus-speed warning may be due
        self.bus_warning: str | None = None
        self.subpages_read = 0
        self.corrupt_subpages = 0
        self.dropped: Counter[str] = Counter()
        self.repeated_subpages = 0
        self.gaps = 0
        self.eeprom_reads = 0

    # -- Sensor hooks ----------------------------------------------------------------------------------
    def _open(self) -> None:
        self._reset_session()
        self._bus = self._given_bus if self._given_bus is not None else LinuxI2C(self.bus_name)
        self._regs = I2CRegisters(self._bus, self.address, where=self.where, bus_name=self.bus_name,
                                  clock=self.clock, chunk_bytes=2 * self.chunk_words, retries=self.retries,
                                  before=self._check_deadline)
        try:
            self._start()
        except BaseException:
            self._release()
            raise

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
        control = self._read_stable(CONTROL_REGISTER)
        wanted = configure_control(control, self.refresh_hz, self.resolution, self.pattern)
        if wanted != control:
            self._io().write_word(CONTROL_REGISTER, wanted)
            control = self._read_stable(CONTROL_REGISTER)
            if control != wanted:
                raise SensorError(f"{self.where}: control register reads 0x{control:04x} after writing "
                                  f"0x{wanted:04x}; check the wiring and power")
        self.control = control
        frequency = bus_frequency(self._bus)
        if frequency and control_refresh_hz(control) > bus_carries_hz(frequency):
            self._bus_check = frequency
        # Clear a stale new-data flag so the first frame is measured after open (Melexis' SynchFrame).
        self._io().write_word(STATUS_REGISTER, STATUS_CLEAR)
        self._wall_start = datetime.now(timezone.utc)
        self._clock_start = self.clock.monotonic()

    def _read_eeprom(self) -> np.ndarray:
        """The 832 EEPROM words, read until two reads agree word for word (a bit error never repeats)."""
        reads: list[np.ndarray] = []
        for _ in range(EEPROM_READS):
            words = self._io().read_words(EEPROM_START, EEPROM_WORDS)
            self.eeprom_reads += 1
            if any(np.array_equal(words, earlier) for earlier in reads):
                return words
            reads.append(words)
        differ = np.flatnonzero(reads[0] != reads[1])
        raise SensorError(f"{self.where}: the EEPROM read differently {EEPROM_READS} times (first at "
                          f"0x{EEPROM_START + int(differ[0]):04x}): the bus corrupts data; read it at 400 kHz or "
                          "less (a Pi: dtparam=i2c_arm_baudrate=400000) and check the wiring and pull-ups")

    def _read_stable(self, register: int) -> int:
        """A register read until two reads in a row agree (at most EEPROM_READS reads)."""
        value = self._io().read_word(register)
        for _ in range(EEPROM_READS - 1):
            again = self._io().read_word(register)
            if again == value:
                return value
            value = again
        raise SensorError(f"{self.where}: register 0x{register:04x} reads differently every time; check the "
                          "wiring and pull-ups and lower the bus speed")

    def _close(self) -> None:
        self._release()

    def _release(self) -> None:
        if self._given_bus is None and isinstance(self._bus, LinuxI2C):
            self._bus.close()
        self._bus = None  # the registers object stays, for its counters in `info`

    def _io(self) -> I2CRegisters:
        """The sensor's registers; SensorError when it is not open."""
        if self._bus is None or self._regs is None:
            raise SensorError(f"{self.where}: the sensor is not open")
        return self._regs

    def _read(self, timeout: float | None) -> Frame:
        wait = timeout if timeout is not None else self.timeout
        wait = wait if wait is not None else self._default_timeout()
        with self._reading:
            self._wait, self._deadline = wait, self.clock.monotonic() + wait
            self._stats = Counter()
            try:
                while True:
                    order = self._next_frame()
                    if order is not None:
                        return self._frame(order)
                    self._check_deadline()
            except BaseException:
                self._break_run()  # a failure mid-frame: the pending half never meets a later one
                raise
            finally:
                self._deadline = None

    def _check_deadline(self, status: int | None = None) -> None:
        """SensorTimeoutError, saying what this read saw, once the read's deadline has passed."""
        if self._deadline is not None and self.clock.monotonic() >= self._deadline:
            raise SensorTimeoutError(timeout_message(self.where, self._wait, control_refresh_hz(self.control),
                                                     status, self._stats))

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "model": "MLX90640", "shape": [24, 32], "units": "C", "bus": self.bus_name,
            "address": f"0x{self.address:02x}", "emissivity": self.emissivity,
            "reflected_temp": self.reflected_temp if self.reflected_temp is not None else "Ta - 8",
            "per_subpage": self.per_subpage, "subpages_read": self.subpages_read,
            "corrupt_subpages_dropped": self.corrupt_subpages, "dropped_subpages": dict(self.dropped),
            "repeated_subpages_skipped": self.repeated_subpages, "gaps": self.gaps,
            "nack_retries": self._regs.nack_retries if self._regs is not None else 0,
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
        reason = None if control is not None else "control word read back differently"
        if reason is None and self._overrun(after, int(frame[833])):
            reason = "rewritten while being read"
        if reason is None:
            assert self.calibration is not None
            reason = implausible(frame, self.calibration)
        if reason is None:
            return frame
        self.corrupt_subpages += 1
        self.dropped[reason] += 1
        self._stats[reason] += 1
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

    def _read_control(self) -> int | None:
        """The control register, read again when it differs from the one in force; None if the two disagree.

        A changed value read twice is a real change (another program reconfigured the sensor) and is used.
        """
        control = self._io().read_word(CONTROL_REGISTER)
        if control != self.control:
            if self._io().read_word(CONTROL_REGISTER) != control:
                return None
            self.control = control
        return control

    def _wait_for_data(self) -> int:
        """Poll the status register until its new-data bit is set; SensorTimeoutError at the deadline."""
        deadline = self._deadline if self._deadline is not None else self.clock.monotonic()
        busy_at: float | None = None  # when the status last said "no new data"
        while True:
            status = self._io().read_word(STATUS_REGISTER)
            now = self.clock.monotonic()
            if status & STATUS_NEW_DATA:
                # Seen arriving between two close polls: remember when. Otherwise its arrival time is unknown.
                close = busy_at is not None and now - busy_at <= 2 * self._poll_step()
                self._arrival = now if close else None
                self._status_at = now
                self._stats["announced"] += 1
                return status
            busy_at = now
            self._check_deadline(status)
            sleep_or_stop(self.clock, min(self._poll_delay(now), deadline - now), self.where)

    def _poll_step(self) -> float:
        """Status polling interval near a subpage's arrival: 1/32 of a subpage period, at least 0.5 ms."""
        return max(1.0 / (32.0 * control_refresh_hz(self.control)), 0.0005)

    def _poll_delay(self, now: float) -> float:
        """Sleep most of a subpage period after the last arrival, then poll every `_poll_step`.

        Waking at 80% of the nominal period leaves room for a sensor whose oscillator runs fast.
        """
        step = self._poll_step()
        if self._arrival is None:
            return step
        return max(self._arrival + _EARLY_WAKE / control_refresh_hz(self.control) - now, step)

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


def open_mlx90640(target: str | None, *, i2c: BusioI2C | None = None, address: int | str = ADDRESS,
                  refresh_hz: float | None = None, emissivity: float = 0.95, reflected_temp: float | None = None,
                  pattern: str | None = None, resolution: int | None = None, per_subpage: bool = False,
                  clock: Clock | None = None, timeout: float | None = None,
                  chunk_words: int = DEFAULT_CHUNK_WORDS) -> MLX90640Sensor:
    """The `mlx90640[:BUS]` sensor: BUS is an i2c-dev path or number (default /dev/i2c-1), or pass `i2c=`.

    Full frames come at half `refresh_hz` (the sensor measures one subpage per refresh); `per_subpage`
    returns a frame after every subpage instead.
    """
    name = bus_path(target) if (target or i2c is None) else None
    return MLX90640Sensor(i2c, bus=name, address=address, refresh_hz=refresh_hz, resolution=resolution,
                          pattern=pattern, emissivity=emissivity, reflected_temp=reflected_temp,
                          per_subpage=per_subpage, clock=clock, timeout=timeout, chunk_words=chunk_words)
