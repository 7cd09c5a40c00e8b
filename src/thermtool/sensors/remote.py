"""Frames from another thermtool (`thermtool serve` / `view --backend web`): `remote:ws://HOST:PORT/ws`.

`ws://` reads the server's /ws WebSocket of binary frames (view/wire.py); `http://` long-polls its
/api/frame JSON (for proxies that block WebSockets). A background thread keeps the link up and holds
the newest frame. The link is never trusted: every wait on it has a deadline (connect, handshake, each
frame), every message is size-capped (MAX_WS_MESSAGE, MAX_HTTP_BODY) and anything wrong with one (broken
JSON, huge nesting, bad units, an impossible timestamp, ...) counts as a bad frame and resets the link.
Every failure is followed by exponential backoff, and no failure ends the thread. `read()` keeps waiting
meanwhile (up to its timeout, `read_timeout` when none is given) and gives up within a second of
`interrupt()` (a SIGTERM). Frames arrive exactly as the server had them. The server's token goes in
`token=` or `?token=`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import numpy as np

from ..errors import EndOfStream, InputError, MissingDependencyError, SensorError, SensorTimeoutError
from ..frame import Frame
from .base import Sensor

#: First reconnection delay (seconds); it doubles per failed attempt up to `backoff_max`.
FIRST_BACKOFF = 0.25
#: A link that delivered frames for this long counts as healthy: the next failure starts the backoff over.
STABLE_LINK = 5.0
#: How long the server may hold an /api/frame?after= request (seconds).
POLL_WAIT = 10.0
#: An open link that brings no frame for this long is reset (a server that accepts and then says nothing).
STALL_TIMEOUT = 15.0
#: Longest a `read()` without a timeout waits for a frame before SensorTimeoutError (seconds).
READ_TIMEOUT = 60.0
#: How often a waiting `read()` or `open()` looks at the interrupt flag (seconds).
STOP_SLICE = 0.2
#: Largest frame accepted, in pixels (640x512, the largest thermal cores thermtool reads).
MAX_PIXELS = 640 * 512
#: Room for a message's header (sensor name, metadata) beyond its pixels.
HEADER_ROOM = 64 * 1024
#: Largest WebSocket message: float32 pixels plus the header.
MAX_WS_MESSAGE = 4 * MAX_PIXELS + HEADER_ROOM
#: Largest /api/frame body: JSON spends at most ~24 bytes per pixel ("-273.149993896484375, ").
MAX_HTTP_BODY = 24 * MAX_PIXELS + HEADER_ROOM
SCHEMES = {"ws": "ws", "wss": "ws", "http": "http", "https": "http"}


class BadFrame(SensorError):
    """A message from the server that is not a usable frame (its cause is chained)."""


class Refused(SensorError):
    """The server refused us (401/403): the token is wrong or missing."""

    def __init__(self, code: int) -> None:
        super().__init__(f"refused ({code}): check the token")
        self.code = code


def parse_target(target: str, token: str | None = None) -> tuple[str, str, str | None]:
    """(transport "ws"/"http", URL to fetch, token) from a target such as "ws://pi:8000/ws" or "pi:8000"."""
    if "://" not in target:
        target = f"ws://{target}"
    parts = urlsplit(target)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.netloc:
        raise InputError(f"remote:{target}: expected ws://HOST:PORT/ws or http://HOST:PORT")
    query = parse_qs(parts.query)
    token = token or (query.pop("token", [None])[0])
    transport = SCHEMES[scheme]
    path = parts.path.rstrip("/") or ("/ws" if transport == "ws" else "/api/frame")
    url = urlunsplit((scheme, parts.netloc, path, urlencode(query, doseq=True), ""))
    return transport, url, token


def frame_from_json(payload: Any) -> tuple[Frame, int, str]:
    """(frame, sequence, stream id) from an /api/frame JSON object (null pixels become NaN); BadFrame otherwise."""
    try:
        rows = payload["data"]
        if not isinstance(rows, list) or len(rows) * len(rows[0] if rows else []) > MAX_PIXELS:
            raise ValueError("data must be rows of at most MAX_PIXELS pixels")
        meta = payload.get("meta") or {}
        if not isinstance(meta, dict):
            raise TypeError("meta must be an object")
        data = np.array([[np.nan if v is None else v for v in row] for row in rows], dtype=np.float32)
        frame = Frame(data, payload["units"], payload["timestamp"], str(payload.get("sensor", "")), meta)
        return frame, int(payload["seq"]), str(payload.get("stream", ""))
    except Exception as exc:  # any shape of hostile JSON: wrong types, overflow, bad units, ...
        raise BadFrame(f"not a thermtool frame: {type(exc).__name__}: {exc}") from exc


def content_length(header_line: str) -> list[int]:
    """[N] for a "Content-Length: N" header line, [] for any other line."""
    name, _, value = header_line.partition(":")
    if name.strip().lower() == "content-length" and value.strip().isdigit():
        return [int(value.strip())]
    return []


def describe(exc: BaseException) -> str:
    """A one-line reason for a link failure."""
    text = " ".join(str(exc).split())[:200]
    return text or type(exc).__name__


class RemoteSensor(Sensor):
    """A sensor whose frames come over the network from a thermtool web server."""

    kind = "remote"

    def __init__(self, target: str, *, token: str | None = None, connect_timeout: float = 10.0,
                 backoff_max: float = 5.0, read_timeout: float = READ_TIMEOUT) -> None:
        super().__init__()
        self.transport, self.url, self._token = parse_target(target, token)
        if not connect_timeout > 0 or not backoff_max > 0 or not read_timeout > 0:
            raise InputError("connect_timeout, backoff_max and read_timeout must be above 0 seconds")
        self.connect_timeout, self.backoff_max = float(connect_timeout), float(backoff_max)
        self.read_timeout = float(read_timeout)
        self.connected = False
        self.reconnects = self.skipped = self.bad_frames = self.failures = 0
        self.last_error = ""
        self._fatal: str | None = None
        self._received = 0
        self._taken = 0
        self._frame: Frame | None = None
        self._last_frame_at: float | None = None
        self._last_error_at: float | None = None
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ever_connected = threading.Event()
        self._settled = threading.Event()  # connected once, or refused for good

    # Lifecycle (the link runs on its own thread and event loop).
    def _open(self) -> None:
        try:
            import tornado  # noqa: F401 - checked here so a missing extra is one clear line
        except ImportError:
            raise MissingDependencyError("the remote sensor", "web") from None
        self._fatal, self.last_error = None, ""
        self._ever_connected.clear()
        self._settled.clear()
        started = threading.Event()
        self._thread = threading.Thread(target=self._thread_main, args=(started,), name="thermtool-remote",
                                        daemon=True)
        self._thread.start()
        started.wait()
        deadline = time.monotonic() + self.connect_timeout
        while not self._settled.wait(STOP_SLICE):
            if self.interrupted:
                self._close()
                raise EndOfStream(f"{self.url}: stopped while connecting")
            if time.monotonic() >= deadline:
                break
        if not self._settled.is_set() or self._fatal:
            reason = self._fatal or self.last_error or f"no answer in {self.connect_timeout:g} s"
            self._close()
            raise SensorError(f"cannot connect to {self.url}: {reason}; is 'thermtool serve' running there?")

    def _close(self) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(5.0)
        self._thread = self._loop = self._task = None
        self.connected = False

    def _thread_main(self, started: threading.Event) -> None:
        try:
            loop = asyncio.new_event_loop()
        except OSError as exc:  # out of file descriptors: a one-line error from open(), never a hung wait
            self._fatal = f"cannot start the link: {exc.strerror or exc}"
            self._settled.set()
            started.set()
            return
        self._loop = loop
        self._task = loop.create_task(self._supervise())
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(self._task)
        loop.close()

    # The link.
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def _supervise(self) -> None:
        """Run link sessions forever: after each failure note it, back off, try again (a refusal ends it)."""
        from tornado.httpclient import AsyncHTTPClient

        client = None
        if self.transport == "http":
            client = AsyncHTTPClient(force_instance=True, max_body_size=MAX_HTTP_BODY, max_header_size=HEADER_ROOM)
        delay = FIRST_BACKOFF
        try:
            while True:
                started, frames_before = time.monotonic(), self._received
                try:
                    await (self._session_ws() if client is None else self._session_http(client))
                    reason: BaseException = SensorError("the server closed the connection")
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # whatever the server sends, the link thread lives on
                    reason = exc
                self._link_failed(reason)
                if self._fatal:
                    return
                if self._received > frames_before and time.monotonic() - started >= STABLE_LINK:
                    delay = FIRST_BACKOFF
                await asyncio.sleep(delay)
                delay = min(delay * 2.0, self.backoff_max)
        finally:
            if client is not None:
                client.close()

    async def _session_ws(self) -> None:
        """One WebSocket connection: frames until it closes, stalls or sends something that is not a frame."""
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        from ..view.wire import decode_frame

        request = HTTPRequest(self.url, headers=self._headers(), connect_timeout=self.connect_timeout,
                              request_timeout=self.connect_timeout)
        connection = await asyncio.wait_for(websocket_connect(request, max_message_size=MAX_WS_MESSAGE),
                                            self.connect_timeout)
        try:
            self._link_up()
            last_frame = time.monotonic()
            while True:
                remaining = last_frame + STALL_TIMEOUT - time.monotonic()
                try:
                    message = await asyncio.wait_for(connection.read_message(), max(remaining, 0.0))
                except asyncio.TimeoutError:
                    raise SensorError(f"no frame for {STALL_TIMEOUT:g} s on an open link") from None
                if message is None:
                    if connection.close_code == 1009:
                        raise BadFrame(f"a message exceeded {MAX_WS_MESSAGE} bytes")
                    return
                if isinstance(message, bytes):
                    try:
                        frame = decode_frame(message, MAX_PIXELS)[0]
                    except Exception as exc:  # any malformed message is a bad frame, never a dead thread
                        raise BadFrame(f"bad frame message: {describe(exc)}") from exc
                    self._deliver(frame)
                    last_frame = time.monotonic()
        finally:
            connection.close()

    async def _session_http(self, client: Any) -> None:
        """Long-poll /api/frame until a request fails or a body is not a frame."""
        from tornado.httpclient import HTTPRequest

        after, stream = 0, ""
        while True:
            query = urlencode({"after": after, "stream": stream, "timeout": POLL_WAIT})
            url = f"{self.url}{'&' if '?' in self.url else '?'}{query}"
            declared: list[int] = []
            request = HTTPRequest(url, headers=self._headers(), connect_timeout=self.connect_timeout,
                                  request_timeout=POLL_WAIT + self.connect_timeout,
                                  header_callback=lambda line, found=declared: found.extend(content_length(line)))
            try:
                response = await client.fetch(request, raise_error=False)
            except Exception as exc:
                if declared and declared[-1] > MAX_HTTP_BODY:
                    raise BadFrame(f"a body of {declared[-1]} bytes exceeds the {MAX_HTTP_BODY}-byte cap") from exc
                raise
            if response.code in (401, 403):
                raise Refused(response.code)
            if response.code not in (200, 503, 504):
                raise SensorError(f"HTTP {response.code} {response.reason}")
            self._link_up()
            if response.code != 200:  # no frame yet, or none in time: ask again, gently
                await asyncio.sleep(FIRST_BACKOFF)
                continue
            try:
                payload = json.loads(response.body)
            except Exception as exc:  # broken, non-UTF-8 or absurdly nested JSON
                raise BadFrame(f"bad frame body: {describe(exc)}") from exc
            frame, sequence, new_stream = frame_from_json(payload)
            if new_stream == stream and sequence <= after:  # not newer than asked for: a broken server, pace it
                await asyncio.sleep(FIRST_BACKOFF)
                continue
            after, stream = sequence, new_stream
            self._deliver(frame)

    def _link_up(self) -> None:
        with self._changed:
            if not self.connected and self._ever_connected.is_set():
                self.reconnects += 1
            self.connected = True
            self._ever_connected.set()
            self._settled.set()

    def _link_failed(self, exc: BaseException) -> None:
        """Note a failed attempt; a refusal (401/403) before any success is final (a wrong token stays wrong)."""
        code = exc.code if isinstance(exc, Refused) else getattr(exc, "code", None)
        if code in (401, 403) and not self._ever_connected.is_set():
            self._fatal = f"refused ({code}): check the token"
            self._settled.set()
        with self._changed:
            self.connected = False
            self.failures += 1
            self.bad_frames += isinstance(exc, BadFrame)
            self.last_error = describe(exc)
            self._last_error_at = time.monotonic()
            self._changed.notify_all()

    def _deliver(self, frame: Frame) -> None:
        with self._changed:
            if self._received > self._taken:
                self.skipped += 1
            self._received += 1
            self._frame = frame
            self._last_frame_at = time.monotonic()
            self._changed.notify_all()

    # Sensor API.
    def _read(self, timeout: float | None) -> Frame:
        limit = self.read_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        with self._changed:
            while self._received <= self._taken and self._fatal is None:
                if self.interrupted:
                    raise EndOfStream(f"{self.url}: stopped")
                remaining = deadline - time.monotonic()
                if remaining <= 0.0:
                    state = "connected" if self.link_alive and self.connected else \
                        f"reconnecting ({self.last_error or 'no answer yet'})"
                    raise SensorTimeoutError(f"no frame from {self.url} in {limit:g} s; {state}")
                self._changed.wait(min(remaining, STOP_SLICE))
            if self._fatal is not None:
                raise SensorError(f"{self.url}: {self._fatal}")
            self._taken = self._received
            return self._frame  # type: ignore[return-value]

    @property
    def link_alive(self) -> bool:
        """True while the thread that keeps the link up runs (it ends only on close or a refusal)."""
        return self._thread is not None and self._thread.is_alive()

    def _info(self) -> dict[str, Any]:
        now = time.monotonic()
        return {"url": self.url, "transport": self.transport, "connected": self.connected and self.link_alive,
                "reconnects": self.reconnects, "frames_skipped": self.skipped, "bad_frames": self.bad_frames,
                "link_failures": self.failures, "last_error": self.last_error,
                "last_error_age_s": None if self._last_error_at is None else round(now - self._last_error_at, 3),
                "last_frame_age_s": None if self._last_frame_at is None else round(now - self._last_frame_at, 3)}


def open_remote(target: str | None, *, token: str | None = None, connect_timeout: float = 10.0,
                backoff_max: float = 5.0, read_timeout: float = READ_TIMEOUT) -> RemoteSensor:
    """A sensor reading frames from another thermtool: target ws://HOST:PORT/ws or http://HOST:PORT."""
    if not target:
        raise InputError("remote needs a server: --sensor remote:ws://HOST:PORT/ws (or remote:http://HOST:PORT)")
    return RemoteSensor(target, token=token, connect_timeout=connect_timeout, backoff_max=backoff_max,
                        read_timeout=read_timeout)
