"""The CLI's foundation commands through click's CliRunner and through real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from thermtool import load_frame
from thermtool.capture import MANIFEST
from thermtool.cli import cli, run
from thermtool.formats import load_frames


def test_capture_writes_loadable_frames_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "frames"
    assert run(["capture", "--sensor", "sim", "--out", str(out), "--count", "20", "--rate", "32"]) == 0
    files = sorted(out.glob("*.npy"))
    assert len(files) == 20
    assert files == sorted(files, key=lambda p: load_frame(p).timestamp)
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["sensor"]["sensor"] == "sim" and manifest["format"] == "npy"
    first = load_frame(files[0])
    assert first.shape == (24, 32) and first.units == "C" and first.sensor == "sim"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("fmt,pattern,count", [("npz", "*.npz", 2), ("tiff", "*.tiff", 5), ("csv", "*.csv", 5),
                                               ("png", "*.png", 5), ("jpg", "*.jpg", 5)])
def test_capture_formats(tmp_path: Path, fmt: str, pattern: str, count: int) -> None:
    args = ["capture", "--sensor", "sim", "--seed", "1", "--out", str(tmp_path), "--count", "5",
            "--rate", "32", "--format", fmt, "--chunk", "3"]
    assert run(args) == 0
    assert len(list(tmp_path.glob(pattern))) == count
    if fmt in ("npz", "tiff", "csv"):
        assert len(list(load_frames(tmp_path))) == 5


def test_capture_refuses_existing_capture_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["capture", "--sensor", "sim", "--out", str(tmp_path), "--count", "1", "--rate", "32"]
    assert run(args) == 0
    capsys.readouterr()
    assert run(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("thermtool: error:") and err.count("\n") == 1 and "--force" in err
    assert run([*args, "--force"]) == 0


def test_capture_duration(tmp_path: Path) -> None:
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path), "--duration", "0.3", "--rate", "32"]) == 0
    assert 3 <= len(list(tmp_path.glob("*.npy"))) <= 11  # 32 frames/s for 0.3 s, at most one more


def test_capture_from_replay_ends_with_the_recording(tmp_path: Path) -> None:
    src = tmp_path / "src"
    assert run(["capture", "--sensor", "sim", "--out", str(src), "--count", "4", "--rate", "32"]) == 0
    dst = tmp_path / "dst"
    assert run(["capture", "--sensor", f"replay:{src}", "--out", str(dst), "--rate", "32"]) == 0
    assert [f.data.tolist() for f in load_frames(src)] == [f.data.tolist() for f in load_frames(dst)]


def test_snapshot_formats_and_strftime(tmp_path: Path) -> None:
    assert run(["snapshot", "--sensor", "sim", "--out", str(tmp_path / "a" / "snap.npy")]) == 0
    assert load_frame(tmp_path / "a" / "snap.npy").shape == (24, 32)
    assert run(["snapshot", "--sensor", "sim", "--utc", "--out", str(tmp_path / "%Y" / "s-%H%M%S.png")]) == 0
    pictures = list(tmp_path.glob("2*/s-*.png"))
    assert len(pictures) == 1 and pictures[0].stat().st_size > 1000


def test_snapshot_never_overwrites_unless_forced(tmp_path: Path) -> None:
    out = tmp_path / "s.npy"
    assert run(["snapshot", "--sensor", "sim", "--seed", "1", "--out", str(out)]) == 0
    before = out.read_bytes()
    assert run(["snapshot", "--sensor", "sim", "--seed", "2", "--out", str(out)]) == 0
    assert run(["snapshot", "--sensor", "sim", "--seed", "2", "--out", str(out)]) == 0
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.glob("*.npy")) == ["s-1.npy", "s-2.npy", "s.npy"]
    assert run(["snapshot", "--sensor", "sim", "--seed", "2", "--out", str(out), "--force"]) == 0
    assert out.read_bytes() != before


@pytest.mark.parametrize("args,needle", [
    (["snapshot", "--sensor", "nope", "--out", "x.npy"], "unknown sensor 'nope'"),
    (["snapshot", "--sensor", "sim", "--out", "x.bmp"], "unknown file type"),
    (["capture", "--sensor", "sim", "--out", "x", "--count", "0"], "--count"),
    (["capture", "--sensor", "sim", "--out", "x", "--rate", "0"], "--rate"),
    (["snapshot", "--sensor", "sim", "--spi-hz", "8000000", "--out", "x.npy"], "does not take --spi-hz"),
    (["info", "missing.npy"], "no such file"),
    (["frobnicate"], "No such command"),
])
def test_bad_usage_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                      needle: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("thermtool: error:") and err.count("\n") == 1 and needle in err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("x")
    assert run(["snapshot", "--sensor", "sim", "--out", str(tmp_path / "file" / "s.npy")]) in (1, 2)
    assert capsys.readouterr().err.startswith("thermtool: error:")


def test_non_2d_frame_file_for_info(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "v.npy", np.zeros(7))
    assert run(["info", str(tmp_path / "v.npy")]) == 2
    assert "shape" in capsys.readouterr().err


def test_no_sensor_found_suggests_sim(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from thermtool.sensors import detect

    monkeypatch.setattr(detect, "probe", lambda: ([], ["no I2C buses"]))
    assert run(["snapshot", "--out", "never-written.npy"]) == 1
    err = capsys.readouterr().err
    assert "no sensor found" in err and "--sensor sim" in err and "no I2C buses" in err


def test_info_and_sensors_commands(tmp_path: Path) -> None:
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path), "--count", "3", "--rate", "32"]) == 0
    result = CliRunner().invoke(cli, ["info", "--json", str(tmp_path)])
    assert result.exit_code == 0
    summary = json.loads(result.output)
    assert summary["frames"] == 3 and summary["shape"] == [24, 32] and summary["min"] < summary["max"]
    listing = CliRunner().invoke(cli, ["sensors", "--json"])
    assert listing.exit_code == 0 and "sim" in json.loads(listing.output)["kinds"]


def test_help_everywhere_has_an_example() -> None:
    from thermtool.cli import COMMANDS

    for name in ("capture", "snapshot", "sensors", "info"):
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output, name
    assert set(COMMANDS) <= set(CliRunner().invoke(cli, ["--help"]).output.split())


def test_config_file_and_environment_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nsensor = "sim"\n\n[snapshot]\nseed = 5\n')
    monkeypatch.setenv("THERMTOOL_CONFIG", str(config))
    virtual = "--no-realtime"  # a seed's frames are reproducible on the virtual clock (in real time, timing decides)
    assert run(["snapshot", virtual, "--out", str(tmp_path / "a.npy")]) == 0  # sensor from [defaults]
    monkeypatch.setenv("THERMTOOL_SEED", "6")
    assert run(["snapshot", virtual, "--out", str(tmp_path / "b.npy")]) == 0  # env beats file
    assert run(["snapshot", virtual, "--seed", "5", "--out", str(tmp_path / "c.npy")]) == 0  # flag beats env
    a, b, c = (load_frame(tmp_path / n).data for n in ("a.npy", "b.npy", "c.npy"))
    assert np.array_equal(a, c) and not np.array_equal(a, b)


def test_broken_config_points_at_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[defaults]\nsensor = "sim"\nrate = = 3\n')
    monkeypatch.setenv("THERMTOOL_CONFIG", str(config))
    assert run(["sensors"]) == 2
    err = capsys.readouterr().err
    assert "config.toml" in err and "line 3" in err


def _thermtool(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "thermtool", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)  # type: ignore[call-overload]


def test_real_subprocess_snapshot_and_exit_codes(tmp_path: Path) -> None:
    proc = _thermtool("snapshot", "--sensor", "sim", "--out", str(tmp_path / "snap.png"))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (tmp_path / "snap.png").stat().st_size > 1000
    proc = _thermtool("snapshot", "--sensor", "sim", "--out", str(tmp_path / "snap.bmp"))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and err.startswith("thermtool: error:") and "Traceback" not in err


def test_sigint_finishes_the_current_frame_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "frames"
    proc = _thermtool("capture", "--sensor", "sim", "--out", str(out), "--rate", "32",
                      env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(list(out.glob("*.npy"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    files = list(out.glob("*.npy"))
    assert len(files) >= 3
    for path in files:
        assert load_frame(path).shape == (24, 32)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_sigterm_exits_143(tmp_path: Path) -> None:
    out = tmp_path / "frames"
    proc = _thermtool("capture", "--sensor", "sim", "--out", str(out), "--rate", "32")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(out.glob("*.npy")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == 143
    assert all(load_frame(p).shape == (24, 32) for p in out.glob("*.npy"))


def test_per_command_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THERMTOOL_CAPTURE_COUNT", "2")
    assert run(["capture", "--sensor", "sim", "--out", str(tmp_path), "--rate", "32"]) == 0
    assert len(list(tmp_path.glob("*.npy"))) == 2


def test_debug_shows_the_traceback_only_when_asked(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--debug", "info", "missing.npy"]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert run(["render", "x.npy", "-o", "y.png", "--cmap", "--debug"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
