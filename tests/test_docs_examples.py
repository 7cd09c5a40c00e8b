"""Every shell example in README.md and docs/*.md runs, so the examples cannot rot.

Each page's ```sh examples run in order in a scratch folder of their own, on the simulated cameras: first the
Python blocks that make files the examples read, and the files a page says the user brings. To stay fast,
simulated cameras run in virtual time (`--no-realtime`), a capture or watch with no end gets a short one, and
live views run briefly: the terminal view in a pseudo-terminal until it draws and takes `q`, the web view and
`serve` on a free loopback port until their page loads, serving the `curl` examples that follow them.
Examples that need hardware or another machine are listed in NOT_RUN with the reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import re
import select
import shlex
import signal
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from thermtool.cli import run

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

#: Examples that are not run, by a piece of their text, and why.
NOT_RUN = {
    "pip install": "installs thermtool: the test runs inside that install",
    "python3 -m venv": "creates a virtualenv: the test runs inside one",
    "-m pytest": "runs this test suite",
    "--sensor mlx90640": "needs an MLX90640 on I2C",
    "--sensor lepton": "needs a FLIR Lepton on SPI",
    "--sensor mlx90641": "needs an MLX90641 on I2C",
    "--sensor amg88xx": "needs a Grid-EYE on I2C",
    "--sensor uvc": "needs a USB thermal camera",
    "thermal-pi.local": "needs a second machine running thermtool serve",
    "jetson.lan": "needs a second machine running thermtool serve",
    "lepton-raw.npz": "needs a recording of raw 14-bit counts from a real Lepton (--no-radiometry)",
    "notify-send": "needs a camera (no --sensor: it detects hardware) and a desktop to notify",
}
#: Python blocks that make files a page's examples read, by a piece of their text; run before the examples.
SETUP = {"docs/analysis.md": ['np.savetxt("clicks.csv"'], "docs/watch.md": ['np.save("clip.npy"']}
#: Files a page says the user brings, and where the test takes them from.
GIVEN = {"docs/analysis.md": {"screenshot.png": "docs/images/analysis-screenshot.png"}}
#: Seconds of frame time for a `watch` example without an end (scenes run forever).
WATCH_SECONDS = "40"
LIVE = ("view", "serve")


@dataclass(frozen=True)
class Example:
    """One shell command of a page (continuation lines joined), with where it is."""

    page: str
    line: int
    text: str

    @property
    def skip_reason(self) -> str | None:
        return next((why for piece, why in NOT_RUN.items() if piece in self.text), None)


def blocks(page: Path, languages: tuple[str, ...]) -> Iterator[tuple[int, str]]:
    """(first line number, body) of each fenced block in one of `languages`."""
    text = page.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        if match.group(1) in languages:
            yield text.count("\n", 0, match.start(2)) + 1, match.group(2)


def shell_examples(page: Path) -> list[Example]:
    """The commands of every ```sh block of `page`."""
    name = str(page.relative_to(REPO))
    examples = []
    for first, body in blocks(page, ("sh", "bash", "shell")):
        lines = body.splitlines()
        index = 0
        while index < len(lines):
            start, text = index, lines[index]
            while text.endswith("\\") and index + 1 < len(lines):
                index += 1
                text = text[:-1] + " " + lines[index].strip()
            index += 1
            if text.strip() and not text.lstrip().startswith("#"):
                examples.append(Example(name, first + start, text.strip()))
    return examples


ALL = {str(page.relative_to(REPO)): shell_examples(page) for page in PAGES}


def test_every_exception_is_used_and_every_example_is_found() -> None:
    examples = [e for page in ALL.values() for e in page]
    assert len(examples) > 30
    for piece in NOT_RUN:
        assert any(piece in e.text for e in examples), f"NOT_RUN entry {piece!r} matches no example any more"
    for page, pieces in SETUP.items():
        python = [body for _, body in blocks(REPO / page, ("python",))]
        assert all(any(piece in body for body in python) for piece in pieces), page


@dataclass
class Live:
    """A live view or server started by an example, kept running for the examples after it."""

    process: subprocess.Popen[bytes]
    address: str = ""
    output: bytearray = field(default_factory=bytearray)


def quick(argv: list[str]) -> list[str]:
    """The example made quick: virtual time on simulated cameras, an end for endless captures and watches."""
    command = argv[1] if len(argv) > 1 else ""
    sensor = argv[argv.index("--sensor") + 1] if "--sensor" in argv else ""
    extra = []
    if sensor.startswith("sim") and command not in LIVE:
        extra.append("--no-realtime")
    endless = not {"--count", "-n", "--duration", "-d"} & set(argv)
    if command == "capture" and endless:
        extra += ["--count", "3"]
    if command == "watch" and endless:
        extra += ["--duration", WATCH_SECONDS]
    return argv + extra


def terminal_view(argv: list[str], folder: Path, env: dict[str, str]) -> None:
    """Run a terminal view in a pseudo-terminal until it has drawn its status line, then quit it with q."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen([sys.executable, "-m", "thermtool", *argv[1:]], stdin=follower, stdout=follower,
                               stderr=follower, cwd=folder, env=env, start_new_session=True)
    os.close(follower)
    screen = bytearray()
    try:
        deadline = time.monotonic() + 60
        while b"percentile" not in screen and time.monotonic() < deadline and process.poll() is None:
            if select.select([leader], [], [], 0.2)[0]:
                with contextlib.suppress(OSError):
                    screen += os.read(leader, 65536)
        assert b"percentile" in screen, screen[-2000:].decode(errors="replace")
        os.write(leader, b"q")
        deadline = time.monotonic() + 20
        while process.poll() is None and time.monotonic() < deadline:  # keep draining so it never blocks
            if select.select([leader], [], [], 0.2)[0]:
                with contextlib.suppress(OSError):
                    os.read(leader, 65536)
        assert process.wait(5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        os.close(leader)


def start_server(argv: list[str], folder: Path, env: dict[str, str]) -> Live:
    """Start a web view or `serve` on a free loopback port; returns once its page loads."""
    argv = [a if a != "0.0.0.0" else "127.0.0.1" for a in argv] + ["--port", "0"]
    process = subprocess.Popen([sys.executable, "-m", "thermtool", *argv[1:]], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, cwd=folder, env=env)
    live = Live(process)
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while not live.address and time.monotonic() < deadline:
        if select.select([process.stdout], [], [], 0.2)[0]:
            live.output += process.stdout.readline()
            found = re.search(rb"http://(127\.0\.0\.1:\d+)/\S*", live.output)
            if found:
                live.address = found.group(1).decode()
                url = found.group(0).decode()
        assert process.poll() is None, live.output.decode(errors="replace")
    assert live.address, live.output.decode(errors="replace")
    if "--token" in argv and "token=" not in url:  # the token is printed only to a terminal, never to a pipe
        url += f"?token={argv[argv.index('--token') + 1]}"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200 and b"<html" in response.read()
    return live


def stop(live: Live) -> None:
    """Ctrl-C, as the docs say: the server stops with exit code 130."""
    live.process.send_signal(signal.SIGINT)
    try:
        assert live.process.wait(15) == 130
    finally:
        if live.process.poll() is None:
            live.process.kill()
            live.process.wait(10)


def run_example(example: Example, folder: Path, env: dict[str, str], servers: list[Live]) -> None:
    """Run one example in `folder`; a live server is kept in `servers` for the examples after it."""
    text = example.text
    if servers:
        text = text.replace("localhost:8000", servers[-1].address)
    argv = shlex.split(text, comments=True)
    if argv[0] != "thermtool" or {"|", "&&", ";", ">", "<"} & set(argv):
        if text.startswith("curl "):
            text = "curl --fail " + text[len("curl "):]  # an HTTP error fails the example too
        result = subprocess.run(["bash", "-c", text], cwd=folder, env=env, capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        return
    command = argv[1]
    if command in LIVE and (command == "serve" or "web" in argv):
        servers.append(start_server(argv, folder, env))
    elif command == "view":
        terminal_view(argv, folder, env)
    else:
        assert run(quick(argv)[1:]) == 0


@pytest.mark.parametrize("page", [name for name, examples in ALL.items()
                                  if any(e.skip_reason is None for e in examples)])
def test_shell_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.chdir(folder)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update({"THERMTOOL_CONFIG": str(tmp_path / "no-config.toml"), "TERM": "xterm-256color",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    monkeypatch.setenv("THERMTOOL_CONFIG", env["THERMTOOL_CONFIG"])
    for name, source in GIVEN.get(page, {}).items():
        (folder / name).write_bytes((REPO / source).read_bytes())
    for _, body in blocks(REPO / page, ("python",)):
        if any(piece in body for piece in SETUP.get(page, [])):
            subprocess.run([sys.executable, "-c", body], cwd=folder, check=True, timeout=60)
    servers: list[Live] = []
    try:
        for example in ALL[page]:
            if example.skip_reason is None:
                try:
                    run_example(example, folder, env, servers)
                except AssertionError as exc:
                    raise AssertionError(f"{example.page}:{example.line}: {example.text}: {exc}") from exc
    finally:
        for live in servers:
            stop(live)
