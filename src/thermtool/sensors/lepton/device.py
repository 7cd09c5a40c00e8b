"""The FLIR Lepton 2.x/3.x driver: VoSPI video over spidev, CCI control over I2C when there is a bus.

Reads go through a transport with `read(n) -> bytes` (`os.read` on the spidev node, which releases the
GIL during the transfer; py-spidev objects are clamped to 4096 bytes), always in whole packets and as few
and large as spidev's bufsiz allows; the pure `vospi.VospiDecoder` decodes them. Every loss of sync (CRC
error, missing or out-of-order packets or segments, no frame for a while) is answered as the datasheet
says: /CS idle for more than 185 ms, then start over (4.2.2.3.1 / 4.2.3.3.1). Resyncing is bounded: after
`timeout` seconds without a frame the driver reboots the camera over CCI once (when it can and `reboot`
allows), then gives up with a SensorError that says what to check. The camera must be read continuously
(every segment, duplicates included), so by default a background thread reads back to back while the
caller is busy and a second thread decodes; emulator runs on a virtual clock read inline. `read()`
returns the newest complete frame (older ones are counted as skipped); with `every_frame` it returns
every frame in order from a bounded queue and counts the ones that overflowed it as dropped.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ...buses.i2c import BusioI2C, LinuxI2C
from ...buses.spi import DEFAULT_SPI, SPI_MODES, Reader, SpiDevice, SpiLike, Transport, transport_for
from ...clock import Clock, SystemClock
from ...errors import InputError, MissingDependencyError, SensorError, SensorTimeoutError
from ...frame import Frame
from ..base import Sensor
from .cci import CCIError, LeptonCCI
from .process import Batch, ProcessReader
from .telemetry import KELVIN_OFFSET, TLINEAR_RESOLUTIONS, decode_telemetry
from .vospi import (
    PACKET_BYTES,
    RESYNC_IDLE_S,
    DecoderStats,
    Layout,
    ModelDetector,
    VospiDecoder,
    VospiFrame,
    layout,
    normalise_telemetry,
)

MAX_SPI_HZ = 20_000_000  # 4.2.1: the maximum VoSPI clock
DEFAULT_I2C = "/dev/i2c-1"
RESYNC_S = RESYNC_IDLE_S + 0.015  # /CS idle a little over the datasheet's 185 ms
STALL_S = 1.0  # no frame for this long: resync even though the decoder saw nothing wrong
MAX_READ_PACKETS = 244  # one Lepton 3 frame with telemetry: reads beyond this gain nothing
READ_QUEUE = 64  # reads waiting for the decoding thread (about 1 s of 40 KB reads) before reading stalls
QUEUE_FRAMES = 32  # every_frame: frames kept for a slow caller (about 3.7 s) before dropping the oldest
CHECKLIST = ("check the wiring (MISO, SCLK and /CS on the SPI0 pins, and GND), that SPI is enabled "
             "(ls /dev/spidev*), that /CS matches the device (CE0 = spidev0.0, CE1 = spidev0.1), and power "
             "(the breakout needs 3-5 V)")


class LeptonSensor(Sensor):
    """A Lepton 2 (80x60) or Lepton 3 (160x120) on SPI, with optional CCI on I2C.

    Frames: TLinear output in C (centi- or deci-kelvin converted), raw 14-bit output as units "counts",
    AGC output as units "agc"; telemetry rows, when on, go into `frame.meta`. Which one the camera sends is
    read from each frame's telemetry when it is on (it describes that very frame, so it beats a CCI
    reading that may be stale), else over CCI, else from the `radiometry`/`agc` options, else from the
    first frame's pixel range (`_units_from_range`). `last_raw` holds the pixel words of the last frame
    returned, exactly as sent.
    """

    kind = "lepton"

    def __init__(self, kind: str = "lepton", *, spi: Transport | SpiLike | str | None = None,
                 i2c: BusioI2C | str | bool | None = None, model: int | str | None = None,
                 spi_hz: int = MAX_SPI_HZ, spi_mode: int = 3, radiometry: bool | None = None,
                 agc: bool | None = None, ffc: bool = False, telemetry: bool | str | None = "off",
                 clock: Clock | None = None, timeout: float = 5.0, reboot: bool = True,
                 background: bool | None = None, process: bool = False, every_frame: bool = False,
                 label: str | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.model = _parse_model(model)
        if not 0 < int(spi_hz) <= MAX_SPI_HZ:
            raise InputError(f"--spi-hz {spi_hz}: the Lepton's SPI clock must be above 0 and at most 20 MHz")
        if spi_mode not in SPI_MODES:
            raise InputError(f"--spi-mode {spi_mode}: SPI modes are 0-3 (the Lepton uses 3)")
        if not timeout > 0:
            raise InputError(f"timeout must be above 0 seconds, got {timeout}")
        if radiometry and agc:
            raise InputError("radiometry and AGC exclude each other: AGC output is not radiometric")
        self.spi_path = spi if isinstance(spi, str) else (None if spi is not None else DEFAULT_SPI)
        self.spi_hz = int(spi_hz)
        self.spi_mode = int(spi_mode)
        self.every_frame = bool(every_frame)
        self.radiometry, self.agc, self.ffc, self.reboot = radiometry, agc, ffc, reboot
        self.telemetry = normalise_telemetry(telemetry)
        self.clock = clock if clock is not None else SystemClock()
        self.timeout = float(timeout)
        self.background = (clock is None) if background is None else background
        if process and not self.background:
            raise InputError("process=True reads in a separate process in real time: it needs the system clock "
                             "and a background reader")
        self.process = process
        self._process: ProcessReader | None = None
        self.label = label
        self._spi_given = None if isinstance(spi, str) else spi
        self._i2c_given = i2c
        self._spi: Transport | SpiLike | None = None
        self._io: Reader | None = None
        self._owned: list[Any] = []
        self._cci: LeptonCCI | None = None
        self._cci_note = "not opened yet"
        self._layout: Layout | None = None
        self._decoder: VospiDecoder | None = None
        self._stats_at_frame = DecoderStats()
        self._read_bytes = 0
        self._units: tuple[str, float] | None = None  # ("tlinear", resolution) / ("counts", 1) / ("agc", 1)
        self._units_source = ""
        self._pending: deque[tuple[VospiFrame, float]] = deque(maxlen=QUEUE_FRAMES if every_frame else 1)
        self._anchor = (datetime.now(timezone.utc), 0.0)
        self._last_frame_t = 0.0
        self._last_progress_t = 0.0
        self._rebooted = False
        self.resyncs = 0
        self.reboots = 0
        self.dropped = 0
        self.skipped = 0
        self.reads = 0
        self.last_resync = ""
        self.last_raw: np.ndarray | None = None
        self._threads: list[threading.Thread] = []
        self._reads: queue.Queue[tuple[bytes, float, int]] = queue.Queue(READ_QUEUE)
        self._requested: str | None = None  # a resync the decoding thread asks the reading thread for
        self._sink: Callable[[Batch], None] | None = None  # in a reader process: where frames go
        self._generation = self._decoded_generation = 0
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._failure: BaseException | None = None

    # -- open / close ---------------------------------------------------------------------------------
    def _check_clock(self, model: int) -> None:
        """The SPI clock must read each frame or segment within its period (datasheet 4.2.1)."""
        hz = getattr(self._spi_given, "max_speed_hz", None) if self._spi_given is not None else self.spi_hz
        need = layout(model, self.telemetry).min_spi_hz()
        if isinstance(hz, int) and hz < need:
            raise InputError(f"--spi-hz {hz}: a Lepton {model} needs at least {need / 1e6:.1f} MHz to read each "
                             f"{'segment' if model == 3 else 'frame'} in time (datasheet 4.2.1)")

    def _open(self) -> None:
        self._anchor = (datetime.now(timezone.utc), self.clock.monotonic())
        if self.model is not None:
            self._check_clock(self.model)
        mode = getattr(self._spi_given, "mode", self.spi_mode)
        if isinstance(mode, int) and mode != self.spi_mode:
            raise InputError(f"the spi= device is in SPI mode {mode} but spi_mode is {self.spi_mode}: the Lepton "
                             f"uses mode 3 (CPOL=1, CPHA=1); to read it in mode {mode} on purpose (e.g. a Jetson "
                             f"Nano with an inverted clock) pass spi_mode={mode}")
        try:
            self._spi = self._open_spi()
            self._io = transport_for(self._spi)
            self._read_bytes = self._read_size()
            self._cci, self._cci_note = self._open_cci()
            if self._cci is not None:
                self._configure()
            self._resync("establishing sync")
            if self.model is None:
                self.model = self._detect()
                self._check_clock(self.model)
            self._layout = layout(self.model, self.telemetry)
            self._decoder = VospiDecoder(self._layout)
            self._stats_at_frame = DecoderStats()
            self._last_frame_t = self._last_progress_t = self.clock.monotonic()
            self._failure = None
            self._reads = queue.Queue(READ_QUEUE)
            self._requested, self._decoded_generation = None, -1
            if self.process:
                self._process = ProcessReader(self._child_run, self._receive_batch, self._fail)
                self._process.start()
            elif self.background:
                self._start_threads()
        except BaseException:
            self._release()
            raise

    def _start_threads(self) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._reader, name="lepton-vospi", daemon=True),
                         threading.Thread(target=self._decode, name="lepton-decode", daemon=True)]
        for thread in self._threads:
            thread.start()

    def _close(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._threads = []
        self._release()

    def _release(self) -> None:
        for resource in reversed(self._owned):
            resource.close()
        self._owned.clear()
        self._spi = self._io = None

    def _open_spi(self) -> Transport | SpiLike:
        if self._spi_given is not None:
            return self._spi_given
        device = SpiDevice(self.spi_path or DEFAULT_SPI, speed_hz=self.spi_hz, mode=self.spi_mode)
        self._owned.append(device)
        return device

    def _read_size(self) -> int:
        """Whole packets only: a read that ends inside a packet leaves the camera waiting mid-packet."""
        assert self._io is not None
        packets = min(self._io.limit // PACKET_BYTES, MAX_READ_PACKETS)
        if packets < 1:
            raise SensorError(f"spidev bufsiz is {self._io.limit} bytes, less than one {PACKET_BYTES}-byte VoSPI "
                              "packet: raise it with spidev.bufsiz=65536 in cmdline.txt")
        return packets * PACKET_BYTES

    def _open_cci(self) -> tuple[LeptonCCI | None, str]:
        given = self._i2c_given
        if given is False:
            return None, "video-only: CCI disabled (i2c=False)"
        if given is None or given is True:
            if self._spi_given is not None and given is None:
                return None, "video-only: spi= given without i2c="
            if not Path(DEFAULT_I2C).exists():
                return None, f"video-only: no I2C bus at {DEFAULT_I2C}"
            given = DEFAULT_I2C
        explicit = self._i2c_given not in (None, True)
        if isinstance(given, str):
            try:
                bus: Any = LinuxI2C(given)
            except (SensorError, MissingDependencyError) as exc:
                if explicit:
                    raise
                return None, f"video-only: {exc}"
            self._owned.append(bus)
            where = given
        else:
            bus, where = given, ""
        cci = LeptonCCI(bus, clock=self.clock, where=where)
        try:
            cci.ping()
        except SensorError as exc:
            if explicit:
                raise
            return None, f"video-only: {exc}"
        return cci, ""

    def _configure(self) -> None:
        """Apply the options over CCI, then read back what the camera will send."""
        cci = self._cci
        assert cci is not None
        cci.set_telemetry(self.telemetry)
        if self.agc is not None or self.radiometry:
            cci.set_agc(bool(self.agc))
        radiometric = True
        try:
            if self.radiometry is not None:
                cci.set_tlinear(self.radiometry)
            tlinear = cci.tlinear_enabled()
            resolution = cci.tlinear_resolution()
        except CCIError as exc:
            if self.radiometry:
                raise SensorError(f"this Lepton has no radiometry ({exc}); it is a Lepton 2.0/3.0: "
                                  "use --no-radiometry") from exc
            radiometric, tlinear, resolution = False, False, 1.0
        if cci.agc_enabled():
            self._units = ("agc", 1.0)
        elif tlinear:
            self._units = ("tlinear", resolution)
        else:
            self._units = ("counts", 1.0)
        self._units_source = "cci" if radiometric else "cci (no radiometry)"
        if self.ffc:
            cci.run_ffc()

    def _detect(self) -> int:
        detector = ModelDetector()
        started = stalled = self.clock.monotonic()
        while True:
            found = detector.feed(self._transfer())
            if found:
                return found
            now = self.clock.monotonic()
            if now - started >= self.timeout:
                failure = (f"no Lepton video on {self._where()} within {self.timeout:g} s to tell a Lepton 2 from "
                           f"a 3 ({_diagnosis(detector.stats)}): {CHECKLIST}; or name the model (lepton2 / lepton3)")
                if not self._try_reboot(failure):
                    raise SensorError(failure)
                started = stalled = self.clock.monotonic()
            elif now - stalled >= STALL_S:
                self._resync("no Lepton 2/3 evidence yet")
                detector.reset()
                stalled = self.clock.monotonic()

    # -- reading --------------------------------------------------------------------------------------
    def _transfer(self) -> bytes:
        assert self._io is not None
        data = self._io.read(self._read_bytes)
        self.reads += 1
        return data if isinstance(data, bytes) else bytes(data)

    def _resync(self, reason: str) -> None:
        """/CS idle (no transfers) for more than 185 ms, then start over from the next packet 0: reads after
        this belong to a new generation, and the decoder starts afresh on the first of them."""
        self.resyncs += 1
        self.last_resync = reason
        self.clock.sleep(RESYNC_S)
        self._generation += 1
        self._last_progress_t = self.clock.monotonic()

    def _digest(self, data: bytes, captured: float, generation: int) -> tuple[list[VospiFrame], str | None]:
        """Decode one read: the new frames, and why the reader must resync now (None: keep reading)."""
        decoder = self._decoder
        assert decoder is not None
        if generation != self._decoded_generation:
            decoder.reset()
            self._decoded_generation = generation
        elif decoder.lost is not None:
            return [], None  # read before the resync asked for: the stream it came from is broken
        frames = decoder.feed(data)
        if frames:
            self._last_frame_t = self._last_progress_t = captured
            self._rebooted = False
            self._stats_at_frame = replace(decoder.stats)
        if decoder.lost is not None:
            return frames, decoder.lost
        if captured - self._last_progress_t >= STALL_S:
            return frames, f"no frame for {STALL_S:g} s"
        return frames, None

    def _act(self, reason: str | None) -> None:
        """In the reading thread: resync for `reason`; after `timeout` without a frame, reboot once or raise."""
        if reason is not None:
            self._resync(reason)
        if self.clock.monotonic() - self._last_frame_t >= self.timeout:
            failure = self._give_up_message()
            if not self._try_reboot(failure):
                raise SensorError(failure)
            self._last_frame_t = self.clock.monotonic()

    def _pump(self) -> tuple[list[VospiFrame], float]:
        """One read decoded in the same thread (inline and in the reader process): the new frames and when
        they were complete."""
        generation = self._generation
        data = self._transfer()
        now = self.clock.monotonic()
        frames, reason = self._digest(data, now, generation)
        self._act(reason)
        return frames, now

    def _deliver(self, frames: list[VospiFrame], captured: float) -> None:
        """Hand new frames to read(): the newest replaces an unread one (skipped), or, with every_frame, they
        queue and the oldest overflow (dropped). In the reader process they go to the parent instead."""
        if self._sink is not None:
            self._sink(Batch(frames, captured, self._counters()))
            return
        with self._cond:
            for frame in frames:
                if len(self._pending) == self._pending.maxlen:
                    if self.every_frame:
                        self.dropped += 1
                    else:
                        self.skipped += 1
                self._pending.append((frame, captured))
            self._cond.notify_all()

    def _fail(self, failure: BaseException) -> None:
        """Hand a reader's failure to read()."""
        with self._cond:
            self._failure = failure
            self._cond.notify_all()

    def _counters(self) -> dict[str, Any]:
        assert self._decoder is not None
        return {"resyncs": self.resyncs, "last_resync": self.last_resync, "reboots": self.reboots,
                "reads": self.reads, "stats": self._decoder.stats}

    def _child_run(self, send: Callable[[Batch], None], stopped: Callable[[], bool]) -> None:
        """In the reader process: the same reading and decoding threads, new frames sent to the parent with
        the counters, until `stopped()`; a failure is raised (the process reader hands it over)."""
        self._sink = send
        self._start_threads()
        with self._cond:
            while self._failure is None and not stopped():
                self._cond.wait(0.2)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2.0)
        if self._failure is not None:
            raise self._failure

    def _receive_batch(self, batch: Batch) -> None:
        """In the parent: take the reader process's counters, then its frames."""
        counters = batch.counters
        self.resyncs, self.last_resync = counters["resyncs"], counters["last_resync"]
        self.reboots, self.reads = counters["reboots"], counters["reads"]
        if self._decoder is not None:
            self._decoder.stats = counters["stats"]
        if batch.frames:
            self._deliver(batch.frames, batch.captured)

    def _try_reboot(self, failure: str) -> bool:
        """Reboot the camera over CCI once per failure episode (when possible and allowed); True if it did."""
        if self._cci is None or not self.reboot or self._rebooted:
            return False
        self._rebooted = True
        self.reboots += 1
        try:
            self._cci.reboot()
            self._configure()
        except SensorError as exc:
            raise SensorError(f"{failure}; a CCI reboot failed too ({exc})") from exc
        self._resync("after a CCI reboot")
        return True

    def _give_up_message(self) -> str:
        assert self._decoder is not None
        rebooted = " (rebooted over CCI once)" if self.reboots else ""
        seen = _diagnosis(self._decoder.stats.since(self._stats_at_frame))
        return (f"no valid Lepton video on {self._where()} for {self.timeout:g} s{rebooted}: "
                f"{self.resyncs} resyncs; since the last frame: {seen}; {CHECKLIST}")

    def _reader(self) -> None:
        """The reading thread: reads back to back and queues them for the decoding thread, doing nothing else
        between reads (the GIL is free during each read) but the resyncs and reboots the decoder asks for."""
        try:
            while not self._stop.is_set():
                reason, self._requested = self._requested, None
                self._act(reason)
                generation = self._generation
                item = (self._transfer(), self.clock.monotonic(), generation)
                while not self._stop.is_set():  # a full queue stalls reading: the decoder sees the loss
                    try:
                        self._reads.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # handed to the caller of read()
            self._fail(exc)

    def _decode(self) -> None:
        """The decoding thread: reads from the queue to frames for read(); asks the reader to resync."""
        try:
            while not self._stop.is_set():
                try:
                    data, captured, generation = self._reads.get(timeout=0.2)
                except queue.Empty:
                    continue
                frames, reason = self._digest(data, captured, generation)
                if reason is not None and generation == self._generation:
                    self._requested = reason
                if frames:
                    self._deliver(frames, captured)
        except BaseException as exc:
            self._fail(exc)

    def _read(self, timeout: float | None) -> Frame:
        if self.background:
            frame, captured = self._wait_background(timeout)
        else:
            frame, captured = self._wait_inline(timeout)
        return self._to_frame(frame, captured)

    def _wait_inline(self, timeout: float | None) -> tuple[VospiFrame, float]:
        deadline = None if timeout is None else self.clock.monotonic() + timeout
        while not self._pending:
            if deadline is not None and self.clock.monotonic() >= deadline:
                raise SensorTimeoutError(f"no new Lepton frame within {timeout:g} s")
            frames, now = self._pump()
            self._deliver(frames, now)
        return self._pending.popleft()

    def _wait_background(self, timeout: float | None) -> tuple[VospiFrame, float]:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not self._pending:
                if self._failure is not None:
                    if isinstance(self._failure, SensorError):
                        raise self._failure
                    raise SensorError(f"the Lepton reader stopped: {self._failure}") from self._failure
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise SensorTimeoutError(f"no new Lepton frame within {timeout:g} s")
                self._cond.wait(0.5 if remaining is None else min(remaining, 0.5))
            return self._pending.popleft()

    # -- frames ---------------------------------------------------------------------------------------
    def _to_frame(self, vframe: VospiFrame, captured: float) -> Frame:
        assert self.model is not None
        meta: dict[str, Any] = {"model": f"lepton{self.model}"}
        telemetry = decode_telemetry(vframe.telemetry) if vframe.telemetry is not None else None
        if telemetry is not None:
            meta.update(telemetry)
        mode, resolution = self._units_for(vframe.pixels, telemetry)
        self.last_raw = vframe.pixels
        if mode == "tlinear":
            data, units = vframe.pixels * resolution - KELVIN_OFFSET, "C"
            meta["tlinear_resolution"] = resolution
        else:
            data, units = vframe.pixels, mode
        wall, mono = self._anchor
        stamp = wall + timedelta(seconds=captured - mono)
        return Frame(data.astype(np.float32), units, stamp, self.label or f"lepton{self.model}", meta)

    def _units_for(self, pixels: np.ndarray, telemetry: dict[str, Any] | None) -> tuple[str, float]:
        if telemetry is not None:  # describes this very frame: beats a CCI reading taken at open
            self._units_source = "telemetry"
            if telemetry["agc"]:
                self._units = ("agc", 1.0)
            elif telemetry["tlinear"] and telemetry["tlinear_resolution"]:
                self._units = ("tlinear", telemetry["tlinear_resolution"])
            else:
                self._units = ("counts", 1.0)
            return self._units
        if self._cci is not None and self._units is not None:
            return self._units
        if self._units is None:
            if self.agc:
                self._units, self._units_source = ("agc", 1.0), "option"
            elif self.radiometry is not None:
                mode = "tlinear" if self.radiometry else "counts"
                self._units, self._units_source = (mode, TLINEAR_RESOLUTIONS[1]), "option"
            else:
                self._units, self._units_source = _units_from_range(pixels), "pixel range"
        return self._units

    # -- description ----------------------------------------------------------------------------------
    def _where(self) -> str:
        return self.spi_path or type(self._spi_given).__name__

    def _info(self) -> dict[str, Any]:
        lay = self._layout
        units = None
        if self._units is not None:
            units = "C" if self._units[0] == "tlinear" else self._units[0]
        info: dict[str, Any] = {
            "model": f"lepton{self.model}" if self.model else "lepton (not detected yet)",
            "shape": list(lay.shape) if lay else None,
            "spi": self._where(), "spi_hz": self.spi_hz, "spi_mode": self.spi_mode,
            "transport": self._io.kind if self._io else None, "read_limit": self._io.limit if self._io else None,
            "read_bytes": self._read_bytes, "reads": self.reads,
            "cci": self._cci.describe() if self._cci is not None else None,
            "video_only": self._cci is None, "cci_note": self._cci_note,
            "telemetry": self.telemetry, "units": units, "units_source": self._units_source,
            "tlinear_resolution": self._units[1] if self._units and self._units[0] == "tlinear" else None,
            "background_reader": self.background, "reader": self._reader_kind(), "every_frame": self.every_frame,
            "resyncs": self.resyncs,
            "last_resync": self.last_resync, "reboots": self.reboots, "dropped_frames": self.dropped,
            "skipped_frames": self.skipped,
        }
        if self._decoder is not None:
            info.update(self._decoder.stats.as_dict())
        return info


    def _reader_kind(self) -> str:
        return "process" if self.process else "thread" if self.background else "inline"


def _parse_model(model: int | str | None) -> int | None:
    if model is None or model == "":
        return None
    text = str(model).strip().lower().removeprefix("lepton")
    if text in ("2", "3"):
        return int(text)
    raise InputError(f"Lepton model {model!r}: expected 2 (80x60) or 3 (160x120)")


def _units_from_range(pixels: np.ndarray) -> tuple[str, float]:
    """Units from pixel values alone (no CCI, no telemetry, no option): at most 255 is AGC, above 16383 is
    TLinear at 0.01 K, anything else Raw14 counts.

    Datasheet 4.2.2.1: Raw14 leaves the top two bits 0 and AGC the top eight. TLinear at 0.01 K exceeds 16383
    for any scene above -109 C, but TLinear at 0.1 K (2331-4731 for -40..200 C) cannot be told from Raw14 by
    value (a real Lepton 3's raw counts span 2942-4133 in ../shared/reference), so it is read as counts:
    turn telemetry on, or pass radiometry=True with the resolution set to 0.01 K, to get temperatures.
    """
    top = int(pixels.max())
    if top <= 0xFF:
        return "agc", 1.0
    if top > 0x3FFF:
        return "tlinear", TLINEAR_RESOLUTIONS[1]
    return "counts", 1.0


def _diagnosis(s: DecoderStats) -> str:
    if not s.packets:
        return "nothing read"
    if s.blank * 2 > s.packets:
        return "MISO reads constant 0x00/0xFF, so nothing drives it (no camera, wrong pin, or no power)"
    seen = [f"{s.packets} packets", f"{s.discards} discard"]
    seen += [f"{n} {what}" for n, what in ((s.crc_errors, "CRC errors (lower --spi-hz, shorten the wires)"),
                                           (s.sequence_errors, "out-of-sequence packets"),
                                           (s.segment_errors, "segment-order errors")) if n]
    if s.discards >= 0.9 * s.packets:
        seen.append("nearly all discard packets: the camera is starting up or stuck (power-cycle it)")
    return ", ".join(seen)


def open_lepton(target: str | None, *, spi: Transport | SpiLike | str | None = None,
                i2c: BusioI2C | str | bool | None = None, model: int | str | None = None, spi_hz: int = MAX_SPI_HZ,
                spi_mode: int = 3, radiometry: bool | None = None, agc: bool | None = None, ffc: bool = False,
                telemetry: bool | str | None = "off", clock: Clock | None = None, timeout: float = 5.0,
                reboot: bool = True, background: bool | None = None, process: bool = False,
                every_frame: bool = False) -> LeptonSensor:
    """A Lepton 2 or 3 on SPI (TARGET or `spi`: an spidev path, an object with `read(n)`, or a py-spidev
    SpiDev); the model is detected from the packet layout unless `model` names it; CCI on `i2c` when present."""
    return LeptonSensor("lepton", spi=_spi_target(target, spi), i2c=i2c, model=model, spi_hz=spi_hz,
                        spi_mode=spi_mode, radiometry=radiometry, agc=agc, ffc=ffc, telemetry=telemetry,
                        clock=clock, timeout=timeout, reboot=reboot, background=background, process=process,
                        every_frame=every_frame)


def open_lepton2(target: str | None, *, spi: Transport | SpiLike | str | None = None,
                 i2c: BusioI2C | str | bool | None = None, spi_hz: int = MAX_SPI_HZ, spi_mode: int = 3,
                 radiometry: bool | None = None, agc: bool | None = None, ffc: bool = False,
                 telemetry: bool | str | None = "off", clock: Clock | None = None, timeout: float = 5.0,
                 reboot: bool = True, background: bool | None = None, process: bool = False,
                 every_frame: bool = False) -> LeptonSensor:
    """A Lepton 2.x (80x60) on SPI; options as for `open_lepton`."""
    return LeptonSensor("lepton2", spi=_spi_target(target, spi), i2c=i2c, model=2, spi_hz=spi_hz,
                        spi_mode=spi_mode, radiometry=radiometry, agc=agc, ffc=ffc, telemetry=telemetry,
                        clock=clock, timeout=timeout, reboot=reboot, background=background, process=process,
                        every_frame=every_frame)


def open_lepton3(target: str | None, *, spi: Transport | SpiLike | str | None = None,
                 i2c: BusioI2C | str | bool | None = None, spi_hz: int = MAX_SPI_HZ, spi_mode: int = 3,
                 radiometry: bool | None = None, agc: bool | None = None, ffc: bool = False,
                 telemetry: bool | str | None = "off", clock: Clock | None = None, timeout: float = 5.0,
                 reboot: bool = True, background: bool | None = None, process: bool = False,
                 every_frame: bool = False) -> LeptonSensor:
    """A Lepton 3.x (160x120) on SPI; options as for `open_lepton`."""
    return LeptonSensor("lepton3", spi=_spi_target(target, spi), i2c=i2c, model=3, spi_hz=spi_hz,
                        spi_mode=spi_mode, radiometry=radiometry, agc=agc, ffc=ffc, telemetry=telemetry,
                        clock=clock, timeout=timeout, reboot=reboot, background=background, process=process,
                        every_frame=every_frame)


def _spi_target(target: str | None, spi: Transport | SpiLike | str | None) -> Transport | SpiLike | str | None:
    if target and spi is not None and spi != target:
        raise InputError(f"two SPI devices named: target {target!r} and --spi {spi!r}; give one")
    return spi if spi is not None else (target or None)
