"""The web view (tornado): a self-contained page, an MJPEG stream, a JSON API and a WebSocket of raw frames.

Each new camera frame is rendered and JPEG-encoded once, on a worker thread, and the bytes are shared by
every stream client; each client sends the newest picture when its previous one has been written, so a
slow client skips pictures and the server holds at most one picture per kind whatever the clients do.

Endpoints (all need the token when one is set; see web_security.py):
  GET  /                 the page
  GET  /stream.mjpg      multipart/x-mixed-replace JPEG stream
  GET  /api/state        settings, choices, readout;  POST /api/state  JSON settings or {"action": ...}
  POST /api/snapshot     save a snapshot on the server; the response is its PNG
  GET  /api/frame        newest frame as JSON, or .npy (?format=npy / Accept: application/octet-stream);
                         ?after=SEQ waits (up to ?timeout=S) for a newer one (&stream=ID: of this server run)
  GET  /api/stats        counters (frames, pictures encoded, clients)
  WS   /ws               binary frame messages (wire.py); /ws?status=1 adds JSON status text messages
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import secrets
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingDependencyError, ThermtoolError
from ..formats.rendered import encode
from ..frame import Frame, as_utc
from .controls import Effect, action_for_key
from .hub import Latest
from .session import Picture, ViewSession
from .snapshots import SnapshotQuota, SnapshotQuotaError
from .web_guard import GuardedHTTPServer, connection_cap, raise_fd_limit
from .web_page import page_html
from .web_security import TOKEN_COOKIE, host_allowed, is_loopback, same_origin, token_matches
from .wire import encode_frame

try:
    import tornado.iostream
    import tornado.log
    import tornado.netutil
    import tornado.web
    import tornado.websocket
except ImportError as exc:  # pragma: no cover - tornado is the [web] extra
    raise MissingDependencyError("the web view", "web") from exc

BOUNDARY = "thermtoolframe"
#: Longest wait /api/frame?after= allows, in seconds.
MAX_FRAME_WAIT = 30.0
#: How often the serve loop checks for a stop request (seconds).
STOP_POLL = 0.2
MAX_BODY = 64 * 1024
#: Largest request header block (bytes).
MAX_HEADER = 16 * 1024


@dataclass(frozen=True)
class WebOptions:
    """Where and how the web view serves: address, port, token, client limit, JPEG quality, quit button."""

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    max_clients: int = 10
    quality: int = 80
    allow_quit: bool = False
    idle_timeout: float = 10.0
    write_timeout: float = 10.0
    max_snapshots: int | None = 1000
    max_snapshot_bytes: int | None = 512 * 1024 * 1024


@dataclass
class WebStats:
    """Counters for monitoring, tests and benchmarks (GET /api/stats)."""

    frames: int = 0
    pictures: int = 0
    jpeg_bytes: int = 0
    stream_clients: int = 0
    ws_clients: int = 0
    parts_sent: int = 0
    ws_frames_sent: int = 0
    refused_clients: int = 0
    stalled_clients: int = 0


@dataclass(frozen=True)
class Published:
    """One rendered picture: its JPEG and the status that goes with it (readout, settings, geometry)."""

    jpeg: bytes
    status: dict[str, Any]


class WebServer:
    """Serves a ViewSession over HTTP; `start()`/`stop()` inside a running asyncio loop, or `run()` blocking."""

    def __init__(self, session: ViewSession, options: WebOptions | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        self.session = session
        self.options = options or WebOptions()
        self.stats = WebStats()
        self.port = self.options.port
        self.stream_id = secrets.token_hex(6)
        self.log = log
        self.snapshot_quota = SnapshotQuota(self.options.max_snapshots, self.options.max_snapshot_bytes)
        self.pictures: Latest[Published] = Latest()
        self.frames: Latest[tuple[Frame, bytes]] = Latest()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="thermtool-render")
        self._http: GuardedHTTPServer | None = None
        self._render_task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._quit: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # Lifecycle.
    def application(self) -> tornado.web.Application:
        """The tornado application with every route."""
        context = {"server": self}
        return tornado.web.Application([
            (r"/", PageHandler, context),
            (r"/stream\.mjpg", StreamHandler, context),
            (r"/api/state", StateHandler, context),
            (r"/api/snapshot", SnapshotHandler, context),
            (r"/api/frame", FrameHandler, context),
            (r"/api/stats", StatsHandler, context),
            (r"/ws", FramesSocket, context),
        ], websocket_ping_interval=10, websocket_ping_timeout=10, compress_response=False,
            log_function=self._log_request)

    def _log_request(self, handler: tornado.web.RequestHandler) -> None:
        if self.log is not None:
            request = handler.request
            self.log(f"{handler.get_status()} {request.method} {request.path} ({request.remote_ip}) "
                     f"{1000.0 * request.request_time():.1f} ms")

    async def start(self) -> int:
        """Bind, start the camera and the render loop; returns the port (useful with port 0)."""
        self._loop = asyncio.get_running_loop()
        self._wake, self._quit = asyncio.Event(), asyncio.Event()
        try:
            sockets = tornado.netutil.bind_sockets(self.options.port, address=self.options.host)
        except OSError as exc:
            raise InputError(f"cannot listen on {self.options.host}:{self.options.port} ({exc.strerror}); "
                             "try another --port or --host") from None
        self._http = GuardedHTTPServer(self.application(), max_body_size=MAX_BODY, max_header_size=MAX_HEADER,
                                       idle_connection_timeout=self.options.idle_timeout,
                                       body_timeout=self.options.idle_timeout,
                                       max_connections=connection_cap(raise_fd_limit()),
                                       others=lambda: self.stats.ws_clients)
        self._http.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        loop = self._loop

        def frame_arrived(_sequence: int, frame: Frame) -> None:  # on the feed's thread
            with contextlib.suppress(RuntimeError):  # the loop closed while this frame was read
                loop.call_soon_threadsafe(self._on_frame, frame)

        self.session.feed.on_frame = frame_arrived
        try:
            self.session.feed.start()
        except BaseException:
            self._http.stop()
            raise
        self._render_task = asyncio.create_task(self._render_loop())
        return self.port

    async def stop(self) -> None:
        """Stop serving, end every client's stream, stop the camera."""
        if self._http is not None:
            self._http.stop()
        self.pictures.close()
        self.frames.close()
        if self._render_task is not None:
            self._render_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._render_task
        if self._http is not None:
            await self._http.close_all_connections()
        self.session.feed.on_frame = None
        await asyncio.get_running_loop().run_in_executor(None, self.session.feed.stop)
        self._executor.shutdown(wait=True)

    def request_quit(self) -> None:
        """Ask `serve()` to return (the page's quit button, when allowed)."""
        if self._quit is not None:
            self._quit.set()

    async def serve(self, should_stop: Callable[[], bool] = lambda: False,
                    announce: Callable[[list[str]], None] | None = None) -> int:
        """Start, announce the URLs, serve until quit or `should_stop()`, then stop; a sensor failure is raised."""
        await self.start()
        quit_requested = self._quit or asyncio.Event()
        try:
            if announce is not None:
                announce(self.urls())
            while not (should_stop() or quit_requested.is_set() or self.session.feed.error is not None):
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(quit_requested.wait(), STOP_POLL)
                self.changed()  # the render loop re-publishes only when the frame, settings or health moved
        finally:
            await self.stop()
        if self.session.feed.error is not None:
            raise self.session.feed.error
        return 0

    def run(self, should_stop: Callable[[], bool] = lambda: False,
            announce: Callable[[list[str]], None] | None = None) -> int:
        """Serve in a new event loop until quit or stopped (blocking); returns the exit code."""
        return asyncio.run(self.serve(should_stop, announce))

    def urls(self) -> list[str]:
        """URLs to open the page at (every LAN address when bound to all interfaces)."""
        hosts = local_addresses() if self.options.host in ("0.0.0.0", "::", "") else [self.options.host]
        query = f"?token={self.options.token}" if self.options.token else ""
        return [f"http://{_url_host(h)}:{self.port}/{query}" for h in hosts]

    # Frames and pictures.
    def _on_frame(self, frame: Frame) -> None:
        """A camera frame arrived (on the loop): publish it raw, wake the renderer."""
        self.stats.frames += 1
        self.frames.publish((frame, encode_frame(frame, self.frames.sequence + 1)))
        self.changed()

    def changed(self) -> None:
        """Something to show (a frame, new settings): wake the render loop."""
        if self._wake is not None:
            self._wake.set()

    async def _render_loop(self) -> None:
        loop = asyncio.get_running_loop()
        wake = self._wake or asyncio.Event()
        shown: tuple[int, int] | None = None
        while True:
            await wake.wait()
            wake.clear()
            health_moved = self.session.refresh() and self.session.sequence == (shown or (0, 0))[0]
            current = (self.session.sequence, self.session.state.version)
            if self.session.frame is None or (current == shown and not health_moved):
                continue
            shown = current
            published = await loop.run_in_executor(self._executor, self._render)
            if published is not None:
                self.stats.pictures += 1
                self.stats.jpeg_bytes = len(published.jpeg)
                self.pictures.publish(published)

    def _render(self) -> Published | None:
        """Render and JPEG-encode the picture on show (worker thread): done once, whatever the client count."""
        picture = self.session.picture()
        if picture is None:
            return None
        return Published(encode(picture.rgb, ".jpg", self.options.quality), self.status(picture))

    def status(self, picture: Picture | None = None) -> dict[str, Any]:
        """Settings, readout, rate and picture geometry, as JSON-ready data."""
        session = self.session
        state = {k: v for k, v in session.state.to_json().items() if k != "choices"}
        readout = session.readout()
        view: dict[str, Any] | None = None
        frame = session.frame
        if picture is not None and frame is not None:
            image = picture.layout.image
            view = {"picture": list(picture.layout.size), "image": [image.x, image.y, image.w, image.h],
                    "shape": list(frame.shape), "flip": session.renderer.flip, "rotate": session.renderer.rotate}
        sequence = picture.sequence if picture is not None else session.sequence
        health = session.health()
        return {"seq": sequence, "state": state, "readout": readout.to_json() if readout else None,
                "fps": round(session.feed.fps, 2) if health.state == "live" else 0.0, "health": health.to_json(),
                "message": session.message, "view": view, "status": session.status(),
                "allow_quit": self.options.allow_quit}

    def state_json(self) -> dict[str, Any]:
        """GET /api/state: the status plus the choices for each setting."""
        latest = self.pictures.value
        status = dict(latest.status) if latest is not None else self.status()
        status["state"] = self.session.state.to_json()
        return status

    async def take_snapshot(self) -> list[Path]:
        """Save the frame on show (off the loop), within the snapshot quota: HTTP 507 once it is used up."""
        try:
            self.snapshot_quota.reserve()
        except SnapshotQuotaError as exc:
            raise tornado.web.HTTPError(507, f"{exc}; restart the server or raise --max-snapshots / "
                                        "--max-snapshot-bytes", reason="Snapshot quota reached") from None
        try:
            paths = await asyncio.get_running_loop().run_in_executor(None, self.session.snapshot)
        except (ThermtoolError, OSError) as exc:  # a full disk is reported, not a traceback
            self.snapshot_quota.release()
            raise tornado.web.HTTPError(500, str(exc), reason="Snapshot failed") from None
        if not paths:
            self.snapshot_quota.release()
            raise tornado.web.HTTPError(503, "no frame to save yet", reason="No frame")
        self.snapshot_quota.add(paths)
        self.changed()
        return paths

    async def written(self, flushing: Any, stream: tornado.iostream.IOStream | None) -> bool:
        """Wait for a client's write to drain; past the write timeout the client is stalled: its connection
        is closed (freeing its slot) and False returned, as for a client that went away."""
        future = asyncio.ensure_future(flushing)
        done, _ = await asyncio.wait({future}, timeout=self.options.write_timeout)  # never cancels tornado's write
        if not done:
            self.stats.stalled_clients += 1
            if stream is not None:
                stream.close()  # fails the pending write with StreamClosedError, which tornado itself retrieves
            return False
        error = future.exception()
        if isinstance(error, (tornado.iostream.StreamClosedError, tornado.websocket.WebSocketClosedError)):
            return False
        if error is not None:
            raise error
        return True

    def connection_stats(self) -> dict[str, int]:
        """Open client connections, the cap, and connections evicted or refused at the cap."""
        http = self._http
        if http is None:
            return {}
        return {"connections": http.open_connections, "connection_cap": http.max_connections,
                "evicted_connections": http.evicted, "refused_connections": http.refused}

    @contextlib.contextmanager
    def client_slot(self, kind: str) -> Iterator[None]:
        """Count a streaming client of `kind` ("stream"/"ws") for as long as it is connected; 503 past the limit."""
        if self.stats.stream_clients + self.stats.ws_clients >= self.options.max_clients:
            self.stats.refused_clients += 1
            raise tornado.web.HTTPError(503, reason="Too many clients")
        field = f"{kind}_clients"
        setattr(self.stats, field, getattr(self.stats, field) + 1)
        try:
            yield
        finally:
            setattr(self.stats, field, getattr(self.stats, field) - 1)


def local_addresses() -> list[str]:
    """This machine's LAN IPv4 addresses, best guess first (no packets are sent)."""
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # TEST-NET-1: picks the outgoing interface, sends nothing
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    lan = [a for a in dict.fromkeys(found) if not is_loopback(a) and a != "0.0.0.0"]
    return lan or ["127.0.0.1"]


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def frame_json(frame: Frame, sequence: int, stream: str = "") -> dict[str, Any]:
    """A frame as JSON-ready data; NaN pixels become null; `stream` names the server run the sequence counts in."""
    data = frame.data
    rows: list[list[float | None]] = data.tolist()
    if not np.isfinite(data).all():
        rows = [[v if math.isfinite(v) else None for v in row] for row in rows]  # type: ignore[arg-type]
    return {"data": rows, "units": frame.units, "timestamp": as_utc(frame.timestamp).isoformat(),
            "sensor": frame.sensor, "meta": frame.meta, "seq": sequence, "stream": stream,
            "shape": list(frame.shape)}


class BaseHandler(tornado.web.RequestHandler):
    """Access checks for every request (Host for loopback servers, token) and JSON errors."""

    def initialize(self, server: WebServer) -> None:
        self.server = server

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Frame-Options", "DENY")

    def prepare(self) -> None:
        check_access(self, self.server)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        _log_failure(self.server, self, typ, value, tb)

    def guard_write(self) -> None:
        """Refuse a state-changing request coming from another site."""
        if not same_origin(self.request.headers, self.request.protocol):
            raise tornado.web.HTTPError(403, reason="Cross-origin request refused")

    def write_json(self, data: Any, status: int = 200) -> None:
        """Send `data` as JSON."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps(data, default=str, allow_nan=False))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = exc.log_message if isinstance(exc, tornado.web.HTTPError) and exc.log_message else self._reason
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": message, "status": status_code}))


def _log_failure(server: WebServer, handler: tornado.web.RequestHandler, typ: Any, error: Any, tb: Any) -> None:
    """Refused requests go to the server's log as one line; a server fault is logged with its traceback but
    only the method and path of the request (never its query, cookies or headers: they may hold the token)."""
    request = handler.request
    if isinstance(error, tornado.web.HTTPError):
        if server.log is not None:
            server.log(f"refused {request.method} {request.path} ({request.remote_ip}): {error.status_code} "
                       f"{error.log_message or error.reason or ''}")
        return
    tornado.log.app_log.error("internal error in %s %s", request.method, request.path, exc_info=(typ, error, tb))


def check_access(handler: tornado.web.RequestHandler, server: WebServer) -> None:
    """Raise 403 for a foreign Host on a loopback server, 401 without the token."""
    request = handler.request
    if not host_allowed(server.options.host, request.headers.get("Host")):
        raise tornado.web.HTTPError(403, "Host name not allowed for a server on a loopback address",
                                    reason="Host not allowed")
    query = handler.get_query_argument("token", None)
    if not token_matches(server.options.token, request.headers, query, handler.get_cookie(TOKEN_COOKIE)):
        raise tornado.web.HTTPError(401, "This server needs its token: open the URL it printed (?token=...)",
                                    reason="Token required")


class PageHandler(BaseHandler):
    """GET /: the page; opened with a valid ?token= it also sets the token cookie for the page's requests."""

    def get(self) -> None:
        token = self.get_query_argument("token", None)
        if token and self.server.options.token:
            self.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="Strict")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy",
                        "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                        "img-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'")
        self.finish(page_html(self.server.options.allow_quit))


class StreamHandler(BaseHandler):
    """GET /stream.mjpg: the shared pictures as multipart/x-mixed-replace; newest picture when ready to send."""

    def initialize(self, server: WebServer) -> None:
        super().initialize(server)
        self._gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self._gone.set()

    async def get(self) -> None:
        with self.server.client_slot("stream"):
            self.set_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
            after = 0
            try:
                await self.flush()  # the headers now: the client knows it is connected before the first picture
            except tornado.iostream.StreamClosedError:
                return
            while not self._gone.is_set():
                item = await _until_gone(self.server.pictures.wait(after), self._gone)
                if item is None:
                    break
                after, published = item
                head = (f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(published.jpeg)}\r\n"
                        f"X-Frame-Seq: {published.status['seq']}\r\n\r\n").encode("ascii")
                self.write(head + published.jpeg + b"\r\n")
                if not await self.server.written(self.flush(), self.request.connection.stream):
                    break
                self.server.stats.parts_sent += 1


async def _until_gone(waiting: Any, gone: asyncio.Event) -> Any:
    """The result of `waiting`, or None as soon as `gone` is set (the client disconnected)."""
    wait_task = asyncio.ensure_future(waiting)
    gone_task = asyncio.ensure_future(gone.wait())
    done, pending = await asyncio.wait({wait_task, gone_task}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return wait_task.result() if wait_task in done else None


class StateHandler(BaseHandler):
    """GET /api/state: settings and choices; POST: change settings ({"cmap": ...}) or act ({"action": ...})."""

    def get(self) -> None:
        self.write_json(self.server.state_json())

    async def post(self) -> None:
        self.guard_write()
        values = _json_body(self)
        action = values.pop("action", None)
        key = values.pop("key", None)
        if key is not None:
            action = action_for_key(str(key))
            if action is None:
                raise tornado.web.HTTPError(400, f"no control on key {key!r}", reason="Unknown key")
        if action == "quit" and not self.server.options.allow_quit:
            raise tornado.web.HTTPError(403, "this server cannot be stopped from the page", reason="Quit not allowed")
        session = self.server.session
        try:
            if values:
                session.update(values)
            effect = Effect.NONE
            if action == "snapshot":
                await self.server.take_snapshot()
            elif action is not None:
                effect = await asyncio.get_running_loop().run_in_executor(None, session.act, str(action))
        except (InputError, TypeError, ValueError) as exc:  # whatever the JSON holds, a bad value is the client's
            raise tornado.web.HTTPError(400, str(exc), reason="Bad setting") from None
        self.server.changed()
        if effect is Effect.QUIT:
            self.server.request_quit()
        self.write_json(self.server.state_json())


def _json_body(handler: tornado.web.RequestHandler) -> dict[str, Any]:
    content_type = handler.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise tornado.web.HTTPError(415, "send the settings as application/json", reason="JSON required")
    try:
        values = json.loads(handler.request.body or b"{}")
    except (ValueError, RecursionError) as exc:  # broken, not UTF-8, or nested too deep to parse
        raise tornado.web.HTTPError(400, f"broken JSON: {type(exc).__name__}", reason="Bad JSON") from None
    if not isinstance(values, dict):
        raise tornado.web.HTTPError(400, "the body must be a JSON object", reason="Bad JSON")
    return values


class SnapshotHandler(BaseHandler):
    """POST /api/snapshot: save the frame on show on the server (PNG + .npy); the response is the PNG."""

    async def post(self) -> None:
        self.guard_write()
        paths = await self.server.take_snapshot()
        png = Path(paths[0])
        self.set_header("Content-Type", "image/png")
        self.set_header("Content-Disposition", f'attachment; filename="{png.name}"')
        self.set_header("X-Thermtool-Saved", ", ".join(str(p) for p in paths))
        self.finish(png.read_bytes())


class FrameHandler(BaseHandler):
    """GET /api/frame: the newest camera frame (JSON, or .npy); ?after=SEQ waits for a newer one."""

    async def get(self) -> None:
        wants_npy = (self.get_query_argument("format", "").lower() == "npy"
                     or "application/octet-stream" in self.request.headers.get("Accept", ""))
        try:
            after = int(self.get_query_argument("after", "0"))
            if self.get_query_argument("stream", self.server.stream_id) != self.server.stream_id:
                after = 0  # the sequence belongs to an earlier run of the server: start over
            timeout = min(max(float(self.get_query_argument("timeout", "10")), 0.0), MAX_FRAME_WAIT)
        except ValueError:
            raise tornado.web.HTTPError(400, "after must be a whole number, timeout seconds",
                                        reason="Bad query") from None
        item = await self.server.frames.wait(after, timeout)
        if item is None:
            raise tornado.web.HTTPError(503 if self.server.frames.sequence == 0 else 504,
                                        "no new frame in time", reason="No frame")
        sequence, (frame, _) = item
        if not wants_npy:
            self.write_json(frame_json(frame, sequence, self.server.stream_id))
            return
        buffer = io.BytesIO()
        np.save(buffer, frame.data, allow_pickle=False)
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Content-Disposition", f'attachment; filename="frame-{sequence}.npy"')
        self.set_header("X-Thermtool-Units", frame.units)
        self.set_header("X-Thermtool-Timestamp", as_utc(frame.timestamp).isoformat())
        self.set_header("X-Thermtool-Sensor", frame.sensor)
        self.set_header("X-Thermtool-Seq", str(sequence))
        self.set_header("X-Thermtool-Stream", self.server.stream_id)
        self.finish(buffer.getvalue())


class StatsHandler(BaseHandler):
    """GET /api/stats: counters (camera frames, pictures rendered and encoded, clients, parts sent)."""

    def get(self) -> None:
        self.write_json({**asdict(self.server.stats), **self.server.connection_stats(),
                         "fps": round(self.server.session.feed.fps, 2)})


class FramesSocket(tornado.websocket.WebSocketHandler):
    """WS /ws: every camera frame as a binary message (wire.py); ?status=1 adds JSON status text messages."""

    def initialize(self, server: WebServer) -> None:
        self.server = server
        self._tasks: list[asyncio.Task[None]] = []
        self._slot: contextlib.ExitStack | None = None

    def prepare(self) -> None:
        check_access(self, self.server)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        _log_failure(self.server, self, typ, value, tb)

    async def open(self, *args: str, **kwargs: str) -> None:
        slot = contextlib.ExitStack()
        try:
            slot.enter_context(self.server.client_slot("ws"))
        except tornado.web.HTTPError:
            self.close(1013, "too many clients")
            return
        self._slot = slot
        self._tasks.append(asyncio.create_task(self._send_frames()))
        if self.get_query_argument("status", "0") not in ("0", "", "false"):
            self._tasks.append(asyncio.create_task(self._send_status()))

    async def _send_frames(self) -> None:
        after = 0
        with contextlib.suppress(tornado.websocket.WebSocketClosedError, tornado.iostream.StreamClosedError):
            while (item := await self.server.frames.wait(after)) is not None:
                after, (_, payload) = item
                if not await self.server.written(self.write_message(payload, binary=True), self._stream()):
                    break
                self.server.stats.ws_frames_sent += 1
        self.close()

    def _stream(self) -> tornado.iostream.IOStream | None:
        return getattr(self.ws_connection, "stream", None)

    async def _send_status(self) -> None:
        after = 0
        with contextlib.suppress(tornado.websocket.WebSocketClosedError, tornado.iostream.StreamClosedError):
            while (item := await self.server.pictures.wait(after)) is not None:
                after, published = item
                if not await self.server.written(self.write_message(json.dumps(published.status, default=str)),
                                                 self._stream()):
                    break

    def on_message(self, message: str | bytes) -> None:
        """Messages from clients are ignored: settings change through POST /api/state."""

    def on_close(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._slot is not None:
            self._slot.close()
            self._slot = None


class ServerThread:
    """A WebServer on its own thread and event loop, for programs that embed it (and tests, benchmarks)."""

    def __init__(self, server: WebServer) -> None:
        self.server = server
        self.error: BaseException | None = None
        self._started = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="thermtool-web", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the running server (the first of its URLs, without the token)."""
        return f"http://{_url_host(self.server.options.host)}:{self.server.port}"

    def start(self, timeout: float = 15.0) -> ServerThread:
        """Start serving (once; later calls do nothing); errors while starting are raised here."""
        if self._thread.ident is not None:
            return self
        self._thread.start()
        if not self._started.wait(timeout):
            raise ThermtoolError(f"the web server did not start within {timeout:g} s")
        if self.error is not None:
            raise self.error
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop serving and wait for the thread to end."""
        self._stop.set()
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _main(self) -> None:
        try:
            asyncio.run(self.server.serve(self._stop.is_set, lambda _urls: self._started.set()))
        except BaseException as exc:  # reported to the starting thread, or kept for inspection
            self.error = exc
        finally:
            self._started.set()
