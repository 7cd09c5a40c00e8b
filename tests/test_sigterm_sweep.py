"""The field promise, swept: SIGTERM (143) or Ctrl-C (130) ends every long-running command within a second,
whatever it waits on (a slow simulated camera, a replay, a silent `remote:` link, its own work), with no
traceback and no temporary `.part` file left behind.

Each case is a real `thermtool` process; the cases run a few at a time, the module's results are collected
once and each test checks one. Times are generous safety bounds for a loaded machine, not timings.
"""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from thermtool.formats import save_frame
from thermtool.formats.npz import write_recording
from thermtool.frame import Frame

STOP_BOUND = 3.0  # "within a second", with slack for a loaded machine
READY_BOUND = 30.0  # a command that never gets going fails the case, never hangs the suite
PARALLEL = 4


@dataclass
class Case:
    """One command run until `ready` says it is at work, then sent `signum`; `code` is the exit expected."""

    name: str
    args: list[str]
    #: "file:NAME" (under the case folder), "stderr:TEXT", "stdout", "tty" (screen output), "connected" (to the
    #: case's silent server), "busy" (its signal handlers are in place)
    ready: str
    signum: int = signal.SIGTERM
    tty: bool = False

    @property
    def code(self) -> int:
        return {signal.SIGTERM: 143, signal.SIGINT: 130}[self.signum]


@dataclass
class Outcome:
    """What a case's process did once signalled."""

    returncode: int | None = None
    stderr: str = ""
    seconds: float = 0.0
    leftovers: list[str] = field(default_factory=list)
    problem: str = ""


def _cases() -> list[Case]:
    """The sweep: every long-running command on each sensor kind where it makes sense, at slow rates."""
    slow = {"sim": ["--rate", "0.25"], "sim-lepton": ["--rate", "1"], "sim-mlx90641": ["--rate", "0.5"],
            "sim-amg88xx": ["--rate", "1"], "sim-uvc": ["--rate", "0.1"], "replay:{rec}": ["--rate", "0.25"]}
    cases = [Case(f"capture-{kind.split(':')[0]}", ["capture", "--sensor", kind, *rate, "--out", "{dir}/out"],
                  "file:out/capture.json") for kind, rate in slow.items()]
    cases += [
        Case("capture-remote", ["capture", "--sensor", "{remote}", "--out", "{dir}/out"], "connected"),
        Case("capture-sim-sigint", ["capture", "--sensor", "sim", "--rate", "0.25", "--out", "{dir}/out"],
             "file:out/capture.json", signal.SIGINT),
        Case("snapshot-sim", ["snapshot", "--sensor", "sim", "--refresh-hz", "0.5", "--out", "{dir}/out/s.png"],
             "file:out/.thermtool-snapshot.lock"),
        Case("snapshot-mlx90641", ["snapshot", "--sensor", "sim-mlx90641", "--refresh-hz", "0.5",
                                   "--out", "{dir}/out/s.npy"], "file:out/.thermtool-snapshot.lock"),
        Case("snapshot-json", ["snapshot", "--sensor", "sim", "--refresh-hz", "0.5", "--log-format", "json",
                               "--out", "{dir}/out/s.png"], "file:out/.thermtool-snapshot.lock"),
        Case("snapshot-remote", ["snapshot", "--sensor", "{remote}", "--out", "{dir}/out/s.npy"], "connected"),
        Case("snapshot-sim-sigint", ["snapshot", "--sensor", "sim", "--refresh-hz", "0.5", "--out", "{dir}/out/s.npy"],
             "file:out/.thermtool-snapshot.lock", signal.SIGINT),
        Case("watch-sim", ["watch", "--sensor", "sim", "--rate", "0.25"], "stderr:watching"),
        Case("watch-lepton", ["watch", "--sensor", "sim-lepton", "--rate", "1"], "stderr:watching"),
        Case("watch-amg88xx", ["watch", "--sensor", "sim-amg88xx", "--rate", "1"], "stderr:watching"),
        Case("watch-replay", ["watch", "--sensor", "replay:{rec}", "--rate", "0.25"], "stderr:watching"),
        Case("watch-remote", ["watch", "--sensor", "{remote}"], "connected"),
        Case("serve-sim", ["serve", "--sensor", "sim", "--refresh-hz", "0.5", "--port", "0"], "stderr:http://"),
        Case("serve-remote", ["serve", "--sensor", "{remote}", "--port", "0"], "connected"),
        Case("view-web-replay", ["view", "-b", "web", "--sensor", "replay:{rec}", "--fps", "0.25", "--realtime",
                                 "--port", "0"],
             "stderr:http://"),
        Case("view-terminal-sim", ["view", "-b", "terminal", "--sensor", "sim", "--refresh-hz", "2"], "tty", tty=True),
        Case("view-terminal-amg88xx", ["view", "-b", "terminal", "--sensor", "sim-amg88xx", "--refresh-hz", "1"], "tty",
             tty=True),
        Case("view-terminal-remote", ["view", "-b", "terminal", "--sensor", "{remote}"], "connected", tty=True),
        Case("view-terminal-sigint", ["view", "-b", "terminal", "--sensor", "sim-mlx90641", "--refresh-hz", "0.5"],
             "tty", signal.SIGINT, tty=True),
        Case("stats-sim", ["stats", "--sensor", "sim", "--refresh-hz", "0.5", "--count", "5"], "busy"),
        Case("stats-remote", ["stats", "--sensor", "{remote}"], "connected"),
        Case("render-recording", ["render", "{big}", "--interp", "spline", "--size", "1280x960",
                                  "-o", "{dir}/out/p.png"], "file:out/p-0000.png"),
        Case("info-many", ["info", *["{frame}"] * 5000], "stdout"),
        Case("heatmap-points", ["heatmap", "{points}", "--size", "6000x4500", "--sigma", "60",
                                "-o", "{dir}/out/h.png"], "busy"),
        Case("plot3d-png", ["plot3d", "{lepton}", "--with-2d", "--dpi", "600", "-o", "{dir}/out/p.png"], "busy"),
    ]
    return cases


CASES = _cases()


class SilentServer:
    """A loopback TCP server that accepts every connection and then says nothing (a hung peer)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._done.is_set():
            try:
                self.held.append(self._listener.accept()[0])
            except TimeoutError:
                continue

    def close(self) -> None:
        self._done.set()
        self._thread.join(5.0)
        for conn in self.held:
            conn.close()
        self._listener.close()


def _handles(pid: int, signum: int) -> bool:
    """True once process `pid` has a handler of its own for `signum` (/proc's SigCgt mask)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.MULTILINE)
    return bool(caught and int(caught.group(1), 16) >> (signum - 1) & 1)


class Pipe:
    """Collects a stream's text on a thread (so the process never blocks writing) and waits for content."""

    def __init__(self, read: Callable[[], bytes], close: Callable[[], None] = lambda: None) -> None:
        self.text = ""
        self.closed = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._pump, args=(read, close), daemon=True)
        self._thread.start()

    def _pump(self, read: Callable[[], bytes], close: Callable[[], None]) -> None:
        while True:
            try:
                chunk = read()
            except OSError:  # a pty's master reads EIO once the child side is closed
                chunk = b""
            with self._changed:
                self.text += chunk.decode(errors="replace")
                self.closed = not chunk
                self._changed.notify_all()
            if not chunk:
                close()
                return

    def wait_for(self, predicate: Callable[[str], bool], end: float) -> bool:
        with self._changed:
            self._changed.wait_for(lambda: predicate(self.text) or self.closed, max(0.0, end - time.monotonic()))
            return predicate(self.text)

    def finish(self) -> str:
        self._thread.join(10.0)
        return self.text


def _start(case: Case, args: list[str]) -> tuple[subprocess.Popen[bytes], Pipe, Pipe]:
    """The case's process with stdout/stderr collected; a pseudo-terminal on stdin/stdout for tty cases."""
    command = [sys.executable, "-m", "thermtool", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "40"}
    stderr = subprocess.PIPE
    if not case.tty:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr, env=env)
        assert proc.stdout is not None and proc.stderr is not None
        return proc, Pipe(lambda: proc.stdout.read1()), Pipe(lambda: proc.stderr.read1())  # type: ignore[union-attr]
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=stderr, env=env, start_new_session=True)
    os.close(slave)
    assert proc.stderr is not None
    screen = Pipe(lambda: os.read(master, 65536), lambda: os.close(master))
    return proc, screen, Pipe(lambda: proc.stderr.read1())  # type: ignore[union-attr]


def _wait_ready(case: Case, proc: subprocess.Popen[bytes], folder: Path, out: Pipe, err: Pipe,
                server: SilentServer) -> str:
    """Wait until the case's process is at work; '' when it is, else what went wrong."""
    end = time.monotonic() + READY_BOUND
    kind, _, what = case.ready.partition(":")
    if kind == "file":
        while not (folder / what).exists() and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        ready = (folder / what).exists()
    elif kind == "stderr":
        ready = err.wait_for(lambda text: what in text, end)
    elif kind in ("stdout", "tty"):
        ready = out.wait_for(bool, end)
    elif kind == "connected":
        while not server.held and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        ready = bool(server.held)
    else:  # busy: the command's own signal handling is in place
        while not _handles(proc.pid, signal.SIGTERM) and proc.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
        ready = _handles(proc.pid, signal.SIGTERM)
    if proc.poll() is not None:
        return f"exited {proc.returncode} before it was signalled"
    time.sleep(0.5)  # now well inside the wait (or the work)
    return "" if ready else f"not ready within {READY_BOUND:g} s"


def _run(case: Case, fill: dict[str, str], folder: Path) -> Outcome:
    """Start the case (with a silent server of its own), signal it once at work, and report how it ended."""
    folder.mkdir()
    server = SilentServer()
    args = [arg.format(dir=folder, remote=f"remote:ws://127.0.0.1:{server.port}/ws", **fill) for arg in case.args]
    proc, out, err = _start(case, args)
    outcome = Outcome()
    try:
        outcome.problem = _wait_ready(case, proc, folder, out, err, server)
        sent = time.monotonic()
        proc.send_signal(case.signum)
        try:
            proc.wait(timeout=15.0)
        except subprocess.TimeoutExpired:
            outcome.problem = outcome.problem or "still running 15 s after the signal"
        outcome.seconds = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        server.close()
    outcome.returncode = proc.returncode
    outcome.stderr = err.finish()
    outcome.leftovers = sorted(str(p.relative_to(folder)) for p in folder.rglob("*.part"))
    return outcome


def _inputs(folder: Path) -> dict[str, str]:
    """A small recording to replay, a long one to render, a frame file, a Lepton-sized frame, points."""
    rng = np.random.default_rng(0)
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    folder.mkdir()

    def frames(count: int, shape: tuple[int, int]) -> list[Frame]:
        return [Frame(data=(25 + rng.normal(0, 1, shape)).astype(np.float32),
                      timestamp=start + timedelta(seconds=i), sensor="sim") for i in range(count)]

    rec, big = folder / "rec.npz", folder / "big.npz"
    write_recording(frames(4, (24, 32)), rec)
    write_recording(frames(400, (24, 32)), big)
    frame, lepton = folder / "frame.npy", folder / "lepton.npy"
    save_frame(frames(1, (24, 32))[0], frame)
    save_frame(frames(1, (120, 160))[0], lepton)
    points = folder / "points.npy"
    np.save(points, rng.uniform(0, 6000, (200_000, 2)))
    return {"rec": str(rec), "big": str(big), "frame": str(frame), "lepton": str(lepton), "points": str(points)}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    """Every case run once, a few at a time."""
    root = tmp_path_factory.mktemp("sweep")
    fill = _inputs(root / "inputs")
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = {case.name: pool.submit(_run, case, fill, root / case.name) for case in CASES}
        yield {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_a_signal_ends_the_command_promptly_and_cleanly(outcomes: dict[str, Outcome], case: Case) -> None:
    outcome = outcomes[case.name]
    assert not outcome.problem, f"{outcome.problem}: {outcome.stderr}"
    assert outcome.returncode == case.code, outcome.stderr
    assert "Traceback" not in outcome.stderr and "internal error" not in outcome.stderr, outcome.stderr
    assert outcome.seconds < STOP_BOUND, f"took {outcome.seconds:.1f} s"
    assert not outcome.leftovers
    if "json" in case.args:  # cron's one line per run, in the format asked
        assert [json.loads(line)["exit_code"] for line in outcome.stderr.splitlines()] == [case.code]
