"""Shared fixtures: the reference-data folder beside the checkout, frame factories, I2C transports, small
tmpfs mounts."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Generator, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from thermtool import Frame

REPO = Path(__file__).resolve().parents[1]
#: Real sensor data with known answers, beside the checkout (or $THERMTOOL_REFERENCE); never shipped.
REFERENCE = Path(os.environ.get("THERMTOOL_REFERENCE") or REPO.parent / "shared" / "reference")
REFERENCE_MISSING = (f"no reference data at {REFERENCE}: real MLX90640 and Lepton sensor data with known answers "
                     "(EEPROM dumps, raw frames, expected temperatures, real recordings), kept beside the "
                     "checkout and not shipped; without it the conformance tests against real devices are skipped")


@pytest.fixture
def reference() -> Path:
    """../shared/reference, or skip the test when it is absent."""
    if not REFERENCE.is_dir():
        pytest.skip(REFERENCE_MISSING)
    return REFERENCE


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None, None, None]:
    """One line for all the tests skipped for want of reference data, instead of one per test with -ra."""
    skipped = terminalreporter.stats.get("skipped", [])
    missing = [r for r in skipped if isinstance(r.longrepr, tuple) and REFERENCE_MISSING in str(r.longrepr[2])]
    if missing:
        terminalreporter.stats["skipped"] = [r for r in skipped if r not in missing]
    try:
        return (yield)
    finally:
        if missing:
            terminalreporter.stats["skipped"] = skipped  # the final count still includes them
            terminalreporter.write_line(f"{len(missing)} tests skipped: {REFERENCE_MISSING}", yellow=True)


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


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount a real tmpfs with the given mount options (e.g. "size=64k", "ro"); skip where mounting is not
    allowed (it needs root, as in CI). Everything mounted is unmounted after the test."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        folder = tmp_path / f"tmpfs-{uuid.uuid4().hex[:6]}"
        folder.mkdir()
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                                capture_output=True, text=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({result.stderr.strip()})")
        mounted.append(folder)
        return folder

    yield mount
    for folder in reversed(mounted):
        subprocess.run(["umount", str(folder)], check=False)


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


@pytest.fixture
def signal_and_wait() -> Callable[..., tuple[str, float]]:
    """Send a signal to a running thermtool process and wait for it: (its stderr, seconds it took to exit).

    The process is killed if it is still there afterwards, so a failing test leaves nothing running.
    """
    import signal as signals
    import time

    def stop(proc: subprocess.Popen[str], signum: int = signals.SIGTERM) -> tuple[str, float]:
        try:
            proc.send_signal(signum)
            sent = time.monotonic()
            _, err = proc.communicate(timeout=15)
            return err, time.monotonic() - sent
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    return stop


@pytest.fixture
def terminal_view(tmp_path: Path) -> Callable[[Any], tuple[Any, Any, Any]]:
    """A terminal view of a sensor drawing 256-colour cells into a buffer: (session, view, buffer)."""
    import io

    from rich.console import Console

    from thermtool.view.feed import FrameFeed
    from thermtool.view.session import ViewOptions, ViewSession, initial_state
    from thermtool.view.terminal import TerminalView

    def make(sensor: Any) -> tuple[Any, Any, Any]:
        session = ViewSession(FrameFeed(sensor), initial_state(), ViewOptions(snapshot_dir=tmp_path))
        buffer = io.StringIO()
        view = TerminalView(session, color_system="256", stream=buffer)
        view.console = Console(file=view.output, width=64, height=26, force_terminal=True, color_system="256")
        return session, view, buffer

    return make
