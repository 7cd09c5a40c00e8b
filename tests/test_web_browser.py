"""The web page in a real headless Chromium (Debian's `chromium`, driven over the DevTools protocol): the picture
updates, a button changes the state, the temperature under the pointer is the server's. A screenshot is kept
(in $THERMTOOL_TEST_ARTIFACTS when set, else the test's tmp folder)."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

pytest.importorskip("tornado")

from thermtool import Frame, open_sensor
from thermtool.render.annotate import Layout, Rect, font_px
from thermtool.sensors.base import Sensor
from thermtool.view.feed import FrameFeed
from thermtool.view.geometry import sensor_to_picture
from thermtool.view.session import ViewOptions, ViewSession, initial_state
from thermtool.view.web import ServerThread, WebOptions, WebServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--remote-debugging-port=0", "--window-size=900,1200"]


class Recording(Sensor):
    """The simulated camera, remembering every frame it hands out."""

    kind = "recording"

    def __init__(self) -> None:
        super().__init__()
        self.inner = open_sensor("sim", seed=5, rate=8)
        self.frames: list[Frame] = []

    def _open(self) -> None:
        self.inner.open()

    def _close(self) -> None:
        self.inner.close()

    def _read(self, timeout: float | None) -> Frame:
        frame = self.inner.read(timeout)
        self.frames.append(frame)
        return frame


def launch(profile: Path) -> tuple[subprocess.Popen[str], str]:
    """Start Chromium; returns the process and its DevTools HTTP address."""
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],  # type: ignore[list-item]
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stderr], daemon=True).start()  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if line.startswith("DevTools listening on ws://"):
            return process, line.split("ws://", 1)[1].split("/", 1)[0]
    process.kill()
    raise AssertionError("Chromium did not report its DevTools address")


class Page:
    """A DevTools connection to one page: commands by id, events ignored."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.next_id = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        await self.connection.write_message(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(await self.connection.read_message())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message["result"]

    async def js(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def until(self, expression: str, timeout: float = 15.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"never true: {expression}")

    async def click(self, selector: str) -> None:
        box = await self.js(f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
                            ".getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    async def screenshot(self, clip: dict[str, float] | None = None) -> np.ndarray:
        params: dict[str, Any] = {"format": "png"}
        if clip:
            params["clip"] = {**clip, "scale": 1}
        data = await self.call("Page.captureScreenshot", **params)
        import base64

        return cv2.imdecode(np.frombuffer(base64.b64decode(data["data"]), np.uint8), cv2.IMREAD_COLOR)


def artefact_folder(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("THERMTOOL_TEST_ARTIFACTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_page_in_headless_chromium(tmp_path: Path) -> None:
    camera = Recording()
    session = ViewSession(FrameFeed(camera, read_timeout=0.2), initial_state(),
                          ViewOptions(size=(480, 640), flip="h", rotate=90, snapshot_dir=tmp_path))
    server = ServerThread(WebServer(session, WebOptions(port=0, token="t0ken"))).start()
    browser, devtools = launch(tmp_path / "profile")
    try:
        asyncio.run(asyncio.wait_for(drive(server, camera, devtools, artefact_folder(tmp_path)), 60))
    finally:
        browser.kill()
        browser.wait(10)
        server.stop()


async def drive(server: ServerThread, camera: Recording, devtools: str, artefacts: Path) -> None:
    from tornado.websocket import websocket_connect

    with urllib.request.urlopen(f"http://{devtools}/json/list", timeout=10) as response:
        targets = json.load(response)
    target = next(t for t in targets if t["type"] == "page")
    page = Page(await websocket_connect(target["webSocketDebuggerUrl"], max_message_size=64 << 20))
    await page.call("Page.enable")
    await page.call("Page.navigate", url=f"{server.url}/?token=t0ken")

    # The picture arrives and changes.
    await page.until("window.thermtool && thermtool.pictures >= 2 && document.getElementById('live').naturalWidth > 0")
    box = await page.js("thermtool.pictureBox()")
    box = {k: box[k] for k in ("x", "y", "width", "height")}
    first = await page.screenshot(box)
    await page.until(f"thermtool.status.seq > {await page.js('thermtool.status.seq')} + 2")
    second = await page.screenshot(box)
    assert first.std() > 5 and not np.array_equal(first, second)

    # A real click on the colormap button changes the server's state and the page shows it.
    await page.click("button[data-action=cmap_next]")
    await page.until("document.getElementById('settings').textContent.startsWith('ironbow')")
    assert server.server.session.state.cmap == "ironbow"

    # Pause, then read the temperature under the pointer at a known sensor pixel (flipped and rotated view).
    await page.click("button[data-action=pause]")
    await page.until("thermtool.state.paused && thermtool.frame !== null")
    await asyncio.sleep(0.3)
    view = await page.js("thermtool.status.view")
    layout = Layout(tuple(view["picture"]), Rect(*view["image"]))  # type: ignore[arg-type]
    row, col = 5, 20
    x, y = sensor_to_picture(row, col, layout, tuple(view["shape"]), view["flip"], view["rotate"])  # type: ignore[arg-type]
    scale = box["width"] / view["picture"][1]
    await page.call("Input.dispatchMouseEvent", type="mouseMoved", x=box["x"] + (x + 0.5) * scale,
                    y=box["y"] + (y + 0.5) * scale)
    pointer = await page.until("thermtool.pointer")
    sequence = await page.js("thermtool.frame.seq")
    assert pointer["pixel"] == [row, col] and pointer["units"] == "C"
    assert pointer["value"] == pytest.approx(float(camera.frames[sequence - 1].data[row, col]), abs=1e-4)
    text = await page.js("document.getElementById('under').textContent")
    assert text.startswith(f"{camera.frames[sequence - 1].data[row, col]:.1f}")

    shot = await page.screenshot()
    cv2.imwrite(str(artefacts / "web-view.png"), shot)
    await saving_by_double_click_and_double_tap(page, server, box)
    await page.click("button[data-action=pause]")
    for width, height in VIEWPORTS:
        await fits_the_viewport(page, width, height, artefacts)
    page.connection.close()


#: A laptop with browser chrome, a phone upright, the same phone on its side.
VIEWPORTS = [(1280, 690), (390, 844), (844, 390)]
#: Smallest size, in CSS pixels, of the text drawn into the picture once the page has scaled the picture.
LEGIBLE_PX = 10.5


async def saving_by_double_click_and_double_tap(page: Page, server: ServerThread, box: dict[str, float]) -> None:
    """A double click saves a snapshot as --snapshot-dir promises; on a touch screen a double tap does, and a
    tap shows the temperature under the finger."""
    folder = server.server.session.options.snapshot_dir
    assert folder is not None
    before = len(list(folder.glob("*.png")))
    x, y = box["x"] + box["width"] / 3, box["y"] + box["height"] / 3
    for count in (1, 2):
        for kind in ("mousePressed", "mouseReleased"):
            await page.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=count)
    await until_files(folder, before + 1)
    await page.js("thermtool.pointer = null; document.getElementById('under').textContent = '--'")
    await asyncio.sleep(0.7)  # two saves within 0.6 s are taken as one gesture
    for _ in range(2):
        for kind in ("touchStart", "touchEnd"):
            points = [{"x": x + 20, "y": y + 10}] if kind == "touchStart" else []
            await page.call("Input.dispatchTouchEvent", type=kind, touchPoints=points)
    await page.until("thermtool.pointer && document.getElementById('under').textContent !== '--'")
    await until_files(folder, before + 2)
    await asyncio.sleep(0.5)
    assert len(list(folder.glob("*.png"))) == before + 2  # one save per gesture


async def until_files(folder: Path, count: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while len(list(folder.glob("*.png"))) < count:
        assert time.monotonic() < deadline, f"never {count} snapshots in {folder}"
        await asyncio.sleep(0.1)


async def fits_the_viewport(page: Page, width: int, height: int, artefacts: Path) -> None:
    """At this viewport the picture is scaled to fit, nothing needs scrolling, every control is on screen and
    the text in the picture is legible; the screenshot is kept."""
    await page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                    mobile=width < height or height < 500)
    await page.until(f"innerWidth === {width} && innerHeight === {height}")
    await asyncio.sleep(0.3)
    geometry = await page.js("""(() => {
        const rect = (e) => { const r = e.getBoundingClientRect();
                              return [r.left, r.top, r.right, r.bottom]; };
        const root = document.scrollingElement;
        return {picture: thermtool.pictureBox(), stage: rect(document.getElementById('stage')),
                controls: [...document.querySelectorAll('#buttons button, .row')].map(rect),
                scroll: [root.scrollWidth, root.scrollHeight], view: thermtool.status.view};
    })()""")
    picture, stage = geometry["picture"], geometry["stage"]
    assert geometry["scroll"][0] <= width and geometry["scroll"][1] <= height, geometry["scroll"]
    for left, top, right, bottom in geometry["controls"]:
        assert left >= 0 and right <= width and top >= 0 and bottom <= height, (width, height, left, top)
    assert picture["x"] >= stage[0] - 0.5 and picture["x"] + picture["width"] <= stage[2] + 0.5
    assert picture["y"] >= stage[1] - 0.5 and picture["y"] + picture["height"] <= stage[3] + 0.5
    fills_width = picture["width"] >= stage[2] - stage[0] - 1
    fills_height = picture["height"] >= stage[3] - stage[1] - 1
    assert fills_width or fills_height  # scaled up or down until one side touches
    assert picture["height"] >= 0.3 * height
    text_px = font_px(tuple(geometry["view"]["picture"])) * picture["scale"]  # type: ignore[arg-type]
    assert text_px >= LEGIBLE_PX, (width, height, text_px)
    cv2.imwrite(str(artefacts / f"web-view-{width}x{height}.png"), await page.screenshot())
