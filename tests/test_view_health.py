"""Live views say when frames stop: stalled, reconnecting (remote), ended; never a frozen frame rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from thermtool import Frame
from thermtool.formats.npz import write_recording
from thermtool.sensors import open_sensor
from thermtool.view.feed import FrameFeed
from thermtool.view.session import STALE_MIN, ViewOptions, ViewSession, feed_health, initial_state


def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "condition not met in time"
        time.sleep(0.05)


def test_feed_health_states() -> None:
    assert feed_health(8.7, 0.1, False, False, None).text == " 8.7 fps"
    assert feed_health(8.7, 0.1, False, False, None).state == "live"
    stalled = feed_health(8.7, 12.4, False, False, None)
    assert stalled.state == "stalled" and stalled.text == "no frame for 12 s (stalled)" and "fps" not in stalled.text
    assert feed_health(8.7, 12.4, False, False, False).state == "reconnecting"
    assert feed_health(0.5, 5.0, False, False, None).state == "live"  # a slow camera: three intervals of grace
    assert feed_health(0.5, 6.5, False, False, None).state == "stalled"
    assert feed_health(8.7, 0.1, True, False, None).text == "stream ended"
    assert feed_health(8.7, 0.1, False, True, None).state == "error"
    assert feed_health(0.0, None, False, False, None).state == "waiting"
    assert feed_health(0.0, None, False, False, False).state == "reconnecting"


def frames(count: int) -> list[Frame]:
    return [Frame(np.full((24, 32), 20.0 + i, np.float32), "C", 1000.0 + 0.125 * i, "rec") for i in range(count)]


def session_over(spec: str, tmp_path: Path) -> ViewSession:
    return ViewSession(FrameFeed(open_sensor(spec), read_timeout=0.2), initial_state(),
                       ViewOptions(snapshot_dir=tmp_path))


def test_after_a_replay_ends_the_rate_does_not_stay(tmp_path: Path) -> None:
    recording = write_recording(frames(6), tmp_path / "short.npz")
    session = session_over(f"replay:{recording}", tmp_path)
    with session.feed:
        until(lambda: session.feed.ended)
        session.refresh()
        first, second = session.status_lines()
    assert "fps" not in first and first.startswith("stream ended") and "end of stream" in second


def test_a_driver_bug_ends_the_feed_with_a_shown_error_not_a_dead_thread(tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    recording = write_recording(frames(3), tmp_path / "short.npz")
    session = session_over(f"replay:{recording}", tmp_path)

    def broken_callback(_sequence: int, _frame: Frame) -> None:
        raise ValueError("a bug")

    session.feed.on_frame = broken_callback
    with session.feed:
        until(lambda: not session.feed.running)
        session.refresh()
        _, second = session.status_lines()
    assert "sensor error: internal error: ValueError: a bug" in second
    assert "Traceback" not in capsys.readouterr().err


def test_a_remote_feed_that_loses_its_server_says_reconnecting(tmp_path: Path) -> None:
    pytest.importorskip("tornado")
    from thermtool.view.web import ServerThread, WebOptions, WebServer

    upstream = ServerThread(WebServer(session_over("sim", tmp_path), WebOptions(port=0))).start()
    session = session_over(f"remote:ws://127.0.0.1:{upstream.server.port}/ws", tmp_path)
    try:
        with session.feed:
            until(lambda: session.feed.sequence >= 3)
            assert session.refresh() and session.health().state == "live" and "fps" in session.status_lines()[0]
            upstream.stop()
            until(lambda: session.health().state == "reconnecting", timeout=STALE_MIN + 10.0)
            assert session.refresh()  # the status changed, so views redraw it
            first = session.status_lines()[0]
    finally:
        upstream.stop()
    assert first.startswith("no frame for") and "(reconnecting)" in first and "fps" not in first


def test_the_web_status_says_when_the_stream_ended(tmp_path: Path) -> None:
    pytest.importorskip("tornado")
    import json
    import urllib.request

    from thermtool.view.web import ServerThread, WebOptions, WebServer

    recording = write_recording(frames(4), tmp_path / "short.npz")
    sensor = open_sensor(f"replay:{recording}", loop=False)
    session = ViewSession(FrameFeed(sensor, read_timeout=0.2), initial_state(), ViewOptions(snapshot_dir=tmp_path))
    with ServerThread(WebServer(session, WebOptions(port=0))) as server:
        url = f"http://127.0.0.1:{server.server.port}/api/state"

        def health() -> dict[str, object]:
            with urllib.request.urlopen(url, timeout=10) as response:
                status = json.loads(response.read())
            return {"fps": status["fps"], **status["health"]}

        until(lambda: health()["state"] == "ended")
        assert health()["fps"] == 0.0 and health()["text"] == "stream ended"
