"""MLX90641: Hamming code, calibration against the datasheet's worked example, inverse model, emulator,
driver faults, and the real r-u-still-there recording through replay, render and watch.

Reference values: the MLX90641 datasheet's worked example (section 11: the EEPROM words 0x2410..0x243F,
pixel (6, 9)'s words 0xF849 / 0xFFFF / 0xB8C0 / 0xD847, the RAM words Ta_VBE 0x4C54, CP 0xFF97, GAIN
0x2606, Ta_PTAT 0x06D8, VDDpix 0xCB8A, pixel 0x03CC, control 0x0901), as transcribed in paxswill/mlx9064x-rs
(mlx9064x-test-data/src/eeprom_data.rs, i2c_mock.rs, Apache-2.0) with the expected parameters of its
src/mlx90641/eeprom.rs tests. That transcription replaces the datasheet's subpage-1 offset word (whose check
bits were not recomputed there) with 0xD847.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from thermtool import open_sensor
from thermtool.cli import run
from thermtool.clock import VirtualClock
from thermtool.emulators.i2c import FakeI2CBus, Transaction, nack_error
from thermtool.emulators.mlx90641 import MLX90641Emulator, emulated_mlx90641
from thermtool.errors import InputError, SensorError, SensorTimeoutError
from thermtool.sensors.mlx90641 import calibration as cal641
from thermtool.sensors.mlx90641 import hamming, inverse, synthetic
from thermtool.sensors.mlx90641.calibration import CalibrationError
from thermtool.sensors.mlx90641.device import MLX90641Sensor

DATASHEET_HEADER = bytes.fromhex(
    "0000b7e8d0160000" "0000c2fd1a43ca9a" "5164018c018c018c" "9cb1956ca5cc7dd1" "6d7f3cd427b819e6"
    "f1377814" "2658ef9e" "917ff018e1564817" "1c80233ec826cffc" "a009bb53f194fc00" "7814ed22ed22ed22"
    "ed22ed2280c8ed22" "4190ed22da58ed22")
PIXEL = 5 * 16 + 8  # the worked example's pixel (6, 9), 1-based
REAL = Path("realdata/rustill_mlx90641/warm-up.npy")


def datasheet_eeprom() -> np.ndarray:
    ee = np.zeros(832, dtype=np.uint16)
    ee[16:64] = np.frombuffer(DATASHEET_HEADER, ">u2")
    ee[10] = cal641.DEVICE_SELECT_BIT
    for start, word in ((64, 0xF849), (256, 0xFFFF), (448, 0xB8C0), (640, 0xD847)):
        ee[start:start + 192] = word
    return ee


def datasheet_frame() -> np.ndarray:
    frame = np.zeros(cal641.FRAME_WORDS, dtype=np.uint16)
    frame[:192] = 0x03CC
    for index, word in ((cal641.TA_VBE, 0x4C54), (cal641.CP, 0xFF97), (cal641.GAIN, 0x2606),
                        (cal641.TA_PTAT, 0x06D8), (cal641.VDD_PIX, 0xCB8A), (cal641.CONTROL, 0x0901)):
        frame[index] = word
    return frame


# -- Hamming code -----------------------------------------------------------------------------------------
def test_datasheet_words_pass_the_hamming_check_and_encode_back() -> None:
    words = datasheet_eeprom()[16:]
    decoded = hamming.decode(words)
    assert decoded.corrected.size == 0 and decoded.uncorrectable.size == 0
    assert np.array_equal(hamming.encode(decoded.data), words)
    # datasheet: Vdd25 word 0x2658 holds 0x0658, alpha 0xFFFF holds 0x07FF, emissivity 0x19E6 holds 0x01E6
    assert hamming.decode(np.array([0x2658, 0xFFFF, 0x19E6])).data.tolist() == [0x0658, 0x07FF, 0x01E6]


def test_every_single_bit_error_is_corrected_and_every_double_error_refused() -> None:
    words = np.unique(datasheet_eeprom()[16:])
    singles = np.array([w ^ (1 << b) for w in words for b in range(16)])
    decoded = hamming.decode(singles)
    assert np.array_equal(decoded.data, np.repeat(words & 0x7FF, 16)) and decoded.corrected.size == singles.size
    doubles = np.array([w ^ (1 << a) ^ (1 << b) for w in words for a, b in itertools.combinations(range(16), 2)])
    assert hamming.decode(doubles).uncorrectable.size == doubles.size


# -- calibration: the datasheet's worked example --------------------------------------------------------
def test_datasheet_parameters() -> None:
    cal = cal641.extract_parameters(datasheet_eeprom())
    assert (cal.resolution_ee, cal.k_vdd, cal.vdd25) == (2, -3136, -13568)
    assert cal.kv_ptat == pytest.approx(0.0056152344) and cal.kt_ptat == 42.75
    assert (cal.v_ptat25, cal.alpha_ptat, cal.gain_ee) == (12280, 9.0, 9972)
    assert cal.offset[:, PIXEL].tolist() == [-673, -675]
    assert cal.kta[PIXEL] == pytest.approx(0.0031013489) and cal.kv[PIXEL] == pytest.approx(0.3251953)
    assert cal.emissivity_ee == pytest.approx(0.94921875) and cal.cp_offset == -119
    assert cal.cp_kta == pytest.approx(0.0023193359) and cal.cp_kv == 0.3125 and cal.tgc == 0
    assert cal.cp_alpha == pytest.approx(3.01952240988612e-9, rel=1e-9)
    assert cal.ks_ta == pytest.approx(-0.002197265625) and cal.alpha[PIXEL] == pytest.approx(3.45520675182343e-7)
    assert cal.ks_to == pytest.approx([-0.00069999695] * 8, rel=1e-6)
    assert cal.ct.tolist() == [-40, -20, 0, 80, 120, 200, 400, 600]


def test_datasheet_vdd_ta_and_object_temperature() -> None:
    cal = cal641.extract_parameters(datasheet_eeprom())
    frame = datasheet_frame()
    assert cal641.frame_vdd(frame, cal) == pytest.approx(3.25599, abs=1e-5)  # datasheet 11.2.2.2
    # The datasheet prints Ta = 42.022; its own words give 42.0977 (as mlx9064x-rs also found).
    assert cal641.frame_ta(frame, cal) == pytest.approx(42.0977, abs=1e-3)
    assert cal641.frame_gain(frame, cal) == pytest.approx(1.02445038)
    # 11.2.2.9 with the datasheet's rounded inputs: IR 1785, alpha 3.32641806639731e-7, Ta-r 9899175739.92.
    first = cal641.first_estimate(np.array([1785 / 3.32641806639731e-7]), 9899175739.92, cal)
    assert first[0] - cal641.KELVIN == pytest.approx(80.129812, abs=1e-4)
    to = cal641.calculate_to(frame, cal, cal.emissivity_ee)
    assert to.shape == (12, 16) and to[5, 8] == pytest.approx(80.2, abs=0.1)


def test_refused_eeproms() -> None:
    ee = datasheet_eeprom()
    double = ee.copy()
    double[40] ^= 0x0003
    with pytest.raises(CalibrationError, match=r"uncorrectable Hamming error.*0x2428"):
        cal641.extract_parameters(double)
    not_641 = ee.copy()
    not_641[10] = 0
    with pytest.raises(CalibrationError, match="MLX90641 device bit"):
        cal641.extract_parameters(not_641)
    with pytest.raises(CalibrationError, match="all 0x0000"):
        cal641.extract_parameters(np.zeros(832, dtype=np.uint16))
    with pytest.raises(CalibrationError, match="2 broken pixels"):
        cal641.extract_parameters(synthetic.synthetic_eeprom(broken=[3, 50]))


def test_a_single_flipped_bit_is_corrected_and_reported() -> None:
    ee = datasheet_eeprom()
    ee[39] ^= 0x0010
    cal = cal641.extract_parameters(ee)
    assert cal.k_vdd == -3136 and cal.corrected_words == (39,)


# -- inverse model --------------------------------------------------------------------------------------
@pytest.mark.parametrize("subpage", [0, 1])
def test_inverse_round_trip_within_half_a_count(subpage: int) -> None:
    cal = cal641.extract_parameters(synthetic.synthetic_eeprom(3))
    scene = np.random.default_rng(subpage).uniform(-35, 280, (12, 16))
    frame = inverse.raw_frame(scene, cal, subpage, 0x0901, ta=33.0, vdd=3.31, emissivity=0.9)
    decoded = cal641.calculate_to(frame, cal, 0.9)
    assert np.all(np.abs(decoded - scene) <= inverse.count_step(frame, cal, 0.9) / 2 + 1e-9)
    assert cal641.frame_ta(frame, cal) == pytest.approx(33.0, abs=0.01)
    assert cal641.frame_vdd(frame, cal) == pytest.approx(3.31, abs=0.001)


def test_broken_pixel_is_filled_from_its_row() -> None:
    cal = cal641.extract_parameters(synthetic.synthetic_eeprom(broken=[40]))
    image = np.tile(np.arange(16.0), (12, 1))
    fixed = cal641.fix_bad_pixels(image, cal)
    assert cal.broken == (40,) and fixed[2, 8] == pytest.approx(8.0)


# -- emulator and driver --------------------------------------------------------------------------------
def _sensor(scene_c: float = 25.0, **options: object) -> tuple[MLX90641Sensor, MLX90641Emulator, FakeI2CBus]:
    emulator_options = {k: options.pop(k) for k in ("vdd", "eeprom") if k in options}
    bus, device = emulated_mlx90641(1_000_000, scene=lambda t: np.full((12, 16), scene_c), **emulator_options)
    sensor = MLX90641Sensor(bus, clock=bus.clock, refresh_hz=16, emissivity=1.0, **options)  # type: ignore[arg-type]
    return sensor, device, bus


def test_driver_reads_emulated_frames_at_the_refresh_rate() -> None:
    sensor, device, bus = _sensor(31.0)
    with sensor:
        start = bus.clock.monotonic()
        frames = [sensor.read() for _ in range(16)]
        elapsed = bus.clock.monotonic() - start
    assert [f.meta["subpage"] for f in frames[:4]] in ([0, 1, 0, 1], [1, 0, 1, 0])
    assert all(np.allclose(f.data, 31.0, atol=0.05) for f in frames)
    assert elapsed == pytest.approx(1.0, abs=0.1)  # 16 frames at 16 Hz, in virtual time
    assert (0x800D, 0x0A81) in device.writes  # refresh code 5 written, resolution kept


def test_torn_and_corrupt_frames_are_dropped() -> None:
    sensor, device, bus = _sensor()
    torn = [True]

    def land_mid_read(t: Transaction) -> bool:  # a measurement completes during the first pixel read
        if torn[0] and t.written[:2] == b"\x04\x40":
            torn[0] = False
            device.measure_now()
        return False

    with sensor:
        sensor.read()
        device.corrupt(1)
        frames = [sensor.read() for _ in range(2)]
        assert sensor.info["implausible_frames_dropped"] == 1
        bus.nack_rules.append(land_mid_read)
        frames += [sensor.read() for _ in range(2)]
        assert sensor.info["torn_frames_dropped"] == 1
    assert all(np.allclose(f.data, 25.0, atol=0.05) for f in frames)


def test_eeprom_is_read_until_two_reads_agree() -> None:
    sensor, device, _ = _sensor()
    device.eeprom_glitches.append((100, 0x0004))
    with sensor:
        assert sensor.info["eeprom_rereads"] == 1
    device.eeprom_glitches.extend([(100, 0x0004), (100, 0x0100), (100, 0x0001)])
    with pytest.raises(SensorError, match="read differently three times"):
        sensor.open()


def test_nacks_are_retried_then_reported() -> None:
    sensor, _, bus = _sensor()
    left = [2]

    def flaky(t: Transaction) -> bool:
        left[0] -= 1
        return left[0] >= 0

    bus.nack_rules.append(flaky)
    with sensor:
        sensor.read()
        assert sensor.info["nack_retries"] == 2
    bus.nack_rules.append(lambda t: True)
    with pytest.raises(SensorError, match=r"no acknowledge.*i2cdetect"):
        sensor.open()


def test_timeouts_and_implausible_supply() -> None:
    sensor, device, bus = _sensor()
    with sensor:
        device.never_ready = True
        start = bus.clock.monotonic()
        with pytest.raises(SensorTimeoutError, match="no good frame"):
            sensor.read(timeout=0.5)
        assert bus.clock.monotonic() - start <= 0.6
    low, _, _ = _sensor(vdd=2.0)
    with low, pytest.raises(SensorTimeoutError, match="bad frames dropped"):
        low.read(timeout=0.5)


def test_sim_mlx90641_through_the_real_driver() -> None:
    sensor = open_sensor("sim-mlx90641", realtime=False, seed=4, rate=16)
    with sensor:
        frames = [sensor.read() for _ in range(3)]
    assert frames[0].shape == (12, 16) and frames[0].sensor == "sim-mlx90641" and frames[0].meta["simulated"]
    assert 10 < float(np.median(frames[0].data)) < 30


def test_emulator_clock_is_the_bus_clock() -> None:
    clock = VirtualClock()
    device = MLX90641Emulator(clock, scene=lambda t: np.zeros((12, 16)))
    assert device.period == pytest.approx(0.5) and nack_error().errno == 121


# -- the real recording (paxswill/r-u-still-there, GPL-3.0; see its PROVENANCE.md) ---------------------
def test_real_recording_replays_renders_and_triggers_watch(reference: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    path = reference / REAL
    with open_sensor(f"replay:{path}", realtime=False) as sensor:
        first = sensor.read()
    assert first.shape == (12, 16) and 18 < float(first.data.mean()) < 30
    out = tmp_path / "real.png"
    assert run(["render", str(path), "--index", "2100", "--out", str(out)]) == 0 and out.stat().st_size > 0
    capsys.readouterr()
    assert run(["watch", "--sensor", f"replay:{path}", "--rate", "10000", "--warmup", "0.1", "--json"]) == 0
    starts = [e for e in map(json.loads, capsys.readouterr().out.splitlines()) if e["event"] == "start"]
    # The author: "in view starting at frame #2040, at computer by frame #2102".
    assert starts and 2040 <= starts[0]["frame"] <= 2110


def test_sim_model_alias_names_the_simulated_mlx90641() -> None:
    from thermtool.cli.options import SensorRequest

    with open_sensor("sim:mlx90641", realtime=False, seed=4, rate=16) as sensor:
        frame = sensor.read()
    assert frame.sensor == "sim-mlx90641" and frame.shape == (12, 16)
    assert SensorRequest("sim:MLX90641").takes("resolution") and not SensorRequest("sim:mlx90641").takes("pattern")
    with pytest.raises(InputError, match="sim models are mlx90640, mlx90641, amg88xx, got sim:kitchen"):
        open_sensor("sim:kitchen")


def test_bad_settings_name_the_mlx90641() -> None:
    with pytest.raises(InputError, match="MLX90641 refresh rate 3 Hz"):
        MLX90641Sensor(FakeI2CBus(), refresh_hz=3)
    with pytest.raises(InputError, match="MLX90641 ADC resolution 20"):
        MLX90641Sensor(FakeI2CBus(), resolution=20)
