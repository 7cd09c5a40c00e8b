"""Graceful stops: the first SIGINT/SIGTERM asks the loop to finish its current frame; a second SIGINT aborts."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from types import FrameType

from ..sensors.base import clear_stop, request_stop

EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


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
        request_stop()  # a sensor read blocked on slow hardware ends now instead of after its frame

    previous = {sig: signal.signal(sig, handle) for sig in EXIT_CODES}
    try:
        yield request
    finally:
        clear_stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
