"""The web view's page: one self-contained HTML document (inline CSS and JavaScript, no CDN, works offline on a LAN).

The buttons and the help table are generated from controls.CONTROLS, so the page offers exactly the
controls of the other views, on the same keys.
"""

from __future__ import annotations

import html
import json

from .controls import CONTROLS, KEYMAP, key_label

#: The page fills the viewport: the picture takes the space the controls leave (beside them on a wide screen,
#: above them on a tall one) and is scaled to fit it both ways, so nothing needs scrolling.
STYLE = """
:root { color-scheme: dark; font-family: system-ui, sans-serif; }
html, body { height: 100%; }
body { margin: 0; background: #161616; color: #e8e8e8; display: flex; flex-direction: column;
       height: 100vh; height: 100dvh; overflow: hidden; }
header { display: flex; gap: 1em; align-items: baseline; padding: .25em .8em; background: #222; flex: none; }
header h1 { font-size: 1em; margin: 0; }
#conn { color: #9a9a9a; font-size: .85em; }
main { flex: 1 1 auto; min-height: 0; display: flex; flex-direction: column; gap: .4em; padding: .4em; }
#stage { position: relative; flex: 0 1 auto; min-height: 0; min-width: 0; aspect-ratio: var(--aspect, 4 / 3); }
#live { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; cursor: crosshair;
        touch-action: none; user-select: none; -webkit-user-select: none; -webkit-touch-callout: none; }
#panel { flex: none; overflow: hidden auto; }
#help { position: absolute; inset: 4% 4%; background: rgba(0,0,0,.88); border: 1px solid #666; padding: .8em;
        line-height: 1.45; overflow: auto; font-family: ui-monospace, monospace; font-size: .9em; z-index: 1; }
#help[hidden] { display: none; }
#help td { padding: 0 1em 0 0; vertical-align: top; white-space: nowrap; }
#help td + td { white-space: normal; }
.row { margin: .3em 0; font-variant-numeric: tabular-nums; }
.row b { color: #fff; }
#settings { color: #c8c8c8; }
#fps { white-space: nowrap; }
#buttons { display: flex; flex-wrap: wrap; gap: .3em; }
#buttons button { font: inherit; font-size: .85em; padding: .45em .6em; border-radius: .35em; border: 1px solid #555;
                  background: #2b2b2b; color: #eee; cursor: pointer; }
#buttons button:active, #buttons button.on { background: #4a3b12; border-color: #c90; }
#buttons kbd { color: #aaa; font-size: .8em; margin-left: .3em; }
#message { overflow-wrap: anywhere; display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2;
           overflow: hidden; }
#message a { color: #fc6; }
@media (min-aspect-ratio: 5/4) {
  main { flex-direction: row; }
  #stage { flex: 1 1 auto; aspect-ratio: auto; }
  #panel { width: clamp(15em, 30vw, 24em); }
}
@media (max-height: 500px) {
  header { padding: .1em .8em; font-size: .85em; }
  .row { margin: .15em 0; font-size: .9em; }
  #buttons button { padding: .3em .45em; font-size: .8em; }
}
"""

SCRIPT = """
"use strict";
const $ = (id) => document.getElementById(id);
const KEYMAP = __KEYMAP__;
const SYMBOL = {C: "\\u00b0C", F: "\\u00b0F", K: " K", counts: " counts", agc: " AGC"};
const T = window.thermtool = {state: null, status: null, frame: null, pictures: 0, frames: 0};

function fmt(value, units) {
  if (value === null || value === undefined || !isFinite(value)) return "--";
  const digits = (units === "counts" || units === "agc") ? 0 : 1;
  return value.toFixed(digits) + (SYMBOL[units] || " " + units);
}
function toUnits(value, from, to) {
  if (from === to || !(from in {C: 1, F: 1, K: 1}) || !(to in {C: 1, F: 1, K: 1})) return value;
  const c = from === "F" ? (value - 32) * 5 / 9 : from === "K" ? value - 273.15 : value;
  return to === "F" ? c * 9 / 5 + 32 : to === "K" ? c + 273.15 : c;
}
function displayUnits(frameUnits) {
  return (T.state && frameUnits in {C: 1, F: 1, K: 1}) ? T.state.units : frameUnits;
}

async function send(url, body) {
  const options = {method: "POST", credentials: "same-origin"};
  if (body !== undefined) {
    options.headers = {"Content-Type": "application/json"};
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  if (!response.ok) {
    let text = response.statusText;
    try { text = (await response.json()).error || text; } catch (e) { /* not JSON */ }
    throw new Error(text);
  }
  return response;
}
function say(text) { $("message").textContent = text; }

async function act(action) {
  try {
    if (action === "snapshot") return await snapshot();
    const response = await send("api/state", {action});
    showStatus(await response.json());
    if (action === "quit") say("the server is stopping");
  } catch (error) { say(action + ": " + error.message); }
}
async function snapshot() {
  const response = await send("api/snapshot");
  const name = (response.headers.get("Content-Disposition") || "").split('"')[1] || "snapshot.png";
  const url = URL.createObjectURL(await response.blob());
  const message = $("message");
  const saved = response.headers.get("X-Thermtool-Saved") || name;
  message.textContent = "saved on the server: " + saved.split(", ").map((p) => p.split("/").pop()).join(", ") + " ";
  message.title = saved;
  const link = document.createElement("a");
  link.href = url; link.download = name; link.textContent = "download";
  message.appendChild(link);
}

function showStatus(status) {
  T.status = status;
  if (status.state) T.state = status.state;
  const s = T.state, r = status.readout;
  if (r) {
    $("min").textContent = fmt(r.min, r.units);
    $("max").textContent = fmt(r.max, r.units);
    const pinned = Boolean(s && s.spot);
    $("spot-name").textContent = pinned ? "spot" : "centre";
    $("spot").textContent = fmt(r.spot, r.units) + (pinned ? " (pinned " + s.spot.join(",") + ")" : "");
  }
  const v = status.view;
  if (v) document.documentElement.style.setProperty("--aspect", v.picture[1] + " / " + v.picture[0]);
  if (status.health) $("fps").textContent = status.health.text;
  if (s) {
    $("settings").textContent = [s.cmap, s.upscaler, s.units, s.range + (s.locked ? " locked" : ""),
      "filter " + (s.filter ? "on" : "off"), s.paused ? "PAUSED" : "live"].join(" | ");
    $("help").hidden = !s.help;
    for (const button of document.querySelectorAll("#buttons button")) {
      const on = {filter: s.filter, lock: s.locked, pause: s.paused, help: s.help}[button.dataset.action];
      button.classList.toggle("on", Boolean(on));
    }
  }
  if (status.message && !$("message").querySelector("a")) say(status.message);
}

function parseFrame(buffer) {
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== "TTF1") return null;
  const headerLength = view.getUint16(4, true), rows = view.getUint16(6, true), cols = view.getUint16(8, true);
  const units = String.fromCharCode(...new Uint8Array(buffer, 24, 8)).replace(/\\0+$/, "");
  return {rows, cols, units, seq: view.getUint32(12, true), data: new Float32Array(buffer, headerLength, rows * cols)};
}

// Picture point (x, y) -> sensor [row, col]: undo the fit into the image box, the rotation, then the flip.
function sensorPixel(x, y) {
  const v = T.status && T.status.view;
  if (!v) return null;
  const [ix, iy, iw, ih] = v.image, [R, C] = v.shape;
  const u = (x - ix) / iw, w = (y - iy) / ih;
  if (u < 0 || u >= 1 || w < 0 || w >= 1) return null;
  const quarter = v.rotate / 90, turned = quarter % 2 === 1;
  const dr = Math.floor(w * (turned ? C : R)), dc = Math.floor(u * (turned ? R : C));
  let r, c;
  if (quarter === 0) { r = dr; c = dc; }
  else if (quarter === 1) { r = R - 1 - dc; c = dr; }
  else if (quarter === 2) { r = R - 1 - dr; c = C - 1 - dc; }
  else { r = dc; c = C - 1 - dr; }
  if (v.flip === "h" || v.flip === "both") c = C - 1 - c;
  if (v.flip === "v" || v.flip === "both") r = R - 1 - r;
  return [r, c];
}
// Where the picture is drawn, in page pixels: the <img> box with the picture fitted inside (object-fit: contain).
function pictureBox() {
  const img = $("live"), v = T.status && T.status.view;
  if (!v || !img.clientWidth) return null;
  const box = img.getBoundingClientRect(), [h, w] = v.picture;
  const scale = Math.min(box.width / w, box.height / h);
  return {x: box.left + (box.width - w * scale) / 2, y: box.top + (box.height - h * scale) / 2,
          width: w * scale, height: h * scale, scale};
}
T.pictureBox = pictureBox;
function pictureXY(event) {
  const box = pictureBox();
  if (!box) return null;
  return [(event.clientX - box.x) / box.scale, (event.clientY - box.y) / box.scale];
}
function showPointer(event) {
  const xy = pictureXY(event), pixel = xy && sensorPixel(xy[0], xy[1]);
  const f = T.frame;
  if (!pixel || !f || pixel[0] >= f.rows || pixel[1] >= f.cols) { $("under").textContent = "--"; return; }
  const units = displayUnits(f.units);
  const value = toUnits(f.data[pixel[0] * f.cols + pixel[1]], f.units, units);
  $("under").textContent = fmt(value, units) + " at " + pixel.join(",");
  T.pointer = {pixel, value, units};
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + location.host + "/ws?status=1");
  socket.binaryType = "arraybuffer";
  socket.onopen = () => { $("conn").textContent = "live"; };
  socket.onmessage = (event) => {
    if (typeof event.data === "string") { T.pictures += 1; showStatus(JSON.parse(event.data)); return; }
    if (T.state && T.state.paused && T.frame) return;  // keep the temperatures of the frozen picture
    const frame = parseFrame(event.data);
    if (frame) { T.frame = frame; T.frames += 1; }
  };
  socket.onclose = () => { $("conn").textContent = "reconnecting..."; setTimeout(connect, 1000); };
}

function start() {
  for (const button of document.querySelectorAll("#buttons button")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    const name = event.key === " " ? "space" : event.key === "Escape" ? "escape" : event.key.toLowerCase();
    const action = KEYMAP[name];
    if (!action) return;
    event.preventDefault();
    if (action === "quit" && !document.querySelector("button[data-action=quit]")) return;
    act(action);
  });
  const img = $("live");
  img.addEventListener("pointermove", showPointer);
  img.addEventListener("pointerdown", showPointer);  // a tap shows the temperature under the finger
  img.addEventListener("click", (event) => {
    const xy = pictureXY(event), pixel = xy && sensorPixel(xy[0], xy[1]);
    if (pixel) send("api/state", {spot: pixel}).then((r) => r.json()).then(showStatus).catch((e) => say(e.message));
  });
  let lastTap = {time: 0, x: 0, y: 0}, lastSave = -1e9;
  const save = (time) => { if (time - lastSave > 600) { lastSave = time; act("snapshot"); } };
  img.addEventListener("dblclick", (event) => { event.preventDefault(); save(event.timeStamp); });
  img.addEventListener("pointerup", (event) => {  // touch screens: two taps close in time and place
    if (event.pointerType === "mouse") return;
    const near = Math.hypot(event.clientX - lastTap.x, event.clientY - lastTap.y) < 40;
    if (event.timeStamp - lastTap.time < 400 && near) { lastTap.time = 0; save(event.timeStamp); return; }
    lastTap = {time: event.timeStamp, x: event.clientX, y: event.clientY};
  });
  img.addEventListener("contextmenu", (event) => {
    event.preventDefault();
    send("api/state", {spot: null}).then((r) => r.json()).then(showStatus).catch((e) => say(e.message));
  });
  img.addEventListener("error", () => setTimeout(() => { img.src = "stream.mjpg?" + Date.now(); }, 1000));
  fetch("api/state", {credentials: "same-origin"}).then((r) => r.json()).then(showStatus).catch(() => {});
  connect();
}
start();
"""


def _buttons(allow_quit: bool) -> str:
    rows = []
    for control in CONTROLS:
        if control.action == "quit" and not allow_quit:
            continue
        keys = "/".join(key_label(k) for k in control.keys)
        rows.append(f'<button type="button" data-action="{control.action}" title="{html.escape(control.description)}">'
                    f"{html.escape(control.label)}<kbd>{html.escape(keys)}</kbd></button>")
    return "\n".join(rows)


def _help_table() -> str:
    rows = "".join(f"<tr><td>{html.escape('/'.join(key_label(k) for k in c.keys))}</td>"
                   f"<td>{html.escape(c.description)}</td></tr>" for c in CONTROLS)
    return (f"<table>{rows}</table><p>Click (tap) the picture to pin the spot meter, right-click (long press) "
            "to unpin, double-click (double-tap) to save a snapshot.</p>")


def page_html(allow_quit: bool = False) -> str:
    """The whole page; `allow_quit` adds the quit button (`thermtool view --backend web`, not `serve`)."""
    script = SCRIPT.replace("__KEYMAP__", json.dumps(KEYMAP))
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>thermtool view</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>thermtool view</h1><span id="conn">connecting...</span></header>
<main>
<div id="stage"><img id="live" src="stream.mjpg" alt="live thermal picture">
<div id="help" hidden>{_help_table()}</div></div>
<div id="panel">
<div class="row">under the pointer: <b id="under">--</b></div>
<div class="row">min <b id="min">--</b> &nbsp; max <b id="max">--</b>
&nbsp; <span id="spot-name">centre</span> <b id="spot">--</b> &nbsp; <span id="fps"></span></div>
<div class="row" id="settings"></div>
<div id="buttons">
{_buttons(allow_quit)}
</div>
<div class="row" id="message"></div>
</div>
</main>
<script>{script}</script>
</body>
</html>
"""
