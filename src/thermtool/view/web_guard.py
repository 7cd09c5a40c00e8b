"""Keeping the web server up under floods: file-descriptor budget, a connection cap, eviction of idle connections.

A server on a LAN meets clients that open connections and never finish a request. tornado would keep
them for an hour and, once every descriptor is taken, spin on failed accepts. Here:

- the soft RLIMIT_NOFILE is raised towards the hard limit (where allowed), and the connection cap stays
  FD_RESERVE descriptors below whatever limit we end up with, so `accept()` never fails for lack of one;
- at the cap, a new connection evicts the oldest connection that has not yet sent a complete request
  (half-sent requests, idle keep-alives); when every connection is busy the new one is closed instead;
- headers and bodies must arrive within the idle timeout (tornado's header and body timeouts).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import tornado.httpserver
import tornado.httputil
import tornado.iostream

#: Descriptors kept for everything that is not a client connection (sensor, snapshots, listening sockets, ...).
FD_RESERVE = 48
#: The soft RLIMIT_NOFILE the server asks for when the hard limit allows it.
WANTED_FDS = 4096
#: The fewest client connections the server will run with (a lower descriptor limit is refused).
MIN_CONNECTIONS = 16


def raise_fd_limit(wanted: int = WANTED_FDS) -> int:
    """Raise the soft RLIMIT_NOFILE towards `wanted` (never above the hard limit); returns the soft limit."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX: no limit to raise; tornado needs POSIX anyway
        return wanted
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
    return wanted if soft == resource.RLIM_INFINITY else int(soft)


def connection_cap(fd_limit: int, reserve: int = FD_RESERVE) -> int:
    """Most client connections for a descriptor limit: the limit less the reserve, at least MIN_CONNECTIONS."""
    return max(MIN_CONNECTIONS, fd_limit - reserve)


class GuardedHTTPServer(tornado.httpserver.HTTPServer):
    """An HTTPServer with a connection cap that evicts the oldest idle connection to admit a new one.

    `others()` counts connections tornado no longer tracks (WebSockets, detached after the upgrade).
    """

    def initialize(self, *args: Any, max_connections: int = 1000, others: Callable[[], int] = lambda: 0,
                   **kwargs: Any) -> None:
        super().initialize(*args, **kwargs)
        self.max_connections = max_connections
        self.others = others
        self.evicted = self.refused = 0
        self._idle: dict[Any, float] = {}  # connection -> since when it waits for a request, oldest first

    @property
    def open_connections(self) -> int:
        """Client connections open now (HTTP and WebSocket)."""
        return len(self._connections) + self.others()

    def handle_stream(self, stream: tornado.iostream.IOStream, address: tuple[Any, ...]) -> None:
        if self.open_connections >= self.max_connections:
            if not self._idle:
                self.refused += 1
                stream.close()
                return
            oldest = next(iter(self._idle))
            del self._idle[oldest]
            self.evicted += 1
            oldest.stream.close()
        super().handle_stream(stream, address)

    def start_request(self, server_conn: object, request_conn: tornado.httputil.HTTPConnection,
                      ) -> tornado.httputil.HTTPMessageDelegate:
        self._idle.pop(server_conn, None)
        self._idle[server_conn] = time.monotonic()
        delegate = super().start_request(server_conn, request_conn)
        return _BusyOnHeaders(delegate, lambda: self._idle.pop(server_conn, None))

    def on_close(self, server_conn: object) -> None:
        self._idle.pop(server_conn, None)
        super().on_close(server_conn)


class _BusyOnHeaders(tornado.httputil.HTTPMessageDelegate):
    """Passes a request through, calling `busy()` once its headers are complete (it is no longer evictable)."""

    def __init__(self, inner: tornado.httputil.HTTPMessageDelegate, busy: Callable[[], object]) -> None:
        self.inner, self.busy = inner, busy

    def headers_received(self, start_line: Any, headers: tornado.httputil.HTTPHeaders) -> Any:
        self.busy()
        return self.inner.headers_received(start_line, headers)

    def data_received(self, chunk: bytes) -> Any:
        return self.inner.data_received(chunk)

    def finish(self) -> None:
        self.inner.finish()

    def on_connection_close(self) -> None:
        self.inner.on_connection_close()
