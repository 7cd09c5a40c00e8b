"""The MLX90640 driver on a flaky bus: every fault gives an exact frame or a one-line error, in bounded time.

Each case runs through both transports the driver meets in the field: smbus2's own code above a fake
Linux i2c-dev (`FakeI2CDev` answers its ioctls) and a busio-shaped bus object (`FakeI2CBus`, which is
what Blinka's busio.I2C looks like to a driver). Faults are injected in the emulated bus and device.
"""

from __future__ import annotations

import functools
import itertools
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import smbus2.smbus2

from thermtool.buses.i2c import BusioI2C, LinuxI2C
from thermtool.clock import SystemClock, VirtualClock
from thermtool.emulators.i2c import FakeI2CBus
from thermtool.emulators.i2c_dev import FakeI2CDev, I2CTransport
from thermtool.emulators.melexis import fill_words, flip_bit, nack_register, stall_at
from thermtool.emulators.mlx90640 import MLX90640Emulator
from thermtool.errors import EndOfStream, SensorError, SensorTimeoutError
from thermtool.sensors.base import clear_stop, request_stop
from thermtool.sensors.melexis import (
    CONTROL_REGISTER,
    EEPROM_START,
    RAM_START,
    STATUS_REGISTER,
)
from thermtool.sensors.mlx90640 import calibration, inverse
from thermtool.sensors.mlx90640.device import (
    MLX90640Sensor,
    configure_control,
    implausible,
    open_mlx90640,
)
from thermtool.sensors.mlx90640.synthetic import synthetic_eeprom

EXACT = 0.01  # C: the bound against the clean run
ONE_TRANSACTION = 0.05  # s: a generous bound on one transaction with its NACK backoff (virtual time)
CONTROL = configure_control(0x1901, refresh_hz=16)


def _scene(t: float = 0.0) -> np.ndarray:
    rows, cols = np.indices((24, 32))
    image = 18.0 + 0.4 * cols + 0.2 * rows
    image[4:9, 20:26] = 120.0
    image[15:19, 3:7] = -5.0
    return image


@functools.cache
def _frames() -> tuple[np.ndarray, ...]:
    """The two subpages of `_scene`, encoded once for the synthetic sensor (GetFrameData layout)."""
    cal = calibration.extract_parameters(synthetic_eeprom(3))
    return tuple(inverse.raw_frame(_scene(), cal, sp, CONTROL, ta=31.0) for sp in (0, 1))


@functools.cache
def _clean() -> np.ndarray:
    bus, _ = _bus()
    with open_mlx90640(None, i2c=bus, clock=bus.clock, emissivity=1.0) as sensor:
        return sensor.read().data


def _bus(frequency: int = 1_000_000, clock: Any = None, **options: Any) -> tuple[FakeI2CBus, MLX90640Emulator]:
    bus = FakeI2CBus(frequency, clock if clock is not None else VirtualClock())
    if "scene" not in options:
        options["frames"] = _frames()
    device = MLX90640Emulator(bus.clock, synthetic_eeprom(3), control=CONTROL, ta=31.0, **options)
    bus.attach(0x33, device)
    return bus, device


Opener = Callable[..., MLX90640Sensor]


@pytest.fixture
def opener(i2c_transport: I2CTransport) -> Opener:
    """Opens the driver on a fake bus through one transport (`i2c_transport`)."""

    def open_on(bus: FakeI2CBus, shared: BusioI2C | None = None, **options: Any) -> MLX90640Sensor:
        options.setdefault("emissivity", 1.0)
        target, i2c = i2c_transport.connect(bus, shared)
        return open_mlx90640(target, i2c=i2c, clock=bus.clock, **options)

    open_on.transport = i2c_transport.name  # type: ignore[attr-defined]
    open_on.devs = i2c_transport.devs  # type: ignore[attr-defined]
    return open_on


def _assert_exact(data: np.ndarray) -> None:
    assert np.abs(data - _clean()).max() <= EXACT


# -- EEPROM ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("word", range(64))
def test_a_transient_bit_error_in_any_eeprom_header_word_is_read_again(opener: Opener, word: int) -> None:
    bus, _ = _bus()
    bus.data_rules.append(flip_bit(EEPROM_START + word, bit=word % 16))
    with opener(bus) as sensor:
        frame = sensor.read()
        assert sensor.info["eeprom_reads"] == 3  # the flipped read disagreed with the next two
    _assert_exact(frame.data)


def test_an_eeprom_that_never_reads_the_same_twice_is_a_one_line_error(opener: Opener) -> None:
    bus, _ = _bus()
    transactions = itertools.count()  # a different bit of word 40 flips in every read: no two reads agree
    bus.data_rules.append(lambda tx, data: flip_bit(EEPROM_START + 40, next(transactions) % 16)(tx, data))
    with pytest.raises(SensorError) as caught:
        opener(bus).open()
    message = str(caught.value)
    assert "\n" not in message and "EEPROM read differently" in message and "400 kHz" in message


def test_a_persistently_wrong_address_word_is_rejected_with_advice(opener: Opener) -> None:
    bus, _ = _bus()
    bus.data_rules.append(flip_bit(EEPROM_START + 15, bit=2, times=None))  # 0x33 reads as 0x37 every time
    with pytest.raises(SensorError, match=r"EEPROM rejected: its address word 0x240F says 0x37.*400 kHz"):
        opener(bus).open()


# -- RAM ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("register", "value", "reason"), [
    (RAM_START + 200, 0xFFFF, "0x0000/0xFFFF run in the pixels"),
    (RAM_START + 500, 0x0000, "0x0000/0xFFFF run in the pixels"),
    (RAM_START + 768, 0xFFFF, "GAIN word out of range"),  # the aux chunk: Vdd -0.6 V, Ta 359 C
])
def test_a_chunk_of_stuck_words_drops_the_subpage(opener: Opener, register: int, value: int, reason: str) -> None:
    bus, _ = _bus()
    with opener(bus) as sensor:
        bus.data_rules.append(fill_words(register, value))
        frame = sensor.read()
        assert sensor.info["dropped_subpages"] == {reason: 1}
    _assert_exact(frame.data)


def test_stuck_words_the_equations_never_use_do_no_harm(opener: Opener) -> None:
    bus, _ = _bus()
    with opener(bus, chunk_words=8) as sensor:
        bus.data_rules.append(fill_words(RAM_START + 784, 0xFFFF))  # aux words 784..791: none is used
        frame = sensor.read()
        assert sensor.info["corrupt_subpages_dropped"] == 0
    _assert_exact(frame.data)


@pytest.mark.parametrize("bit", [10, 12])  # resolution and pattern: 384 pixels would be wrong
def test_a_bad_control_word_read_drops_the_subpage(opener: Opener, bit: int) -> None:
    bus, _ = _bus()
    with opener(bus) as sensor:
        bus.data_rules.append(flip_bit(CONTROL_REGISTER, bit))
        frame = sensor.read()
        assert sensor.info["dropped_subpages"] == {"control word read back differently": 1}
        assert sensor.info["pattern"] == "chess" and sensor.info["resolution_bits"] == 18
    _assert_exact(frame.data)


# -- NACKs, stalls, stuck flags: exact frames or an error, never past the deadline ------------------------------
def test_a_nack_storm_is_ridden_out_or_reported_and_the_next_frame_is_fresh(opener: Opener) -> None:
    bus, _ = _bus()
    with opener(bus) as sensor:
        bus.nack_rules.append(nack_register(RAM_START, times=4))
        _assert_exact(sensor.read().data)
        bus.nack_rules.append(nack_register(STATUS_REGISTER, times=5))
        with pytest.raises(SensorError, match=r"no acknowledge .* after 5 tries"):
            sensor.read()
        frame = sensor.read()
    _assert_exact(frame.data)


def test_a_stuck_new_data_bit_still_gives_exact_frames(opener: Opener) -> None:
    bus, device = _bus()
    device.stuck_new_data = True
    with opener(bus) as sensor:
        frames = [sensor.read() for _ in range(3)]
    for frame in frames:
        _assert_exact(frame.data)


def test_the_same_subpage_forever_times_out_in_time_saying_so(opener: Opener) -> None:
    bus, device = _bus()
    device.stuck_new_data = True
    with opener(bus) as sensor:
        device.never_ready = True  # the measurement in RAM is all the sensor ever shows, flagged new forever
        device.new_data = True
        start = bus.clock.monotonic()
        with pytest.raises(SensorTimeoutError) as caught:
            sensor.read(timeout=0.5)
        assert bus.clock.monotonic() - start <= 0.5 + ONE_TRANSACTION
    message = str(caught.value)
    assert "\n" not in message and "repeated the previous subpage" in message and "stuck" in message


def test_subpage_repeat_mode_times_out_saying_so(opener: Opener) -> None:
    bus, device = _bus(scene=_scene)
    with opener(bus) as sensor:
        device.control |= 0x0008  # another program set subpage repeat (control bit 3)
        with pytest.raises(SensorTimeoutError, match="subpage-repeat mode"):
            sensor.read(timeout=1.0)


def test_every_subpage_corrupt_says_so_not_no_new_data(opener: Opener) -> None:
    bus, device = _bus()
    with opener(bus) as sensor:
        device.corrupt(1000)
        start = bus.clock.monotonic()
        with pytest.raises(SensorTimeoutError) as caught:
            sensor.read(timeout=1.0)
        assert bus.clock.monotonic() - start <= 1.0 + ONE_TRANSACTION
    assert "0x7FFF frame-data error" in str(caught.value) and "no new data" not in str(caught.value)


def _ramp(t: float) -> np.ndarray:
    """A scene warming 8 C per second everywhere: halves of different times differ visibly."""
    return _scene() + 8.0 * t


def _halves_agree(frame: Any, period: float) -> bool:
    """Both subpages of a frame were measured one period apart (the ramp moves 8 C/s)."""
    chess = calibration.subpage_mask(0, interleaved=False)
    difference = np.abs((frame.data - _scene())[chess].mean() - (frame.data - _scene())[~chess].mean())
    return difference <= 8.0 * period * 1.2


@pytest.mark.parametrize("at", [4, 13, 22, 31])  # transactions after a frame: inside a subpage or between two
def test_a_stall_mid_frame_never_pairs_halves_from_before_and_after(opener: Opener, at: int) -> None:
    bus, _ = _bus(scene=_ramp)
    with opener(bus) as sensor:
        sensor.read()
        transactions = itertools.count(1)
        # 2 s at 16 Hz is an even number of subpages: the subpage numbers alone would look consecutive
        bus.delay_rules.append(lambda tx: 2.0 if next(transactions) == at else 0.0)
        frames = [sensor.read(timeout=5.0) for _ in range(3)]
    assert all(_halves_agree(frame, 1 / 16) for frame in frames)


def test_a_timeout_discards_the_pending_half(opener: Opener) -> None:
    bus, _ = _bus(scene=_ramp)
    with opener(bus) as sensor:
        sensor.read()
        bus.delay_rules.append(stall_at(RAM_START + 768, 3.0))  # hangs inside the read of a subpage
        start = bus.clock.monotonic()
        with pytest.raises(SensorTimeoutError, match="the bus stalled while one was being read"):
            sensor.read(timeout=1.0)
        assert bus.clock.monotonic() - start <= 1.0 + 3.0 + ONE_TRANSACTION  # the stalled transaction ends it
        frame = sensor.read()
    assert _halves_agree(frame, 1 / 16)


def test_a_refresh_faster_than_the_bus_warns_once_with_the_delivered_rate(
        opener: Opener, caplog: pytest.LogCaptureFixture) -> None:
    bus, _ = _bus(400_000)
    with caplog.at_level(logging.WARNING), opener(bus, refresh_hz=32) as sensor:
        frames = [sensor.read() for _ in range(8)]
        info = sensor.info
    warnings = [r.getMessage() for r in caplog.records if "refresh 32 Hz" in r.getMessage()]
    if opener.transport == "busio":  # type: ignore[attr-defined]
        assert len(warnings) == 1 and "400 kHz bus carries (16 Hz); delivering" in warnings[0]
        assert info["bus_warning"] == warnings[0]
    else:  # i2c-dev on this machine has no device-tree clock: the speed is unknown and nothing is claimed
        assert warnings == []
    for frame in frames:
        _assert_exact(frame.data)


# -- adapter errors ---------------------------------------------------------------------------------------------
def test_adapter_errors_say_what_they_mean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bus, _ = _bus()
    dev = FakeI2CDev(bus, plain_i2c=False)
    monkeypatch.setattr(smbus2.smbus2, "ioctl", dev.ioctl)
    node = tmp_path / "i2c-fake"
    node.touch()
    with pytest.raises(SensorError, match=r"EOPNOTSUPP: an SMBus-only adapter"):
        open_mlx90640(str(node), clock=bus.clock).open()
    dev.plain_i2c = True
    with open_mlx90640(str(node), clock=bus.clock) as sensor:
        dev.gone = True
        with pytest.raises(SensorError, match=r"went away \(ENODEV\).*unplugged"):
            sensor.read()


# -- threads ----------------------------------------------------------------------------------------------------
def test_two_sensors_on_one_bus_object_from_two_threads(opener: Opener, tmp_path: Path) -> None:
    bus = FakeI2CBus(1_000_000, SystemClock())
    for address in (0x33, 0x34):
        eeprom = synthetic_eeprom(3)
        eeprom[15] = (int(eeprom[15]) & 0xFF00) | address
        bus.attach(address, MLX90640Emulator(bus.clock, eeprom, frames=_frames(), control=CONTROL, ta=31.0))
    shared = None
    if opener.transport != "busio":  # type: ignore[attr-defined]
        opener.devs.append(FakeI2CDev(bus))  # type: ignore[attr-defined]
        (tmp_path / "i2c-fake").touch()
        shared = LinuxI2C(str(tmp_path / "i2c-fake"))
    sensors = [opener(bus, shared, address=address, timeout=5.0) for address in (0x33, 0x34)]
    results: dict[int, list[np.ndarray]] = {}
    errors: list[BaseException] = []

    def run(sensor: MLX90640Sensor) -> None:
        try:
            with sensor:
                results[sensor.address] = [sensor.read().data for _ in range(3)]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in sensors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors and sorted(results) == [0x33, 0x34]
    for frames in results.values():
        for data in frames:
            _assert_exact(data)


# -- what the checks let through: every real subpage but the corrupted one; what the EEPROM checks reject ------
def test_real_recorder_subpages_all_pass_but_the_corrupted_one(reference: Path) -> None:
    folder = reference / "realdata" / "peoplecounter_mlx90640"
    cal = calibration.extract_parameters(np.load(folder / "eeprom.npy"))
    verdicts = [implausible(words.astype(np.uint16), cal)
                for path in sorted(folder.glob("*.raw.npy")) for words in np.load(path).reshape(-1, 834)]
    assert len(verdicts) == 2278
    assert [v for v in verdicts if v] == ["0x7FFF frame-data error"]  # the one Adafruit decoded as 1132 C


@pytest.mark.parametrize(("word", "mask", "message"), [
    (49, 0x8000, "VPTAT25"),  # 0x2431 with its sign bit flipped
    (32, 0xF000, "sensitivity above"),  # 0x2420: an alpha scale nibble of 0 makes every alpha 2^12 too large
])
def test_eeprom_fields_no_sensor_has_are_rejected(word: int, mask: int, message: str) -> None:
    eeprom = synthetic_eeprom(3)
    eeprom[word] = int(eeprom[word]) ^ mask if word == 49 else int(eeprom[word]) & ~mask
    with pytest.raises(calibration.CalibrationError, match=message):
        calibration.extract_parameters(eeprom)


# -- stopping -------------------------------------------------------------------------------------------------
def test_a_stop_request_ends_a_read_at_the_slowest_refresh_rate() -> None:
    bus, _ = _bus(clock=SystemClock())
    with open_mlx90640(None, i2c=bus, clock=bus.clock, refresh_hz=0.5) as sensor:  # a frame takes 4 s
        timer = threading.Timer(0.2, request_stop)
        timer.start()
        start = time.monotonic()
        try:
            with pytest.raises(EndOfStream, match="read stopped on request"):
                sensor.read()
        finally:
            clear_stop()
            timer.join()
        assert time.monotonic() - start < 1.5  # generous: the stop is seen within one 0.2 s poll


def test_sigterm_ends_a_capture_of_a_slow_sensor_within_a_second(tmp_path: Path) -> None:
    out = tmp_path / "frames"
    # 0.25 full frames/s: a frame takes 4 s, so only an interrupted read can end within a second
    proc = subprocess.Popen([sys.executable, "-m", "thermtool", "capture", "--sensor", "sim", "--rate", "0.25",
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not out.joinpath("capture.json").exists():
        time.sleep(0.05)
    time.sleep(0.3)  # inside the wait for the first frame
    proc.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert time.monotonic() - sent < 3.0  # generous bound on "within a second" for a loaded machine
