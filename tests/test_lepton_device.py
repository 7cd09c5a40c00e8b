"""The Lepton driver on the emulator (virtual time): sync, faults and resync, give-up, CCI, units, sim."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from thermtool import InputError, SensorError, SensorTimeoutError
from thermtool.buses.spi import SpiDevice, spidev_bufsiz, transfer_limit
from thermtool.clock import VirtualClock
from thermtool.emulators.lepton import Fault, LeptonEmulator
from thermtool.sensors import sensor_options
from thermtool.sensors.lepton import LeptonSensor, open_lepton, open_lepton2, open_lepton3
from thermtool.sensors.lepton.sim import open_sim_lepton
from thermtool.sensors.simulated import SceneSource

SHAPES = {2: (60, 80), 3: (120, 160)}


def frames_for(model: int, count: int = 24, seed: int = 0, high: int = 0x4000) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, high, SHAPES[model], dtype=np.uint16) for _ in range(count)]


def driver(emulator: LeptonEmulator, *, cci: bool = False, **options: object) -> LeptonSensor:
    options.setdefault("background", False)
    return LeptonSensor("lepton", spi=emulator.spi, i2c=emulator.bus if cci else None, clock=emulator.clock,
                        **options)  # type: ignore[arg-type]


def indices(sensor: LeptonSensor, frames: list[np.ndarray], count: int) -> list[int]:
    """Read `count` frames; each must be exactly one of `frames`; return which."""
    out = []
    for _ in range(count):
        sensor.read()
        matches = [i for i, f in enumerate(frames) if np.array_equal(sensor.last_raw, f)]
        assert matches, "a frame came back that the camera never sent"
        out.append(matches[0])
    return out


@pytest.mark.parametrize("model", [2, 3])
def test_every_unique_frame_in_order(model: int) -> None:
    frames = frames_for(model)
    emulator = LeptonEmulator(frames, cci=False)
    with driver(emulator, model=model) as sensor:
        got = indices(sensor, frames, 8)
        info = sensor.info
    assert got == list(range(got[0], got[0] + 8))  # no frame lost, none repeated
    assert info["resyncs"] == 1 and info["losses"] == 0 and info["duplicates"] + info["invalid_segments"] > 0


FAULTS = [("flip", {}), ("lose", {}), ("desync", {}), ("swap", {}), ("badseg", {"value": 6}),
          ("badseg", {"value": 0}), ("badseg", {"value": 9})]


@pytest.mark.parametrize("model", [2, 3])
@pytest.mark.parametrize(("kind", "extra"), FAULTS)
def test_faults_give_exact_frames_or_none(model: int, kind: str, extra: dict[str, int]) -> None:
    frames = frames_for(model, seed=model)
    faults = [Fault(kind, frame=f, segment=2, packet=25, **extra) for f in (4, 9)]
    emulator = LeptonEmulator(frames, faults=faults, loop=False, cci=False)
    with driver(emulator, model=model) as sensor:
        got = indices(sensor, frames, 9)
        info = sensor.info
    assert got == sorted(set(got)) and got[-1] > 9
    if model == 2 and kind in ("swap", "badseg"):  # a Lepton 2 has no segments: nothing to corrupt
        assert {4, 9} <= set(got) and info["resyncs"] == 1
    else:
        assert not {4, 9} & set(got)  # the corrupted frames never appear...
        assert info["resyncs"] >= 3 and info["losses"] >= 2  # ...and each fault caused a resync


def test_slow_reader_loses_sync_and_recovers() -> None:
    frames = frames_for(3)
    emulator = LeptonEmulator(frames, cci=False)
    with driver(emulator, model=3) as sensor:
        got = []
        for _ in range(4):
            got += indices(sensor, frames, 1)
            emulator.clock.sleep(0.05)  # busy elsewhere for longer than a segment period
    assert got == sorted(set(got))
    assert sensor.resyncs >= 4 and any("not" in loss for loss in emulator.spi.stats.losses)


def test_dead_camera_gives_up_with_a_checklist() -> None:
    emulator = LeptonEmulator(frames_for(3), faults=[Fault("dead", frame=3, until_reboot=False)], cci=False)
    with driver(emulator, model=3, timeout=1.0) as sensor:
        start = emulator.clock.now
        with pytest.raises(SensorError) as caught:
            for _ in range(10):
                sensor.read()
    message = str(caught.value)
    for hint in ("wiring", "SPI is enabled", "/CS", "power", "nearly all discard packets"):
        assert hint in message
    assert "\n" not in message
    assert emulator.clock.now - start < 1.0 + 1.5  # bounded: give-up time plus at most one stall and resync


def test_dead_camera_recovers_after_a_cci_reboot() -> None:
    frames = frames_for(3, count=60)
    emulator = LeptonEmulator(frames, faults=[Fault("dead", frame=3)], loop=False)
    with driver(emulator, cci=True, model=3, timeout=1.0) as sensor:
        got = indices(sensor, frames, 4)
    assert got == sorted(got) and got[0] < 3 < got[1]
    assert sensor.reboots == 1 and emulator.state.reboots == 1


def test_reboot_can_be_turned_off() -> None:
    emulator = LeptonEmulator(frames_for(3), faults=[Fault("dead", frame=3)])
    with driver(emulator, cci=True, model=3, timeout=1.0, reboot=False) as sensor, \
            pytest.raises(SensorError, match="no valid Lepton video"):
        for _ in range(10):
            sensor.read()
    assert emulator.state.reboots == 0


class ConstantSpi:
    """What spidev reads when nothing drives MISO: one byte value forever (time passes as on a bus)."""

    def __init__(self, value: int, clock: VirtualClock) -> None:
        self.value, self.clock = value, clock

    def readbytes(self, count: int) -> bytes:
        self.clock.sleep(count * 8 / 20e6)
        return bytes([self.value]) * count

    def close(self) -> None:
        pass


@pytest.mark.parametrize("value", [0x00, 0xFF])
@pytest.mark.parametrize("model", [None, 3])
def test_floating_miso_is_diagnosed(value: int, model: int | None) -> None:
    clock = VirtualClock()
    sensor = LeptonSensor("lepton", spi=ConstantSpi(value, clock), model=model, clock=clock, timeout=0.5,
                          background=False)
    with pytest.raises(SensorError, match="MISO reads constant"), sensor:
        sensor.read()


def test_reads_fit_the_spidev_buffer(tmp_path: Path) -> None:
    frames = frames_for(2)
    emulator = LeptonEmulator(frames, cci=False, bufsiz=1000)  # transfers over 1000 bytes fail (Errno 90)
    with driver(emulator, model=2) as sensor:
        indices(sensor, frames, 2)
        assert sensor.info["read_bytes"] == 6 * 164
    small = LeptonEmulator(frames, cci=False, bufsiz=100)
    with pytest.raises(SensorError, match="bufsiz"), driver(small, model=2):
        pass
    param = tmp_path / "bufsiz"
    param.write_text("65536\n")
    assert spidev_bufsiz(param) == 65536 and spidev_bufsiz(tmp_path / "missing") == 4096
    assert transfer_limit(object(), param) == 65536 and transfer_limit(emulator.spi, param) == 1000


def test_bad_spi_nodes_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SensorError, match="enable SPI"):
        SpiDevice(str(tmp_path / "spidev0.0"), speed_hz=10_000_000)
    stray = tmp_path / "spidev0.1"
    stray.write_text("")
    with pytest.raises(SensorError, match="not a device node"):
        SpiDevice(str(stray), speed_hz=10_000_000)
    with pytest.raises(SensorError, match="not an spidev node name"):
        SpiDevice("/dev/ttyS0", speed_hz=10_000_000)
    with pytest.raises(SensorError, match="enable SPI"), open_lepton3(str(tmp_path / "spidev9.9"), i2c=False):
        pass


def test_a_node_that_is_not_spi(tmp_path: Path) -> None:
    node = tmp_path / "spidev0.0"
    node.symlink_to("/dev/null")  # a character device that rejects SPI ioctls, as on a misconfigured Jetson
    with pytest.raises(SensorError, match="Inappropriate ioctl"):
        SpiDevice(str(node), speed_hz=10_000_000)


@pytest.mark.parametrize("model", [2, 3])
def test_lepton_detects_the_model(model: int) -> None:
    frames = frames_for(model)
    emulator = LeptonEmulator(frames, cci=False)
    with driver(emulator) as sensor:
        indices(sensor, frames, 1)
        assert sensor.info["model"] == f"lepton{model}" and sensor.info["shape"] == list(SHAPES[model])


def test_video_only_and_cci_are_stated_in_info() -> None:
    frames = frames_for(3)
    with driver(LeptonEmulator(frames), model=3) as sensor:
        sensor.read()
        assert sensor.info["video_only"] is True and "video-only" in sensor.info["cci_note"]
    with driver(LeptonEmulator(frames), cci=True, model=3) as sensor:
        sensor.read()
        assert sensor.info["video_only"] is False and sensor.info["cci"]["address"] == "0x2A"


def test_units_follow_the_camera_over_cci() -> None:
    raw = frames_for(3, high=0x4000)
    emulator = LeptonEmulator(raw)
    with driver(emulator, cci=True, model=3, radiometry=False) as sensor:
        frame = sensor.read()
    assert frame.units == "counts" and emulator.state.tlinear is False
    emulator = LeptonEmulator(raw)
    with driver(emulator, cci=True, model=3, agc=True) as sensor:
        assert sensor.read().units == "agc" and emulator.state.agc is True
    emulator = LeptonEmulator(raw)
    emulator.state.agc, emulator.state.resolution = True, 0.1
    with driver(emulator, cci=True, model=3, radiometry=True) as sensor:
        frame = sensor.read()
    assert frame.units == "C" and emulator.state.agc is False and sensor.info["tlinear_resolution"] == 0.1
    assert np.array_equal(frame.data, (sensor.last_raw * 0.1 - 273.15).astype(np.float32))


def test_units_without_cci() -> None:
    for high, units in ((0x100, "agc"), (0x4000, "counts"), (0xFFFF, "C")):
        frames = [f | (0 if high <= 0x4000 else 0x8000) for f in frames_for(3, high=high)]
        with driver(LeptonEmulator(frames), model=3) as sensor:
            assert sensor.read().units == units and sensor.info["units_source"] == "pixel range"
    with driver(LeptonEmulator(frames_for(3)), model=3, radiometry=True) as sensor:
        assert sensor.read().units == "C" and sensor.info["units_source"] == "option"


def test_radiometry_on_a_lepton_without_it() -> None:
    emulator = LeptonEmulator(frames_for(3), radiometric=False)
    with pytest.raises(SensorError, match="no radiometry"), driver(emulator, cci=True, model=3, radiometry=True):
        pass
    with driver(LeptonEmulator(frames_for(3), radiometric=False), cci=True, model=3) as sensor:
        assert sensor.read().units == "counts" and sensor.info["units_source"] == "cci (no radiometry)"


@pytest.mark.parametrize(("option", "location"), [("header", "header"), (True, "footer"), ("footer", "footer")])
def test_telemetry_is_set_over_cci(option: bool | str, location: str) -> None:
    emulator = LeptonEmulator(frames_for(2))
    with driver(emulator, cci=True, model=2, telemetry=option) as sensor:
        first, second = sensor.read(), sensor.read()
    assert emulator.state.telemetry == location
    assert second.meta["frame_counter"] == first.meta["frame_counter"] + 1
    assert first.meta["model"] == "lepton2" and "fpa_temp_c" in first.meta


def test_ffc_option_runs_a_flat_field_correction() -> None:
    emulator = LeptonEmulator(frames_for(3))
    with driver(emulator, cci=True, model=3, ffc=True) as sensor:
        sensor.read()
    assert emulator.state.ffc_runs == 1


def test_background_reader() -> None:
    frames = frames_for(3)
    emulator = LeptonEmulator(frames, cci=False)
    sensor = driver(emulator, model=3, background=True)
    with sensor:
        got = indices(sensor, frames, 3)
        assert sensor.info["background_reader"] is True
    assert got == sorted(got) and sensor._threads == [] and emulator.spi.closed is False


def test_background_reader_passes_on_failure() -> None:
    emulator = LeptonEmulator(frames_for(3), faults=[Fault("dead", frame=0, until_reboot=False)], cci=False)
    with driver(emulator, model=3, timeout=0.5, background=True) as sensor, \
            pytest.raises(SensorError, match="no valid Lepton video"):
        sensor.read(timeout=30)


def test_read_timeout() -> None:
    emulator = LeptonEmulator(frames_for(3), faults=[Fault("dead", frame=0, until_reboot=False)], cci=False)
    with driver(emulator, model=3, timeout=60) as sensor, pytest.raises(SensorTimeoutError):
        sensor.read(timeout=0.3)


def test_timestamps_and_labels() -> None:
    emulator = LeptonEmulator(frames_for(2), cci=False)
    with driver(emulator, model=2) as sensor:
        a, b = sensor.read(), sensor.read()
    assert 0.05 < (b.timestamp - a.timestamp).total_seconds() < 0.2  # one unique frame apart, in virtual time
    assert a.sensor == "lepton2" and a.meta["model"] == "lepton2"


def test_factories_and_options() -> None:
    options = sensor_options(open_lepton3)
    assert {"spi", "i2c", "spi_hz", "radiometry", "agc", "ffc", "telemetry", "clock", "timeout", "reboot",
            "background"} <= options and "model" not in options
    assert "model" in sensor_options(open_lepton) and sensor_options(open_lepton2) == options
    assert open_lepton2("/dev/spidev0.1").spi_path == "/dev/spidev0.1"
    assert open_lepton3(None, spi="/dev/spidev0.1").kind == "lepton3"
    with pytest.raises(InputError, match="20 MHz"):
        open_lepton3(None, spi_hz=30_000_000)
    with pytest.raises(InputError, match="exclude"):
        open_lepton3(None, radiometry=True, agc=True)
    with pytest.raises(InputError, match="two SPI devices"):
        open_lepton("/dev/spidev0.0", spi="/dev/spidev0.1")
    with pytest.raises(InputError, match="expected 2"):
        open_lepton(None, model=4)
    with pytest.raises(InputError, match="telemetry"):
        open_lepton(None, telemetry="middle")


def test_spi_clock_and_mode_are_checked() -> None:
    slow = LeptonEmulator(frames_for(3), cci=False, max_speed_hz=4_000_000)
    with pytest.raises(InputError, match=r"needs at least 8\.3 MHz"), driver(slow, model=3):
        pass
    with pytest.raises(InputError, match=r"needs at least 8\.3 MHz"), driver(slow):  # after detection
        pass
    with driver(LeptonEmulator(frames_for(2), cci=False, max_speed_hz=4_000_000), model=2) as sensor:
        sensor.read()  # 4 MHz is plenty for a Lepton 2
    wrong = LeptonEmulator(frames_for(3), cci=False)
    wrong.spi.mode = 0
    with pytest.raises(InputError, match="mode 0"), driver(wrong, model=3):
        pass


def test_sim_lepton_decodes_the_scene_exactly() -> None:
    sensor = open_sim_lepton("3", realtime=False, seed=5, telemetry=True)
    with sensor:
        frames = [sensor.read() for _ in range(3)]
        info = sensor.info
    source = SceneSource((120, 160), noise=0.05, seed=5)
    for frame in frames:
        index = frame.meta["frame_counter"] - 1
        centikelvin = np.round((source.sample(index, index / 8.7) + 273.15) / 0.01)
        assert np.array_equal(frame.data, (centikelvin * 0.01 - 273.15).astype(np.float32))
        assert frame.units == "C" and frame.sensor == "sim-lepton" and frame.meta["simulated"] is True
    assert info["simulated"] is True and info["cci"] is not None and info["model"] == "lepton3"


def test_sim_lepton_models_and_seed() -> None:
    def first(target: str) -> np.ndarray:
        with open_sim_lepton(target, realtime=False, seed=2) as sensor:
            return sensor.read().data

    assert first("2").shape == (60, 80)
    assert np.array_equal(first("3"), first("3"))
    with pytest.raises(InputError, match="unknown model"):
        open_sim_lepton("4")
    with pytest.raises(InputError, match="rate"):
        open_sim_lepton("3", rate=30)
