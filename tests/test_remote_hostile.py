"""`remote:` against a hostile server on 127.0.0.1: malformed, oversized and silent replies never kill the link
thread, each is counted, followed by backoff, and a stop is honoured within a second."""

from __future__ import annotations

import asyncio
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tornado")

import tornado.web
import tornado.websocket

from thermtool import EndOfStream, Frame, SensorError
from thermtool.sensors.remote import MAX_HTTP_BODY, open_remote
from thermtool.view.wire import FIXED, MAGIC, encode_frame

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def good(sequence: int = 1, sensor: str = "good") -> bytes:
    return encode_frame(Frame(np.full((4, 5), 21.5, np.float32), "C", T0, sensor), sequence)


def forged(extra: bytes = b"{}", units: bytes = b"C", micros: int = 0) -> bytes:
    """A frame message with a chosen header: JSON text, units bytes and timestamp."""
    header = FIXED.size + len(extra)
    header += -header % 4
    fixed = FIXED.pack(MAGIC, header, 2, 2, 0, 1, micros, units)
    return fixed + extra.ljust(header - FIXED.size) + np.zeros(4, "<f4").tobytes()


HOSTILE = [
    forged(b"[" * 30_000 + b"]" * 30_000),  # too deep for json (RecursionError)
    forged(units=b"\xc2\xb0C"),  # non-ASCII units
    forged(micros=2**62),  # far beyond datetime's range
    forged(b'{"sensor": "x", "meta": 7}'),  # meta of the wrong type
    forged(b"[1, 2]"),  # header that is not an object
]


class Scripted(tornado.websocket.WebSocketHandler):
    """Each connection gets the next hostile message (after one good frame); once they run out, good frames."""

    def initialize(self, script: list[bytes], log: list[str]) -> None:
        self.script, self.log = script, log

    async def open(self) -> None:
        self.log.append("connect")
        await self.write_message(good(len(self.log)), binary=True)
        if self.script:
            await self.write_message(self.script.pop(0), binary=True)
            return
        for sequence in range(100):
            await self.write_message(good(sequence), binary=True)
            await asyncio.sleep(0.05)


class Silent(tornado.websocket.WebSocketHandler):
    """Accepts the WebSocket and never sends a frame."""

    def open(self) -> None:
        pass


class Body(tornado.web.RequestHandler):
    """/api/frame answering 200 with a fixed (hostile) body; counts the requests."""

    def initialize(self, body: bytes, log: list[str], headers: dict[str, str]) -> None:
        self.body, self.log, self.headers = body, log, headers

    def get(self) -> None:
        self.log.append(self.request.uri or "")
        for name, value in self.headers.items():
            self.set_header(name, value)
        self.finish(self.body)


class Hostile:
    """A tornado app on its own thread and loop, bound to a free port on 127.0.0.1."""

    def __init__(self, routes: list[Any]) -> None:
        self.routes = routes
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        server = tornado.web.Application(self.routes).listen(0, "127.0.0.1")
        self.port = next(iter(server._sockets.values())).getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.stop()
        await server.close_all_connections()

    def __enter__(self) -> Hostile:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive() and self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(10)


def read_until(remote: Any, predicate: Callable[[Frame], bool], deadline: float = 20.0) -> Frame:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        frame = remote.read(end - time.monotonic())
        if predicate(frame):
            return frame
    raise AssertionError("no matching frame in time")


def test_malformed_messages_are_bad_frames_and_the_link_lives_on() -> None:
    log: list[str] = []
    with Hostile([(r"/ws", Scripted, {"script": list(HOSTILE), "log": log})]) as server, \
            open_remote(f"ws://127.0.0.1:{server.port}/ws", backoff_max=0.3) as remote:
        read_until(remote, lambda _f: len(log) > len(HOSTILE) and remote.info["connected"])
        frame = remote.read(10.0)
        info = remote.info
    assert frame.sensor == "good" and frame.shape == (4, 5)
    assert info["bad_frames"] == len(HOSTILE) and info["link_failures"] >= len(HOSTILE)
    assert info["reconnects"] >= len(HOSTILE) and info["last_frame_age_s"] < 5.0
    assert "bad frame message" in info["last_error"]


def test_info_tells_the_truth_when_the_server_goes_away() -> None:
    log: list[str] = []
    server = Hostile([(r"/ws", Scripted, {"script": [], "log": log})]).__enter__()
    try:
        with open_remote(f"ws://127.0.0.1:{server.port}/ws", backoff_max=0.3) as remote:
            remote.read(10.0)
            server.__exit__()
            end = time.monotonic() + 10.0
            while remote.info["connected"] and time.monotonic() < end:
                time.sleep(0.05)
            time.sleep(0.3)
            info = remote.info
    finally:
        server.__exit__()
    assert not info["connected"] and info["last_error"] and info["last_frame_age_s"] >= 0.3


@pytest.mark.parametrize("when", ["connecting", "reading"])
def test_interrupt_ends_a_wait_within_a_second(when: str) -> None:
    routes: list[Any] = [(r"/ws", Silent)]
    with Hostile(routes) as server:
        url = f"ws://127.0.0.1:{server.port}/ws" if when == "reading" else "ws://10.255.255.1:9/ws"
        remote = open_remote(url, connect_timeout=30.0)
        try:
            if when == "reading":
                remote.open()
            threading.Timer(0.3, remote.interrupt).start()
            started = time.monotonic()
            with pytest.raises(EndOfStream, match="stopped"):
                remote.read()
            assert time.monotonic() - started < 0.3 + 1.0 + 1.0  # the second, plus slack on a loaded machine
        finally:
            remote.close()


def test_a_silent_server_gives_a_read_timeout_not_a_hang() -> None:
    with Hostile([(r"/ws", Silent)]) as server, \
            open_remote(f"ws://127.0.0.1:{server.port}/ws", read_timeout=0.5) as remote, \
            pytest.raises(SensorError, match=r"no frame from .* in 0\.5 s; connected"):
        remote.read()


def test_a_link_that_cannot_start_is_a_one_line_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    def out_of_descriptors() -> asyncio.AbstractEventLoop:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(asyncio, "new_event_loop", out_of_descriptors)
    remote = open_remote("ws://127.0.0.1:9/ws", connect_timeout=30.0)
    start = time.monotonic()
    with pytest.raises(SensorError, match="cannot start the link: Too many open files"):
        remote.open()
    assert time.monotonic() - start < 5.0  # at once, not after the 30 s connect timeout


def test_broken_http_bodies_are_retried_with_backoff() -> None:
    log: list[str] = []
    body = b"[" * 50_000 + b"]" * 50_000
    with Hostile([(r"/api/frame", Body, {"body": body, "log": log, "headers": {}})]) as server, \
            open_remote(f"http://127.0.0.1:{server.port}", backoff_max=1.0) as remote:
        time.sleep(2.5)
        info = remote.info
    assert info["bad_frames"] >= 2 and "bad frame body" in info["last_error"]
    assert len(log) <= 8  # 0.25 + 0.5 + 1 + 1 ... seconds apart, not thousands of requests


def test_an_http_server_repeating_the_same_frame_is_paced() -> None:
    import json

    from thermtool.view.web import frame_json

    log: list[str] = []
    body = json.dumps(frame_json(Frame(np.ones((4, 5), np.float32), "C", T0, "same"), 7, "run1")).encode()
    with Hostile([(r"/api/frame", Body, {"body": body, "log": log, "headers": {}})]) as server, \
            open_remote(f"http://127.0.0.1:{server.port}") as remote:
        assert remote.read(5.0).sensor == "same"
        time.sleep(1.5)
        assert len(log) <= 10 and remote.info["frames_skipped"] == 0  # about four requests a second, no new frames


def test_an_oversized_http_body_is_refused_before_it_is_read() -> None:
    log: list[str] = []
    body = b" " * (MAX_HTTP_BODY + 1)
    with Hostile([(r"/api/frame", Body, {"body": body, "log": log, "headers": {}})]) as server:
        remote = open_remote(f"http://127.0.0.1:{server.port}", connect_timeout=1.5, backoff_max=0.5)
        with pytest.raises(SensorError, match=f"exceeds the {MAX_HTTP_BODY}-byte cap"):
            remote.open()
    assert remote.info["bad_frames"] >= 1 and remote.info["frames_read"] == 0


@pytest.mark.parametrize("command", ["capture", "watch"])
def test_sigterm_ends_a_command_on_a_silent_remote_within_a_second(tmp_path: Path, command: str,
                                                                     signal_and_wait: Any) -> None:
    with Hostile([(r"/ws", Silent)]) as server:
        extra = ["--out", str(tmp_path / "out")] if command == "capture" else []
        proc = subprocess.Popen([sys.executable, "-m", "thermtool", command, "--sensor",
                                 f"remote:ws://127.0.0.1:{server.port}/ws", *extra],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        if command == "capture":
            end = time.monotonic() + 20.0
            while not (tmp_path / "out" / "capture.json").exists() and time.monotonic() < end:
                time.sleep(0.05)
            started = (tmp_path / "out" / "capture.json").exists()
        else:
            started = "watching remote" in proc.stderr.readline()  # connected, now waiting for frames
        time.sleep(0.2)
        err, elapsed = signal_and_wait(proc)
    assert started, f"{command} did not start"
    assert proc.returncode == 143 and "Traceback" not in err
    assert elapsed < 1.0 + 2.0  # a second, plus slack for a loaded machine


def test_forged_headers_are_input_errors_in_the_decoder() -> None:
    from thermtool import InputError
    from thermtool.view.wire import decode_frame

    for message in HOSTILE:
        with pytest.raises(InputError):
            decode_frame(message)
    with pytest.raises(InputError, match="larger than"):
        decode_frame(good(), max_pixels=10)
    assert decode_frame(good())[0].shape == (4, 5)
    assert struct.calcsize("<4sHHHHIq8s") == FIXED.size


