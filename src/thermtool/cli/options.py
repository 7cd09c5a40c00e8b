"""Options shared by several commands: choosing and configuring a sensor, overwriting outputs."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click

from ..errors import SensorNotFoundError
from ..sensors import SENSORS, open_sensor, parse_spec, sensor_options
from ..sensors.base import Sensor


class IntOrHex(click.ParamType):
    """An integer written in decimal or 0x-hex (I2C addresses)."""

    name = "INT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return int(str(value), 0)
        except ValueError:
            self.fail(f"{value!r} is not a number (e.g. 51 or 0x33)", param, ctx)


class FiniteFloat(click.FloatRange):
    """A float option that refuses nan and inf (click's FloatRange lets nan through every bound)."""

    name = "FLOAT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


#: Sensor options: (flags, factory keyword, click keyword arguments).
SENSOR_OPTIONS: list[tuple[tuple[str, ...], str, dict[str, Any]]] = [
    (("--seed",), "seed", {"type": int, "help": "Simulated cameras: random seed; with --no-realtime the "
                                                "frames are the same on every run."}),
    (("--realtime/--no-realtime",), "realtime", {
        "default": None, "help": "Simulated cameras and replay: pace frames in real time (default; replay with --fps: "
                                 "no), or run on a virtual clock as fast as the computer allows."}),
    (("--loop",), "loop", {"is_flag": True, "default": None, "help": "Replay: start over at the end."}),
    (("--fps",), "fps", {"type": FiniteFloat(min=0, min_open=True),
                         "help": "Replay: frames per second of a recording without frame times (stamps them)."}),
    (("--shape",), "shape", {"metavar": "WIDTHxHEIGHT",
                             "help": "Replay: cut flat rows (one frame per line) into frames of this shape "
                                     "[default: known row lengths, e.g. 768 -> 32x24]."}),
    (("--address",), "address", {"type": IntOrHex(),
                                 "help": "I2C sensors: address (MLX9064x 0x33, Grid-EYE 0x68 or 0x69)."}),
    (("--refresh-hz",), "refresh_hz", {
        "type": FiniteFloat(0.5, 64),
        "help": "MLX90640: subpage refresh rate 0.5-64 Hz (full frames at half this rate); MLX90641: "
                "frames/s 0.5-64; Grid-EYE: 10 or 1."}),
    (("--emissivity",), "emissivity", {"type": FiniteFloat(0.01, 1.0),
                                       "help": "MLX90640: emissivity of the scene (default 0.95); "
                                               "MLX90641: default the EEPROM's."}),
    (("--reflected-temp",), "reflected_temp", {
        "type": FiniteFloat(),
        "help": "MLX9064x: reflected temperature in C (default: sensor ambient - 8, MLX90641 ambient - 5)."}),
    (("--pattern",), "pattern", {"type": click.Choice(["chess", "interleaved"]),
                                 "help": "MLX90640: readout pattern (default: as the EEPROM configured)."}),
    (("--resolution",), "resolution", {"type": click.IntRange(16, 19),
                                       "help": "MLX9064x: ADC resolution in bits, 16-19 (default: as the EEPROM "
                                               "configured)."}),
    (("--per-subpage",), "per_subpage", {"is_flag": True, "default": None,
                                         "help": "MLX90640: a frame per subpage (half the pixels new) for lower "
                                                 "latency."}),
    (("--moving-average",), "moving_average", {
        "is_flag": True, "default": None, "help": "Grid-EYE: the sensor's twice-moving-average output (less noise)."}),
    (("--uvc-model",), "uvc_model", {
        "type": click.Choice(["purethermal", "infiray"]),
        "help": "USB camera: its model when the USB ids do not say (PureThermal Y16, InfiRay P2 Pro/TC001)."}),
    (("--spi",), "spi", {"help": "Lepton: SPI device (default /dev/spidev0.0)."}),
    (("--i2c",), "i2c", {"help": "Lepton: I2C bus for CCI control (default /dev/i2c-1 if present); "
                                 "MLX9064x, Grid-EYE: the sensor's bus, as TARGET."}),
    (("--spi-hz",), "spi_hz", {"type": click.IntRange(1_000_000, 20_000_000),
                               "help": "Lepton: SPI clock in Hz (up to 20 MHz)."}),
    (("--spi-mode",), "spi_mode", {"type": click.IntRange(0, 3),
                                   "help": "Lepton: SPI mode 0-3 (default 3, the Lepton's; see docs for Jetson "
                                           "Nano)."}),
    (("--radiometry/--no-radiometry",), "radiometry", {
        "default": None, "help": "Lepton, PureThermal: TLinear temperatures (default) or raw 14-bit counts."}),
    (("--agc/--no-agc",), "agc", {
        "default": None, "help": "Lepton: 8-bit AGC output (contrast-stretched, not temperatures) or not."}),
    (("--ffc",), "ffc", {"is_flag": True, "default": None, "help": "Lepton: run a flat-field correction at start."}),
    (("--telemetry/--no-telemetry",), "telemetry", {"default": None, "help": "Lepton: enable telemetry rows."}),
]


@dataclass
class SensorRequest:
    """The sensor a command was asked for: a spec (None = detect) and options set on the command line."""

    spec: str | None
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._resolved: str | None = None

    @property
    def resolved_spec(self) -> str:
        """The spec asked for, or the one hardware detection found (probed once)."""
        if self._resolved is None:
            self._resolved = self.spec or detect_spec()
        return self._resolved

    def takes(self, option: str) -> bool:
        """True when the requested sensor kind accepts `option`."""
        return option in sensor_options(SENSORS.get(parse_spec(self.resolved_spec)[0]))

    def open(self, extra: dict[str, Any] | None = None) -> Sensor:
        """Create the sensor; `extra` options are passed only when the sensor kind takes them."""
        options = dict(self.options)
        options.update({k: v for k, v in (extra or {}).items() if v is not None and self.takes(k)})
        return open_sensor(self.resolved_spec, **options)


def detect_spec() -> str:
    """The spec of the one sensor hardware detection finds; SensorNotFoundError naming what was probed."""
    from ..sensors.detect import choose, probe

    findings, notes = probe()
    chosen = choose(findings)
    if chosen is None:
        seen = "; ".join([f.description for f in findings] + notes) or "nothing"
        raise SensorNotFoundError(f"no sensor found ({seen}); name one with --sensor, "
                                  "or try the simulated camera: --sensor sim")
    return chosen.spec


def sensor_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add --sensor and the sensor options; the command receives them as `sensor_request`."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        spec = kwargs.pop("sensor")
        options = {key: kwargs.pop(key) for _, key, _ in SENSOR_OPTIONS}
        request = SensorRequest(spec, {k: v for k, v in options.items() if v is not None})
        return func(*args, sensor_request=request, **kwargs)

    for flags, key, settings in reversed(SENSOR_OPTIONS):  # listed by `thermtool sensors KIND`, not here
        wrapper = click.option(*flags, key, hidden=True, **settings)(wrapper)
    return click.option("--sensor", "-s", metavar="KIND[:TARGET]", default=None, help=SENSOR_HELP)(wrapper)


#: --sensor's help: the kinds, then the sensor options by name (each described by `thermtool sensors KIND`).
SENSOR_HELP = ("mlx90640[:/dev/i2c-N], mlx90641, amg88xx, uvc[:/dev/videoN], lepton2, lepton3, "
               "lepton[:/dev/spidevB.C], sim, sim-lepton[:2|3], sim-mlx90641, sim-amg88xx, sim-uvc, replay:PATH, "
               "remote:ws://HOST:PORT/ws. Default: detect hardware. Sensor options: "
               + ", ".join(flags[0].split("/")[0] for flags, _, _ in SENSOR_OPTIONS)
               + " ('thermtool sensors KIND' describes those KIND takes).")


force_option = click.option("--force", "-f", is_flag=True, help="Overwrite existing output files.")

