"""Every command, the live views and watch on the new sensors' shapes: 8x8 (Grid-EYE), 12x16 (MLX90641)
and 192x256 (InfiRay P2 Pro), each from its simulated camera through its real driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from thermtool import load_frame, open_sensor
from thermtool.cli import run
from thermtool.view.wire import decode_frame, encode_frame
from thermtool.watch.watcher import watch

KINDS = {"sim-amg88xx": (8, 8), "sim-mlx90641": (12, 16), "sim-uvc": (192, 256)}


@pytest.mark.parametrize(("kind", "shape"), KINDS.items())
def test_every_command(kind: str, shape: tuple[int, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snap, folder = tmp_path / "a.npy", tmp_path / "cap"
    assert run(["snapshot", "--sensor", kind, "--seed", "1", "--out", str(snap)]) == 0
    assert load_frame(snap).shape == shape
    assert run(["--quiet", "capture", "--sensor", kind, "--count", "3", "--out", str(folder)]) == 0
    for args in (["render", str(snap), "--out", str(tmp_path / "a.png")], ["stats", str(folder)],
                 ["info", str(snap)], ["plot3d", str(snap), "--out", str(tmp_path / "p.png")],
                 ["heatmap", str(folder), "--out", str(tmp_path / "h.png")],
                 ["watch", "--sensor", kind, "--scene", "person", "--count", "4", "--warmup", "0.1", "--json"]):
        assert run(args) == 0, args
    for name in ("a.png", "p.png", "h.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert "error" not in capsys.readouterr().err


@pytest.mark.parametrize(("kind", "shape"), KINDS.items())
def test_live_view_pictures(kind: str, shape: tuple[int, int], terminal_view: Any) -> None:
    session, view, buffer = terminal_view(open_sensor(kind, seed=1))
    with session.feed:
        assert session.feed.wait(0, 10.0) is not None
        session.refresh()
        picture = session.picture((320, 240))
        view.console.print(view.renderable())
        saved = session.snapshot()
    assert session.frame is not None and session.frame.shape == shape
    assert picture is not None and picture.rgb.shape[2] == 3 and np.ptp(picture.rgb) > 0
    assert "38;5;" in buffer.getvalue() and saved and all(p.exists() for p in saved)
    sent, sequence = decode_frame(encode_frame(session.frame, 7))  # the web view's /ws frame message
    assert sequence == 7 and np.array_equal(sent.data, session.frame.data)


@pytest.mark.parametrize(("kind", "rate"), [("sim-amg88xx", 10), ("sim-mlx90641", 16), ("sim-uvc", 25)])
def test_watch_sees_the_scripted_person(kind: str, rate: int) -> None:
    with open_sensor(kind, realtime=False, seed=2, rate=rate, scene="person") as sensor:
        frames = [sensor.read() for _ in range(12 * rate)]  # 12 s of scene time: the person walks in at ~6 s
    starts = [e for e in watch(frames, warmup=2.0) if e.kind == "start"]
    assert starts and all(e.time > frames[2 * rate].timestamp for e in starts)
