"""The emulated MLX90640 (registers, timing, faults, scene encoding) and the `sim` camera built on it."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pytest

from thermtool.clock import VirtualClock
from thermtool.emulators.i2c import FakeI2CBus
from thermtool.emulators.melexis import nack_register
from thermtool.emulators.mlx90640 import MLX90640Emulator, emulated_mlx90640
from thermtool.errors import InputError
from thermtool.sensors.melexis import (
    CONTROL_REGISTER,
    STATUS_CLEAR,
    STATUS_NEW_DATA,
    STATUS_REGISTER,
)
from thermtool.sensors.mlx90640 import calibration, inverse
from thermtool.sensors.mlx90640.device import (
    configure_control,
    has_frame_data_error,
    open_mlx90640,
)
from thermtool.sensors.mlx90640.sim import open_sim
from thermtool.sensors.mlx90640.synthetic import synthetic_eeprom


def _spots(t: float) -> np.ndarray:
    """A static scene from -10 C to 200 C: a gradient, a hot plate and a cold patch."""
    rows, cols = np.indices((24, 32))
    image = 15.0 + 0.4 * cols + 0.2 * rows
    image[4:8, 20:26] = 200.0
    image[16:20, 3:6] = -10.0
    return image


def _read_words(bus: FakeI2CBus, register: int, count: int) -> list[int]:
    buf = bytearray(2 * count)
    bus.writeto_then_readfrom(0x33, register.to_bytes(2, "big"), buf)
    return [int.from_bytes(buf[i:i + 2], "big") for i in range(0, len(buf), 2)]


def _write_word(bus: FakeI2CBus, register: int, value: int) -> None:
    bus.writeto(0x33, register.to_bytes(2, "big") + value.to_bytes(2, "big"))


def _ram_frame(device: MLX90640Emulator) -> np.ndarray:
    frame = np.zeros(834, dtype=np.uint16)
    frame[:832] = device.ram
    frame[832], frame[833] = device.control, device.subpage
    return frame


# -- registers ----------------------------------------------------------------------------------------------
def test_register_reads_are_big_endian_with_auto_increment() -> None:
    eeprom = synthetic_eeprom(1)
    bus, device = emulated_mlx90640(eeprom=eeprom, scene=_spots)
    assert _read_words(bus, 0x2400, 832) == [int(w) for w in eeprom]
    bus.writeto(0x33, b"\x24\x0c")  # set the pointer, then two separate reads continue from it
    first, second = bytearray(2), bytearray(2)
    bus.readfrom_into(0x33, first)
    bus.readfrom_into(0x33, second)
    assert [int.from_bytes(first, "big"), int.from_bytes(second, "big")] == [int(eeprom[12]), int(eeprom[13])]
    assert device.control == int(eeprom[12])  # the control register powers up from EEPROM 0x240C
    assert _read_words(bus, 0x073F, 2)[1] == 0  # past the RAM: unmapped
    bus.writeto(0x33, b"")  # an address-only probe, as busio drivers do
    _write_word(bus, 0x2400, 0)
    assert int(device.eeprom[0]) == int(eeprom[0])  # EEPROM writes are not modelled: read-only


def test_subpages_complete_every_refresh_period_and_alternate() -> None:
    clock = VirtualClock()
    bus, device = emulated_mlx90640(1_000_000, clock, scene=_spots)
    _write_word(bus, CONTROL_REGISTER, configure_control(device.control, refresh_hz=4))
    seen = []
    for _ in range(4):
        assert not _read_words(bus, STATUS_REGISTER, 1)[0] & STATUS_NEW_DATA
        clock.sleep(0.25)
        status = _read_words(bus, STATUS_REGISTER, 1)[0]
        assert status & STATUS_NEW_DATA
        seen.append(status & 1)
        _write_word(bus, STATUS_REGISTER, STATUS_CLEAR)  # the host clears new-data
    assert seen == [0, 1, 0, 1]
    clock.sleep(10 * 0.25)  # nobody reads for ten subpages: RAM holds the latest, parity is kept
    assert _read_words(bus, STATUS_REGISTER, 1)[0] & 1 == 1  # the device catches up when addressed
    assert device.measurements == 14


def test_bus_time_is_charged_to_the_clock() -> None:
    clock = VirtualClock()
    bus, _ = emulated_mlx90640(400_000, clock, scene=_spots)
    start = clock.monotonic()
    _read_words(bus, 0x0400, 832)
    # 2 register bytes + 1664 data bytes + the read address byte, plus start address: 9 clocks a byte.
    assert clock.monotonic() - start == pytest.approx(((2 + 1664 + 1 + 1) * 9 + 2) / 400_000)


def test_scene_is_encoded_into_ram_for_the_measured_subpage() -> None:
    clock = VirtualClock()
    bus, device = emulated_mlx90640(1_000_000, clock, scene=_spots, ta=31.0, vdd=3.25)
    cal = calibration.extract_parameters(device.eeprom)
    before = device.ram.copy()
    clock.sleep(device.period)
    _read_words(bus, STATUS_REGISTER, 1)
    frame = _ram_frame(device)
    assert device.subpage == 0
    assert calibration.frame_ta(frame, cal) == pytest.approx(31.0, abs=0.01)
    assert calibration.frame_vdd(frame, cal) == pytest.approx(3.25, abs=0.001)
    decoded = calibration.calculate_to(frame, cal)
    mask = calibration.subpage_mask(0, interleaved=False)
    step = inverse.count_step(frame, cal)
    assert (np.abs(decoded - _spots(0.0))[mask] <= step[mask] / 2 + 1e-6).all()  # within half an ADC count
    other = ~mask.ravel()
    assert np.array_equal(device.ram[:768][other], before[:768][other])  # the other subpage is untouched


# -- faults -----------------------------------------------------------------------------------------------------
def test_fault_injection() -> None:
    clock = VirtualClock()
    bus, device = emulated_mlx90640(1_000_000, clock, scene=_spots)
    device.never_ready = True
    clock.sleep(5.0)
    assert not _read_words(bus, STATUS_REGISTER, 1)[0] & STATUS_NEW_DATA
    device.never_ready = False
    device.corrupt(1)
    clock.sleep(device.period)
    _read_words(bus, STATUS_REGISTER, 1)
    assert has_frame_data_error(_ram_frame(device))
    clock.sleep(device.period)
    _read_words(bus, STATUS_REGISTER, 1)
    assert not has_frame_data_error(_ram_frame(device))

    bus.nack_rules.append(nack_register(STATUS_REGISTER, times=2))
    for _ in range(2):
        with pytest.raises(OSError, match="Remote I/O"):
            _read_words(bus, STATUS_REGISTER, 1)
    _read_words(bus, STATUS_REGISTER, 1)
    _read_words(bus, 0x2400, 1)  # other registers were never affected


def test_emulator_needs_one_source() -> None:
    with pytest.raises(ValueError, match="scene or reference frames"):
        MLX90640Emulator(VirtualClock())


# -- round trip through the real driver ---------------------------------------------------------------------
def _representable(scene: np.ndarray, cal: calibration.Calibration, control: int, ta: float,
                   emissivity: float) -> np.ndarray:
    """The scene on the grid of temperatures whole ADC counts can express (what a sensor can report)."""
    out = np.full((24, 32), np.nan)
    for subpage in (0, 1):
        frame = inverse.raw_frame(scene, cal, subpage, control, ta=ta, emissivity=emissivity)
        calibration.calculate_to(frame, cal, emissivity, out=out)
    return out


@pytest.mark.parametrize(("pattern", "resolution", "emissivity"),
                         [("chess", None, 0.95), ("interleaved", 19, 1.0), ("chess", 16, 0.9)])
def test_round_trip_scene_emulator_driver(pattern: str, resolution: int | None, emissivity: float) -> None:
    eeprom = synthetic_eeprom(4)
    cal = calibration.extract_parameters(eeprom)
    control = configure_control(int(eeprom[12]), refresh_hz=16, resolution=resolution, pattern=pattern)
    scene = _representable(_spots(0.0), cal, control, 33.0, emissivity)
    step = max(abs(scene - _spots(0.0)).max(), 1e-3)
    bus, _ = emulated_mlx90640(1_000_000, eeprom=eeprom, scene=lambda t: scene, ta=33.0, emissivity=emissivity)
    sensor = open_mlx90640(None, i2c=bus, clock=bus.clock, refresh_hz=16, resolution=resolution,
                           pattern=pattern, emissivity=emissivity)
    with sensor:
        frames = [sensor.read() for _ in range(3)]
    for frame in frames:
        assert np.abs(frame.data - scene).max() <= 0.01
        assert frame.meta["ta"] == pytest.approx(33.0, abs=0.01)
        assert frame.meta["pattern"] == pattern
    assert step < 1.0  # the representable grid is close to the scene itself (about an ADC count)


# -- the sim camera ---------------------------------------------------------------------------------------------
def _take(factory: Callable[[], object], n: int) -> list:
    sensor = factory()
    with sensor:  # type: ignore[attr-defined]
        return [sensor.read() for _ in range(n)]  # type: ignore[attr-defined]


def test_sim_runs_the_real_driver_on_the_emulator() -> None:
    sensor = open_sim(None, realtime=False, seed=2)
    with sensor:
        frames = [sensor.read() for _ in range(3)]
        info = sensor.info
    assert info["model"] == "MLX90640" and info["simulated"] and info["seed"] == 2
    assert info["refresh_hz"] == 8 and info["subpages_read"] == 6  # rate 4 frames/s = 8 subpages/s
    assert info["bus"].startswith("emulated I2C")
    assert isinstance(sensor.emulator, MLX90640Emulator) and sensor.emulator.writes  # the driver configured it
    gaps = [(b.timestamp - a.timestamp).total_seconds() for a, b in itertools.pairwise(frames)]
    assert gaps == pytest.approx([0.25, 0.25], abs=0.125 / 32 + 0.001)
    for frame in frames:
        assert frame.sensor == "sim" and frame.shape == (24, 32) and frame.meta["simulated"]
        assert 15 < float(np.median(frame.data)) < 25  # a room
        assert float(frame.data.max()) > 30  # with warm people in it
        assert frame.meta["ta"] == pytest.approx(29.0, abs=0.01)


def test_sim_is_reproducible_and_seeded() -> None:
    a = _take(lambda: open_sim(None, realtime=False, seed=3), 2)
    b = _take(lambda: open_sim(None, realtime=False, seed=3), 2)
    c = _take(lambda: open_sim(None, realtime=False, seed=4), 2)
    assert all(np.array_equal(x.data, y.data) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0].data, c[0].data)


def test_sim_options() -> None:
    assert _take(lambda: open_sim(None, realtime=False, rate=16, per_subpage=True), 2)[1].meta["refresh_hz"] == 32
    with pytest.raises(InputError, match=r"valid: 0\.25, 0\.5, 1, 2, 4, 8, 16, 32"):
        open_sim(None, rate=1000)
    with pytest.raises(InputError, match="disagree"):
        open_sim(None, rate=4, refresh_hz=16)
    with pytest.raises(InputError, match="takes no target"):
        open_sim("kitchen")
