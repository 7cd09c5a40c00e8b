"""Stop signals: SIGTERM ends any command within a second, as Ctrl-C does, with exit code 143 (130 for Ctrl-C).

Outside a loop SIGTERM raises `Terminated` (as SIGINT raises KeyboardInterrupt), which unwinds the command:
temporary files are removed, sensors closed. Inside a loop (`graceful_stop`) the first signal asks the loop
to finish its current frame; a second SIGINT aborts.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from ..sensors.base import clear_stop, request_stop

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}
_received: list[int] = []  # the stop signals this command received (the last one decides the exit code)


class Terminated(BaseException):
    """SIGTERM outside a graceful loop; a BaseException, like KeyboardInterrupt, so no `except Exception` eats it."""


def received_exit_code() -> int:
    """130/143 once this command received SIGINT/SIGTERM (an error it ends with is the stop's doing), else 0."""
    return EXIT_CODES.get(signal.Signals(_received[-1]), 0) if _received else 0


def _note(signum: int) -> None:
    """Record a stop signal and ask every sensor read in the process to end (both only set flags: signal-safe)."""
    _received.append(signum)
    request_stop()


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """For a whole command: SIGTERM raises Terminated, SIGINT KeyboardInterrupt, after asking reads to stop.

    Only the main thread can take signals; elsewhere (a test calling the CLI from a thread) nothing changes.
    """
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        _note(signum)
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    previous = {sig: signal.signal(sig, stop) for sig in EXIT_CODES}
    try:
        yield
    finally:
        clear_stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@dataclass
class StopRequest:
    """Set by the signal handlers; `exit_code` is 130 for SIGINT, 143 for SIGTERM, 0 while running."""

    signum: int | None = None

    @property
    def requested(self) -> bool:
        """True once a stop signal arrived."""
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        """The conventional exit code for the signal received (0 when none)."""
        return EXIT_CODES.get(signal.Signals(self.signum), 128 + self.signum) if self.signum else 0


@contextlib.contextmanager
def graceful_stop() -> Iterator[StopRequest]:
    """Install the handlers for the duration of a loop, then restore the previous ones.

    The first signal also asks every sensor read in the process to stop (`request_stop`: a flag, so it is
    signal-safe), so a read blocked on a slow sensor or a silent link gives up within a second.
    """
    request = StopRequest()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if request.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        request.signum = signum
        _note(signum)  # a sensor read blocked on slow hardware ends now instead of after its frame

    previous = {sig: signal.signal(sig, handle) for sig in EXIT_CODES}
    try:
        yield request
    finally:
        clear_stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
