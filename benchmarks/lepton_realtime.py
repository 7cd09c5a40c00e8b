"""Lepton 3 in real time: does the driver keep VoSPI sync while the same process renders and encodes JPEGs?

The project's Lepton emulator runs on the system clock: segments become available at the camera's rate
(about 106/s, 8.8 new frames/s), a segment not read before the next is due or a packet left unfinished for
more than 1.5 ms loses sync, and the driver must then idle /CS for more than 185 ms. Every scenario runs
the real driver for `--seconds` and prints frames/s (decoded by the driver; delivered to the consumer) and
resyncs per minute. Scenarios:

- baseline: py-spidev's `readbytes` (GIL held for each transfer, reads clamped to 4096 bytes) with
  render+JPEG in the same process, the transport the driver used before issue 13, also with the driver's
  CPU slowed 8x;
- the `read(n)` transport (`os.read` on the node: GIL free during transfers) with bufsiz 65536: the driver
  alone, with render+JPEG, and with the driver's CPU (reading and decoding threads: the emulator's
  `SlowHost`) slowed 4x and 8x (Pi 4 / Pi Zero 2 class) while render+JPEG or pure-Python work runs;
- the same with the driver in a separate reader process (`process=True`);
- py-spidev's `readbytes` with bufsiz 65536: reads stay whole packets under py-spidev's 4096-byte clamp.

Targets (issue 13): 8.7 frames/s with <= 5 resyncs/min with render+JPEG; >= 8.0 frames/s with the reader
8x slower; whole-packet reads under the clamp. The machine running this is shared: compare rows of one run.

Run: python benchmarks/lepton_realtime.py [--seconds 20]
"""

from __future__ import annotations

import argparse
import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from thermtool.clock import SystemClock
from thermtool.emulators.lepton import LeptonEmulator, SlowHost, SpidevPort
from thermtool.errors import SensorTimeoutError
from thermtool.frame import Frame
from thermtool.render import Renderer
from thermtool.sensors.lepton import LeptonSensor
from thermtool.sensors.lepton.vospi import PACKET_BYTES


@dataclass(frozen=True)
class Scenario:
    """One run: transport ("read" or "readbytes"), spidev bufsiz, the consumer's load ("none", "jpeg": render
    + JPEG per frame, "python": pure-Python terminal-style rendering that keeps the main thread busy), reader
    slowdown, and whether the driver reads in a separate process."""

    name: str
    transport: str
    bufsiz: int
    load: str
    slowdown: float = 1.0
    process: bool = False


@dataclass(frozen=True)
class Result:
    """What a run measured."""

    decoded_fps: float
    delivered_fps: float
    resyncs_per_min: float
    read_bytes: int
    reads_per_s: float
    camera_losses: int


SCENARIOS = [
    Scenario("baseline: readbytes, render+JPEG", "readbytes", 4096, "jpeg"),
    Scenario("readbytes, render+JPEG, reader 8x slower", "readbytes", 4096, "jpeg", 8.0),
    Scenario("read(n), driver alone", "read", 65536, "none"),
    Scenario("read(n), render+JPEG", "read", 65536, "jpeg"),
    Scenario("read(n), render+JPEG, reader 4x slower", "read", 65536, "jpeg", 4.0),
    Scenario("read(n), render+JPEG, reader 8x slower", "read", 65536, "jpeg", 8.0),
    Scenario("read(n), busy Python, reader 8x slower", "read", 65536, "python", 8.0),
    Scenario("process, render+JPEG", "read", 65536, "jpeg", 1.0, True),
    Scenario("process, render+JPEG, reader 8x slower", "read", 65536, "jpeg", 8.0, True),
    Scenario("process, busy Python, reader 8x slower", "read", 65536, "python", 8.0, True),
    Scenario("readbytes, bufsiz 65536, driver alone", "readbytes", 65536, "none"),
]
PYTHON_PASSES = 6  # "python" load: terminal-style passes over each frame, enough to keep a core busy


def scene_frames(count: int = 9) -> list[np.ndarray]:
    """TLinear frames (centi-kelvin) of a room with a warm patch moving across it."""
    rng = np.random.default_rng(0)
    frames = []
    for k in range(count):
        celsius = 21.0 + rng.normal(0, 0.05, (120, 160))
        celsius[40:80, 10 + 15 * k:40 + 15 * k] = 34.0
        frames.append(np.round((celsius + 273.15) * 100).astype(np.uint16))
    return frames


def render_jpeg(renderer: Renderer, frame: Frame) -> int:
    """What `serve` does per frame: render to RGB, encode a JPEG; returns its size."""
    out = io.BytesIO()
    Image.fromarray(renderer.render(frame)).save(out, "JPEG", quality=80)
    return out.tell()


def render_text(frame: Frame) -> int:
    """A pure-Python stand-in for the terminal view: one truecolor half-block per pixel pair (holds the GIL)."""
    rows = frame.data[::2].tolist()
    return sum(len("".join(f"\x1b[38;2;{int(v) % 256};0;0m\u2580" for v in row)) for row in rows)


def consume(load: str, renderer: Renderer, frame: Frame) -> None:
    """The consumer's work per frame for a scenario's load."""
    if load == "jpeg":
        render_jpeg(renderer, frame)
    elif load == "python":
        for _ in range(PYTHON_PASSES):
            render_text(frame)


def slowed(digest: Callable[..., Any], host: SlowHost) -> Callable[..., Any]:
    """The driver's decoding step charged to the slow host CPU like its reads (whatever thread runs it)."""
    def charged(*args: Any) -> Any:
        host.charge()
        result = digest(*args)
        host.charge()
        return result
    return charged


def run(scenario: Scenario, seconds: float) -> Result:
    """Run the driver on a real-time emulated Lepton 3 for `seconds` and measure."""
    emulator = LeptonEmulator(scene_frames(), model=3, clock=SystemClock(), cci=False, bufsiz=scenario.bufsiz,
                              host_slowdown=scenario.slowdown)
    spi = emulator.spi if scenario.transport == "read" else SpidevPort(emulator.spi)
    sensor = LeptonSensor("lepton3", spi=spi, i2c=False, model=3, process=scenario.process)  # type: ignore[arg-type]
    sensor._digest = slowed(sensor._digest, emulator.spi.host)  # type: ignore[method-assign]
    renderer = Renderer(cmap="inferno", upscaler="bicubic", size=(480, 640), annotate=True)
    with sensor:
        sensor.read(timeout=10)
        start = sensor.info
        t0 = time.monotonic()
        delivered = 0
        while time.monotonic() - t0 < seconds:
            try:
                frame = sensor.read(timeout=2)
            except SensorTimeoutError:
                continue
            delivered += 1
            consume(scenario.load, renderer, frame)
        elapsed = time.monotonic() - t0
        end = sensor.info
    return Result((end["frames"] - start["frames"]) / elapsed, delivered / elapsed,
                  (end["resyncs"] - start["resyncs"]) * 60 / elapsed, end["read_bytes"],
                  (end["reads"] - start["reads"]) / elapsed, len(emulator.spi.stats.losses))


def main() -> None:
    """Run every scenario and print a table with the ratio of frames/s to the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each scenario (default 20)")
    parser.add_argument("--only", help="run only scenarios whose name contains this text")
    args = parser.parse_args()
    chosen = [s for s in SCENARIOS if not args.only or args.only in s.name]
    print(f"{'scenario':42} {'decoded/s':>9} {'shown/s':>8} {'resyncs/min':>11} {'read bytes':>10} "
          f"{'reads/s':>7} {'vs base':>7}")
    base, base_name = None, None
    for scenario in chosen:
        result = run(scenario, args.seconds)
        if base is None and result.decoded_fps:
            base, base_name = result.decoded_fps, scenario.name
        ratio = f"{result.decoded_fps / base:.2f}x" if base else "-"
        whole = "" if result.read_bytes % PACKET_BYTES == 0 else " (not whole packets!)"
        print(f"{scenario.name:42} {result.decoded_fps:9.2f} {result.delivered_fps:8.2f} "
              f"{result.resyncs_per_min:11.1f} {result.read_bytes:10d} {result.reads_per_s:7.0f} {ratio:>7}{whole}",
              flush=True)
    print(f"vs base: decoded frames/s over those of '{base_name}' in this run")
    print("targets: 8.7 frames/s with <= 5 resyncs/min with render+JPEG; >= 8.0 frames/s with the reader 8x "
          "slower; reads in whole packets under py-spidev's 4096-byte clamp")


if __name__ == "__main__":
    main()
