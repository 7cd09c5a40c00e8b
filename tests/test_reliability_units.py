"""Locks, retention and deadlines: the building blocks of cron-safe runs."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from thermtool import InputError, SensorTimeoutError
from thermtool.deadline import deadline
from thermtool.locking import EXIT_LOCKED, LockedError, exclusive_lock
from thermtool.retention import parse_age, prune, select_expired, template_pattern


def test_template_pattern_matches_own_names_only() -> None:
    pattern = template_pattern("snap-%Y%m%d-%H%M%S.png")
    assert pattern.fullmatch("snap-20261122-003107.png")
    assert pattern.fullmatch("snap-20261122-003107-2.png")  # collision suffix
    assert not pattern.fullmatch("snap-20261122-003107.jpg")
    assert not pattern.fullmatch("holiday.png")
    assert not pattern.fullmatch("snap-2026112-003107.png")
    with pytest.raises(InputError):
        template_pattern("x-%Q.png")


def test_parse_age() -> None:
    assert parse_age("30d") == 30 * 86400
    assert parse_age("90") == 90
    assert parse_age("1.5h") == 5400
    for bad in ("", "-1d", "0", "3 fortnights"):
        with pytest.raises(InputError):
            parse_age(bad)


def test_select_expired_keep_and_age() -> None:
    files = [(Path(f"{i}.png"), 1000.0 + i, 0) for i in range(10)]
    assert sorted(p.name for p in select_expired(files, 3, None, 2000.0)) == [f"{i}.png" for i in range(7)]
    assert sorted(p.name for p in select_expired(files, None, 995.0, 2000.0)) == ["0.png", "1.png", "2.png",
                                                                                  "3.png", "4.png"]
    assert select_expired(files, None, None, 2000.0) == []


def test_prune_deletes_only_matching_files_and_their_sidecars(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"s-00000{i}.npy").write_text("x")
        (tmp_path / f"s-00000{i}.json").write_text("{}")
    (tmp_path / "precious.npy").write_text("keep me")
    deleted = prune(tmp_path, "s-%H%M%S.npy", keep=2, max_age=None, now=time.time())
    assert len(deleted) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.npy", "s-000003.json", "s-000003.npy",
                                                          "s-000004.json", "s-000004.npy"]


def test_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    with exclusive_lock(lock), pytest.raises(LockedError) as info, exclusive_lock(lock):
        pass
    assert info.value.exit_code == EXIT_LOCKED
    with exclusive_lock(lock):
        pass


def test_lock_dies_with_a_killed_process(tmp_path: Path) -> None:
    lock = tmp_path / "run.lock"
    code = f"from thermtool.locking import exclusive_lock; from pathlib import Path; import time\n" \
           f"with exclusive_lock(Path({str(lock)!r})):\n    print('locked', flush=True); time.sleep(60)"
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    with pytest.raises(LockedError), exclusive_lock(lock):
        pass
    proc.kill()
    proc.wait()
    with exclusive_lock(lock):
        pass


def test_deadline_interrupts_a_blocked_call() -> None:
    with pytest.raises(SensorTimeoutError, match=r"--timeout 0\.2"), deadline(0.2, "snapshot"):
        time.sleep(5)
    with deadline(1.0):
        pass
    with deadline(None):
        pass
