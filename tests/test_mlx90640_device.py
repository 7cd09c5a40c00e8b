"""The MLX90640 driver's register protocol on the emulated device: reference data, settings, faults, state."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from thermtool.emulators.i2c import FakeI2CBus, Transaction
from thermtool.emulators.melexis import nack_register
from thermtool.emulators.mlx90640 import MLX90640Emulator, emulated_mlx90640
from thermtool.errors import InputError, SensorError, SensorTimeoutError
from thermtool.sensors.melexis import (
    CONTROL_REGISTER,
    RAM_START,
    STATUS_REGISTER,
    control_refresh_hz,
    control_resolution,
)
from thermtool.sensors.mlx90640.calibration import CalibrationError
from thermtool.sensors.mlx90640.device import (
    MLX90640Sensor,
    configure_control,
    control_pattern,
    has_frame_data_error,
    open_mlx90640,
)

TOLERANCE = 0.001  # C: the Melexis C reference reproduces the sample data to this (reference README)


def _load(reference: Path, name: str) -> dict[str, Any]:
    return json.loads((reference / "mlx90640" / name).read_text())


def _frames(data: dict[str, Any]) -> list[np.ndarray]:
    return [np.array(f, dtype=np.uint16) for f in data["frames"]]


def _grid(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64).reshape(24, 32)


@pytest.fixture
def melexis(reference: Path) -> dict[str, Any]:
    """The Melexis sample: a real EEPROM, two real subpages, C-reference temperatures."""
    return _load(reference, "melexis_example_data_xlsx.json")


def _sensor_on(data: dict[str, Any], frames: list[np.ndarray] | None = None, frequency: int = 400_000,
               **options: Any) -> tuple[MLX90640Sensor, FakeI2CBus, MLX90640Emulator]:
    bus, device = emulated_mlx90640(frequency, eeprom=np.array(data["eeprom"]), frames=frames or _frames(data))
    options.setdefault("emissivity", 1.0)
    return open_mlx90640("/dev/i2c-1", i2c=bus, clock=bus.clock, **options), bus, device


def _recorder(bus: FakeI2CBus) -> list[Transaction]:
    """Record every transaction on the bus (a NACK rule that never NACKs)."""
    seen: list[Transaction] = []
    bus.nack_rules.append(lambda tx: seen.append(tx) or False)
    return seen


def _register(tx: Transaction) -> int | None:
    return int.from_bytes(tx.written[:2], "big") if len(tx.written) >= 2 else None


# -- reference data served by the emulator --------------------------------------------------------------------
def test_melexis_sample_through_the_driver(melexis: dict[str, Any]) -> None:
    sensor, _, _ = _sensor_on(melexis)
    with sensor:
        frame = sensor.read()
    expected = melexis["expected"]
    assert frame.shape == (24, 32) and frame.units == "C" and frame.sensor == "mlx90640"
    np.testing.assert_allclose(frame.data, _grid(expected["c_reference"]["frame1_to"]), atol=TOLERANCE)
    assert frame.meta["vdd"] == pytest.approx(expected["vdd"][1], abs=TOLERANCE)
    assert frame.meta["ta"] == pytest.approx(expected["ta"][1], abs=TOLERANCE)
    assert frame.meta["subpages"] == [0, 1]
    assert frame.meta["pattern"] == "chess" and frame.meta["resolution_bits"] == 18
    assert frame.meta["bad_pixels"] == []


def test_16_bit_snapshot_decoded_with_the_control_word_of_each_frame(reference: Path) -> None:
    data = _load(reference, "signaloid_real_snapshot_16bit.json")
    expected = data["expected"]
    sensor, _, _ = _sensor_on(data)
    with sensor:
        frame = sensor.read()
    assert frame.meta["resolution_bits"] == 16
    np.testing.assert_allclose(frame.data, _grid(expected["to_all_after_both_frames"]), atol=TOLERANCE)
    assert frame.meta["vdd"] == pytest.approx(expected["vdd"], abs=TOLERANCE)
    assert frame.meta["ta"] == pytest.approx(expected["ta"], abs=TOLERANCE)

    warm = expected["emissivity_0_95_tr_ta_minus_8"]
    sensor, _, _ = _sensor_on(data, emissivity=0.95)
    with sensor:
        frame = sensor.read()
    np.testing.assert_allclose(frame.data, _grid(warm["to_all_after_both_frames"]), atol=TOLERANCE)
    assert frame.meta["reflected_temp"] == pytest.approx(warm["tr"], abs=TOLERANCE)


def test_synthetic_variants_interleaved_emissivity_and_bad_pixels(reference: Path, melexis: dict[str, Any]) -> None:
    variants = _load(reference, "synthetic_variants_of_melexis_example.json")
    interleaved = variants["interleaved"]
    sensor, _, _ = _sensor_on(melexis, _frames(interleaved))
    with sensor:
        frame = sensor.read()
    assert frame.meta["pattern"] == "interleaved"
    np.testing.assert_allclose(frame.data, _grid(interleaved["to_all_after_both_frames"]), atol=TOLERANCE)

    sensor, _, _ = _sensor_on(melexis, emissivity=0.95)
    with sensor:
        frame = sensor.read()
    np.testing.assert_allclose(frame.data, _grid(variants["emissivity_0_95"]["to_all_after_both_frames"]),
                               atol=TOLERANCE)

    bad = variants["bad_pixels"]
    sensor, _, _ = _sensor_on(bad, _frames(bad))
    with sensor:
        frame = sensor.read()
        info = sensor.info
    assert frame.meta["bad_pixels"] == [[300 // 32, 300 % 32], [500 // 32, 500 % 32]]
    assert info["broken_pixels"] == [[9, 12]] and info["outlier_pixels"] == [[15, 20]]
    assert np.isfinite(frame.data).all() and frame.data.min() > 0  # filled, never -273.15
    np.testing.assert_allclose(frame.data, _grid(bad["to_after_badpixel_correction_chess"]), atol=TOLERANCE)


# -- settings: written only when asked, control word read with every frame ----------------------------------
def test_settings_are_written_only_when_asked(melexis: dict[str, Any]) -> None:
    sensor, _, device = _sensor_on(melexis)
    with sensor:
        sensor.read()
    assert [w for w in device.writes if w[0] == CONTROL_REGISTER] == []
    assert device.control == 0x1901  # what the EEPROM configured

    sensor, _, device = _sensor_on(melexis, refresh_hz=16)
    with sensor:
        assert sensor.info["refresh_hz"] == 16 and sensor.info["full_frame_hz"] == 8
    (written,) = [v for r, v in device.writes if r == CONTROL_REGISTER]
    assert control_refresh_hz(written) == 16
    assert control_resolution(written) == 18 and control_pattern(written) == "chess"  # left alone

    sensor, _, device = _sensor_on(melexis, resolution=19, pattern="interleaved")
    with sensor:
        pass
    (written,) = [v for r, v in device.writes if r == CONTROL_REGISTER]
    assert control_resolution(written) == 19 and control_pattern(written) == "interleaved"
    assert control_refresh_hz(written) == 2


def test_control_register_is_read_with_every_subpage(reference: Path) -> None:
    data = _load(reference, "signaloid_real_snapshot_16bit.json")
    sensor, bus, device = _sensor_on(data, frames=_frames(data))
    device.control = 0x1901  # the device starts at 18 bits ...
    seen = _recorder(bus)
    with sensor:
        device.control = 0x1181  # ... and something else switches it to 16 bits after open
        frame = sensor.read()
    np.testing.assert_allclose(frame.data, _grid(data["expected"]["to_all_after_both_frames"]), atol=TOLERANCE)
    ram_reads = [tx for tx in seen if _register(tx) == RAM_START]
    control_reads = [tx for tx in seen if _register(tx) == CONTROL_REGISTER and tx.kind == "write_read"]
    subpages = sensor.info["subpages_read"]
    # twice at open (two reads must agree), once per subpage, and once more to confirm the change
    assert len(ram_reads) == subpages and len(control_reads) == 2 + subpages + 1


def test_option_values_are_checked() -> None:
    bus = FakeI2CBus()
    with pytest.raises(InputError, match=r"valid: 0\.5, 1, 2, 4, 8, 16, 32, 64"):
        open_mlx90640(None, i2c=bus, refresh_hz=3)
    with pytest.raises(InputError, match="16, 17, 18, 19"):
        open_mlx90640(None, i2c=bus, resolution=20)
    with pytest.raises(InputError, match="chess, interleaved"):
        open_mlx90640(None, i2c=bus, pattern="zigzag")
    with pytest.raises(InputError, match="emissivity"):
        open_mlx90640(None, i2c=bus, emissivity=0)
    with pytest.raises(InputError, match="0x99"):
        open_mlx90640(None, i2c=bus, address=0x99)
    assert open_mlx90640(None, i2c=bus, address="0x34").address == 0x34
    assert configure_control(0x1901) == 0x1901


def test_default_bus_is_linux_i2c_dev() -> None:
    assert open_mlx90640(None).bus_name == "/dev/i2c-1"
    assert open_mlx90640("3").bus_name == "/dev/i2c-3"
    with pytest.raises(SensorError, match="/dev/i2c-999"):
        open_mlx90640("/dev/i2c-999").open()


# -- faults ---------------------------------------------------------------------------------------------------
def test_nacks_are_retried_then_the_read_recovers(melexis: dict[str, Any]) -> None:
    sensor, bus, _ = _sensor_on(melexis)
    bus.nack_rules.append(nack_register(RAM_START, times=3))
    with sensor:
        frame = sensor.read()
        assert sensor.info["nack_retries"] == 3
    np.testing.assert_allclose(frame.data, _grid(melexis["expected"]["c_reference"]["frame1_to"]), atol=TOLERANCE)


def test_nack_forever_names_bus_address_and_what_to_check(melexis: dict[str, Any]) -> None:
    bus, _ = emulated_mlx90640(eeprom=np.array(melexis["eeprom"]), frames=_frames(melexis))
    sensor = open_mlx90640("/dev/i2c-3", i2c=bus, clock=bus.clock)
    start = bus.clock.monotonic()
    bus.nack_rules.append(nack_register(STATUS_REGISTER))
    with pytest.raises(SensorError) as caught, sensor:
        sensor.read()
    message = str(caught.value)
    for part in ("0x33", "/dev/i2c-3", "wiring", "i2cdetect -y 3", "i2c_arm_baudrate", "5 tries"):
        assert part in message
    assert bus.clock.monotonic() - start >= 0.002 + 0.004 + 0.008 + 0.016  # backed off between tries

    empty = FakeI2CBus()
    with pytest.raises(SensorError, match=r"MLX90640 at 0x33 on FakeI2CBus: no acknowledge"):
        open_mlx90640(None, i2c=empty, clock=empty.clock).open()


def test_never_ready_times_out(melexis: dict[str, Any]) -> None:
    sensor, bus, device = _sensor_on(melexis)
    device.never_ready = True
    with sensor, pytest.raises(SensorTimeoutError, match=r"MLX90640 at 0x33 .*no new data"):
        sensor.read(timeout=3.0)
    assert bus.clock.monotonic() >= 3.0


def test_corrupted_subpages_are_dropped_and_counted(melexis: dict[str, Any]) -> None:
    sensor, _, device = _sensor_on(melexis)
    device.corrupt(1)
    with sensor:
        frame = sensor.read()
        info = sensor.info
    assert info["corrupt_subpages_dropped"] == 1
    assert frame.meta["subpages"] == [1, 0]  # subpage 0 was bad: the frame waited for the next one
    np.testing.assert_allclose(frame.data, _grid(melexis["expected"]["c_reference"]["frame1_to"]), atol=TOLERANCE)


def test_frame_data_error_pattern() -> None:
    frame = np.full(834, 0x0100, dtype=np.uint16)
    frame[833] = 1
    assert not has_frame_data_error(frame)
    frame[0] = 0x7FFF  # line 0 belongs to subpage 0: not this frame's
    assert not has_frame_data_error(frame)
    frame[32] = 0x7FFF
    assert has_frame_data_error(frame)
    frame[32] = 0x0100
    frame[768 + 10] = 0x7FFF  # an aux word that is never 0x7FFF on a healthy device
    assert has_frame_data_error(frame)


def test_a_repeated_subpage_is_never_decoded(melexis: dict[str, Any]) -> None:
    first, second = _frames(melexis)
    sensor, _, _ = _sensor_on(melexis, [first, first, second])
    with sensor:
        frame = sensor.read()
        assert sensor.info["repeated_subpages_skipped"] == 1
    assert frame.meta["subpages"] == [0, 1]


def test_a_slow_consumer_gets_two_fresh_consecutive_subpages(melexis: dict[str, Any]) -> None:
    sensor, bus, _ = _sensor_on(melexis)
    with sensor:
        sensor.read()
        bus.clock.sleep(1.0)  # two subpages at 2 Hz go by: subpage 1 is in RAM again when we come back
        back = bus.clock.monotonic()
        frame = sensor.read()
        took = bus.clock.monotonic() - back
        assert sensor.info["repeated_subpages_skipped"] == 0
    assert frame.meta["subpages"] == [1, 0]  # the newest subpage 1, then the very next measurement
    assert took < 0.5 + 0.1  # one subpage period (2 Hz) after the one waiting in RAM
    np.testing.assert_allclose(frame.data, _grid(melexis["expected"]["c_reference"]["frame1_to"]), atol=TOLERANCE)


def test_per_subpage_updates(melexis: dict[str, Any]) -> None:
    sensor, _, _ = _sensor_on(melexis, per_subpage=True)
    with sensor:
        frames = [sensor.read() for _ in range(4)]
    assert [f.meta["subpage"] for f in frames] == [1, 0, 1, 0]
    assert all(np.isfinite(f.data).all() for f in frames)
    times = [f.timestamp for f in frames]
    # one subpage at 2 Hz, give or take the status polling step (1/32 of a period)
    assert (times[2] - times[1]).total_seconds() == pytest.approx(0.5, abs=0.5 / 32 + 0.001)


def test_full_frames_come_at_half_the_refresh_rate(melexis: dict[str, Any]) -> None:
    sensor, _, _ = _sensor_on(melexis, refresh_hz=8)
    with sensor:
        times = [sensor.read().timestamp for _ in range(5)]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert gaps == pytest.approx([0.25] * 4, abs=0.125 / 32 + 0.001)  # 8 Hz refresh -> 4 full frames/s


# -- state: independent sensors, re-open -----------------------------------------------------------------------
def test_two_sensors_are_independent(reference: Path, melexis: dict[str, Any]) -> None:
    other = _load(reference, "signaloid_real_snapshot_16bit.json")
    bus = FakeI2CBus(1_000_000)
    for address, data in ((0x33, melexis), (0x34, other)):
        eeprom = np.array(data["eeprom"], dtype=np.uint16)
        eeprom[15] = (eeprom[15] & 0xFF00) | address  # 0x240F: the address the device was programmed to
        bus.attach(address, MLX90640Emulator(bus.clock, eeprom, frames=_frames(data)))
    a = open_mlx90640(None, i2c=bus, address=0x33, clock=bus.clock, emissivity=1.0)
    b = open_mlx90640(None, i2c=bus, address=0x34, clock=bus.clock, emissivity=1.0)
    with a, b:
        first_a = a.read()
        first_b = b.read()
        again_a = a.read()
        assert a.calibration is not b.calibration
        assert a.info["serial"] != b.info["serial"]
    expected_a = _grid(melexis["expected"]["c_reference"]["frame1_to"])
    np.testing.assert_allclose(first_a.data, expected_a, atol=TOLERANCE)
    np.testing.assert_allclose(again_a.data, expected_a, atol=TOLERANCE)
    np.testing.assert_allclose(first_b.data, _grid(other["expected"]["to_all_after_both_frames"]), atol=TOLERANCE)


def test_reopening_does_not_accumulate_state(reference: Path) -> None:
    bad = _load(reference, "synthetic_variants_of_melexis_example.json")["bad_pixels"]
    sensor, bus, device = _sensor_on(bad, _frames(bad))
    device.corrupt(1)
    for _ in range(3):
        with sensor:
            frame = sensor.read()
            info = sensor.info
        assert frame.meta["bad_pixels"] == [[9, 12], [15, 20]]
        assert frame.meta["subpages"] in ([0, 1], [1, 0])  # a fresh frame: both subpages read after open
        assert info["broken_pixels"] == [[9, 12]] and info["outlier_pixels"] == [[15, 20]]
    assert info["corrupt_subpages_dropped"] == 0  # counters are per session
    assert bus.devices  # the caller's bus is left open and attached


def test_blank_eeprom_is_rejected_with_bus_and_address(melexis: dict[str, Any]) -> None:
    bus, _ = emulated_mlx90640(eeprom=np.zeros(832, dtype=np.uint16), frames=_frames(melexis))
    sensor = open_mlx90640("/dev/i2c-1", i2c=bus, clock=bus.clock)
    with pytest.raises(CalibrationError, match=r"^MLX90640 at 0x33 on /dev/i2c-1: EEPROM rejected: .*0x0000"):
        sensor.open()
    assert not sensor.is_open


def test_ram_is_read_in_chunks(melexis: dict[str, Any]) -> None:
    sensor, bus, _ = _sensor_on(melexis, chunk_words=64)
    seen = _recorder(bus)
    with sensor:
        frame = sensor.read()
    chunks = [tx.read_count for tx in seen if tx.kind == "write_read" and 0x0400 <= (_register(tx) or 0) < 0x0740]
    assert chunks == [128] * 26  # 832 words in 64-word chunks, two subpages
    np.testing.assert_allclose(frame.data, _grid(melexis["expected"]["c_reference"]["frame1_to"]), atol=TOLERANCE)


@pytest.mark.parametrize("rate_error", [-0.1, 0.05])
def test_a_sensor_with_an_off_nominal_oscillator_is_followed(melexis: dict[str, Any], rate_error: float) -> None:
    frames = _frames(melexis)
    bus, device = emulated_mlx90640(1_000_000, eeprom=np.array(melexis["eeprom"]), frames=frames,
                                    rate_error=rate_error)
    with open_mlx90640(None, i2c=bus, clock=bus.clock, refresh_hz=16, emissivity=1.0) as sensor:
        sensor.read()
        first = device.measurements
        for _ in range(60):
            sensor.read()
        assert sensor.info["repeated_subpages_skipped"] == 0
    assert device.measurements - first == 120  # every subpage the sensor measured was read, none missed
