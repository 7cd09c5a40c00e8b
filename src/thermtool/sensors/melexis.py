"""What the Melexis MLX9064x sensors share: the status/control register map, subpage plausibility checks,
and `MelexisSensor`, the driver core both the MLX90640 and the MLX90641 build on.

The core does the field-robust I/O issue 12 built for the MLX90640, for both models: the EEPROM is read
until two reads agree (one-line advice naming <=400 kHz when they never do), the control register is read
until it reads the same twice, every status poll and every bus transaction checks the read's deadline,
waits end within 0.2 s of a stop request (SIGTERM), and dropped measurements are counted by reason.
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import numpy as np

from ..buses.i2c import BusioI2C, LinuxI2C
from ..clock import Clock, SystemClock
from ..errors import InputError, SensorError, SensorTimeoutError
from ..frame import Frame
from .base import Sensor, sleep_or_stop
from .registers import DEFAULT_RETRIES, I2CRegisters, bus_path, parse_address

# Register map (both datasheets' "Memory map", Status and Control register 1 tables).
ADDRESS = 0x33
EEPROM_START = 0x2400
RAM_START = 0x0400
STATUS_REGISTER = 0x8000
CONTROL_REGISTER = 0x800D

STATUS_SUBPAGE = 0x0001  # last measured subpage (bits 2:0; only bit 0 is used)
STATUS_NEW_DATA = 0x0008  # set by the device when a subpage is in RAM; the host clears it by writing 0
STATUS_OVERWRITE = 0x0010  # enable RAM overwrite by the next measurement
STATUS_START = 0x0020  # start of measurement (step mode)
STATUS_CLEAR = STATUS_OVERWRITE | STATUS_START  # 0x0030, what Melexis' libraries write to clear new-data

REFRESH_SHIFT, REFRESH_MASK = 7, 0x0380  # control bits 9:7
RESOLUTION_SHIFT, RESOLUTION_MASK = 10, 0x0C00  # control bits 11:10

#: Refresh rates (subpages per second) by control-register code 0..7.
REFRESH_RATES: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
#: ADC resolutions in bits by control-register code 0..3.
RESOLUTIONS: tuple[int, ...] = (16, 17, 18, 19)
FRAME_ERROR_WORD = 0x7FFF  # what a corrupted measurement leaves in RAM

DEFAULT_CHUNK_WORDS = 128  # 256-byte reads: within every adapter's transfer limit, ~2% protocol overhead
EARLY_WAKE = 0.8  # of a period after the last arrival: when to start polling for the next
STABLE_READS = 4  # at most this many reads of a register to find two in a row that agree
EEPROM_ADVICE = "read it at 400 kHz or less (a Pi: dtparam=i2c_arm_baudrate=400000) and check the wiring and pull-ups"
# Plausibility of a measurement's aux words. Both datasheets specify a 3.3 V supply (3.0..3.6 V operating);
# the limits leave margin for measurement spread, and an all-0xFFFF read falls far outside them. GAIN
# tracks the EEPROM's GAIN_EE within a few percent on every real frame we have; +-25 % is allowed.
VDD_RANGE = (2.8, 3.8)
GAIN_RATIO_RANGE = (0.75, 1.25)
STUCK_RUN = 8  # this many consecutive pixel words of 0x0000 or 0xFFFF: a failed transfer, not a scene

# Drop reasons, shared so that `info["dropped"]` reads the same for both models.
FRAME_ERROR = "0x7FFF frame-data error"
STUCK = "0x0000/0xFFFF run in the pixels"
REWRITTEN = "rewritten while being read"
CONTROL_DIFFERS = "control word read back differently"


# -- pure helpers ------------------------------------------------------------------------------------------
def refresh_code(hz: float, model: str = "MLX90640") -> int:
    """The control-register code (0..7) for a refresh rate in Hz; InputError naming the valid rates."""
    for code, rate in enumerate(REFRESH_RATES):
        if abs(float(hz) - rate) < 1e-9:
            return code
    valid = ", ".join(f"{r:g}" for r in REFRESH_RATES)
    raise InputError(f"{model} refresh rate {hz:g} Hz is not one the sensor has; valid: {valid}")


def check_resolution(bits: int, model: str = "MLX90640") -> int:
    """`bits` if the ADC supports it (16..19), else InputError."""
    if bits not in RESOLUTIONS:
        raise InputError(f"{model} ADC resolution {bits} is not supported; valid: 16, 17, 18, 19 (bits)")
    return int(bits)


def control_refresh_hz(control: int) -> float:
    """Subpage rate (Hz) set in a control word."""
    return REFRESH_RATES[(control & REFRESH_MASK) >> REFRESH_SHIFT]


def control_resolution(control: int) -> int:
    """ADC resolution (bits) set in a control word."""
    return RESOLUTIONS[(control & RESOLUTION_MASK) >> RESOLUTION_SHIFT]


def configure_rate(control: int, refresh_hz: float | None, resolution: int | None, model: str = "MLX90640") -> int:
    """`control` with only the asked-for fields replaced (refresh bits 9:7, resolution bits 11:10)."""
    if refresh_hz is not None:
        control = (control & ~REFRESH_MASK) | (refresh_code(refresh_hz, model) << REFRESH_SHIFT)
    if resolution is not None:
        control = ((control & ~RESOLUTION_MASK)
                   | (RESOLUTIONS.index(check_resolution(resolution, model)) << RESOLUTION_SHIFT))
    return control & 0xFFFF


def stuck_run(pixels: np.ndarray) -> bool:
    """True when the pixel words hold a run of `STUCK_RUN` equal 0x0000 or 0xFFFF words (a dead data line)."""
    for value in (0x0000, 0xFFFF):
        hits = np.concatenate(([0], (pixels == value).astype(np.int8), [0]))
        edges = np.flatnonzero(np.diff(hits))
        if edges.size and (edges[1::2] - edges[::2]).max() >= STUCK_RUN:
            return True
    return False


def gain_ratio(gain_word: int, gain_ee: float, resolution_ee: int, control: int) -> float | None:
    """GAIN_EE over the frame's (signed) GAIN word scaled to the EEPROM's ADC resolution: about 1 on a
    real frame (the word doubles per resolution bit, as the pixel data do); None for a word <= 0."""
    if gain_word <= 0:
        return None
    return gain_ee / (gain_word * 2.0 ** (resolution_ee - ((control & RESOLUTION_MASK) >> RESOLUTION_SHIFT)))


def aux_out_of_range(ratio: float | None, vdd: float, ta: float | None, ta_range: tuple[float, float]) -> str | None:
    """Which of a frame's aux values the sensor cannot have reported (GAIN, Vdd, Ta; None for a Ta whose
    words cancel out), as a drop reason, or None when all are plausible."""
    if ratio is None or not GAIN_RATIO_RANGE[0] <= ratio <= GAIN_RATIO_RANGE[1]:
        return "GAIN word out of range"
    if not VDD_RANGE[0] <= vdd <= VDD_RANGE[1]:
        return "Vdd out of range"
    if ta is None or not ta_range[0] <= ta <= ta_range[1]:
        return "Ta out of range"
    return None


# -- the driver core ---------------------------------------------------------------------------------------
class MelexisSensor(Sensor):
    """The I/O both Melexis drivers share; subclasses set `model`, `eeprom_words`, `eeprom_tries` and
    implement `_start` (after `_read_eeprom`), `_next` (one measurement; a Frame or None) and `_info`.

    `i2c` is any busio.I2C-like object; without it `bus` (an i2c-dev path) is opened at open(). One
    thread at a time reads one sensor, and sensors sharing a bus share its lock.
    """

    model = ""
    eeprom_words = 832
    eeprom_tries = STABLE_READS

    def __init__(self, i2c: BusioI2C | None, *, bus: str | None, address: int | str, refresh_hz: float | None,
                 resolution: int | None, clock: Clock | None, timeout: float | None,
                 chunk_words: int = DEFAULT_CHUNK_WORDS, retries: int = DEFAULT_RETRIES) -> None:
        super().__init__()
        self._given_bus = i2c
        self.bus_name = bus or (bus_path(None) if i2c is None else str(getattr(i2c, "path", type(i2c).__name__)))
        self.address = parse_address(address)
        self.refresh_hz = None if refresh_hz is None else REFRESH_RATES[refresh_code(refresh_hz, self.model)]
        self.resolution = None if resolution is None else check_resolution(resolution, self.model)
        self.clock: Clock = clock if clock is not None else SystemClock()
        if timeout is not None and not timeout > 0:
            raise InputError(f"timeout must be above 0 seconds, got {timeout}")
        self.timeout = timeout
        self.chunk_words = int(chunk_words)
        self.retries = max(0, int(retries))
        #: Added to every frame's meta (the simulated cameras mark their frames here).
        self.extra_meta: dict[str, Any] = {}
        self._bus: BusioI2C | None = None
        self._regs: I2CRegisters | None = None
        self._reading = threading.Lock()
        self._reset_session()

    @property
    def where(self) -> str:
        """The prefix of every error message, such as "MLX90640 at 0x33 on /dev/i2c-1"."""
        return f"{self.model} at 0x{self.address:02x} on {self.bus_name}"

    def _reset_session(self) -> None:
        self.control = 0
        self._arrival: float | None = None  # when the last measurement was seen arriving (None: unknown)
        self._status_at = 0.0  # when the status register last announced new data
        self._deadline: float | None = None  # of the read() in progress
        self._wait = 0.0
        self._stats: Counter[str] = Counter()  # what the current read() saw, for its timeout message
        self._wall_start = datetime.now(timezone.utc)
        self._clock_start = self.clock.monotonic()
        self.dropped: Counter[str] = Counter()
        self.eeprom_reads = 0

    # -- Sensor hooks ------------------------------------------------------------------------------------
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

    @abstractmethod
    def _start(self) -> None:
        """Read the EEPROM and configure the sensor (after the bus is open)."""

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

    @property
    def nack_retries(self) -> int:
        """NACKed transactions retried since open."""
        return self._regs.nack_retries if self._regs is not None else 0

    def _read(self, timeout: float | None) -> Frame:
        wait = timeout if timeout is not None else self.timeout
        wait = wait if wait is not None else self._default_timeout()
        with self._reading:
            self._wait, self._deadline = wait, self.clock.monotonic() + wait
            self._stats = Counter()
            try:
                while True:
                    frame = self._next()
                    if frame is not None:
                        return frame
                    self._check_deadline()
            except BaseException:
                self._abandon()
                raise
            finally:
                self._deadline = None

    @abstractmethod
    def _next(self) -> Frame | None:
        """Read one measurement: the frame it completes, or None (dropped, or half a frame)."""

    def _abandon(self) -> None:
        """Forget partial state after a failed read (the MLX90640's pending half frame)."""

    @abstractmethod
    def _default_timeout(self) -> float:
        """The read timeout when none is given: a frame with one measurement missed, plus a second."""

    @abstractmethod
    def _timeout_message(self, status: int | None) -> str:
        """The SensorTimeoutError text: what this read saw (`status`: the last status word, if any)."""

    def _check_deadline(self, status: int | None = None) -> None:
        """SensorTimeoutError, saying what this read saw, once the read's deadline has passed."""
        if self._deadline is not None and self.clock.monotonic() >= self._deadline:
            raise SensorTimeoutError(self._timeout_message(status))

    # -- setup -------------------------------------------------------------------------------------------
    def _read_eeprom(self) -> np.ndarray:
        """The EEPROM words, read until two reads agree word for word (a bit error never repeats)."""
        words, reads = self._io().read_words_agreed(EEPROM_START, self.eeprom_words, self.eeprom_tries,
                                                    what="EEPROM", advice=EEPROM_ADVICE)
        self.eeprom_reads += reads
        return words

    def _read_stable(self, register: int) -> int:
        """A register read until two reads in a row agree (at most STABLE_READS reads)."""
        value = self._io().read_word(register)
        for _ in range(STABLE_READS - 1):
            again = self._io().read_word(register)
            if again == value:
                return value
            value = again
        raise SensorError(f"{self.where}: register 0x{register:04x} reads differently every time; check the "
                          "wiring and pull-ups and lower the bus speed")

    def _set_control(self, configure: Callable[[int], int]) -> int:
        """Read the control register, write `configure(control)` when it differs, check it took; returns it."""
        control = self._read_stable(CONTROL_REGISTER)
        wanted = configure(control)
        if wanted != control:
            self._io().write_word(CONTROL_REGISTER, wanted)
            control = self._read_stable(CONTROL_REGISTER)
            if control != wanted:
                raise SensorError(f"{self.where}: control register reads 0x{control:04x} after writing "
                                  f"0x{wanted:04x}; check the wiring and power")
        self.control = control
        return control

    def _begin_session(self) -> None:
        """Clear a stale new-data flag so the first frame is measured after open (Melexis' SynchFrame)."""
        self._io().write_word(STATUS_REGISTER, STATUS_CLEAR)
        self._wall_start = datetime.now(timezone.utc)
        self._clock_start = self.clock.monotonic()

    # -- measurements ------------------------------------------------------------------------------------
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

    def _drop(self, reason: str) -> None:
        """Count a measurement that was read but cannot be used."""
        self.dropped[reason] += 1
        self._stats[reason] += 1

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
        """Status polling interval near an arrival: 1/32 of a period, at least 0.5 ms."""
        return max(1.0 / (32.0 * control_refresh_hz(self.control)), 0.0005)

    def _poll_delay(self, now: float) -> float:
        """Sleep most of a period after the last arrival, then poll every `_poll_step`.

        Waking at 80% of the nominal period leaves room for a sensor whose oscillator runs fast.
        """
        step = self._poll_step()
        if self._arrival is None:
            return step
        return max(self._arrival + EARLY_WAKE / control_refresh_hz(self.control) - now, step)
