"""capture under faults: disk full, flaky sensors, rotation of long captures."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from thermtool import Frame, SensorError
from thermtool.cli import run
from thermtool.formats import load_frames
from thermtool.sensors.base import Sensor


def _assert_intact(folder: Path) -> int:
    frames = list(load_frames(folder))
    assert all(f.shape == (24, 32) for f in frames)
    assert not [p for p in folder.iterdir() if p.name.endswith(".part")]
    return len(frames)


def test_disk_full_on_a_real_small_filesystem(tmpfs: Callable[[str], Path],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmpfs("size=64k") / "frames"  # skipped where mounting is not allowed; see the injected test
    assert run(["capture", "--sensor", "sim", "--out", str(out), "--rate", "32"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no space left on device" in err
    assert _assert_intact(out) > 3


def test_disk_full_injected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    import thermtool.fileio as fileio

    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] > 40:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    out = tmp_path / "frames"
    assert run(["capture", "--sensor", "sim", "--out", str(out), "--rate", "32", "--format", "tiff",
                "--sync", "frame", "--count", "1000"]) == 1  # --sync frame: every frame goes through fsync
    assert "no space left on device" in capsys.readouterr().err
    assert _assert_intact(out) >= 3


class _Flaky(Sensor):
    """Fails on the reads listed in `failures` (by read number), else returns frames."""

    kind = "flaky"

    def __init__(self, failures: set[int]) -> None:
        super().__init__()
        self.failures, self.calls = failures, 0

    def _read(self, timeout: float | None) -> Frame:
        self.calls += 1
        if self.calls in self.failures:
            raise SensorError("I2C remote I/O error")
        return Frame(np.full((24, 32), float(self.calls)), sensor="flaky")


def test_transient_errors_are_counted_and_survived(tmp_path: Path, register_sensor: Callable[..., None],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    register_sensor("flaky", lambda target: _Flaky({2, 3, 7}))
    assert run(["capture", "--sensor", "flaky", "--out", str(tmp_path), "--count", "6", "--max-errors", "2"]) == 0
    assert "3 sensor error(s)" in capsys.readouterr().err
    assert [f.data[0, 0] for f in load_frames(tmp_path)] == [1, 4, 5, 6, 8, 9]


def test_persistent_errors_give_up_after_max_errors(tmp_path: Path, register_sensor: Callable[..., None],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    register_sensor("flaky", lambda target: _Flaky(set(range(3, 100))))
    assert run(["capture", "--sensor", "flaky", "--out", str(tmp_path), "--max-errors", "4"]) == 1
    assert "remote I/O error" in capsys.readouterr().err
    assert len(list(load_frames(tmp_path))) == 2


def test_rotation_keeps_the_newest_files(tmp_path: Path) -> None:
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path), "--count", "10", "--rate", "32",
                "--keep", "3"]) == 0
    frames = list(load_frames(tmp_path))
    assert len(frames) == 3 and len(list(tmp_path.glob("2*.json"))) == 3
    assert sorted(p.stem[-6:] for p in tmp_path.glob("*.npy")) == ["000008", "000009", "000010"]


def test_rotation_by_size(tmp_path: Path) -> None:
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path), "--count", "20", "--rate", "32",
                "--rotate-size", "20k"]) == 0
    total = sum(p.stat().st_size for p in tmp_path.glob("2*"))
    assert total <= 20 * 1024 and len(list(tmp_path.glob("*.npy"))) >= 3


def test_malformed_rotate_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path / "x"), "--rotate-size", "lots"]) == 2
    assert "malformed size" in capsys.readouterr().err and not (tmp_path / "x").exists()
