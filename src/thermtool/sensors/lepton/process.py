"""Reading VoSPI in a separate process, so the reader never waits for the GIL of a busy renderer.

The child is forked from the opened driver (so an spidev descriptor or an emulator passed as `spi=` comes
along), runs the driver's reading and decoding threads, and sends each batch of new frames with the
driver's counters over a pipe; the parent's receiving thread hands them to `read()`. Errors in the child
come back as one message.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import SensorError
from .vospi import VospiFrame

POLL_S = 0.2  # the receiving thread checks for a stop or a dead child this often
JOIN_S = 1.0  # a stopping child gets this long to finish its transfer before it is killed


@dataclass(frozen=True)
class Batch:
    """What the child sends: new frames with the time they were complete, and the driver's counters."""

    frames: list[VospiFrame]
    captured: float
    counters: dict[str, Any]


@dataclass(frozen=True)
class Failure:
    """The child's pump raised: the message, and whether it was a SensorError (else a crash)."""

    message: str
    sensor_error: bool


class ProcessReader:
    """Runs `run(send, stopped)` in a forked child, which calls `send(batch)` for each batch until `stopped()`;
    `deliver(batch)` runs in the parent."""

    def __init__(self, run: Callable[[Callable[[Batch], None], Callable[[], bool]], None],
                 deliver: Callable[[Batch], None], fail: Callable[[SensorError], None]) -> None:
        self._run, self._deliver, self._fail = run, deliver, fail
        context = multiprocessing.get_context("fork")  # the child must inherit the opened device
        self._stop = context.Event()
        self._parent, child = context.Pipe(duplex=False)
        self._process = context.Process(target=self._child, args=(child,), name="lepton-vospi", daemon=True)
        self._receiver = threading.Thread(target=self._receive, name="lepton-vospi-receiver", daemon=True)
        self._child_end = child

    @property
    def pid(self) -> int | None:
        """The child's process id once started."""
        return self._process.pid

    def start(self) -> None:
        """Fork the child and start receiving."""
        self._process.start()
        self._child_end.close()
        self._receiver.start()

    def stop(self) -> None:
        """Ask the child to stop after its transfer; kill it if it does not; stop receiving."""
        self._stop.set()
        self._process.join(JOIN_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(JOIN_S)
        self._receiver.join(JOIN_S + POLL_S)
        self._parent.close()

    def _child(self, conn: Any) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the child
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        try:
            self._run(conn.send, self._stop.is_set)
        except BaseException as exc:  # handed to the parent's read()
            conn.send(Failure(str(exc), isinstance(exc, SensorError)))
        finally:
            conn.close()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._parent.poll(POLL_S):
                    if not self._process.is_alive():
                        self._fail(SensorError(f"the Lepton reader process ended (exit code "
                                               f"{self._process.exitcode})"))
                        return
                    continue
                message = self._parent.recv()
            except (EOFError, OSError):
                if not self._stop.is_set():
                    self._fail(SensorError("the Lepton reader process closed its pipe"))
                return
            if isinstance(message, Failure):
                self._fail(SensorError(message.message if message.sensor_error
                                       else f"the Lepton reader stopped: {message.message}"))
                return
            self._deliver(message)
