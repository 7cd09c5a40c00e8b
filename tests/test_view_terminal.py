"""`thermtool view --backend terminal` in a real terminal (tmux): keys without Enter change the settings line,
the picture refits on resize, `s` saves, `q` exits 0. Plus the renderable and the byte counting, in process."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from thermtool import open_sensor
from thermtool.view.terminal import CellImage, CountingWriter, halfblock_pieces

#: Runs the CLI; registers the live-view commands when the CLI does not list them yet.
RUN = ("import sys\nfrom thermtool.cli import COMMANDS, run\n"
       "COMMANDS.setdefault('view', ('thermtool.cli.view:view', 'Watch a camera live.'))\n"
       "sys.exit(run(sys.argv[1:]))\n")


class Tmux:
    """A private tmux server (its own socket) running one command in a pane of a given size."""

    def __init__(self, command: list[str], width: int, height: int) -> None:
        self.socket = f"thermtool-test-{uuid.uuid4().hex[:8]}"
        line = " ".join(_quote(part) for part in command)
        self._tmux("new-session", "-d", "-s", "view", "-x", str(width), "-y", str(height), line)

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        return done.stdout

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "view")

    def keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", "view", *keys)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", "view", "-x", str(width), "-y", str(height))

    def until(self, predicate: Callable[[str], bool], timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"screen never matched; last screen:\n{screen}")

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\"'\"'") + "'"


@pytest.fixture
def tmux_view(tmp_path: Path) -> Iterator[tuple[Tmux, Path]]:
    if shutil.which("tmux") is None:
        pytest.skip("needs tmux (apt-get install tmux)")
    rc_file = tmp_path / "exit-code"
    command = ["sh", "-c", f'"$0" "$@"; echo $? > {rc_file}; sleep 60', sys.executable, "-c", RUN, "view",
               "--backend", "terminal", "--sensor", "sim", "--seed", "3", "--snapshot-dir", str(tmp_path / "snaps")]
    tmux = Tmux(command, 100, 40)
    try:
        yield tmux, rc_file
    finally:
        tmux.close()


def settings_line(screen: str) -> str:
    lines = [line for line in screen.splitlines() if line.rstrip().endswith("| h: keys")]
    return lines[-1] if lines else ""


def test_keys_change_the_settings_line_and_q_exits_0(tmux_view: tuple[Tmux, Path], tmp_path: Path) -> None:
    tmux, rc_file = tmux_view
    screen = tmux.until(lambda s: " max " in s and "kB/frame" in s)
    assert "▀" in screen or "▄" in screen
    assert settings_line(screen).startswith("inferno | bicubic | C | percentile")
    tmux.keys("c")
    tmux.until(lambda s: settings_line(s).startswith("ironbow | bicubic | C"))
    tmux.keys("t")
    screen = tmux.until(lambda s: settings_line(s).startswith("ironbow | bicubic | F"))
    assert "°F" in screen
    tmux.keys("i", "r", "f")
    tmux.until(lambda s: settings_line(s).startswith("ironbow | nearest | F | auto | filter on"))
    tmux.keys("Space")
    tmux.until(lambda s: "PAUSED" in settings_line(s))
    tmux.keys("h")
    tmux.until(lambda s: "thermtool view: keys" in s and "next colormap" in s)
    tmux.keys("h")
    tmux.until(lambda s: "thermtool view: keys" not in s)
    tmux.keys("s")
    tmux.until(lambda s: "saved " in s)
    assert len(list((tmp_path / "snaps").glob("*.png"))) == 1

    tmux.resize(60, 20)  # the picture refits
    narrow = tmux.until(lambda s: "fps" in s and max(len(line) for line in s.splitlines()[:-2]) <= 60)
    picture_lines = [line for line in narrow.splitlines() if "▀" in line or "▄" in line]
    assert 0 < len(picture_lines) <= 18

    assert not rc_file.exists()
    tmux.keys("q")
    deadline = time.monotonic() + 15
    while not rc_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rc_file.read_text().strip() == "0"


def test_escape_quits(tmux_view: tuple[Tmux, Path]) -> None:
    tmux, rc_file = tmux_view
    tmux.until(lambda s: " max " in s)
    tmux.keys("Escape")
    deadline = time.monotonic() + 15
    while not rc_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rc_file.read_text().strip() == "0"


def test_frames_are_drawn_as_cells_and_counted(terminal_view: Any) -> None:
    session, view, buffer = terminal_view(open_sensor("sim", seed=1, rate=16))
    with session.feed:
        assert session.feed.wait(0, 10.0) is not None
        session.refresh()
        view.console.print(view.renderable())
    text = buffer.getvalue()
    assert view.output.count == len(text.encode())
    assert "38;5;" in text and "38;2;" not in text  # the 256-colour palette, no truecolor codes
    picture_lines = [line for line in text.splitlines() if "▀" in line or "▄" in line or "\x1b[48;5;" in line]
    assert len(picture_lines) == 24  # 24 lines = 48 pixel rows for 64 columns: the 24x32 aspect


def test_cell_image_is_zero_width_codes_plus_cells() -> None:
    import numpy as np

    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[:2] = 200
    console = Console(file=io.StringIO(), width=20, force_terminal=True, color_system="truecolor")
    segments = list(console.render(CellImage(halfblock_pieces(rgb))))
    visible = "".join(s.text for s in segments if not s.control)
    assert visible == "     \n     \n"  # 5 cells a line; colour codes take no width


def test_counting_writer() -> None:
    out = io.StringIO()
    writer = CountingWriter(out)
    writer.write("é▀")
    assert writer.count == 5 and out.getvalue() == "é▀" and writer.getvalue() == "é▀"


def test_terminal_view_refuses_a_pipe(tmp_path: Path) -> None:
    env = {**os.environ}
    done = subprocess.run([sys.executable, "-c", RUN, "view", "--backend", "terminal", "--sensor", "sim"],
                          capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert done.returncode == 2 and "needs a terminal" in done.stderr
