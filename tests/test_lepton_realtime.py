"""The Lepton's real-time path: transports, whole-packet reads, SPI mode, newest frame vs every frame, the
reader process, units from telemetry, and the emulator's timing rules (virtual time unless stated)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
import pytest

from thermtool import InputError, SensorError
from thermtool.buses.spi import PY_SPIDEV_MAX_READ, transport_for
from thermtool.clock import SystemClock
from thermtool.emulators.lepton import Fault, LeptonEmulator, SpidevPort
from thermtool.sensors import open_sensor
from thermtool.sensors.lepton import LeptonSensor
from thermtool.sensors.lepton.vospi import PACKET_BYTES

SHAPE = (120, 160)


def frames_for(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 0x4000, SHAPE, dtype=np.uint16) for _ in range(count)]


def index_of(sensor: LeptonSensor, frames: list[np.ndarray]) -> int:
    return next(i for i, f in enumerate(frames) if np.array_equal(sensor.last_raw, f))


def wait_for(condition: Callable[[], bool], limit: float = 30.0) -> None:
    """Poll until `condition` holds (a safety bound, not a timing assertion)."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "the background reader made no progress"
        time.sleep(0.01)


class ReadOnly:
    """A caller's transport with only read(n) (as a custom SPI wrapper would have)."""

    def __init__(self, emulator: LeptonEmulator) -> None:
        self.inner = emulator.spi
        self.mode, self.max_speed_hz, self.bufsiz = 3, emulator.spi.max_speed_hz, emulator.spi.bufsiz
        self.sizes: list[int] = []

    def read(self, count: int) -> bytes:
        self.sizes.append(count)
        return self.inner.read(count)

    def close(self) -> None:
        self.inner.close()


def all_decoded(sensor: LeptonSensor, frames: list[np.ndarray]) -> Callable[[], bool]:
    """True once the driver has decoded the last frame of the emulated camera's finite sequence."""
    def done() -> bool:
        last = sensor._decoder._last if sensor._decoder is not None else None
        return last is not None and np.array_equal(last.pixels, frames[-1])
    return done


def open_on(spi: object, emulator: LeptonEmulator, **options: object) -> LeptonSensor:
    options.setdefault("background", False)
    return LeptonSensor("lepton3", spi=spi, i2c=False, model=3, clock=emulator.clock, **options)  # type: ignore[arg-type]


def test_transport_choice() -> None:
    emulator = LeptonEmulator(frames_for(4), cci=False, bufsiz=65536)
    assert transport_for(emulator.spi).kind == "read" and transport_for(emulator.spi).limit == 65536
    port = SpidevPort(emulator.spi)
    assert transport_for(port).kind == "readbytes" and transport_for(port).limit == PY_SPIDEV_MAX_READ
    with pytest.raises(InputError, match="read"):
        transport_for(object())


@pytest.mark.parametrize(("bufsiz", "kind", "packets"), [(65536, "read", 244), (65536, "readbytes", 24),
                                                          (1000, "readbytes", 6), (4096, "read", 24)])
def test_reads_are_whole_packets_under_every_limit(bufsiz: int, kind: str, packets: int) -> None:
    frames = frames_for(8)
    emulator = LeptonEmulator(frames, cci=False, bufsiz=bufsiz)
    spi = ReadOnly(emulator) if kind == "read" else SpidevPort(emulator.spi)
    with open_on(spi, emulator) as sensor:
        first = sensor.read()
        second = sensor.read()
        info = sensor.info
    assert first.shape == SHAPE and second.shape == SHAPE
    assert info["transport"] == kind and info["read_bytes"] == packets * PACKET_BYTES
    assert info["read_limit"] == (bufsiz if kind == "read" else min(bufsiz, PY_SPIDEV_MAX_READ))
    assert info["resyncs"] == 1 and not emulator.spi.stats.losses
    if isinstance(spi, ReadOnly):
        assert set(spi.sizes) == {packets * PACKET_BYTES}


def test_py_spidev_port_clamps_silently_and_returns_ints() -> None:
    emulator = LeptonEmulator(frames_for(2), cci=False, bufsiz=65536)
    data = SpidevPort(emulator.spi).readbytes(10_000)
    assert len(data) == PY_SPIDEV_MAX_READ and isinstance(data, list) and isinstance(data[0], int)


def test_a_packet_left_unfinished_loses_sync() -> None:
    emulator = LeptonEmulator(frames_for(2), cci=False)
    spi = emulator.spi
    spi.read(PACKET_BYTES * 20 + 50)  # ends inside a packet
    emulator.clock.sleep(0.0005)
    spi.read(PACKET_BYTES - 50)  # finished in time: nothing lost
    assert not spi.stats.losses
    spi.read(PACKET_BYTES * 3 + 50)
    emulator.clock.sleep(0.01)  # far longer than the camera waits for the rest of a packet
    spi.read(PACKET_BYTES)
    assert any("unfinished" in loss for loss in spi.stats.losses)


def test_spi_mode_is_an_option() -> None:
    emulator = LeptonEmulator(frames_for(4), cci=False)
    emulator.spi.mode = 1
    with pytest.raises(InputError, match="spi_mode=1"), open_on(emulator.spi, emulator):
        pass
    with open_on(emulator.spi, emulator, spi_mode=1) as sensor:
        assert sensor.read().shape == SHAPE and sensor.info["spi_mode"] == 1
    with pytest.raises(InputError, match="0-3"):
        LeptonSensor("lepton3", spi_mode=4)


def test_read_returns_the_newest_frame_and_counts_skipped() -> None:
    frames = frames_for(30)
    emulator = LeptonEmulator(frames, cci=False, loop=False)
    with open_on(emulator.spi, emulator, background=True, timeout=600) as sensor:
        wait_for(all_decoded(sensor, frames))  # the reader ran ahead of a busy caller
        sensor.read(timeout=5)
        newest = index_of(sensor, frames)
        info = sensor.info
    assert newest == len(frames) - 1
    assert info["skipped_frames"] == info["frames"] - 1 and info["dropped_frames"] == 0


def test_every_frame_queues_in_order_and_counts_drops() -> None:
    frames = frames_for(40)
    emulator = LeptonEmulator(frames, cci=False, loop=False)
    with open_on(emulator.spi, emulator, background=True, every_frame=True, timeout=600) as sensor:
        wait_for(all_decoded(sensor, frames))
        got = []
        for _ in range(32):
            sensor.read(timeout=5)
            got.append(index_of(sensor, frames))
        info = sensor.info
    first = got[0]
    assert got == list(range(first, first + 32)) and got[-1] == len(frames) - 1
    assert info["dropped_frames"] == info["frames"] - 32 and info["skipped_frames"] == 0


def test_inline_reads_give_every_frame_in_order() -> None:
    frames = frames_for(12)
    emulator = LeptonEmulator(frames, cci=False)
    with open_on(emulator.spi, emulator) as sensor:
        got = []
        for _ in range(6):
            sensor.read()
            got.append(index_of(sensor, frames))
    assert got == list(range(got[0], got[0] + 6))


def test_reader_process_hands_over_frames_and_counters() -> None:
    frames = frames_for(40)
    emulator = LeptonEmulator(frames, cci=False, loop=False)
    sensor = open_on(emulator.spi, emulator, background=True, process=True, every_frame=True, timeout=600)
    with sensor:
        got = []
        for _ in range(5):
            sensor.read(timeout=30)
            got.append(index_of(sensor, frames))
        info = sensor.info
        pid = sensor._process.pid if sensor._process else None
    assert got == list(range(got[0], got[0] + 5))
    assert info["reader"] == "process" and info["frames"] >= 5 and info["reads"] > 0 and info["resyncs"] >= 1
    assert pid is not None and pid != os.getpid() and sensor._process is None
    with pytest.raises(OSError):
        os.kill(pid, 0)  # the child is gone after close


def test_reader_process_passes_on_failure() -> None:
    emulator = LeptonEmulator(frames_for(2), cci=False, loop=False)
    sensor = open_on(emulator.spi, emulator, background=True, process=True, timeout=1.0)
    with sensor, pytest.raises(SensorError, match="no valid Lepton video"):
        for _ in range(5):
            sensor.read(timeout=30)


def test_process_needs_a_background_reader() -> None:
    emulator = LeptonEmulator(frames_for(2), cci=False)
    with pytest.raises(InputError, match="process"):
        open_on(emulator.spi, emulator, process=True)


def test_telemetry_resolution_beats_a_stale_cci_reading() -> None:
    emulator = LeptonEmulator(frames_for(4), telemetry="footer")
    with LeptonSensor("lepton3", spi=emulator.spi, i2c=emulator.bus, model=3, clock=emulator.clock,
                      telemetry="footer", background=False) as sensor:
        assert sensor.read().meta["tlinear_resolution"] == 0.01
        emulator.state.resolution = 0.1  # changed behind the driver's back (another program, a reboot...)
        emulator.clock.sleep(0.5)  # frames already encoded at 0.01 K go by; resync on the stall
        frame = sensor.read()
        while frame.meta["tlinear_resolution"] != 0.1:
            frame = sensor.read()
        info = sensor.info
    assert np.array_equal(frame.data, (sensor.last_raw * 0.1 - 273.15).astype(np.float32))
    assert info["units_source"] == "telemetry" and info["tlinear_resolution"] == 0.1


def test_video_only_units_from_telemetry_at_0_1_kelvin() -> None:
    emulator = LeptonEmulator(frames_for(4), telemetry="footer", cci=False)
    emulator.state.resolution = 0.1
    with open_on(emulator.spi, emulator, telemetry="footer") as sensor:
        frame = sensor.read()
        info = sensor.info
    assert frame.units == "C" and info["units_source"] == "telemetry" and info["tlinear_resolution"] == 0.1


def test_real_time_emulator_and_driver_on_the_system_clock() -> None:
    frames = frames_for(4)
    emulator = LeptonEmulator(frames, cci=False, clock=SystemClock(), bufsiz=65536)
    with LeptonSensor("lepton3", spi=emulator.spi, i2c=False, model=3) as sensor:
        first = sensor.read(timeout=10)
        second = sensor.read(timeout=10)
        assert sensor.info["reader"] == "thread" and sensor.info["transport"] == "read"
    assert second.timestamp > first.timestamp and index_of(sensor, frames) in range(4)


@pytest.mark.parametrize(("options", "units", "top"), [({"radiometry": False}, "counts", 0x3FFF),
                                                       ({"agc": True}, "agc", 0xFF), ({}, "C", 200)])
def test_sim_lepton_gives_raw_counts_and_agc(options: dict[str, bool], units: str, top: float) -> None:
    with open_sensor("sim-lepton", realtime=False, seed=3, **options) as sensor:
        frame = sensor.read()
        info = sensor.info
    assert frame.units == units and float(frame.data.max()) <= top and info["units_source"] == "cci"
    assert float(frame.data.max()) > float(frame.data.min())
    with pytest.raises(InputError, match="exclude"):
        open_sensor("sim-lepton", realtime=False, radiometry=True, agc=True).open()


@pytest.mark.parametrize("kind", ["flip", "desync", "lose"])
def test_reading_and_decoding_threads_resync_on_faults(kind: str) -> None:
    frames = frames_for(16, seed=4)
    emulator = LeptonEmulator(frames, cci=False, loop=False, faults=[Fault(kind, frame=f, segment=2) for f in (4, 9)])
    with open_on(emulator.spi, emulator, background=True, every_frame=True, timeout=600) as sensor:
        got = []
        for _ in range(8):
            sensor.read(timeout=30)
            got.append(index_of(sensor, frames))
        info = sensor.info
    assert got == sorted(set(got)) and not {4, 9} & set(got)  # corrupted frames never come out
    assert info["resyncs"] >= 3 and info["losses"] >= 2 and info["reader"] == "thread"
