"""USB thermal cameras: frame layouts (PureThermal Y16, InfiRay P2 Pro / TC001), USB-id detection through
sysfs, and the `uvc` driver against a fake capture fed with frames in the documented layouts.

Layouts: PureThermal Y16 is TLinear centi-kelvin (FLIR Lepton radiometry; GetThermal and flirpy convert
with value / 100 - 273.15). The InfiRay P2 Pro frame is 256x384 YUYV, the bottom half little-endian 16-bit
1/64 K (LeoDJ/P2Pro-Viewer P2Pro/video.py: `frombuffer(uint16)`; leswright1977/PyThermalCamera:
`(hi + lo * 256) / 64 - 273.15`); USB ids 0bda:5830 from P2Pro-Viewer's 60-p2pro.rules.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from thermtool import open_sensor
from thermtool.clock import VirtualClock
from thermtool.emulators.uvc import CAP_PROP_CONVERT_RGB, CAP_PROP_FOURCC, CAP_PROP_READ_TIMEOUT_MSEC, FakeCapture
from thermtool.errors import InputError, SensorError, SensorTimeoutError
from thermtool.sensors.uvc import layouts
from thermtool.sensors.uvc.device import UVCSensor
from thermtool.sensors.uvc.usb import usb_id, video_path


def infiray_words(celsius: float) -> np.ndarray:
    """A (384, 256) uint16 frame: a picture half of 0x8010 words, then `celsius` in 1/64 K."""
    words = np.full((384, 256), 0x8010, dtype=np.uint16)
    words[192:] = round((celsius + 273.15) * 64)
    return words


@pytest.mark.parametrize("shape", ["linux", "flat", "words"])
def test_infiray_temperature_half_in_every_opencv_shape(shape: str) -> None:
    words = infiray_words(36.5)
    raw = {"linux": words.view(np.uint8).reshape(384, 256, 2), "flat": words.view(np.uint8).reshape(1, -1),
           "words": words}[shape]
    assert layouts.guess_model(raw) is layouts.INFIRAY
    decoded = layouts.decode_infiray(raw)
    assert decoded.shape == (192, 256) and np.allclose(decoded, 36.5, atol=1 / 128)


def test_infiray_byte_order_is_pythermalcamera_s() -> None:
    frame = infiray_words(36.5).view(np.uint8).reshape(384, 256, 2)
    hi, lo = int(frame[192 + 96, 128, 0]), int(frame[192 + 96, 128, 1])  # PyThermalCamera's names
    assert (hi + lo * 256) / 64 - 273.15 == pytest.approx(layouts.decode_infiray(frame)[96, 128])


def test_encoded_infiray_frame_round_trips() -> None:
    scene = np.random.default_rng(1).uniform(-20, 400, (192, 256))
    assert np.abs(layouts.decode_infiray(layouts.encode_infiray(scene)) - scene).max() <= 1 / 128


def test_purethermal_tlinear_and_raw() -> None:
    tlinear = np.full((120, 160), 29815, dtype=np.uint16)  # 298.15 K
    data, units = layouts.decode_purethermal(tlinear)
    assert units == "C" and np.allclose(data, 25.0)
    raw = np.full((60, 80), 8123, dtype=np.uint16)
    data, units = layouts.decode_purethermal(raw)
    assert units == "counts" and data[0, 0] == 8123 and data.shape == (60, 80)
    assert layouts.decode_purethermal(raw, radiometric=True)[1] == "C"


def test_unknown_layout_is_named() -> None:
    with pytest.raises(layouts.UnrecognisedFrame, match=r"480x640x3 uint8 frame is not a layout"):
        layouts.guess_model(np.zeros((480, 640, 3), dtype=np.uint8))


def _sysfs(tmp_path: Path, vendor: str, product: str, name: str = "video3") -> Path:
    usb = tmp_path / "devices" / "1-1"
    interface = usb / "1-1:1.0"
    interface.mkdir(parents=True)
    (usb / "idVendor").write_text(vendor + "\n")
    (usb / "idProduct").write_text(product + "\n")
    (usb / "product").write_text("USB Camera\n")
    node = tmp_path / "class" / name
    node.mkdir(parents=True)
    os.symlink(interface, node / "device")
    return tmp_path / "class"


def _driver(frames: list[np.ndarray | None], sysfs: Path = Path("/nonexistent"), **options: object
            ) -> tuple[UVCSensor, FakeCapture]:
    clock = VirtualClock()
    capture = FakeCapture(lambda i: frames[i] if i < len(frames) else None, fps=25, clock=clock)
    return UVCSensor("/dev/video3", capture=lambda _: capture, sysfs=sysfs, clock=clock, **options), capture  # type: ignore[arg-type]


def test_usb_ids_pick_the_model_and_its_settings(tmp_path: Path) -> None:
    sysfs = _sysfs(tmp_path, "1e4e", "0100")
    assert str(usb_id("/dev/video3", sysfs)) == "1e4e:0100 (USB Camera)" and usb_id("/dev/video9", sysfs) is None
    frames = [layouts.encode_purethermal(np.full((120, 160), 31.0))]
    sensor, capture = _driver(frames, sysfs)
    with sensor:
        frame = sensor.read()
    assert sensor.model is layouts.PURETHERMAL and frame.meta["usb_id"] == "1e4e:0100 (USB Camera)"
    assert capture.get(CAP_PROP_CONVERT_RGB) == 0 and capture.get(CAP_PROP_FOURCC) != 0  # Y16 asked for
    assert np.allclose(frame.data, 31.0) and frame.units == "C" and frame.meta["radiometric"] is True


def test_infiray_by_usb_id_and_failed_reads(tmp_path: Path) -> None:
    sensor, capture = _driver([infiray_words(22.0).view(np.uint8).reshape(384, 256, 2)] * 3,
                              _sysfs(tmp_path, "0bda", "5830"))
    with sensor:
        capture.fail_reads(3)
        frame = sensor.read()
        assert sensor.info["failed_reads"] == 3
    assert frame.shape == (192, 256) and np.allclose(frame.data, 22.0, atol=0.01)


def test_wrong_format_for_the_model_and_unknown_format_are_one_line_errors(tmp_path: Path) -> None:
    sensor, _ = _driver([np.zeros((120, 160), dtype=np.uint16)], _sysfs(tmp_path, "0bda", "5830"))
    with sensor, pytest.raises(SensorError, match="not recognised for InfiRay"):
        sensor.read()
    unknown, _ = _driver([np.zeros((480, 640, 2), dtype=np.uint8)])
    with unknown, pytest.raises(SensorError, match=r"camera format not recognised.*480x640x2 uint8.*--uvc-model"):
        unknown.read()


def test_implausible_frames_are_dropped_and_a_dead_stream_times_out() -> None:
    sensor, capture = _driver([np.zeros((384, 256), dtype=np.uint16), infiray_words(20.0)])
    with sensor:
        assert np.allclose(sensor.read().data, 20.0, atol=0.01)
        assert sensor.info["implausible_frames_dropped"] == 1
        start = capture.clock.monotonic()
        with pytest.raises(SensorTimeoutError, match="no good frame"):
            sensor.read(timeout=0.5)
        assert capture.clock.monotonic() - start <= 0.6


def test_open_failures_and_bad_options() -> None:
    closed = FakeCapture(lambda i: None, opened=False)
    with pytest.raises(SensorError, match="cannot open the video device"):
        UVCSensor("/dev/video42", capture=lambda _: closed).open()
    with pytest.raises(InputError, match="valid: purethermal, infiray"):
        open_sensor("uvc", uvc_model="boson")
    assert video_path("2") == "/dev/video2" and video_path(None) == "/dev/video0"


@pytest.mark.parametrize(("spec", "shape"), [("sim-uvc", (192, 256)), ("sim-uvc:purethermal", (120, 160))])
def test_sim_uvc_through_the_real_driver(spec: str, shape: tuple[int, int]) -> None:
    with open_sensor(spec, realtime=False, seed=3) as sensor:
        frame = sensor.read()
    assert frame.shape == shape and frame.units == "C" and 10 < float(np.median(frame.data)) < 30


def test_fake_capture_uses_opencv_property_numbers() -> None:
    import cv2

    assert (CAP_PROP_CONVERT_RGB, CAP_PROP_FOURCC, CAP_PROP_READ_TIMEOUT_MSEC) == (
        cv2.CAP_PROP_CONVERT_RGB, cv2.CAP_PROP_FOURCC, cv2.CAP_PROP_READ_TIMEOUT_MSEC)
