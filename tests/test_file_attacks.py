"""Attacks on unattended file output: planted symlinks, hard links and FIFOs, strangers' folders, unwritable folders.

CI runs as root, like the cron jobs these attacks target: a planted link must not make root write elsewhere.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from thermtool.cli import run
from thermtool.folders import UnsafePathError, checked_strftime_folder, make_folder

LOCK = ".thermtool-snapshot.lock"
VICTIM_TEXT = "root's precious file\n"


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file the attacker wants root to overwrite (stands in for /etc/shadow)."""
    path = tmp_path / "victim"
    path.write_text(VICTIM_TEXT)
    return path


def _snapshot(out: Path | str, *extra: str) -> int:
    return run(["snapshot", "--sensor", "sim", "--out", str(out), *extra])


def _one_error_line(capsys: pytest.CaptureFixture[str], *words: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("thermtool: error: "), err
    assert all(word in err for word in words), err
    return err


def test_lock_symlink_to_a_root_file_is_refused(tmp_path: Path, victim: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / LOCK).symlink_to(victim)
    assert _snapshot(shared / "s.npy") == 2
    _one_error_line(capsys, "symlink")
    assert victim.read_text() == VICTIM_TEXT
    assert not (shared / "s.npy").exists()


def test_dangling_lock_symlink_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "etc" / "cron.d-entry"
    (tmp_path / "etc").mkdir()
    link = tmp_path / "my.lock"
    link.symlink_to(target)
    assert _snapshot(tmp_path / "s.npy", "--lock", str(link)) == 2
    _one_error_line(capsys, "symlink")
    assert not target.exists()


def test_hard_linked_lock_file_is_refused(tmp_path: Path, victim: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.link(victim, shared / LOCK)
    assert _snapshot(shared / "s.npy") == 2
    _one_error_line(capsys, "hard links")
    assert victim.read_text() == VICTIM_TEXT


def test_fifo_or_folder_as_lock_is_refused_without_blocking(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(tmp_path / "fifo.lock")
    assert _snapshot(tmp_path / "s.npy", "--lock", str(tmp_path / "fifo.lock")) == 2
    _one_error_line(capsys, "not a regular file")
    (tmp_path / "dir.lock").mkdir()
    assert _snapshot(tmp_path / "s.npy", "--lock", str(tmp_path / "dir.lock")) == 2
    _one_error_line(capsys, "is a folder")


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".json"])
def test_a_fifo_as_heatmap_points_is_refused_without_blocking(tmp_path: Path, suffix: str) -> None:
    fifo = tmp_path / f"points{suffix}"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "thermtool", "heatmap", str(fifo), "-o", str(tmp_path / "h.png")],
                          capture_output=True, text=True, timeout=30)  # a blocking open would end only here
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr


@pytest.mark.parametrize("which", ["config", "mqtt-password-file"])
def test_a_fifo_as_a_settings_file_is_refused_without_blocking(tmp_path: Path, which: str) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    args, env = ["sensors"], {**os.environ, "THERMTOOL_CONFIG": str(fifo)}
    if which != "config":
        args, env["THERMTOOL_CONFIG"] = ["watch", "--sensor", "sim", "--mqtt", "mqtt://u@127.0.0.1:9",
                                         "--mqtt-password-file", str(fifo)], str(tmp_path / "none.toml")
    done = subprocess.run([sys.executable, "-m", "thermtool", *args], capture_output=True, text=True, env=env,
                          timeout=30)  # a blocking open would end only here
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr


def _days() -> list[str]:
    today = datetime.now(timezone.utc)
    return [(today + timedelta(days=d)).strftime("%Y%m%d") for d in (0, 1)]


def test_planted_strftime_folder_symlink_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared, elsewhere = tmp_path / "shared", tmp_path / "elsewhere"
    shared.mkdir()
    elsewhere.mkdir()
    for day in _days():  # today's and tomorrow's, planted in advance
        (shared / day).symlink_to(elsewhere)
    assert _snapshot(f"{shared}/%Y%m%d/%H%M%S.npy", "--utc") == 2
    _one_error_line(capsys, "symlink")
    assert list(elsewhere.iterdir()) == []


def test_file_planted_as_strftime_folder_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for day in _days():
        (tmp_path / day).write_text("in the way")
    assert _snapshot(f"{tmp_path}/%Y%m%d/%H%M%S.npy", "--utc") == 2
    _one_error_line(capsys, "is not a folder")


@pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's folder needs root (CI runs as root)")
def test_strangers_strftime_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for day in _days():
        (tmp_path / day).mkdir()
        os.chown(tmp_path / day, 54321, 54321)
    assert _snapshot(f"{tmp_path}/%Y%m%d/%H%M%S.npy", "--utc") == 2
    _one_error_line(capsys, "owned by uid 54321")
    assert all(not any((tmp_path / day).iterdir()) for day in _days())


def test_own_strftime_folders_are_created_and_reused(tmp_path: Path) -> None:
    when = datetime(2026, 12, 4, 5, 6, 7, tzinfo=timezone.utc)
    for _ in range(2):
        with checked_strftime_folder(f"{tmp_path}/data/%Y/%m%d/x/%H.npy", when, utc=True) as folder:
            assert folder == tmp_path / "data" / "2026" / "1204" / "x" and folder.is_dir()
    assert _snapshot(f"{tmp_path}/data/%Y/%m%d/s.npy") == 0


def test_existing_symlinks_above_the_strftime_levels_are_the_users_choice(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")  # e.g. /srv/thermal -> /mnt/sdcard
    assert make_folder(tmp_path / "link" / "b" / "c") == tmp_path / "link" / "b" / "c"
    assert (tmp_path / "real" / "b" / "c").is_dir()
    assert _snapshot(f"{tmp_path}/link/%Y/s.npy") == 0
    year = tmp_path / "real" / "b" / "2026"
    year.mkdir()
    (year / "d").symlink_to(tmp_path)  # below the first strftime level, nothing is followed
    when = datetime(2026, 6, 1, tzinfo=timezone.utc)
    with pytest.raises(UnsafePathError), checked_strftime_folder(f"{tmp_path}/link/b/%Y/d/x.npy", when, utc=True):
        pass


def test_a_folder_swapped_for_a_symlink_after_the_check_is_not_followed(tmp_path: Path) -> None:
    """The race: the checked folder is renamed away and a symlink put in its place before the write."""
    from thermtool import Frame
    from thermtool.snapshot import apply_retention, remove_stale_parts_of

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in ("s-1.npy", "s-2.npy", ".s.npy.abcd1234.part"):  # what retention or cleanup could delete
        (elsewhere / name).write_text("someone else's")
    template = f"{tmp_path}/%Y/s.npy"
    with checked_strftime_folder(template, datetime(2026, 6, 1, tzinfo=timezone.utc), utc=True) as folder:
        folder.rename(tmp_path / "moved")
        folder.symlink_to(elsewhere)
        Frame([[1.0, 2.0]]).save(folder / "s.npy")
        apply_retention(template, folder / "s.npy", 1, None, 0.0, utc=True)
        remove_stale_parts_of(template, folder, before=1e12)
    assert sorted(p.name for p in (tmp_path / "moved").iterdir()) == ["s.json", "s.npy"]
    assert sorted(p.name for p in elsewhere.iterdir()) == [".s.npy.abcd1234.part", "s-1.npy", "s-2.npy"]


@pytest.fixture
def unwritable(tmp_path: Path, tmpfs: Callable[[str], Path]) -> Iterator[Path]:
    """A folder this process cannot write: a read-only tmpfs as root (root ignores modes), else a 0555 folder."""
    if os.geteuid() == 0:
        yield tmpfs("ro,size=64k")
        return
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    yield folder
    folder.chmod(0o755)


def test_snapshot_in_an_unwritable_folder_says_cannot_write_here(tmp_path: Path, unwritable: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert _snapshot(unwritable / "s.npy") == 1
    _one_error_line(capsys, "cannot write here")
    assert _snapshot(unwritable / "sub" / "s.npy") == 1
    _one_error_line(capsys, "cannot write here")
    assert _snapshot(tmp_path / "s.npy", "--latest", str(unwritable / "latest.npy")) == 1
    _one_error_line(capsys, "cannot write here")


def test_snapshot_with_a_file_in_the_path_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert _snapshot(tmp_path / "file" / "s.npy") == 2
    _one_error_line(capsys, "is not a folder")
