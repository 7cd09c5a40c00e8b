"""Retention that trusts names over clocks, makes room on a full disk, and what killed runs leave behind."""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from thermtool import Frame, load_frame
from thermtool.cli import run
from thermtool.retention import name_time, select_expired

TEMPLATE = "s-%Y%m%d-%H%M%S.npy"
FUTURE = time.mktime((2099, 1, 1, 0, 0, 0, 0, 1, -1))


def _plant(folder: Path, when: datetime, mtime: float | None = None, size: int = 16) -> Path:
    """A file named as snapshot would name one taken at `when` (UTC), with a sidecar."""
    path = folder / when.strftime(TEMPLATE)
    path.write_bytes(bytes(size))
    path.with_suffix(".json").write_text("{}")
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _snapshot(folder: Path, *extra: str) -> int:
    return run(["snapshot", "--sensor", "sim", "--utc", "--out", f"{folder}/{TEMPLATE}", *extra])


def _ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("s-*.npy"))


def test_future_mtimes_never_delete_the_new_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A Pi without an RTC after a clock jump, or planted files: old names, mtimes in 2099."""
    base = datetime(2020, 1, 1, tzinfo=timezone.utc)
    planted = [_plant(tmp_path, base + timedelta(hours=i), FUTURE) for i in range(3)]
    assert _snapshot(tmp_path, "--keep", "2", "--latest", str(tmp_path / "latest.npy")) == 0
    assert "deleted 2 old" in capsys.readouterr().err
    new = (tmp_path / "latest.npy").resolve()
    assert new.exists() and load_frame(tmp_path / "latest.npy").shape == (24, 32)
    assert _ours(tmp_path) == sorted([planted[2].name, new.name])  # the newest by name survived
    assert not planted[0].with_suffix(".json").exists() and new.with_suffix(".json").exists()


def test_age_comes_from_the_name_not_the_mtime(tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    old = _plant(tmp_path, now - timedelta(days=10))  # mtime: now
    recent = _plant(tmp_path, now - timedelta(days=1), mtime=time.time() - 30 * 86400)  # mtime: a month ago
    assert _snapshot(tmp_path, "--max-age", "2d") == 0
    assert not old.exists() and recent.exists() and len(_ours(tmp_path)) == 2


def test_name_time_and_collision_order() -> None:
    assert name_time("s-20260102-030405.npy", TEMPLATE, utc=True) == datetime(
        2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
    assert name_time("s-garbage.npy", TEMPLATE, utc=True) is None
    same = [(Path("a.npy"), 5.0, 0), (Path("a-2.npy"), 5.0, 2), (Path("a-1.npy"), 5.0, 1)]
    assert select_expired(same, 1, None, 10.0) == [Path("a-1.npy"), Path("a.npy")]
    assert select_expired(same, 1, None, 10.0, protected={Path("a.npy")}) == [Path("a-1.npy")]


def _fill(folder: Path) -> None:
    """Fill the file system holding `folder` with a file that is not ours."""
    with contextlib.suppress(OSError), (folder / "not-ours.bin").open("wb", buffering=0) as handle:
        while True:
            handle.write(bytes(4096))


def test_retention_makes_room_on_a_really_full_disk(tmpfs: Callable[[str], Path],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    fs = tmpfs("size=96k")  # skipped where mounting is not allowed; the injected test below covers it
    base = datetime(2020, 1, 1, tzinfo=timezone.utc)
    planted = [_plant(fs, base + timedelta(hours=i), size=8192) for i in range(4)]
    _fill(fs)
    assert _snapshot(fs) == 1  # no retention asked for: the disk stays full, one line says so
    assert "no space left on device" in capsys.readouterr().err
    assert _snapshot(fs, "--keep", "3") == 0
    assert "deleted" in capsys.readouterr().err
    assert [p.exists() for p in planted] == [False, False, True, True]
    assert len(_ours(fs)) == 3 and not list(fs.glob(".*.part"))
    assert (fs / "not-ours.bin").exists()


def test_retention_makes_room_when_a_write_fails_for_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import thermtool.fileio as fileio

    planted = [_plant(tmp_path, datetime(2020, 1, 1, i, tzinfo=timezone.utc)) for i in range(3)]
    real_fsync, calls = os.fsync, {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    assert _snapshot(tmp_path, "--keep", "2") == 0
    assert "deleted 2 old" in capsys.readouterr().err
    assert [p.exists() for p in planted] == [False, False, True]


@pytest.mark.parametrize("failing_fsync", [1, 2])
def test_a_full_disk_leaves_no_sidecar_without_its_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        failing_fsync: int) -> None:
    """The data file and its sidecar are both staged before either appears: ENOSPC on either leaves nothing."""
    import thermtool.fileio as fileio

    real_fsync, calls = os.fsync, {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == failing_fsync:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(fileio.os, "fsync", fsync)
    for suffix in (".npy", ".tiff", ".csv"):
        calls["n"] = 0
        with pytest.raises(fileio.OutputError, match="no space left"):
            Frame(np.zeros((2, 2), np.float32)).save(tmp_path / f"f{suffix}")
    assert sorted(os.listdir(tmp_path)) == []


def test_the_data_file_is_published_before_its_sidecar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import thermtool.fileio as fileio

    published: list[str] = []
    real_publish = fileio._publish

    def publish(folder: int, tmp: str, path: Path, force: bool) -> None:
        published.append(path.suffix)
        assert path.suffix == ".npy" or path.with_suffix(".npy").exists()
        real_publish(folder, tmp, path, force)

    monkeypatch.setattr(fileio, "_publish", publish)
    Frame(np.zeros((2, 2), np.float32)).save(tmp_path / "f.npy")
    assert published == [".npy", ".json"]


def test_stale_part_files_of_our_naming_are_removed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hours_ago = time.time() - 7200

    def part(name: str, mtime: float) -> Path:
        path = tmp_path / f".{name}.k3x9_a0q.part"
        path.write_bytes(b"half a frame")
        os.utime(path, (mtime, mtime))
        return path

    stale = [part("s-20200101-000000.npy", hours_ago), part("s-20200101-000000.json", hours_ago),
             part("s-20200101-000000-1.npy", hours_ago)]
    fresh = part("s-20200101-000001.npy", time.time())  # another run may be writing it
    foreign = [part("holiday.png", hours_ago), part("s-notours.npy", hours_ago)]
    (tmp_path / ".s-20200101-000002.npy.k3x9_a0q.part").symlink_to(tmp_path / "holiday.png")
    assert _snapshot(tmp_path) == 0
    assert "removed 3 stale .part" in capsys.readouterr().err
    assert not any(p.exists() for p in stale)
    assert fresh.exists() and all(p.exists() for p in foreign)
    assert (tmp_path / ".s-20200101-000002.npy.k3x9_a0q.part").is_symlink()
