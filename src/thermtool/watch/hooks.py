"""`--exec`: run a command for each event, with the event in environment variables.

The command line is the user's own, split once like a shell would (shlex) and run without a shell; event
data only ever travels in the environment, with NUL and control characters replaced, so nothing seen by the
camera (or sent by a `remote:` server) can inject shell syntax or break the environment. Commands run one at
a time, in event order, on a worker thread that survives any failure, each in its own process group that is
killed as a whole at the timeout; a command that fails, hangs or cannot start is logged and watching goes on.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import InputError
from .events import Event

#: Prefix of the variables a command receives (THERMTOOL_EVENT=start, THERMTOOL_EVENT_ID=1, ...).
ENV_PREFIX = "THERMTOOL_EVENT"
#: Seconds between two "dropped N events" warnings (the first drop is said at once).
DROP_REPORT_EVERY = 10.0
#: How often the worker looks at the stop flag while idle (seconds).
IDLE_POLL = 0.2
#: Seconds granted for the pipes to close once a timed-out command's group is killed.
REAP_GRACE = 0.5
#: C0 and C1 control characters, DEL, and lone surrogates: never passed to a command.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def safe_text(value: object) -> str:
    """`value` as text fit for an environment variable: control characters and NUL become "?"."""
    return _UNSAFE.sub("?", "" if value is None else str(value))


def event_environment(event: Event) -> dict[str, str]:
    """The event as environment variables: THERMTOOL_EVENT (the kind), THERMTOOL_EVENT_ID, ..._JSON."""
    record = event.to_dict()
    box = record["box"]
    values = {
        "": event.kind, "ID": event.track, "TIME": record["time"], "T": record["t"], "FRAME": event.frame,
        "BOX": f"{box['x']},{box['y']},{box['width']},{box['height']}",
        "X": box["x"], "Y": box["y"], "WIDTH": box["width"], "HEIGHT": box["height"], "AREA": event.area,
        "PEAK": record["peak"], "MEAN": record["mean"], "DELTA": record["delta"], "UNITS": event.units,
        "DURATION": record["duration"], "ACTIVE": event.active, "SENSOR": event.sensor,
        "SNAPSHOT": event.snapshot, "JSON": event.to_json(),
    }
    return {(f"{ENV_PREFIX}_{key}" if key else ENV_PREFIX): safe_text(value) for key, value in values.items()}


def split_command(command: str) -> list[str]:
    """The argument list of a command line (shell quoting rules, no shell features); InputError if empty."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise InputError(f"--exec {command!r}: {exc}") from None
    if not argv:
        raise InputError("--exec needs a command")
    return argv


class CommandHook:
    """Runs `argv` once per submitted event, in order, on a worker thread.

    At most `backlog` events wait; beyond that new ones are dropped (said once, then at most every
    DROP_REPORT_EVERY seconds). Each run may take `timeout` seconds before its process group is killed.
    `warn` receives one-line problem reports, `detail` the output of commands that succeeded.
    """

    def __init__(self, argv: Sequence[str], *, timeout: float = 60.0, backlog: int = 100,
                 warn: Callable[[str], None] = print, detail: Callable[[str], None] = lambda _: None,
                 environ: Mapping[str, str] | None = None) -> None:
        if not argv:
            raise InputError("--exec needs a command")
        if not timeout > 0:
            raise InputError(f"--exec-timeout must be above 0, got {timeout}")
        self.argv = list(argv)
        self.timeout = timeout
        self.warn, self.detail = warn, detail
        self.environ = {k: v for k, v in (os.environ if environ is None else environ).items()
                        if not k.startswith(ENV_PREFIX)}
        self.runs = self.failures = self.dropped = self.abandoned = 0
        self._dropped_said = 0
        self._next_drop_report = 0.0
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=backlog)
        self._closing = threading.Event()
        self._abandon = threading.Event()
        self._worker = threading.Thread(target=self._work, name="thermtool-exec", daemon=True)
        self._worker.start()

    @classmethod
    def from_command(cls, command: str, **options: Any) -> CommandHook:
        """A hook for a command line written as in a shell (split with shlex, run without one)."""
        return cls(split_command(command), **options)

    def submit(self, event: Event) -> None:
        """Queue one run for `event` (dropped when the backlog is full; drops are reported at a bounded rate)."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            self._report_drops()

    def _report_drops(self, final: bool = False) -> None:
        now = time.monotonic()
        unsaid = self.dropped - self._dropped_said
        if unsaid and (final or now >= self._next_drop_report):
            self.warn(f"--exec: dropped {unsaid} event(s): {self._queue.maxsize} were already waiting "
                      f"({self.dropped} dropped in all)")
            self._dropped_said, self._next_drop_report = self.dropped, now + DROP_REPORT_EVERY

    @property
    def alive(self) -> bool:
        """True while the worker thread runs (it ends only after `close`)."""
        return self._worker.is_alive()

    def close(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        """Run what is queued, then stop; once `should_stop()` is true the queue is abandoned, so shutdown
        takes at most the run in progress (bounded by the timeout, then its group is killed) plus a moment."""
        self._closing.set()
        while self._worker.is_alive():
            if should_stop() and not self._abandon.is_set():
                self._abandon.set()
                deadline = time.monotonic() + self.timeout + REAP_GRACE + IDLE_POLL
                self._worker.join(max(0.0, deadline - time.monotonic()))
                break
            self._worker.join(IDLE_POLL)
        self._report_drops(final=True)
        if self.abandoned:
            self.warn(f"--exec: stopping; {self.abandoned} queued event(s) not run")

    def _work(self) -> None:
        """Take events until closed; no exception from one event ends the loop."""
        while not self._abandon.is_set():
            try:
                event = self._queue.get(timeout=IDLE_POLL)
            except queue.Empty:
                if self._closing.is_set():
                    return
                continue
            try:
                self._run(event)
            except Exception as exc:  # the worker must survive anything one event does
                self.failures += 1
                self.warn(f"--exec {self.argv[0]}: {type(exc).__name__}: {exc}")
        self.abandoned = self._queue.qsize()

    def _run(self, event: Event) -> None:
        label = f"--exec {self.argv[0]} ({safe_text(event.kind)} #{event.track})"
        self.runs += 1
        try:
            process = subprocess.Popen(self.argv, env={**self.environ, **event_environment(event)},
                                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        except (OSError, ValueError) as exc:
            self.failures += 1
            self.warn(f"{label}: could not run: {getattr(exc, 'strerror', None) or exc}")
            return
        try:
            out, _ = process.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            self.failures += 1
            kill_group(process)
            self.warn(f"{label}: killed after {self.timeout:g} s")
            return
        output = " ".join(out.decode("utf-8", "replace").split())
        if process.returncode != 0:
            self.failures += 1
            self.warn(f"{label}: exited with status {process.returncode}" + (f": {output[-200:]}" if output else ""))
        elif output:
            self.detail(f"{label}: {output[-200:]}")


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill `process` and everything in its process group, then reap it (its pipes get REAP_GRACE seconds)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    try:
        process.communicate(timeout=REAP_GRACE)
    except subprocess.TimeoutExpired:  # a descendant left the group and holds the pipe: stop listening
        if process.stdout is not None:
            process.stdout.close()
        process.wait(REAP_GRACE)
