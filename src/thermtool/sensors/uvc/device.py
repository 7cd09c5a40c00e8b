"""The `uvc` sensor: a USB thermal camera through OpenCV's V4L2 capture, with RGB conversion off.

The camera is recognised by its USB ids (sysfs) or, when they are unknown, by the layout of its first
frame; `model=` forces one. PureThermal boards are asked for Y16; InfiRay P2 Pro / TC001 frames come as
YUYV and the temperature half is decoded. A frame in no known layout is a one-line error that says what
arrived. Every read has a deadline (OpenCV's read timeout, at most READ_SLICE_S, where the backend has
one, and our own clock for retries) and ends early on the process-wide stop request; frames outside the
cameras' measuring range (such as an all-zero buffer) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ...clock import Clock, SystemClock
from ...errors import InputError, SensorError, SensorTimeoutError
from ...frame import Frame
from ..base import Sensor, check_stop, sleep_or_stop
from . import layouts
from .layouts import INFIRAY, MODELS, PURETHERMAL, Model, UnrecognisedFrame
from .usb import SYSFS_VIDEO, UsbId, usb_id, video_path

PLAUSIBLE_C = (-60.0, 650.0)  # beyond every supported camera's measuring range, with a margin
_RETRY_S = 0.01
# OpenCV's V4L2 read blocks at most this long (CAP_PROP_READ_TIMEOUT_MSEC): the read loop checks our own
# deadline and the process-wide stop request between reads, so neither waits on a silent camera.
READ_SLICE_S = 0.5


class Capture(Protocol):
    """The part of cv2.VideoCapture the driver uses."""

    def isOpened(self) -> bool: ...

    def set(self, prop: int, value: float) -> bool: ...

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


def opencv_capture(device: str) -> Capture:
    """cv2.VideoCapture on `device` through the V4L2 backend: by index for /dev/videoN (OpenCV's wheels
    cannot open V4L2 devices by name), OpenCV's own warnings silenced (our errors say what failed)."""
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    found = re.fullmatch(r"/dev/video(\d+)", device)
    return cv2.VideoCapture(int(found.group(1)) if found else device, cv2.CAP_V4L2)


def check_model(name: str | None) -> Model | None:
    """The model named `name` (None: detect), or InputError listing the valid names."""
    if name is None:
        return None
    key = name.strip().lower()
    if key not in MODELS:
        raise InputError(f"unknown UVC camera model {name!r}; valid: {', '.join(MODELS)}")
    return MODELS[key]


class UVCSensor(Sensor):
    """A USB thermal camera at `device` (/dev/videoN). `capture` opens it (OpenCV's V4L2 capture by default;
    tests pass a fake). `radiometric` None lets PureThermal frames say whether they are TLinear."""

    kind = "uvc"

    def __init__(self, device: str = "/dev/video0", *, model: str | None = None, radiometric: bool | None = None,
                 capture: Callable[[str], Capture] = opencv_capture, sysfs: Path = SYSFS_VIDEO,
                 clock: Clock | None = None, timeout: float | None = None) -> None:
        super().__init__()
        self.device = device
        self.forced = check_model(model)
        self.radiometric = radiometric
        self._open_capture = capture
        self.sysfs = sysfs
        self.clock: Clock = clock if clock is not None else SystemClock()
        if timeout is not None and not timeout > 0:
            raise InputError(f"timeout must be above 0 seconds, got {timeout}")
        self.timeout = timeout
        self.model: Model | None = None
        self.usb: UsbId | None = None
        self._cap: Capture | None = None
        self.implausible_dropped = 0
        self.failed_reads = 0
        self.extra_meta: dict[str, Any] = {}

    @property
    def where(self) -> str:
        """The prefix of every error message."""
        return f"UVC camera {self.device}" + (f" [{self.usb}]" if self.usb else "")

    def _open(self) -> None:
        self.usb = usb_id(self.device, self.sysfs)
        self.model = self.forced or (layouts.model_for_usb(self.usb.vendor, self.usb.product) if self.usb else None)
        try:
            cap = self._open_capture(self.device)
        except ImportError as exc:  # pragma: no cover - OpenCV is a main dependency
            raise SensorError(f"{self.where}: OpenCV is not available ({exc})") from exc
        if not cap.isOpened():
            cap.release()
            hint = ("no such device" if not Path(self.device).exists()
                    else "is it in use, and are you in the 'video' group?")
            raise SensorError(f"{self.where}: cannot open the video device ({hint}); `v4l2-ctl --list-devices` "
                              "lists the cameras")
        import cv2

        cap.set(cv2.CAP_PROP_CONVERT_RGB, 0)
        if self.model is PURETHERMAL:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"Y16 "))
        if hasattr(cv2, "CAP_PROP_READ_TIMEOUT_MSEC"):
            cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, 1000.0 * min(self.timeout or READ_SLICE_S, READ_SLICE_S))
        self._cap = cap
        self._wall_start, self._clock_start = datetime.now(timezone.utc), self.clock.monotonic()

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _read(self, timeout: float | None) -> Frame:
        if self._cap is None:
            raise SensorError(f"{self.where}: the camera is not open")
        wait = timeout if timeout is not None else self.timeout
        deadline = self.clock.monotonic() + (wait if wait is not None else 3.0)
        while True:
            check_stop(self.where)
            ok, raw = self._cap.read()
            if ok and raw is not None:
                frame = self._decode(raw)
                if frame is not None:
                    return frame
            else:
                self.failed_reads += 1
            now = self.clock.monotonic()
            if now >= deadline:
                raise SensorTimeoutError(f"{self.where}: no good frame before the timeout ({self.failed_reads} failed "
                                         f"reads, {self.implausible_dropped} implausible frames); unplug and replug "
                                         "the camera, or try another USB port")
            sleep_or_stop(self.clock, min(_RETRY_S, deadline - now), self.where)

    def _decode(self, raw: np.ndarray) -> Frame | None:
        if self.model is None:
            try:
                self.model = layouts.guess_model(raw)
            except UnrecognisedFrame as exc:
                raise SensorError(f"{self.where}: camera format not recognised: {exc}; if it is one of "
                                  f"{', '.join(MODELS)}, name it with --uvc-model") from None
        try:
            if self.model is INFIRAY:
                data, units = layouts.decode_infiray(raw), "C"
            else:
                data, units = layouts.decode_purethermal(raw, self.radiometric)
        except UnrecognisedFrame as exc:
            raise SensorError(f"{self.where}: camera format not recognised for {self.model.description}: {exc}; "
                              "check the model (--uvc-model) and that no other program changed the format") from None
        if units == "C" and not (PLAUSIBLE_C[0] <= data.min() and data.max() <= PLAUSIBLE_C[1]):
            self.implausible_dropped += 1
            return None
        meta = {"model": self.model.description, "usb_id": str(self.usb) if self.usb else None, **self.extra_meta}
        if self.model is PURETHERMAL:
            meta["radiometric"] = units == "C"
        elapsed = self.clock.monotonic() - self._clock_start
        return Frame(data, units, self._wall_start + timedelta(seconds=elapsed), self.kind, meta)

    def _info(self) -> dict[str, Any]:
        return {"device": self.device, "usb_id": str(self.usb) if self.usb else None,
                "model": self.model.description if self.model else None,
                "implausible_frames_dropped": self.implausible_dropped, "failed_reads": self.failed_reads}


def open_uvc(target: str | None, *, uvc_model: str | None = None, radiometry: bool | None = None,
             timeout: float | None = None) -> UVCSensor:
    """The `uvc[:/dev/videoN]` sensor (default /dev/video0); `uvc_model` forces purethermal or infiray."""
    return UVCSensor(video_path(target), model=uvc_model, radiometric=radiometry, timeout=timeout)
