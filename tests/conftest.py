"""Shared fixtures: the reference-data folder beside the checkout, frame factories, I2C transports."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from thermtool import Frame

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture
def reference() -> Path:
    """../shared/reference, or skip the test when it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip("reference data (../shared/reference) is not present")
    return REFERENCE


@pytest.fixture
def frame() -> Frame:
    """A 24x32 frame with a warm spot, a fixed time and some metadata."""
    rng = np.random.default_rng(7)
    data = 20.0 + rng.normal(0, 0.2, (24, 32))
    data[10:14, 5:9] = 34.5
    return Frame(data, "C", datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc), "test",
                 {"ta": 25.5, "bad_pixels": [3, 7], "note": "unit test"})


@pytest.fixture
def register_sensor():  # type: ignore[no-untyped-def]
    """Register test-only sensor factories by name; they are removed again after the test."""
    from thermtool.sensors import SENSORS

    added: list[str] = []

    def register(name: str, factory: object) -> None:
        SENSORS.register(name, factory)
        added.append(name)

    yield register
    for name in added:
        SENSORS._targets.pop(name, None)
        SENSORS._loaded.pop(name, None)


@pytest.fixture(params=["smbus2-ioctl", "busio"])
def i2c_transport(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Each I2C driver test runs through both transports the driver meets in the field."""
    import smbus2.smbus2

    from thermtool.emulators.i2c_dev import I2CTransport

    transport = I2CTransport(request.param, tmp_path / "i2c-fake")

    def patched_ioctl(fd: int, request_code: int, arg: Any = 0, *rest: Any) -> int:
        return transport.devs[-1].ioctl(fd, request_code, arg, *rest)

    monkeypatch.setattr(smbus2.smbus2, "ioctl", patched_ioctl)
    return transport
