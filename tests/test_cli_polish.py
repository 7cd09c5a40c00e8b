"""Newcomer polish on the command line: virtual time, in-between sim rates, sensor options, typos."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from thermtool import load_frame, open_sensor
from thermtool.cli import run


def test_no_realtime_runs_a_scene_in_virtual_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["watch", "--sensor", "sim", "--scene", "person", "--no-realtime", "--duration", "120",
                "--json"]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {e["event"] for e in events} >= {"start", "end"}
    assert max(e["t"] for e in events) > 60  # two minutes of scene, in far less wall time


@pytest.mark.parametrize("kind", ["sim", "sim-lepton"])
def test_no_realtime_capture_keeps_the_rate_in_frame_time(tmp_path: Path, kind: str) -> None:
    assert run(["capture", "--sensor", kind, "--no-realtime", "--rate", "4", "--count", "5",
                "--out", str(tmp_path)]) == 0
    stamps = sorted(load_frame(p).timestamp for p in tmp_path.glob("2*.npy"))
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(stamps)]  # type: ignore[operator]
    assert len(stamps) == 5 and all(g == pytest.approx(0.25, abs=0.02) for g in gaps)


@pytest.mark.parametrize("rate", [20.0, 3.0, 0.3])
def test_sim_takes_a_rate_between_the_sensors_own(rate: float) -> None:
    sensor = open_sensor("sim", rate=rate, realtime=False)
    with sensor:
        times = []
        for _ in range(21):
            sensor.read()
            times.append(sensor.clock.monotonic())  # type: ignore[attr-defined]
    assert 20 / (times[-1] - times[0]) == pytest.approx(rate, rel=0.02)
    assert sensor.info["refresh_hz"] >= 2 * rate


def test_sim_rate_above_the_fastest_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(["capture", "--sensor", "sim", "--rate", "40", "--count", "1", "--out", str(tmp_path)]) == 2
    assert "fastest, 32 full frames/s" in capsys.readouterr().err


def test_sensor_options_are_described_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["sensors", "sim-lepton"]) == 0
    out = capsys.readouterr().out
    assert "--seed" in out and "--no-realtime" in out and "--telemetry" in out and "--refresh-hz" not in out
    assert run(["capture", "--help"]) == 0
    help_text = " ".join(re.sub(r"-\n\s+", "-", capsys.readouterr().out).split())  # undo the wrapping
    assert "remote:" in help_text and "sim-lepton[:2|3]" in help_text and "thermtool sensors KIND" in help_text
    assert "--refresh-hz FLOAT" not in help_text  # listed by name under --sensor, described by `sensors KIND`
    assert run(["sensors", "simm"]) == 2 and "unknown sensor 'simm'" in capsys.readouterr().err


@pytest.mark.parametrize(("typed", "meant"), [("snap", "snapshot"), ("captur", "capture"), ("veiw", "view")])
def test_command_typos_suggest_the_command(capsys: pytest.CaptureFixture[str], typed: str, meant: str) -> None:
    assert run([typed]) == 2
    assert f"did you mean '{meant}'?" in capsys.readouterr().err


def test_install_hints_match_how_thermtool_was_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    from thermtool.errors import install_hint

    class Installed:
        def __init__(self, text: str | None) -> None:
            self.text = text

        def read_text(self, name: str) -> str | None:
            return self.text if name == "direct_url.json" else None

    checkout = '{"url": "file:///home/pi/thermtool", "dir_info": {"editable": true}}'
    monkeypatch.setattr(metadata, "distribution", lambda name: Installed(checkout))
    assert install_hint("web") == "pip install -e '/home/pi/thermtool[web]' (the thermtool checkout)"
    monkeypatch.setattr(metadata, "distribution", lambda name: Installed('{"url": "file:///tmp/t", "dir_info": {}}'))
    assert install_hint("mqtt").startswith("pip install '/tmp/t[mqtt]'")
    monkeypatch.setattr(metadata, "distribution", lambda name: Installed(None))  # from an index
    assert install_hint("mqtt") == "pip install 'thermtool[mqtt]'"


@pytest.mark.parametrize(("environ", "rich", "expected"), [
    ({"TERM": "xterm-256color", "COLORTERM": "truecolor"}, "truecolor", "truecolor"),
    ({"TERM": "xterm-256color"}, "256", "256"),  # a local terminal that does not say
    ({"TERM": "xterm-256color", "SSH_CONNECTION": "10.0.0.2 5022 10.0.0.9 22"}, "256", "truecolor"),
    ({"TERM": "screen-256color", "SSH_TTY": "/dev/pts/3"}, "256", "truecolor"),
    ({"TERM": "xterm", "SSH_CONNECTION": "10.0.0.2 5022 10.0.0.9 22"}, "standard", "256"),
    ({"TERM": "xterm-kitty"}, "256", "truecolor"),
    ({"TERM": "xterm-direct"}, "256", "truecolor"),
])
def test_truecolor_detection_over_ssh(environ: dict[str, str], rich: str, expected: str) -> None:
    from thermtool.view.terminal import detect_color_system

    assert detect_color_system(environ, rich) == expected


def test_snapshot_caption_names_an_active_view_filter(tmp_path: Path) -> None:
    from thermtool.view.feed import FrameFeed
    from thermtool.view.session import ViewOptions, ViewSession, initial_state

    session = ViewSession(FrameFeed(open_sensor("sim", seed=1, realtime=False)), initial_state(filter=True),
                          ViewOptions(filters=("ema:4",), snapshot_dir=tmp_path))
    with session.feed:
        assert session.feed.wait(0, 10) is not None
        session.refresh()
        session.snapshot()
        assert session.frame is not None
        assert "ema4" in session.renderer.caption(session.frame)[0]
        session.act("filter")  # off again: the caption says no filter
        session.picture()
        assert "ema4" not in session.renderer.caption(session.frame)[0]
    assert len(list(tmp_path.glob("*.png"))) == 1


def test_stats_on_a_points_file_points_at_heatmap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clicks = tmp_path / "clicks.csv"
    clicks.write_text("x,y\n" + "".join(f"{i % 90},{i % 50}\n" for i in range(500)))
    assert run(["stats", str(clicks)]) == 2
    err = capsys.readouterr().err
    assert "500 rows of 2 columns are points" in err and f"thermtool heatmap {clicks}" in err
    assert err.count("\n") == 1


def test_window_help_overlay_has_one_straight_key_column() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from thermtool.view.controls import CONTROLS, help_lines
    from thermtool.view.feed import FrameFeed
    from thermtool.view.session import ViewOptions, ViewSession, initial_state
    from thermtool.view.window import MOUSE_HELP, WindowView

    lines = help_lines(MOUSE_HELP)
    assert len(lines) == len(CONTROLS) + 1 + len(MOUSE_HELP)
    columns = {len(line) - len(line.split("  ")[-1].lstrip()) for line in lines if line}
    assert len(columns) == 1  # every description starts in the same column
    figure = Figure(figsize=(3.2, 2.8), dpi=100)
    FigureCanvasAgg(figure)
    view = WindowView(ViewSession(FrameFeed(open_sensor("sim", realtime=False)), initial_state(), ViewOptions()),
                      figure=figure)
    assert view.help.get_text().splitlines() == lines
