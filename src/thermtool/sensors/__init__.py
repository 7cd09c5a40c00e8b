"""Sensors by name: `open_sensor("mlx90640")`, `open_sensor("replay:frames/")`, plugins by entry point."""

from __future__ import annotations

import inspect
from typing import Any

from ..errors import InputError
from ..registry import Registry
from .base import Sensor

SENSORS = Registry("sensor", group="thermtool.sensors")
SENSORS.register("mlx90640", "thermtool.sensors.mlx90640.device:open_mlx90640", extra="mlx90640")
SENSORS.register("sim", "thermtool.sensors.mlx90640.sim:open_sim")
SENSORS.register("lepton", "thermtool.sensors.lepton:open_lepton", extra="lepton")
SENSORS.register("lepton2", "thermtool.sensors.lepton:open_lepton2", extra="lepton")
SENSORS.register("lepton3", "thermtool.sensors.lepton:open_lepton3", extra="lepton")
SENSORS.register("sim-lepton", "thermtool.sensors.lepton.sim:open_sim_lepton")
SENSORS.register("replay", "thermtool.sensors.replay:ReplaySensor")
SENSORS.register("remote", "thermtool.sensors.remote:open_remote", extra="web")
SENSORS.register("mlx90641", "thermtool.sensors.mlx90641.device:open_mlx90641", extra="mlx90641")
SENSORS.register("sim-mlx90641", "thermtool.sensors.mlx90641.sim:open_sim_mlx90641")
SENSORS.register("amg88xx", "thermtool.sensors.amg88xx.device:open_amg88xx", extra="amg88xx")
SENSORS.register("sim-amg88xx", "thermtool.sensors.amg88xx.sim:open_sim_amg88xx")
SENSORS.register("uvc", "thermtool.sensors.uvc.device:open_uvc")
SENSORS.register("sim-uvc", "thermtool.sensors.uvc.sim:open_sim_uvc")

#: What each kind's TARGET (after the colon) names, for help texts.
TARGETS = {"mlx90640": "I2C bus: /dev/i2c-N or N (default: the board's header bus, /dev/i2c-1 on a Pi)",
           "lepton": "SPI device /dev/spidevB.C (default /dev/spidev0.0)",
           "lepton2": "SPI device /dev/spidevB.C (default /dev/spidev0.0)",
           "lepton3": "SPI device /dev/spidevB.C (default /dev/spidev0.0)",
           "sim": "mlx90640 (default), mlx90641 or amg88xx (simulated model)",
           "sim-lepton": "2 or 3 (Lepton model)", "replay": "file or folder",
           "remote": "ws://HOST:PORT/ws or http://HOST:PORT",
           "mlx90641": "I2C bus: /dev/i2c-N or N (default: the board's header bus, /dev/i2c-1 on a Pi)",
           "amg88xx": "I2C bus: /dev/i2c-N or N (default: the board's header bus, /dev/i2c-1 on a Pi), "
                      "optionally @0x69",
           "uvc": "video device /dev/videoN or N (default /dev/video0)",
           "sim-uvc": "infiray (default, 256x192) or purethermal (160x120)"}


#: "sim:MODEL" names the simulated camera of that model (the issue's `sim --model mlx90641`, spelled as
#: every other camera picks its model: by the spec's target).
SIM_MODELS = {"mlx90640": "sim", "mlx90641": "sim-mlx90641", "amg88xx": "sim-amg88xx"}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """Split "KIND[:TARGET]" into (kind, target); "replay:frames/" -> ("replay", "frames/"), and the alias
    "sim:mlx90641" -> ("sim-mlx90641", None)."""
    spec = spec.strip()
    if not spec:
        raise InputError("empty sensor name; try --sensor sim")
    kind, sep, target = spec.partition(":")
    kind, target = kind.lower(), (target if sep and target else None)
    if kind == "sim" and target is not None:
        if target.lower() not in SIM_MODELS:
            raise InputError(f"sim models are {', '.join(SIM_MODELS)}, got sim:{target}")
        return SIM_MODELS[target.lower()], None
    return kind, target


def sensor_options(factory: Any) -> set[str]:
    """Keyword options a sensor factory accepts (besides the target)."""
    params = inspect.signature(factory).parameters
    return {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY}


def open_sensor(spec: str, **options: Any) -> Sensor:
    """Create the sensor named by `spec` ("KIND[:TARGET]") with its options; it opens on first read or `with`.

    Options the kind does not take are an error naming them (a silent no-op would hide typos in cron jobs).
    """
    kind, target = parse_spec(spec)
    factory = SENSORS.get(kind)
    accepted = sensor_options(factory)
    unknown = sorted(set(options) - accepted)
    if unknown:
        names = ", ".join(f"--{n.replace('_', '-')}" for n in unknown)
        valid = ", ".join(sorted(accepted)) or "none"
        raise InputError(f"sensor {kind!r} does not take {names} (its options: {valid})")
    return factory(target, **options)


def sensors() -> list[str]:
    """Registered sensor kinds."""
    return SENSORS.names()
