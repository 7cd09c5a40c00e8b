"""`thermtool view` and `thermtool serve` as commands: URLs printed, quit and signals, errors before the sensor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("tornado")

from thermtool import open_sensor
from thermtool.view.feed import FrameFeed
from thermtool.view.session import ViewOptions, ViewSession, initial_state
from thermtool.view.web import WebOptions, WebServer, local_addresses

#: Runs the CLI; registers the live-view commands when the CLI does not list them yet.
RUN = ("import sys\nfrom thermtool.cli import COMMANDS, run\n"
       "COMMANDS.setdefault('view', ('thermtool.cli.view:view', 'Watch a camera live.'))\n"
       "COMMANDS.setdefault('serve', ('thermtool.cli.serve:serve', 'Serve the live view.'))\n"
       "sys.exit(run(sys.argv[1:]))\n")


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], str]:
    """Start a command that serves; returns it and the first URL it prints."""
    process = subprocess.Popen([sys.executable, "-c", RUN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env)
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        raise AssertionError(f"no URL printed: {url!r} {process.communicate()[1]}")
    return process, url


def get_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_serve_prints_its_url_and_stops_on_sigint(tmp_path: Path) -> None:
    process, url = start("serve", "--sensor", "sim", "--port", "0", "--cmap", "viridis", "--units", "F",
                         "--snapshot-dir", str(tmp_path))
    try:
        assert url.startswith("http://127.0.0.1:")
        state = get_json(url + "api/state")["state"]
        assert state["cmap"] == "viridis" and state["units"] == "F"  # flags set where the view starts
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 130
        assert "serving the live view" in process.stderr.read()  # type: ignore[union-attr]
    finally:
        process.kill()
        process.wait(10)


def test_web_view_quits_from_the_page(tmp_path: Path) -> None:
    process, url = start("view", "--backend", "web", "--sensor", "sim", "--port", "0", "--token", "abc",
                         "--snapshot-dir", str(tmp_path))
    try:
        assert url.endswith("/") and "abc" not in url  # stdout is a pipe here, not a terminal: no token
        base = url
        request = urllib.request.Request(base + "api/state", data=b'{"action": "quit"}', method="POST",
                                         headers={"Content-Type": "application/json", "Authorization": "Bearer abc"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        assert process.wait(20) == 0
    finally:
        process.kill()
        process.wait(10)


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUN, *args], capture_output=True, text=True, timeout=60, env=env,
                          stdin=subprocess.DEVNULL)


def test_window_without_a_display_is_a_clear_error() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = run_cli("view", "--backend", "window", "--sensor", "sim", env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--backend terminal" in done.stderr


def test_bad_names_fail_before_the_camera_opens() -> None:
    done = run_cli("serve", "--sensor", "sim", "--cmap", "no-such-map", "--port", "0")
    assert done.returncode == 2 and "unknown colormap 'no-such-map'" in done.stderr
    done = run_cli("view", "--backend", "web", "--sensor", "sim", "--interp", "blurry", "--port", "0")
    assert done.returncode == 2 and "unknown upscaler 'blurry'" in done.stderr


def test_help_names_every_key() -> None:
    done = run_cli("view", "--help")
    text = " ".join(done.stdout.split())  # help lines wrap anywhere
    assert done.returncode == 0
    for words in ("q/Esc quit", "s snapshot", "c/x", "i/u", "t units", "f filter", "r range mode", "l lock range",
                  "space pause", "h help", "--backend", "--token", "--snapshot-dir"):
        assert words in text, words


def test_lan_urls_name_this_machine(tmp_path: Path) -> None:
    session = ViewSession(FrameFeed(open_sensor("sim")), initial_state(), ViewOptions(snapshot_dir=tmp_path))
    server = WebServer(session, WebOptions(host="0.0.0.0", port=8123, token="t"))  # not started: nothing listens
    urls = server.urls()
    assert urls == [f"http://{address}:8123/?token=t" for address in local_addresses()]
    assert all("0.0.0.0" not in url for url in urls)
