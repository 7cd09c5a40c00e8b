"""The MLX90641 driver on a flaky bus, as issue 12 tests the MLX90640: every fault gives an exact frame or
a one-line error, in bounded (virtual) time, and every dropped frame is counted by reason.

Each case runs through both transports the driver meets in the field: smbus2's own code above a fake
Linux i2c-dev (`FakeI2CDev` answers its ioctls) and a busio-shaped bus object (`FakeI2CBus`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from thermtool.emulators.i2c import FakeI2CBus
from thermtool.emulators.i2c_dev import I2CTransport
from thermtool.emulators.melexis import fill_words, flip_bit, nack_register, stall_at
from thermtool.emulators.mlx90641 import MLX90641Emulator, emulated_mlx90641
from thermtool.errors import SensorError, SensorTimeoutError
from thermtool.frame import Frame
from thermtool.sensors.melexis import CONTROL_DIFFERS, CONTROL_REGISTER, RAM_START, STATUS_REGISTER, STUCK
from thermtool.sensors.mlx90641.device import MLX90641Sensor, open_mlx90641

EXACT = 0.01  # C against the clean run
ONE_TRANSACTION = 0.05  # s: a generous bound on one transaction with its NACK backoff (virtual time)


def _scene(t: float = 0.0) -> np.ndarray:
    rows, cols = np.indices((12, 16))
    image = 20.0 + 0.5 * cols + 0.3 * rows
    image[3:6, 9:13] = 60.0
    return image


def _bus() -> tuple[FakeI2CBus, MLX90641Emulator]:
    return emulated_mlx90641(1_000_000, scene=_scene)


@functools.cache
def _clean() -> dict[int, np.ndarray]:
    """The clean run's frame of each subpage (each quantises the scene to its own ADC counts)."""
    bus, _ = _bus()
    with open_mlx90641(None, i2c=bus, clock=bus.clock, refresh_hz=16, emissivity=1.0) as sensor:
        frames = [sensor.read() for _ in range(2)]
    return {frame.meta["subpage"]: frame.data for frame in frames}


Opener = Callable[..., MLX90641Sensor]


@pytest.fixture
def opener(i2c_transport: I2CTransport) -> Opener:
    """Opens the driver on a fake bus through one transport (`i2c_transport`)."""

    def open_on(bus: FakeI2CBus, **options: Any) -> MLX90641Sensor:
        target, i2c = i2c_transport.connect(bus)
        return open_mlx90641(target, i2c=i2c, clock=bus.clock, **{"emissivity": 1.0, "refresh_hz": 16, **options})

    return open_on


def _assert_exact(frame: Frame) -> None:
    assert np.abs(frame.data - _clean()[frame.meta["subpage"]]).max() <= EXACT


def test_a_bit_error_while_the_eeprom_is_read_is_read_again(opener: Opener) -> None:
    bus, _ = _bus()
    bus.data_rules.append(flip_bit(0x2400 + 40, 3))
    with opener(bus) as sensor:
        _assert_exact(sensor.read())
        assert sensor.info["eeprom_reads"] == 3 and sensor.info["eeprom_rereads"] == 1


def test_an_eeprom_that_never_reads_the_same_twice_is_a_one_line_error_naming_400_khz(opener: Opener) -> None:
    bus, device = _bus()
    device.eeprom_glitches.extend([(100, 0x0004), (100, 0x0100), (100, 0x0001)])
    with pytest.raises(SensorError) as caught:
        opener(bus).open()
    message = str(caught.value)
    assert "\n" not in message and "EEPROM read differently three times" in message and "400 kHz" in message


def test_a_nack_storm_is_ridden_out_or_reported(opener: Opener) -> None:
    bus, _ = _bus()
    with opener(bus) as sensor:
        bus.nack_rules.append(nack_register(STATUS_REGISTER, times=3))
        _assert_exact(sensor.read())
        assert sensor.info["nack_retries"] == 3
        bus.nack_rules.append(nack_register(STATUS_REGISTER))
        with pytest.raises(SensorError, match=r"no acknowledge .* after 5 tries.*400000") as caught:
            sensor.read()
        assert "\n" not in str(caught.value)


def test_a_chunk_of_stuck_words_is_dropped_and_counted_by_reason(opener: Opener) -> None:
    bus, _ = _bus()
    with opener(bus) as sensor:
        following = 1 - sensor.read().meta["subpage"]  # the next measurement's subpage
        bus.data_rules.append(fill_words(RAM_START + 0x40 + 0x20 * following, 0xFFFF))  # its second pixel block
        _assert_exact(sensor.read())
        assert sensor.info["dropped_frames"] == {STUCK: 1} and sensor.info["implausible_frames_dropped"] == 1


def test_a_control_word_that_reads_differently_drops_the_frame(opener: Opener) -> None:
    bus, _ = _bus()
    with opener(bus) as sensor:
        bus.data_rules.append(flip_bit(CONTROL_REGISTER, 11))
        _assert_exact(sensor.read())
        assert sensor.info["dropped_frames"] == {CONTROL_DIFFERS: 1}


def test_a_stall_mid_read_ends_at_the_deadline_plus_one_transaction(opener: Opener) -> None:
    bus, _ = _bus()
    with opener(bus) as sensor:
        bus.delay_rules.append(stall_at(RAM_START + 0x180, 2.0, times=None))  # every aux read hangs 2 s
        start = bus.clock.monotonic()
        with pytest.raises(SensorTimeoutError, match=r"no good frame within 0\.5 s"):
            sensor.read(timeout=0.5)
        assert bus.clock.monotonic() - start <= 0.5 + 2.0 + ONE_TRANSACTION


def test_no_new_data_times_out_in_time_saying_so(opener: Opener) -> None:
    bus, device = _bus()
    with opener(bus) as sensor:
        device.never_ready = True
        start = bus.clock.monotonic()
        with pytest.raises(SensorTimeoutError, match=r"no good frame within 0\.5 s .*0 bad frames"):
            sensor.read(timeout=0.5)
        assert bus.clock.monotonic() - start <= 0.5 + ONE_TRANSACTION
