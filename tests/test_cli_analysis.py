"""The analysis commands (heatmap, plot3d, stats) end to end: outputs, numbers and exit codes."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from thermtool import Frame
from thermtool.analysis.aggregate import aggregate, parse_stat
from thermtool.analysis.heatmap import density
from thermtool.cli import cli, run
from thermtool.formats.npz import write_recording

START = datetime(2026, 5, 6, 7, 8, 9, tzinfo=timezone.utc)


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The one stderr line of a failed command."""
    err = capsys.readouterr().err
    assert err.startswith("thermtool: error:") and err.count("\n") == 1, err
    return err


def read_png(path: Path) -> np.ndarray:
    picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert picture is not None, f"{path} is not a picture"
    return picture[:, :, ::-1]


@pytest.fixture
def clicks() -> np.ndarray:
    rng = np.random.default_rng(3)
    centres = np.array([[60.0, 40.0], [150.0, 90.0]])
    return np.round(centres[rng.integers(0, 2, 3000)] + rng.normal(0, 12, (3000, 2)))


@pytest.fixture
def frames() -> list[Frame]:
    rng = np.random.default_rng(9)
    result = []
    for i in range(5):
        data = 20 + rng.normal(0, 0.3, (24, 32))
        data[5:9, 3 + 4 * i:7 + 4 * i] = 36.0  # a warm body walking right
        result.append(Frame(data, "C", START + timedelta(seconds=i), "sim", {}))
    return result


@pytest.fixture
def recording(tmp_path: Path, frames: list[Frame]) -> Path:
    return write_recording(frames, tmp_path / "walk.npz")


# --- heatmap ---

def test_heatmap_of_every_point_format_equals_the_library_density(tmp_path: Path, clicks: np.ndarray) -> None:
    expected = density(clicks, (200, 120), 6)
    (tmp_path / "c.csv").write_text("x,y\n" + "".join(f"{x:g},{y:g}\n" for x, y in clicks))
    (tmp_path / "c.json").write_text(json.dumps(clicks.tolist()))
    unique, counts = np.unique(clicks, axis=0, return_counts=True)
    counted = {f"{x:g},{y:g}": int(n) for (x, y), n in zip(unique, counts, strict=True)}
    (tmp_path / "d.json").write_text(json.dumps(counted))
    np.save(tmp_path / "c.npy", clicks)
    for name in ("c.csv", "c.json", "d.json", "c.npy"):
        out = tmp_path / f"{name}.png"
        npy = tmp_path / f"{name}.density.npy"
        args = ["heatmap", str(tmp_path / name), "-o", str(out), "--npy", str(npy), "--size", "200x120", "--sigma", "6"]
        assert run(args) == 0, name
        np.testing.assert_allclose(np.load(npy), expected, rtol=1e-4, atol=1e-7 * expected.max())
        assert read_png(out).shape == (120, 200, 3)


def test_heatmap_reports_counts_and_fits_the_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.csv"
    source.write_text("x,y\n10,5\n29.5,19.2\nnan,3\n-4,2\n")
    assert run(["heatmap", str(source), "-o", str(tmp_path / "h.png")]) == 0
    err = capsys.readouterr().err
    assert "2 points on 30x20, 1 outside, 1 NaN, 0 bad lines skipped" in err
    assert read_png(tmp_path / "h.png").shape == (20, 30, 3)


def test_heatmap_skip_bad_and_malformed_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "p.csv"
    source.write_text("x,y\n1,2\n3,4\nthree,four\n5,6\n")
    assert run(["heatmap", str(source), "-o", str(tmp_path / "h.png"), "--size", "10x10"]) == 2
    assert "p.csv: line 4: expected x,y numbers" in error_line(capsys)
    assert not (tmp_path / "h.png").exists()
    assert run(["heatmap", str(source), "-o", str(tmp_path / "h.png"), "--size", "10x10", "--skip-bad"]) == 0
    assert "3 points on 10x10, 0 outside, 0 NaN, 1 bad lines skipped" in capsys.readouterr().err


def test_heatmap_over_a_background(tmp_path: Path, clicks: np.ndarray) -> None:
    background = np.zeros((120, 200, 3), np.uint8)
    background[:, :, 1] = np.linspace(0, 255, 200, dtype=np.uint8)[None, :]
    cv2.imwrite(str(tmp_path / "screen.png"), background[:, :, ::-1])
    np.save(tmp_path / "c.npy", clicks)
    assert run(["heatmap", str(tmp_path / "c.npy"), "-o", str(tmp_path / "h.png"),
                "--background", str(tmp_path / "screen.png"), "--scale", "sqrt"]) == 0
    picture = read_png(tmp_path / "h.png")
    assert picture.shape == (120, 200, 3) and not np.array_equal(picture, background)
    assert run(["heatmap", str(tmp_path / "c.npy"), "-o", str(tmp_path / "clear.png"),
                "--background", str(tmp_path / "screen.png"), "--alpha", "0"]) == 0
    np.testing.assert_array_equal(read_png(tmp_path / "clear.png"), background)


def test_heatmap_of_frames_aggregates_per_pixel(tmp_path: Path, recording: Path, frames: list[Frame]) -> None:
    out, npy = tmp_path / "hot.png", tmp_path / "hot.npy"
    assert run(["heatmap", str(recording), "-o", str(out), "--npy", str(npy), "--stat", "above:30",
                "--scale", "log"]) == 0
    expected, _ = aggregate((f.data for f in frames), parse_stat("above:30"))
    np.testing.assert_array_equal(np.load(npy), expected)
    assert np.load(npy)[6, 4] == pytest.approx(0.2) and read_png(out).shape == (480, 640, 3)
    assert run(["heatmap", str(recording), "-o", str(tmp_path / "mean.png"), "--stat", "mean",
                "--size", "64x48", "--sigma", "2"]) == 0
    assert read_png(tmp_path / "mean.png").shape == (48, 64, 3)


@pytest.mark.parametrize("args,problem", [
    (["--size", "200x120", "--cmap", "no-such-map"], "unknown colormap"),
    (["--size", "0x10"], "at least 1"),
    (["--size", "wide"], "WIDTHxHEIGHT"),
    (["--stat", "median"], "unknown statistic"),
    (["--background", "missing.png"], "no such file"),
    (["--npy", "out.txt"], "name it .npy"),
])
def test_heatmap_bad_options(tmp_path: Path, clicks: np.ndarray, capsys: pytest.CaptureFixture[str],
                             args: list[str], problem: str) -> None:
    np.save(tmp_path / "c.npy", clicks)
    assert run(["heatmap", str(tmp_path / "c.npy"), "-o", str(tmp_path / "h.png"), *args]) == 2
    assert problem in error_line(capsys)


def test_heatmap_of_frames_refuses_mixed_shapes_and_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Frame(np.full((6, 8), 20.0), "C").save(tmp_path / "a.npy")
    Frame(np.full((6, 8), 70.0), "F").save(tmp_path / "b.npy")
    assert run(["heatmap", str(tmp_path), "-o", str(tmp_path / "h.png")]) == 2
    assert "frames in different units (C, then F)" in error_line(capsys)
    (tmp_path / "b.npy").unlink()
    (tmp_path / "b.json").unlink()
    Frame(np.full((4, 8), 20.0), "C").save(tmp_path / "c.npy")
    assert run(["heatmap", str(tmp_path), "-o", str(tmp_path / "h.png")]) == 2
    assert "differ in shape" in error_line(capsys)


@pytest.mark.parametrize("name,content,problem", [
    ("bad.json", "[[1, 2], [3]", "line 1: not valid JSON"),
    ("bad.json", '{"1,2": 3, "x": 1}', "entry 2"),
    ("bad.npy", None, "pickled"),
    ("missing.csv", "", "no such file"),
    ("bad.csv", "1,2\n1,2,3\n", "line 2"),
])
def test_heatmap_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                            content: str | None, problem: str) -> None:
    path = tmp_path / name
    if content is None:
        np.save(path, np.array([[1, 2]], dtype=object), allow_pickle=True)
    elif name != "missing.csv":
        path.write_text(content)
    assert run(["heatmap", str(path), "-o", str(tmp_path / "h.png"), "--size", "10x10"]) == 2
    assert problem in error_line(capsys)


def test_heatmap_needs_an_output_and_keeps_existing_files(tmp_path: Path, clicks: np.ndarray,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "c.npy", clicks)
    assert run(["heatmap", str(tmp_path / "c.npy")]) == 2
    assert "nothing to write" in error_line(capsys)
    (tmp_path / "h.png").write_bytes(b"precious")
    assert run(["heatmap", str(tmp_path / "c.npy"), "-o", str(tmp_path / "h.png")]) == 2
    assert "--force" in error_line(capsys)
    assert (tmp_path / "h.png").read_bytes() == b"precious"
    assert run(["heatmap", str(tmp_path / "c.npy"), "-o", str(tmp_path / "h.png"), "--force"]) == 0


def test_heatmap_warns_when_no_point_is_inside(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "p.csv").write_text("500,500\n")
    assert run(["heatmap", str(tmp_path / "p.csv"), "-o", str(tmp_path / "h.png"), "--size", "10x10"]) == 0
    assert "no point fell inside the 10x10 grid" in capsys.readouterr().err


def test_heatmap_through_click_runner(tmp_path: Path, clicks: np.ndarray) -> None:
    np.save(tmp_path / "c.npy", clicks)
    runner = CliRunner()
    result = runner.invoke(cli, ["heatmap", str(tmp_path / "c.npy"), "-o", str(tmp_path / "h.png")])
    assert result.exit_code == 0, result.output
    help_text = runner.invoke(cli, ["heatmap", "--help"]).output
    assert "--stat" in help_text and "Example" in help_text
    assert runner.invoke(cli, ["heatmap", str(tmp_path / "c.npy"), "--scale", "cubic"]).exit_code == 2


# --- plot3d ---

def test_plot3d_png_of_reference_lepton_frame_has_every_pixel(reference: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from thermtool.cli import plot3d as command

    source = reference / "lepton" / "balloon_lepton2_raw14_img0-10.npy"
    if not source.exists():
        pytest.skip(f"{source} is not present")
    drawn = []

    def spy(*args: object, **kwargs: object) -> object:
        drawn.append(real(*args, **kwargs))
        return drawn[-1]

    real = command.draw_surface
    monkeypatch.setattr(command, "draw_surface", spy)
    out = tmp_path / "surface.png"
    assert run(["plot3d", str(source), "--index", "3", "-o", str(out), "--with-2d"]) == 0
    assert read_png(out).shape[0] > 300
    counts = np.load(source)[3].astype(np.float64)
    values = drawn[0].get_array()
    assert len(values) == 59 * 79
    quads = (counts[:-1, :-1] + counts[:-1, 1:] + counts[1:, :-1] + counts[1:, 1:]) / 4
    np.testing.assert_allclose(values, quads.ravel(), rtol=1e-6)


def test_plot3d_recording_needs_an_index(recording: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["plot3d", str(recording), "-o", str(tmp_path / "s.png")]) == 2
    assert "--index" in error_line(capsys)
    assert run(["plot3d", str(recording), "-o", str(tmp_path / "s.png"), "--index", "-1", "--elev", "60"]) == 0


def test_plot3d_html_is_self_contained(recording: Path, tmp_path: Path) -> None:
    pytest.importorskip("plotly")
    page = tmp_path / "surface.html"
    assert run(["plot3d", str(recording), "--index", "2", "--html", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc\s*=", text, re.IGNORECASE)
    assert "walk.npz[2]: sim, 2026-05-06 07:08:11 UTC" in text


def test_plot3d_html_without_plotly(recording: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "plotly", None)
    assert run(["plot3d", str(recording), "--index", "0", "--html", str(tmp_path / "s.html")]) == 2
    assert "[plotly]'" in error_line(capsys)  # pip install 'thermtool[plotly]', or the checkout's path


def test_plot3d_without_display_suggests_a_file(recording: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert run(["plot3d", str(recording), "--index", "0"]) == 2
    assert "-o plot.png" in error_line(capsys)


@pytest.mark.parametrize("args,problem", [(["-o", "s.jpg"], "name it .png"), (["--html", "s.txt"], "name it .html"),
                                          (["-o", "s.png", "--cmap", "nope"], "unknown colormap"),
                                          (["-o", "s.png", "--index", "9"], "out of range")])
def test_plot3d_bad_options(recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch, args: list[str], problem: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert run(["plot3d", str(recording), "--index", "0", *args]) == 2  # a repeated --index: the last counts
    assert problem in error_line(capsys)


def test_plot3d_through_click_runner(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.png"
    result = CliRunner().invoke(cli, ["plot3d", str(recording), "-i", "1", "-o", str(out), "--cmap", "inferno",
                                      "--dpi", "50"])
    assert result.exit_code == 0, result.output
    assert read_png(out).shape == (350, 450, 3)  # 9 x 7 inches at 50 dpi


# --- stats ---

def test_stats_json_matches_numpy(tmp_path: Path, frames: list[Frame], capsys: pytest.CaptureFixture[str]) -> None:
    path = frames[0].save(tmp_path / "one.npy")
    assert run(["stats", str(path), "--json", "--percentiles", "10,90", "--spot", "hot=4,6",
                "--box", "wall=20,15,5,5", "--box", "24,0,2,2"]) == 0
    record = json.loads(capsys.readouterr().out)
    data = frames[0].data.astype(np.float64)
    assert record["source"] == str(path) and record["frames"] == 1 and record["units"] == "C"
    assert record["min"] == pytest.approx(data.min()) and record["max"] == pytest.approx(data.max())
    assert record["mean"] == pytest.approx(data.mean()) and record["std"] == pytest.approx(data.std())
    assert record["percentiles"]["p90"] == pytest.approx(np.percentile(data, 90))
    assert record["hottest"] == {"x": 3, "y": 5, "frame": 0}  # the first pixel of the 36 C body
    assert [a["name"] for a in record["areas"]] == ["hot", "wall", "bx2"]
    assert record["areas"][1]["mean"] == pytest.approx(data[15:20, 20:25].mean())
    assert record["areas"][1]["delta_mean"] == pytest.approx(data[15:20, 20:25].mean() - 36.0)
    assert sum(record["histogram"]["counts"]) == data.size


def test_stats_table(tmp_path: Path, frames: list[Frame], capsys: pytest.CaptureFixture[str]) -> None:
    path = frames[0].save(tmp_path / "one.npy")
    assert run(["stats", str(path), "--box", "door=3,5,4,4", "--box", "wall=20,15,4,4", "--ref", "wall",
                "--units", "F"]) == 0
    out = capsys.readouterr().out
    assert "1 frame(s) of 32x24 in F" in out and "range (ΔT)" in out and "histogram" in out
    assert "Δ mean vs wall" in out and "96.80" in out  # the door box is all 36 C = 96.8 F


def test_stats_csv_time_series(tmp_path: Path, recording: Path, frames: list[Frame]) -> None:
    out = tmp_path / "series.csv"
    assert run(["stats", str(recording), "--csv", str(out), "--spot", "body=5,6", "--json"]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 5 and rows[2]["time"] == (START + timedelta(seconds=2)).isoformat()
    for row, frame in zip(rows, frames, strict=True):
        assert float(row["max"]) == pytest.approx(float(frame.data.max()))
        assert float(row["mean"]) == pytest.approx(float(frame.data.astype(np.float64).mean()))
        assert float(row["body_mean"]) == pytest.approx(float(frame.data[6, 5]))


def test_stats_csv_to_stdout(recording: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["stats", str(recording), "--csv", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("source,frame,time,units,min,max") and len(lines) == 6


def test_stats_from_the_simulated_sensor(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["stats", "--sensor", "sim", "--seed", "1", "--count", "2", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["frames"] == 2 and record["shape"] == [24, 32] and record["source"] == "sensor sim"


@pytest.mark.parametrize("extra,problem", [
    (["--sensor", "sim"], "not both"),
    (["--count", "3"], "--count applies to --sensor"),
    (["--box", "1,2,3"], "--box"),
    (["--spot", "40,3"], "outside the 32x24 frame"),
    (["--spot", "a=1,2", "--box", "a=1,2,3,4"], "used twice"),
    (["--box", "a=1,2,3,4", "--ref", "b"], "--ref 'b'"),
    (["--percentiles", "5,x"], "--percentiles"),
    (["--percentiles", "150"], "0..100"),
])
def test_stats_bad_usage(tmp_path: Path, frames: list[Frame], capsys: pytest.CaptureFixture[str],
                         extra: list[str], problem: str) -> None:
    path = frames[0].save(tmp_path / "one.npy")
    assert run(["stats", str(path), *extra]) == 2
    assert problem in error_line(capsys)


def test_stats_bad_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["stats", str(tmp_path / "none.npy")]) == 2
    assert "no such file" in error_line(capsys)
    np.save(tmp_path / "raw.npy", np.full((6, 8), 8000, dtype=np.uint16))
    assert run(["stats", str(tmp_path / "raw.npy"), "--units", "F"]) == 2
    assert "cannot convert counts" in error_line(capsys)
    np.save(tmp_path / "nan.npy", np.full((6, 8), np.nan, dtype=np.float32))
    assert run(["stats", str(tmp_path / "nan.npy")]) == 2
    assert "nan.npy: holds no finite values" in error_line(capsys)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    np.save(mixed / "a.npy", np.full((6, 8), 8000, dtype=np.uint16))
    Frame(np.full((6, 8), 20.0), "C").save(mixed / "b.npy")
    assert run(["stats", str(mixed)]) == 2
    assert "frames in different units (C, counts)" in error_line(capsys)


def test_stats_through_click_runner(tmp_path: Path, frames: list[Frame]) -> None:
    path = frames[0].save(tmp_path / "one.npy")
    result = CliRunner().invoke(cli, ["stats", str(path), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["frames"] == 1
