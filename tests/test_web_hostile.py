"""The web server against hostile requests, and a soak: memory and descriptors stay flat under churn."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SOAK_SECONDS = float(os.environ.get("THERMTOOL_SOAK_SECONDS", "20"))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    proc = subprocess.Popen([sys.executable, "-m", "thermtool", "serve", "--sensor", "sim", "--refresh-hz", "32",
                             "--port", "0", "--snapshot-dir", str(tmp_path / "snaps")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    port = int(url.rsplit(":", 1)[1].strip("/"))
    try:
        yield proc, port
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/../../x",
                                  "/api/../../../etc/shadow", "//etc/passwd"])
def test_path_traversal_is_refused(server: tuple[subprocess.Popen[str], int], path: str) -> None:
    status, body = _request(server[1], "GET", path)
    assert status in (400, 403, 404)
    assert b"root:" not in body


def test_oversized_and_malformed_bodies(server: tuple[subprocess.Popen[str], int]) -> None:
    port = server[1]
    headers = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{port}"}
    try:  # tornado refuses a body over the limit with 400/413 or by closing the connection
        status, _ = _request(port, "POST", "/api/state", b"{" + b" " * (1 << 20) + b"}", headers)
        assert status in (400, 413)
    except (ConnectionResetError, BrokenPipeError):
        pass
    for bad in (b"{not json", b"[1, 2]", json.dumps({"cmap": "no-such-map"}).encode(), b"\xff\xfe"):
        status, _ = _request(port, "POST", "/api/state", bad, headers)
        assert status == 400, bad
    assert _request(port, "GET", "/api/state")[0] == 200


def test_a_client_that_never_finishes_its_headers_does_not_block_others(
        server: tuple[subprocess.Popen[str], int]) -> None:
    port = server[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as slow:
        slow.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert _request(port, "GET", "/api/state")[0] == 200


FLOOD_FD_LIMIT = 128


def _low_fd_limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (FLOOD_FD_LIMIT, FLOOD_FD_LIMIT))


def test_a_flood_of_half_sent_requests_leaves_room_for_real_clients(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "thermtool", "serve", "--sensor", "sim", "--port", "0",
                             "--snapshot-dir", str(tmp_path)], preexec_fn=_low_fd_limit,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    flood: list[socket.socket] = []
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip().rsplit(":", 1)[1].strip("/"))
        for _ in range(3 * FLOOD_FD_LIMIT):  # three times as many as the server could ever hold
            attacker = socket.create_connection(("127.0.0.1", port), timeout=10)
            attacker.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Never-Ends: ")
            flood.append(attacker)
        time.sleep(0.5)  # let the server take the whole backlog (a real client may otherwise be the oldest)
        for _ in range(5):
            assert _request(port, "GET", "/api/state")[0] == 200
        status, body = _request(port, "GET", "/api/stats")
        stats = json.loads(body)
        assert status == 200 and stats["connection_cap"] < FLOOD_FD_LIMIT
        assert stats["evicted_connections"] >= FLOOD_FD_LIMIT
        assert stats["connections"] <= stats["connection_cap"]
    finally:
        for attacker in flood:
            attacker.close()
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "Traceback" not in err and len(err) < 2000, err[-2000:]


def test_a_half_sent_request_is_dropped_after_the_idle_timeout(tmp_path: Path) -> None:
    from thermtool import open_sensor
    from thermtool.view.feed import FrameFeed
    from thermtool.view.session import ViewOptions, ViewSession, initial_state
    from thermtool.view.web import ServerThread, WebOptions, WebServer

    session = ViewSession(FrameFeed(open_sensor("sim"), read_timeout=0.2), initial_state(),
                          ViewOptions(snapshot_dir=tmp_path))
    with ServerThread(WebServer(session, WebOptions(port=0, idle_timeout=0.5))) as thread, \
            socket.create_connection(("127.0.0.1", thread.server.port), timeout=10) as slow:
        slow.sendall(b"GET /api/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert slow.recv(100) == b""  # closed by the server (the socket timeout would raise instead)


@pytest.mark.parametrize("body", [b"[" * 30_000 + b"]" * 30_000, b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
                                  b'{"spot": [1e999, 2]}', b'{"action": {"a": 1}}', b'{"key": "\\u0000"}'])
def test_hostile_json_settings_are_client_errors(server: tuple[subprocess.Popen[str], int], body: bytes) -> None:
    port = server[1]
    status, reply = _request(port, "POST", "/api/state", body, {"Content-Type": "application/json"})
    assert status == 400 and b"Traceback" not in reply


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_soak_web_memory_and_descriptors_stay_flat(server: tuple[subprocess.Popen[str], int]) -> None:
    proc, port = server
    samples: list[tuple[float, int, int]] = []
    started = time.monotonic()
    while time.monotonic() - started < SOAK_SECONDS:
        # Churn: stream readers that come and go, API polls, a snapshot now and then.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/stream.mjpg")
        response = conn.getresponse()
        response.read(30_000)
        conn.close()
        assert _request(port, "GET", "/api/frame")[0] == 200
        samples.append((time.monotonic() - started, _rss_kib(proc.pid), len(os.listdir(f"/proc/{proc.pid}/fd"))))
        time.sleep(0.05)
    steady = [s for s in samples if s[0] >= SOAK_SECONDS * 0.3]
    rss = [s[1] for s in steady]
    fds = [s[2] for s in steady]
    assert max(rss) - rss[0] < 24 * 1024, f"RSS grew from {rss[0]} to {max(rss)} KiB"
    assert max(fds) - min(fds) <= 6, f"open descriptors varied: {sorted(set(fds))}"


def test_the_token_never_reaches_the_logs(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "thermtool", "--verbose", "serve", "--sensor", "sim", "--port", "0",
                             "--token", "s3cret-t0ken", "--snapshot-dir", str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        port = int(first.strip().rsplit(":", 1)[1].strip("/"))
        assert _request(port, "GET", "/api/state?token=s3cret-t0ken")[0] == 200
        assert _request(port, "GET", "/api/state", headers={"Authorization": "Bearer s3cret-t0ken"})[0] == 200
        assert _request(port, "GET", "/?token=s3cret-t0ken&x=1")[0] == 200
        assert _request(port, "GET", "/api/stats?token=wrong-guess")[0] == 401
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert "s3cret-t0ken" not in first + out + err and "wrong-guess" not in err
    assert "GET /api/state" in err and "refused GET /api/stats" in err  # the requests are logged, without queries
