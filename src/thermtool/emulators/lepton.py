"""A FLIR Lepton in software: the VoSPI stream on a fake spidev and the CCI registers on FakeI2CBus.

`VospiEmulator` behaves like /dev/spidevB.D with a Lepton 2 or 3 attached, in time on a clock (virtual, or
the system clock for real-time benchmarks): groups (Lepton 2 frames, Lepton 3 segments) become available
at the camera's rate and must be read before the next one is due, and a packet the host started must be
finished promptly, or the camera loses sync and the host reads misaligned bytes until it idles /CS for
more than 185 ms. `read(n)` behaves like `os.read` on the node (the GIL is free during the transfer);
`SpidevPort` wraps it as py-spidev's `readbytes` (clamped to 4096 bytes, GIL held for the transfer).
Each unique frame is followed by its duplicates (Lepton 2: two identical frames; Lepton 3: eight segments
numbered 0), discard packets fill the gaps, and `Fault`s corrupt chosen frames.
`CCIEmulator` implements the registers and the commands of thermtool.sensors.lepton.cci and shares a
`LeptonState` with the video side, so CCI settings (telemetry, AGC, TLinear, reboot) change the stream.
"""

from __future__ import annotations

import ctypes
import errno
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..clock import Clock, SystemClock, VirtualClock
from ..errors import InputError
from ..sensors.lepton.cci import (
    AGC_ENABLE,
    CCI_ADDRESS,
    COMMANDS,
    DATA_REGISTERS,
    GET,
    OEM_REBOOT,
    RAD_TLINEAR_ENABLE,
    RAD_TLINEAR_RESOLUTION,
    REG_COMMAND,
    REG_DATA0,
    REG_DATA_LENGTH,
    REG_STATUS,
    RUN,
    SET,
    STATUS_BOOT_MODE,
    STATUS_BOOTED,
    STATUS_BUSY,
    SYS_PING,
    SYS_RUN_FFC,
    SYS_TELEMETRY_ENABLE,
    SYS_TELEMETRY_LOCATION,
    TELEMETRY_LOCATIONS,
    Command,
)
from ..sensors.lepton.telemetry import TLINEAR_RESOLUTIONS, encode_telemetry
from ..sensors.lepton.vospi import (
    PACKET_BYTES,
    RESYNC_IDLE_S,
    SEGMENT_PACKET,
    discard_packets,
    encode_frame,
    layout,
)
from .i2c import FakeI2CBus, nack_error

#: Unique frames per second of a real Lepton (just under 9 Hz, datasheet 4.2.3.3).
UNIQUE_RATE_HZ = 8.8
BOOT_S = 1.0  # datasheet: time to image under 1.2 s
UPTIME_AT_START_MS = 5000  # the emulated camera booted, and ran its first FFC, 5 s before the emulator starts
#: A packet the host started must be clocked out within about this long, or the camera gives it up (the
#: figure issue 13 quotes from the datasheet; the emulator drops the rest of the packet and loses sync).
PACKET_FINISH_S = 0.0015
PY_SPIDEV_MAX_READ = 4096  # py-spidev's readbytes silently reads at most this many bytes
COMMAND_S = 0.002
FFC_S = 0.2

# LEP_RESULT codes the emulated camera answers with (see cci.RESULTS)
LEP_OK, LEP_RANGE_ERROR, LEP_DATA_SIZE_ERROR, LEP_UNDEFINED_FUNCTION_ERROR = 0, -3, -6, -7


@dataclass
class LeptonState:
    """Settings the video and control sides share; defaults are a radiometric Lepton's power-on state
    (datasheet 4.1: Lepton 2.5/3.5 start with TLinear on at 0.01 K; Table 6: AGC off, telemetry off, footer)."""

    model: int = 3
    radiometric: bool = True
    agc: bool = False
    tlinear: bool = True
    resolution: float = 0.01
    telemetry_enabled: bool = False
    telemetry_location: str = "footer"
    booting_until: float = -math.inf
    reboots: int = 0
    ffc_runs: int = 0

    def __post_init__(self) -> None:
        self.tlinear = self.tlinear and self.radiometric

    @property
    def telemetry(self) -> str:
        """"off", "header" or "footer"."""
        return self.telemetry_location if self.telemetry_enabled else "off"

    def reboot(self, now: float, boot_s: float = BOOT_S) -> None:
        """Restart: power-on settings, and no answer on either port for `boot_s` seconds."""
        self.agc, self.tlinear, self.resolution = False, self.radiometric, 0.01
        self.telemetry_enabled, self.telemetry_location = False, "footer"
        self.booting_until = now + boot_s
        self.reboots += 1

    def booting(self, now: float) -> bool:
        """True while a reboot is in progress."""
        return now < self.booting_until


FAULT_KINDS = ("flip", "lose", "swap", "badseg", "desync", "dead")


@dataclass(frozen=True)
class Fault:
    """A fault on the first transmission of unique frame `frame` (duplicates go out clean).

    kinds: "flip" bit `bit` of byte `byte` of a packet (a CRC failure); "lose" a packet (never sent);
    "swap" Lepton 3 segments 2 and 3 (out of order); "badseg" send segment number `value` instead of the
    segment's own (0 = invalid mid-frame, 5-15 = impossible); "desync" the stream slips `shift` bytes at a
    packet and stays misaligned until a resync; "dead" from this frame on only discard packets, until a
    CCI reboot when `until_reboot`.
    """

    kind: str
    frame: int
    segment: int = 1
    packet: int = 10
    byte: int = 60
    bit: int = 3
    value: int = 6
    shift: int = 5
    until_reboot: bool = True

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise InputError(f"fault kind {self.kind!r}: expected one of {', '.join(FAULT_KINDS)}")


#: What the emulator sends: a sequence of frames (wire values, uint16) cycled, or frame(index, state).
FrameSource = Sequence[np.ndarray] | Callable[[int, LeptonState], np.ndarray]


@dataclass
class EmulatorStats:
    """What the emulated camera saw of its host: how often the host synchronised, each loss of sync and why."""

    syncs: int = 0
    losses: list[str] = field(default_factory=list)


@dataclass
class _Encoded:
    """One unique frame ready to send: packets per slot, and (slot, packet) -> bytes the stream slips there."""

    slots: list[np.ndarray]
    slips: dict[tuple[int, int], int]


class SlowHost:
    """A host CPU `factor` times slower, for real-time runs: `charge()` burns (factor - 1) times the CPU time
    the calling thread used since its previous charge, so work done between charges takes `factor` times
    as long (and holds the GIL as long, as Python code would)."""

    def __init__(self, factor: float = 1.0) -> None:
        self.factor = float(factor)
        self._marks: dict[int, float] = {}  # thread id -> its CPU time after its last charge

    def charge(self) -> None:
        """Burn for the calling thread's work since its last charge (nothing on its first)."""
        if self.factor <= 1.0:
            return
        thread, now = threading.get_ident(), time.thread_time()
        since = self._marks.get(thread)
        if since is not None:
            until = now + (self.factor - 1.0) * (now - since)
            while time.thread_time() < until:
                pass
        self.mark()

    def mark(self) -> None:
        """Start counting the calling thread's work afresh (after work that is not the host's)."""
        self._marks[threading.get_ident()] = time.thread_time()


def _hold_gil_sleep() -> Any:
    """libc usleep called through ctypes.PyDLL, which keeps the GIL: a C call that blocks other threads."""
    return ctypes.PyDLL(None).usleep


class VospiEmulator:
    """A Lepton's VoSPI port as an spidev node: `read(n) -> bytes`, `close`, `bufsiz`, `mode`, `max_speed_hz`.

    Time: each transfer takes 8 bits per byte at `max_speed_hz` on `clock`; the camera's schedule runs on
    the same clock from construction. `read` refuses transfers over `bufsiz` with Errno 90 as the kernel
    does. On the system clock, `host_slowdown` k > 1 models a host CPU k times slower (`host`, a SlowHost):
    before each read the calling thread burns (k - 1) times the CPU time it spent since its previous read
    returned; other host threads can charge `host` for their work too.
    """

    def __init__(self, frames: FrameSource, *, state: LeptonState | None = None,
                 telemetry_rows: Sequence[np.ndarray] | None = None, clock: Clock | None = None,
                 rate: float = UNIQUE_RATE_HZ, duplicates: bool = True, loop: bool = True,
                 faults: Sequence[Fault] = (), max_speed_hz: int = 20_000_000, bufsiz: int = 4096,
                 slip_bytes: int = 7, host_slowdown: float = 1.0) -> None:
        self.state = state if state is not None else LeptonState(model=_model_of(frames))
        self.frames = frames
        self.telemetry_rows = telemetry_rows
        self.clock = clock if clock is not None else VirtualClock()
        self.rate = float(rate)
        self.loop = loop
        self.faults = tuple(faults)
        self.max_speed_hz = int(max_speed_hz)
        self.bufsiz = int(bufsiz)
        self.mode = 3
        self.bits_per_word = 8
        self.slip_bytes = slip_bytes
        self.realtime = isinstance(self.clock, SystemClock)
        self.host = SlowHost(host_slowdown if self.realtime else 1.0)
        self.stats = EmulatorStats()
        segments = 4 if self.state.model == 3 else 1
        self.slots_per_frame = segments * (3 if duplicates else 1)
        self.slot_s = 1.0 / (self.rate * self.slots_per_frame)
        self._segments = segments
        self._epoch = self.clock.monotonic()
        self._dead_slot = min((f.frame * self.slots_per_frame for f in self.faults if f.kind == "dead"),
                              default=None)
        self._dead_cured = False
        self._discard = discard_packets(1).tobytes()
        self._pending = bytearray()
        self._last_end: float | None = None
        self._seen_reboots = self.state.reboots
        self._slot = 0
        self._pos = 0
        self._lost = False
        self._cache: dict[int, _Encoded] = {}
        self._lock = threading.Lock()
        self.closed = False

    # -- the spidev node ------------------------------------------------------------------------------
    def read(self, count: int) -> bytes:
        """Clock `count` bytes out of the camera, like `os.read` on the node (the GIL is free meanwhile)."""
        return self.transfer(count, hold_gil=False)

    def transfer(self, count: int, *, hold_gil: bool) -> bytes:
        """One transfer of `count` bytes; `hold_gil` keeps other threads waiting for it, as py-spidev does."""
        if self.closed:
            raise OSError(errno.EBADF, "Bad file descriptor")
        if count > self.bufsiz:
            raise OSError(errno.EMSGSIZE, "Message too long")
        self.host.charge()
        with self._lock:
            start = self.clock.monotonic()
            data = self._clock_out(start, count)
        end = start + count * 8.0 / self.max_speed_hz
        if not self.realtime:
            self.clock.sleep(end - start)
        elif hold_gil:
            _hold_gil_sleep()(max(0, int((end - time.monotonic()) * 1e6)))
        else:
            time.sleep(max(0.0, end - time.monotonic()))
        self._last_end = max(end, self.clock.monotonic())
        self.host.mark()  # the emulator's own work is not the host's
        return data

    def _clock_out(self, now: float, count: int) -> bytes:
        if self._last_end is None or now - self._last_end >= RESYNC_IDLE_S:
            self._sync(now)  # /CS idled long enough: the camera restarts its stream (4.2.3.3.1)
        elif self._pending and not self._lost and now - self._last_end > PACKET_FINISH_S:
            self._pending.clear()  # the camera gave up the packet the host left unfinished
            self.stats.losses.append(f"a packet left unfinished for {(now - self._last_end) * 1e3:.1f} ms")
            self._lost = True
        byte_s = 8.0 / self.max_speed_hz
        while len(self._pending) < count:
            wanted = -(-(count - len(self._pending)) // PACKET_BYTES)
            self._pending += self._next_packets(now + len(self._pending) * byte_s, wanted)
        data = bytes(self._pending[:count])
        del self._pending[:count]
        return data

    def close(self) -> None:
        """Release the fake device."""
        self.closed = True

    # -- the camera's schedule ------------------------------------------------------------------------
    def _sync(self, now: float) -> None:
        self.stats.syncs += 1
        self._slot = max(0, math.ceil((now - self._epoch) / self.slot_s - 1e-9))
        self._pos = 0
        self._lost = False
        self._pending.clear()

    def _slot_start(self, slot: int) -> float:
        return self._epoch + slot * self.slot_s

    def _lose(self, reason: str) -> bytes:
        self.stats.losses.append(reason)
        self._lost = True
        return self._advance()[self.slip_bytes:]

    def _next_packets(self, t: float, wanted: int) -> bytes:
        """The packets clocked out from time `t` on: at least one, at most `wanted`, none past a slot's end."""
        if self.state.reboots != self._seen_reboots:
            self._seen_reboots = self.state.reboots
            self._dead_cured = self._dead_cured or any(f.until_reboot for f in self.faults if f.kind == "dead")
            self._sync(max(t, self.state.booting_until))
        if self.state.booting(t) or self._dead(t):
            return self._discard
        if self._lost:
            return self._advance()  # the stream goes on, misaligned, until the host resyncs
        start = self._slot_start(self._slot)
        if t >= start + self.slot_s:
            what = "started" if self._pos == 0 else "finished"
            return self._lose(f"slot {self._slot} not {what} before the next was due")
        packet_s = PACKET_BYTES * 8.0 / self.max_speed_hz
        if t < start:
            return self._discard * max(1, min(wanted, math.ceil((start - t) / packet_s)))
        index = self._slot % self.slots_per_frame
        group = self._group(self._slot)
        slip = group.slips.get((index, self._pos))
        if slip:
            self.stats.losses.append(f"desync fault in slot {self._slot}")
            self._lost = True
            return self._advance()[slip:]
        packets = group.slots[index]
        in_time = math.ceil((start + self.slot_s - t) / packet_s)  # packets that start before the slot ends
        end = min(len(packets), self._pos + wanted, self._pos + in_time,
                  *(p for (k, p) in group.slips if k == index and p > self._pos))
        chunk = packets[self._pos:end].tobytes()
        self._pos = end
        if end >= len(packets):
            self._slot, self._pos = self._slot + 1, 0
        return chunk

    def _advance(self) -> bytes:
        packets = self._slot_packets(self._slot)
        packet = packets[self._pos].tobytes()
        self._pos += 1
        if self._pos >= len(packets):
            self._slot, self._pos = self._slot + 1, 0
        return packet

    def _dead(self, t: float) -> bool:
        if self._dead_slot is None or self._dead_cured:
            return False
        return t >= self._slot_start(self._dead_slot)

    def _slot_packets(self, slot: int) -> np.ndarray:
        return self._group(slot).slots[slot % self.slots_per_frame]

    def _group(self, slot: int) -> _Encoded:
        index = slot // self.slots_per_frame
        if index not in self._cache:
            if len(self._cache) > 2:
                self._cache.pop(min(self._cache))
            self._cache[index] = self._encode(index)
        return self._cache[index]

    def _encode(self, index: int) -> _Encoded:
        """The packets of every slot of unique frame `index`: the frame (faults applied), then its repeats."""
        state = self.state
        pixels = self._pixels(index)
        if pixels is None:  # a finite source has run out: the camera only sends discard packets
            return _Encoded([discard_packets(1)] * self.slots_per_frame, {})
        frame_layout = layout(state.model, state.telemetry)
        rows = None
        if frame_layout.telemetry_rows is not None:
            rows = self._telemetry(index)
        clean = encode_frame(pixels, frame_layout, rows)
        faulted = [g.copy() for g in clean]
        slips: dict[tuple[int, int], int] = {}
        for fault in self.faults:
            if fault.frame == index:
                faulted = self._apply(fault, faulted, slips)
        repeats = clean
        if self._segments > 1:  # a Lepton 3 repeats nothing: eight invalid segments, number 0 (4.2.3.3)
            repeats = [g.copy() for g in clean]
            for segment in repeats:
                segment[SEGMENT_PACKET, 0] &= 0x0F
        count = self.slots_per_frame - self._segments
        return _Encoded(faulted + [repeats[k % self._segments] for k in range(count)], slips)

    def _pixels(self, index: int) -> np.ndarray | None:
        if callable(self.frames):
            return np.asarray(self.frames(index, self.state))
        if index >= len(self.frames) and not self.loop:
            return None
        return np.asarray(self.frames[index % len(self.frames)])

    def _telemetry(self, index: int) -> np.ndarray:
        if self.telemetry_rows is not None:
            return np.asarray(self.telemetry_rows[index % len(self.telemetry_rows)], np.uint16)
        state = self.state
        t = (index * self.slots_per_frame) * self.slot_s
        return encode_telemetry(frame_counter=index + 1, uptime_ms=int(t * 1000) + UPTIME_AT_START_MS,
                                agc=state.agc, tlinear=state.tlinear, resolution=state.resolution,
                                time_last_ffc_ms=UPTIME_AT_START_MS)

    def _apply(self, fault: Fault, groups: list[np.ndarray], slips: dict[tuple[int, int], int]) -> list[np.ndarray]:
        k = min(max(fault.segment, 1), self._segments) - 1
        group = groups[k]
        if fault.kind == "flip":
            group[fault.packet % len(group), fault.byte % PACKET_BYTES] ^= 1 << (fault.bit % 8)
        elif fault.kind == "lose":
            groups[k] = np.delete(group, fault.packet % len(group), axis=0)
        elif fault.kind == "swap" and self._segments > 1:
            groups[1], groups[2] = groups[2], groups[1]
        elif fault.kind == "badseg":
            group[SEGMENT_PACKET, 0] = (group[SEGMENT_PACKET, 0] & 0x0F) | ((fault.value & 0xF) << 4)
        elif fault.kind == "desync":
            slips[(k, fault.packet % len(group))] = max(1, fault.shift % PACKET_BYTES)
        return groups


class SpidevPort:
    """An emulated camera as py-spidev's SpiDev: `readbytes(n)` returns a list of ints, silently reads at most
    4096 bytes, and keeps the GIL for the whole transfer (what makes it unfit for real-time reading)."""

    def __init__(self, vospi: VospiEmulator) -> None:
        self.vospi = vospi
        self.mode, self.max_speed_hz, self.bufsiz = vospi.mode, vospi.max_speed_hz, vospi.bufsiz

    def readbytes(self, count: int) -> list[int]:
        """Clock in min(count, 4096) bytes as a list, holding the GIL meanwhile."""
        return list(self.vospi.transfer(min(count, PY_SPIDEV_MAX_READ), hold_gil=True))

    def close(self) -> None:
        """Release the fake device."""
        self.vospi.close()


def _model_of(frames: FrameSource) -> int:
    if callable(frames):
        return 3
    shape = np.asarray(frames[0]).shape
    if shape == (60, 80):
        return 2
    if shape == (120, 160):
        return 3
    raise InputError(f"frames of shape {shape} are neither Lepton 2 (80x60) nor Lepton 3 (160x120)")


class CCIEmulator:
    """The CCI register file of a Lepton on FakeI2CBus (an I2CDevice: `write(bytes)`, `read(count)`).

    Commands take `command_s` (FFC: `ffc_s`) of busy time on the clock; unknown commands answer
    LEP_UNDEFINED_FUNCTION_ERROR, a wrong data length LEP_DATA_SIZE_ERROR, out-of-range values
    LEP_RANGE_ERROR; RAD commands are undefined on a non-radiometric model. While booting the device does
    not acknowledge. Faults: `stuck_busy`, and `results` forcing a result code per command base word.
    """

    def __init__(self, state: LeptonState, clock: Clock, *, command_s: float = COMMAND_S,
                 ffc_s: float = FFC_S, boot_s: float = BOOT_S) -> None:
        self.state, self.clock = state, clock
        self.command_s, self.ffc_s, self.boot_s = command_s, ffc_s, boot_s
        self.stuck_busy = False
        self.results: dict[int, int] = {}
        self.commands: list[int] = []
        self._pointer = 0
        self._data = [0] * DATA_REGISTERS
        self._length = 0
        self._busy_until = -math.inf
        self._result = LEP_OK
        self._by_base = {c.base: c for c in COMMANDS}

    # -- I2CDevice ------------------------------------------------------------------------------------
    def write(self, data: bytes) -> None:
        """A register address, optionally followed by words to store from there on."""
        self._check_awake()
        if len(data) < 2:
            return
        self._pointer = int.from_bytes(data[:2], "big")
        for k in range(2, len(data) - 1, 2):
            self._store(self._pointer, int.from_bytes(data[k:k + 2], "big"))
            self._pointer += 2

    def read(self, count: int) -> bytes:
        """Words from the register pointer on, big-endian, auto-incrementing."""
        self._check_awake()
        out = bytearray()
        while len(out) < count:
            out += self._load(self._pointer).to_bytes(2, "big")
            self._pointer += 2
        return bytes(out[:count])

    def _check_awake(self) -> None:
        if self.state.booting(self.clock.monotonic()):
            raise nack_error()

    # -- registers ------------------------------------------------------------------------------------
    def _load(self, register: int) -> int:
        if register == REG_STATUS:
            busy = self.stuck_busy or self.clock.monotonic() < self._busy_until
            return ((self._result & 0xFF) << 8) | STATUS_BOOTED | STATUS_BOOT_MODE | (STATUS_BUSY if busy else 0)
        if register == REG_DATA_LENGTH:
            return self._length
        if REG_DATA0 <= register < REG_DATA0 + 2 * DATA_REGISTERS:
            return self._data[(register - REG_DATA0) // 2]
        return 0

    def _store(self, register: int, word: int) -> None:
        if register == REG_DATA_LENGTH:
            self._length = word
        elif REG_DATA0 <= register < REG_DATA0 + 2 * DATA_REGISTERS:
            self._data[(register - REG_DATA0) // 2] = word
        elif register == REG_COMMAND:
            self._execute(word)

    # -- commands -------------------------------------------------------------------------------------
    def _execute(self, word: int) -> None:
        now = self.clock.monotonic()
        self.commands.append(word)
        base, kind = word & ~0x3, word & 0x3
        command = self._by_base.get(base)
        self._busy_until = now + self.command_s
        if command is None or ((base & 0x0F00) == 0x0E00 and not self.state.radiometric):
            self._result = LEP_UNDEFINED_FUNCTION_ERROR
        elif base in self.results:
            self._result = self.results[base]
        elif kind == RUN and command.words == 0:
            self._result = self._run(command, now)
        elif kind not in (GET, SET) or command.words == 0:
            self._result = LEP_UNDEFINED_FUNCTION_ERROR
        elif self._length != command.words:
            self._result = LEP_DATA_SIZE_ERROR
        elif kind == GET:
            value = self._attribute(command)
            self._data[0], self._data[1] = value & 0xFFFF, value >> 16
            self._result = LEP_OK
        else:
            self._result = self._set(command, self._data[0] | self._data[1] << 16)

    def _run(self, command: Command, now: float) -> int:
        if command == SYS_RUN_FFC:
            self.state.ffc_runs += 1
            self._busy_until = now + self.ffc_s
        elif command == OEM_REBOOT:
            self.state.reboot(now, self.boot_s)
            self._busy_until = now
        elif command != SYS_PING:
            return LEP_UNDEFINED_FUNCTION_ERROR
        return LEP_OK

    def _attribute(self, command: Command) -> int:
        state = self.state
        values = {AGC_ENABLE: int(state.agc), RAD_TLINEAR_ENABLE: int(state.tlinear),
                  RAD_TLINEAR_RESOLUTION: TLINEAR_RESOLUTIONS.index(state.resolution),
                  SYS_TELEMETRY_ENABLE: int(state.telemetry_enabled),
                  SYS_TELEMETRY_LOCATION: TELEMETRY_LOCATIONS.index(state.telemetry_location)}
        return values[command]

    def _set(self, command: Command, value: int) -> int:
        if value not in (0, 1):
            return LEP_RANGE_ERROR
        state = self.state
        if command == AGC_ENABLE:
            state.agc = bool(value)
        elif command == RAD_TLINEAR_ENABLE:
            state.tlinear = bool(value)
        elif command == RAD_TLINEAR_RESOLUTION:
            state.resolution = TLINEAR_RESOLUTIONS[value]
        elif command == SYS_TELEMETRY_ENABLE:
            state.telemetry_enabled = bool(value)
        else:
            state.telemetry_location = TELEMETRY_LOCATIONS[value]
        return LEP_OK


class LeptonEmulator:
    """A whole emulated Lepton: `spi` (VoSPI), `bus` (FakeI2CBus with the CCI at 0x2A), shared `state`."""

    def __init__(self, frames: FrameSource, *, model: int | None = None, radiometric: bool = True,
                 telemetry: str = "off", clock: Clock | None = None, cci: bool = True,
                 **vospi_options: Any) -> None:
        self.clock = clock if clock is not None else VirtualClock()
        self.state = LeptonState(model=model or _model_of(frames), radiometric=radiometric)
        if telemetry != "off":
            self.state.telemetry_enabled, self.state.telemetry_location = True, telemetry
        self.spi = VospiEmulator(frames, state=self.state, clock=self.clock, **vospi_options)
        self.bus = FakeI2CBus(400_000, self.clock)
        self.cci: CCIEmulator | None = None
        if cci:
            self.cci = CCIEmulator(self.state, self.clock)
            self.bus.attach(CCI_ADDRESS, self.cci)
