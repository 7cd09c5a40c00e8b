"""Grid-EYE (AMG88xx): register formats against the specification's conversion tables, the driver on
the emulator (settings, moving-average unlock, pacing, faults) and `sim-amg88xx`.

Reference values: the conversion examples of Panasonic's Grid-EYE reference specification (pixel table
0x1F4 = +125 C .. 0xF24 = -55 C; thermistor table 0x7FF = +127.9375 C .. 0xBBB = -59.6875 C), as used in
dotnet/iot src/devices/Amg88xx/tests/Amg88xxUtilsTests.cs (MIT).
"""

from __future__ import annotations

import numpy as np
import pytest

from thermtool import open_sensor
from thermtool.emulators.amg88xx import emulated_amg88xx
from thermtool.emulators.i2c import Transaction
from thermtool.errors import InputError, SensorError, SensorTimeoutError
from thermtool.sensors.amg88xx import codec
from thermtool.sensors.amg88xx.device import AMG88xxSensor


@pytest.mark.parametrize(("raw", "celsius"), [(0x1F4, 125.0), (0x064, 25.0), (0x001, 0.25), (0xFFF, -0.25),
                                               (0xF9C, -25.0), (0xF24, -55.0)])
def test_pixel_conversion_table(raw: int, celsius: float) -> None:
    data = raw.to_bytes(2, "little") * codec.PIXELS
    assert np.all(codec.decode_pixels(data) == celsius)
    assert codec.encode_pixels(np.full((8, 8), celsius)) == data


@pytest.mark.parametrize(("raw", "celsius"), [(0x7FF, 127.9375), (0x190, 25.0), (0x004, 0.25), (0x000, 0.0),
                                               (0x804, -0.25), (0xBBB, -59.6875)])
def test_thermistor_conversion_table(raw: int, celsius: float) -> None:
    assert codec.decode_thermistor(raw.to_bytes(2, "little")) == celsius
    assert codec.encode_thermistor(celsius) == raw.to_bytes(2, "little")


def test_plausibility() -> None:
    assert codec.implausible(np.full((8, 8), 22.0), 25.0) is None
    assert codec.implausible(np.zeros((8, 8)), 0.0) == "all registers 0"
    assert "thermistor" in str(codec.implausible(np.full((8, 8), -0.25), -127.9375))  # a bus reading 0xFF


def _sensor(scene: float | np.ndarray = 22.0, **options: object) -> tuple[AMG88xxSensor, object, object]:
    frames = np.broadcast_to(np.asarray(scene, dtype=np.float64), (8, 8))
    bus, device = emulated_amg88xx(scene=lambda t: frames + 0.5 * (round(t * 10) % 2))
    return AMG88xxSensor(bus, clock=bus.clock, **options), device, bus  # type: ignore[arg-type]


def test_frames_at_ten_per_second_in_virtual_time() -> None:
    sensor, _, bus = _sensor()
    with sensor:
        start = bus.clock.monotonic()
        frames = [sensor.read() for _ in range(10)]
        elapsed = bus.clock.monotonic() - start
    assert elapsed == pytest.approx(1.0, abs=0.12)
    assert {float(f.data[0, 0]) for f in frames} == {22.0, 22.5} and frames[0].meta["ta"] == 26.0


def test_one_frame_per_second_and_moving_average_needs_the_unlock_sequence() -> None:
    calls = iter(range(1000))
    bus, device = emulated_amg88xx(scene=lambda t: np.full((8, 8), 20.0 + next(calls)))
    sensor = AMG88xxSensor(bus, clock=bus.clock, rate=1, moving_average=True)
    with sensor:
        _, first, second = sensor.read(), sensor.read(), sensor.read()
    assert (second.timestamp - first.timestamp).total_seconds() == pytest.approx(1.0, abs=0.05)
    assert device.moving_average and device.regs[0x02] == 1
    # each measurement is 1 C warmer than the last; the output is the mean of the last two
    assert float(second.data[0, 0]) - float(first.data[0, 0]) == 1.0 and float(first.data[0, 0]) % 1 == 0.5
    device.regs[0x07] = 0
    device.write(bytes([0x07, 0x20]))  # without the unlock sequence on 0x1F
    assert not device.moving_average
    with pytest.raises(InputError, match="valid: 1, 10"):
        AMG88xxSensor(bus, rate=5)


def test_cleared_registers_are_dropped_and_overflow_is_reported() -> None:
    hot = np.full((8, 8), 25.0)
    hot[3, 3] = 95.0
    sensor, device, _ = _sensor(hot)
    with sensor:
        device.clear_registers(2)  # type: ignore[attr-defined]
        frame = sensor.read()
        info = sensor.info
    assert info["implausible_frames_dropped"] >= 1 and frame.meta["overflow"] is True
    assert frame.data[3, 3] == 80.0 and info["overflows"] >= 1


def test_nacks_and_timeouts() -> None:
    sensor, device, bus = _sensor()
    left = [3]

    def flaky(t: Transaction) -> bool:
        left[0] -= 1
        return left[0] >= 0

    bus.nack_rules.append(flaky)  # type: ignore[attr-defined]
    with sensor:
        sensor.read()
        assert sensor.info["nack_retries"] == 3
        device.clear_registers(100)  # type: ignore[attr-defined]
        start = bus.clock.monotonic()  # type: ignore[attr-defined]
        with pytest.raises(SensorTimeoutError, match="implausible readings dropped"):
            sensor.read(timeout=0.5)
        assert bus.clock.monotonic() - start <= 0.6  # type: ignore[attr-defined]
    bus.nack_rules.append(lambda t: True)  # type: ignore[attr-defined]
    with pytest.raises(SensorError, match=r"Grid-EYE at 0x68.*no acknowledge"):
        sensor.open()


def test_sim_amg88xx_through_the_real_driver() -> None:
    with open_sensor("sim-amg88xx", realtime=False, seed=2, scene="person") as sensor:
        frame = sensor.read()
    assert frame.shape == (8, 8) and frame.sensor == "sim-amg88xx" and frame.meta["simulated"]
    assert np.all(np.mod(frame.data * 4, 1) == 0)  # quarter-degree steps


def test_a_stalled_bus_ends_the_read_at_its_deadline_plus_one_transaction() -> None:
    sensor, _, bus = _sensor()
    with sensor:
        bus.delay_rules.append(lambda transaction: 3.0)  # every transaction hangs 3 s (clock stretching)
        start = bus.clock.monotonic()
        with pytest.raises(SensorTimeoutError, match="no good frame"):
            sensor.read(timeout=0.5)
        assert bus.clock.monotonic() - start <= 0.5 + 3.0 + 0.05  # virtual time
