"""The web view over HTTP: MJPEG parts, one encode per frame for any number of clients, slow clients, the API,
the WebSocket, tokens, cross-origin refusals and the client limit. Servers run on 127.0.0.1 ephemeral ports."""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("tornado")

from thermtool import Frame, SensorTimeoutError, load_frame, open_sensor
from thermtool.sensors.base import Sensor
from thermtool.view.feed import FrameFeed
from thermtool.view.session import ViewOptions, ViewSession, initial_state
from thermtool.view.web import ServerThread, WebOptions, WebServer
from thermtool.view.wire import decode_frame


class ManualSensor(Sensor):
    """Frames only when the test pushes them, so counts are exact."""

    kind = "manual"

    def __init__(self) -> None:
        super().__init__()
        self.queue: queue.Queue[Frame] = queue.Queue()
        self.index = 0

    def push(self, count: int = 1, shape: tuple[int, int] = (24, 32)) -> None:
        for _ in range(count):
            ramp = np.linspace(15.0, 35.0, shape[0] * shape[1], dtype=np.float32).reshape(shape)
            self.queue.put(Frame(ramp + self.index * 0.25, "C", sensor="manual", meta={"i": self.index}))
            self.index += 1

    def _read(self, timeout: float | None) -> Frame:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            raise SensorTimeoutError("no frame pushed") from None


def serve(tmp_path: Path, sensor: Sensor | None = None, size: tuple[int, int] = (240, 320),
          **web: Any) -> ServerThread:
    session = ViewSession(FrameFeed(sensor or open_sensor("sim", seed=3, rate=16), read_timeout=0.2),
                          initial_state(), ViewOptions(size=size, snapshot_dir=tmp_path))
    return ServerThread(WebServer(session, WebOptions(port=0, **web))).start()


@pytest.fixture
def manual(tmp_path: Path) -> Iterator[tuple[ServerThread, ManualSensor]]:
    sensor = ManualSensor()
    server = serve(tmp_path, sensor)
    try:
        yield server, sensor
    finally:
        server.stop()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[ServerThread]:
    server = serve(tmp_path)
    try:
        yield server
    finally:
        server.stop()


def request(server: ServerThread, method: str, path: str, body: Any = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.server.port, timeout=10)
    payload = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    conn.request(method, path, body=payload, headers=all_headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, dict(response.getheaders()), data


class MJPEGReader:
    """Reads multipart JPEG parts from /stream.mjpg and checks their framing."""

    def __init__(self, server: ServerThread, headers: dict[str, str] | None = None) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", server.server.port, timeout=10)
        self.conn.request("GET", "/stream.mjpg", headers=headers or {})
        self.response = self.conn.getresponse()
        self.status = self.response.status
        content_type = self.response.getheader("Content-Type", "")
        self.boundary = content_type.split("boundary=")[-1].encode() if "boundary=" in content_type else b""

    def part(self) -> tuple[dict[str, str], bytes]:
        line = self.response.readline()
        assert line == b"--" + self.boundary + b"\r\n", line
        headers: dict[str, str] = {}
        while (line := self.response.readline()) != b"\r\n":
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.response.read(int(headers["content-length"]))
        assert self.response.read(2) == b"\r\n"
        return headers, body

    def close(self) -> None:
        self.conn.close()


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_mjpeg_parts_are_valid_jpegs(live: ServerThread) -> None:
    reader = MJPEGReader(live)
    assert reader.status == 200 and reader.boundary == b"thermtoolframe"
    seqs = []
    for _ in range(3):
        headers, body = reader.part()
        assert headers["content-type"] == "image/jpeg" and body[:2] == b"\xff\xd8" and body[-2:] == b"\xff\xd9"
        picture = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
        assert picture.shape == (240, 320, 3)
        seqs.append(int(headers["x-frame-seq"]))
    reader.close()
    assert seqs == sorted(set(seqs))


def test_each_frame_is_encoded_once_for_all_clients(manual: tuple[ServerThread, ManualSensor]) -> None:
    server, sensor = manual
    stats = server.server.stats
    readers = [MJPEGReader(server) for _ in range(4)]
    wait_for(lambda: stats.stream_clients == 4)
    received: list[list[tuple[int, bytes]]] = [[] for _ in readers]
    for frame_number in range(1, 6):
        sensor.push()
        for reader, got in zip(readers, received, strict=True):
            headers, body = reader.part()
            got.append((int(headers["x-frame-seq"]), body))
        assert stats.frames == frame_number and stats.pictures == frame_number
    for reader in readers:
        reader.close()
    assert all([s for s, _ in got] == [1, 2, 3, 4, 5] for got in received)
    assert all(got == received[0] for got in received)  # the very same bytes went to every client


def test_a_slow_client_skips_pictures_and_buffers_at_most_one(tmp_path: Path) -> None:
    sensor = ManualSensor()
    server = serve(tmp_path, sensor, size=(960, 1280), quality=95)
    try:
        stats = server.server.stats
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", server.server.port))
        slow.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        fast = MJPEGReader(server)
        wait_for(lambda: stats.stream_clients == 2)
        for number in range(1, 41):
            sensor.push(shape=(120, 160))
            headers, _ = fast.part()
            assert int(headers["x-frame-seq"]) == number  # the fast client misses nothing
        assert stats.frames == 40 and stats.pictures == 40  # the camera loop never waited for the slow client
        assert stats.parts_sent < 2 * 40  # the slow client got fewer pictures
        pending = [len(c.stream._write_buffer) for c in server.server._http._connections]  # type: ignore[union-attr]
        assert max(pending) <= 2 * stats.jpeg_bytes  # one picture in flight per client, not a backlog
        slow.close()
        fast.close()
    finally:
        server.stop()


def test_state_get_and_post(live: ServerThread) -> None:
    status, _, body = request(live, "GET", "/api/state")
    state = json.loads(body)
    assert status == 200 and state["state"]["cmap"] == "inferno" and "ironbow" in state["state"]["choices"]["cmap"]
    status, _, body = request(live, "POST", "/api/state", {"action": "cmap_next"})
    assert status == 200 and json.loads(body)["state"]["cmap"] == "ironbow"
    status, _, body = request(live, "POST", "/api/state", {"key": "t", "spot": [2, 3]})
    state = json.loads(body)["state"]
    assert (state["units"], state["spot"]) == ("F", [2, 3])
    assert live.server.session.state.units == "F"
    for bad in ({"cmap": "nope"}, {"key": "z"}, {"colour": 1}):
        assert request(live, "POST", "/api/state", bad)[0] == 400
    assert request(live, "POST", "/api/state", b"[1, 2]", {"Content-Type": "application/json"})[0] == 400
    assert request(live, "POST", "/api/state", {"action": "quit"})[0] == 403  # serve: no quit from the page


def test_quit_action_stops_a_view_server(tmp_path: Path) -> None:
    server = serve(tmp_path, allow_quit=True)
    try:
        assert request(server, "POST", "/api/state", {"action": "quit"})[0] == 200
        server._thread.join(10)
        assert not server._thread.is_alive() and server.error is None
    finally:
        server.stop()


def test_snapshot_saves_and_returns_the_png(live: ServerThread, tmp_path: Path) -> None:
    wait_for(lambda: live.server.stats.pictures > 0)
    status, headers, body = request(live, "POST", "/api/snapshot")
    assert status == 200 and headers["Content-Type"] == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n"
    saved = [Path(p) for p in headers["X-Thermtool-Saved"].split(", ")]
    assert saved[0].read_bytes() == body and load_frame(saved[1]).shape == (24, 32)
    assert saved[0].parent == tmp_path
    assert request(live, "POST", "/api/snapshot")[1]["X-Thermtool-Saved"] != headers["X-Thermtool-Saved"]
    assert request(live, "GET", "/api/snapshot")[0] == 405


def test_frame_as_json_and_npy(manual: tuple[ServerThread, ManualSensor]) -> None:
    server, sensor = manual
    sensor.push()
    status, _, body = request(server, "GET", "/api/frame")
    data = json.loads(body)
    assert status == 200 and data["units"] == "C" and data["sensor"] == "manual" and data["seq"] == 1
    assert np.array(data["data"], np.float32).shape == (24, 32) and data["meta"] == {"i": 0}
    for path, headers in (("/api/frame?format=npy", {}), ("/api/frame", {"Accept": "application/octet-stream"})):
        status, response_headers, body = request(server, "GET", path, headers=headers)
        array = np.load(io.BytesIO(body), allow_pickle=False)
        assert status == 200 and array.dtype == np.float32
        assert np.array_equal(array, np.array(data["data"], np.float32))
        assert response_headers["X-Thermtool-Units"] == "C" and response_headers["X-Thermtool-Seq"] == "1"
    assert request(server, "GET", "/api/frame?after=1&timeout=0.2")[0] == 504
    stream = data["stream"]
    threading.Timer(0.2, sensor.push).start()
    status, _, body = request(server, "GET", f"/api/frame?after=1&timeout=5&stream={stream}")
    assert status == 200 and json.loads(body)["seq"] == 2
    # a sequence from another server run starts over instead of waiting for a number never reached
    status, _, body = request(server, "GET", "/api/frame?after=99&timeout=1&stream=another-run")
    assert status == 200 and json.loads(body)["seq"] == 2


def test_websocket_sends_binary_frames_and_status(manual: tuple[ServerThread, ManualSensor]) -> None:
    from tornado.websocket import websocket_connect

    server, sensor = manual

    async def talk() -> tuple[list[Any], list[Any]]:
        conn = await websocket_connect(f"ws://127.0.0.1:{server.server.port}/ws?status=1")
        binary: list[bytes] = []
        text: list[str] = []
        while len(binary) < 3 or not text:
            if len(binary) == sensor.index:
                sensor.push()  # the next frame once the previous one arrived (a newer frame replaces an unsent one)
            message = await conn.read_message()
            assert message is not None
            (binary if isinstance(message, bytes) else text).append(message)
        conn.close()
        return binary, text

    binary, text = asyncio.run(asyncio.wait_for(talk(), 10))
    frames = [decode_frame(m) for m in binary]
    assert [seq for _, seq in frames] == list(range(1, len(frames) + 1))  # every frame, in order
    assert frames[-1][0].meta == {"i": len(frames) - 1} and frames[-1][0].sensor == "manual"
    status = json.loads(text[-1])
    assert status["state"]["cmap"] == "inferno" and status["view"]["shape"] == [24, 32]
    assert status["readout"]["units"] == "C"


def test_token_protects_every_endpoint(tmp_path: Path) -> None:
    server = serve(tmp_path, token="s3cret")
    try:
        for path in ("/", "/api/state", "/api/frame", "/api/stats", "/stream.mjpg", "/ws"):
            assert request(server, "GET", path)[0] == 401, path
        assert request(server, "POST", "/api/state", {"key": "c"})[0] == 401
        assert request(server, "POST", "/api/snapshot")[0] == 401
        assert request(server, "GET", "/api/stats", headers={"Authorization": "Bearer wrong"})[0] == 401
        assert request(server, "GET", "/api/stats", headers={"Authorization": "Bearer s3cret"})[0] == 200
        status, headers, _ = request(server, "GET", "/?token=s3cret")
        assert status == 200 and "thermtool_token=s3cret" in headers["Set-Cookie"]
        assert "httponly" in headers["Set-Cookie"].lower() and "samesite=strict" in headers["Set-Cookie"].lower()
        assert request(server, "GET", "/api/stats", headers={"Cookie": "thermtool_token=s3cret"})[0] == 200
        assert request(server, "GET", "/api/stats?token=s3cret")[0] == 200
        assert server.server.urls() == [f"http://127.0.0.1:{server.server.port}/?token=s3cret"]
    finally:
        server.stop()


def test_cross_origin_and_foreign_hosts_are_refused(live: ServerThread) -> None:
    port = live.server.port
    evil = {"Origin": "http://evil.example"}
    assert request(live, "POST", "/api/state", {"key": "c"}, evil)[0] == 403
    assert request(live, "POST", "/api/snapshot", None, evil)[0] == 403
    assert request(live, "POST", "/api/state", {"key": "c"}, {"Sec-Fetch-Site": "cross-site"})[0] == 403
    own = {"Origin": f"http://127.0.0.1:{port}", "Sec-Fetch-Site": "same-origin"}
    assert request(live, "POST", "/api/state", {"key": "c"}, own)[0] == 200
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert request(live, "POST", "/api/state", b"key=c", form)[0] == 415  # only JSON, which needs CORS to send
    assert request(live, "GET", "/api/state", headers={"Host": f"rebind.example:{port}"})[0] == 403
    assert request(live, "GET", "/api/state", headers={"Host": f"localhost:{port}"})[0] == 200
    assert live.server.session.state.cmap == "ironbow"  # only the same-origin request changed anything


def test_client_limit(tmp_path: Path) -> None:
    server = serve(tmp_path, max_clients=2)
    try:
        readers = [MJPEGReader(server) for _ in range(2)]
        for reader in readers:
            reader.part()
        third = MJPEGReader(server)
        assert third.status == 503 and server.server.stats.refused_clients == 1
        third.close()
        readers[0].close()
        wait_for(lambda: server.server.stats.stream_clients == 1)
        again = MJPEGReader(server)
        assert again.status == 200
        again.close()
        readers[1].close()
    finally:
        server.stop()


def test_page_is_self_contained(live: ServerThread) -> None:
    status, headers, body = request(live, "GET", "/")
    page = body.decode()
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert "http://" not in page and "https://" not in page and "//cdn" not in page  # nothing from the internet
    for action in ("snapshot", "cmap_next", "cmap_prev", "upscaler_next", "upscaler_prev", "units", "filter",
                   "range", "lock", "pause", "help"):
        assert f'data-action="{action}"' in page
    assert 'data-action="quit"' not in page
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_port_in_use_is_a_clear_error(live: ServerThread, tmp_path: Path) -> None:
    from thermtool import InputError

    session = ViewSession(FrameFeed(open_sensor("sim", seed=1)), initial_state(), ViewOptions(snapshot_dir=tmp_path))
    with pytest.raises(InputError, match="cannot listen"):
        ServerThread(WebServer(session, WebOptions(port=live.server.port))).start()


def _stalled_reader(port: int, path: str, extra: bytes = b"") -> socket.socket:
    """A client that asks for a stream and then never reads (a tiny receive buffer fills at once)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n".encode() + extra + b"\r\n")
    return sock


def test_stalled_readers_lose_their_slot(tmp_path: Path) -> None:
    websocket = (b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
    server = serve(tmp_path, open_sensor("sim-lepton"), size=(480, 640), max_clients=2, quality=100,
                   write_timeout=0.5)
    port = server.server.port
    stalled = [_stalled_reader(port, "/stream.mjpg"), _stalled_reader(port, "/ws", websocket)]
    try:
        wait_for(lambda: server.server.stats.stream_clients + server.server.stats.ws_clients == 2)
        wait_for(lambda: server.server.stats.stalled_clients == 2, timeout=30.0)
        wait_for(lambda: server.server.stats.stream_clients + server.server.stats.ws_clients == 0)
        reader = MJPEGReader(server)
        assert reader.status == 200 and reader.part()
        reader.close()
    finally:
        for sock in stalled:
            sock.close()
        server.stop()


def test_the_snapshot_quota_counts_snapshots_and_bytes(tmp_path: Path) -> None:
    server = serve(tmp_path, max_snapshots=2)
    try:
        wait_for(lambda: server.server.stats.pictures > 0)
        assert request(server, "POST", "/api/snapshot")[0] == 200
        assert request(server, "POST", "/api/state", {"action": "snapshot"})[0] == 200
        status, _, body = request(server, "POST", "/api/snapshot")
        assert status == 507 and "2 of 2 snapshots" in json.loads(body)["error"]
        assert request(server, "POST", "/api/state", {"key": "s"})[0] == 507
        quota = server.server.snapshot_quota
        assert quota.count == 2 and len(list(tmp_path.glob("*.png"))) == 2
        assert quota.bytes == sum(p.stat().st_size for p in tmp_path.iterdir() if p.is_file())
    finally:
        server.stop()
    server = serve(tmp_path / "small", max_snapshot_bytes=1)
    try:
        wait_for(lambda: server.server.stats.pictures > 0)
        assert request(server, "POST", "/api/snapshot")[0] == 200  # the first one passes; then the bytes are spent
        assert request(server, "POST", "/api/snapshot")[0] == 507
    finally:
        server.stop()
