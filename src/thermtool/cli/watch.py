"""`thermtool watch`: a thermal security camera that reports warm movers (JSON lines, snapshots, --exec, MQTT)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import click
from click.core import ParameterSource

from ..errors import InputError
from ..sensors.scenes import scene_names
from ..watch.detector import DetectorConfig
from ..watch.events import Event
from .options import FiniteFloat, SensorRequest, sensor_option
from .output import reporter
from .signals import graceful_stop

_DEFAULTS = DetectorConfig()


@click.command(epilog="Example: thermtool watch --sensor sim --scene person --json")
@sensor_option
@click.option("--scene", type=click.Choice(scene_names()),
              help="Simulated cameras: a scripted scene (empty, person, drift, heater, pet) to tune thresholds.")
@click.option("--rate", "-r", type=FiniteFloat(min=0, min_open=True),
              help="Frames per second of simulated and replayed sources.")
@click.option("--count", "-n", type=click.IntRange(min=1), help="Stop after N frames.")
@click.option("--duration", "-d", type=FiniteFloat(min=0, min_open=True),
              help="Stop after S seconds (of frame time).")
@click.option("--min-delta", type=FiniteFloat(min=0),
              help="Smallest warming above the background that counts, in the frame's units "
                   "[default: 1 K, i.e. 1 in C or K, 1.8 in F; raw counts need a value].")
@click.option("--k-sigma", type=FiniteFloat(min=0, min_open=True), default=_DEFAULTS.k_sigma, show_default=True,
              help="Also require this many times each pixel's measured noise (the threshold follows the noise).")
@click.option("--min-area", type=click.IntRange(min=1), metavar="PX",
              help="Smallest object in pixels [default: 40 square degrees of the view: 3 px on 32x24 and 16x12 "
                   "at 110 deg, 315 px on a 160x120 Lepton 3].")
@click.option("--fov", type=FiniteFloat(min=0, max=180, min_open=True, max_open=True), metavar="DEG",
              help="Horizontal field of view in degrees, for the default --min-area [default: the usual one "
                   "for the frame size: 110 for 32x24 and 16x12, 51 for 80x60, 57 for 160x120].")
@click.option("--warmup", type=FiniteFloat(min=0),
              help="Seconds spent learning the background before the first event [default: the first 8 frames].")
@click.option("--absorb-after", type=FiniteFloat(min=0, min_open=True), default=_DEFAULTS.absorb_after,
              show_default=True, help="Seconds after which a warm object that has not moved at all becomes "
                                      "background (a heater); people who shift stay present.")
@click.option("--start-frames", type=click.IntRange(min=1), default=_DEFAULTS.start_frames, show_default=True,
              help="Frames an object must be seen in before its start event.")
@click.option("--end-frames", type=click.IntRange(min=1), default=_DEFAULTS.end_frames, show_default=True,
              help="Frames an object must be missing before its end event.")
@click.option("--update-every", type=FiniteFloat(min=0), default=_DEFAULTS.update_every, show_default=True,
              help="Seconds between update events of an object (0: every frame).")
@click.option("--snapshots", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Save an annotated picture of each start event into DIR.")
@click.option("--exec", "command", metavar="CMD",
              help="Run CMD for each event, with the event in THERMTOOL_EVENT* environment variables "
                   "(no shell: use sh -c '...' for shell syntax).")
@click.option("--exec-timeout", type=FiniteFloat(min=0, min_open=True), default=60.0, show_default=True,
              help="Seconds before an --exec command is killed.")
@click.option("--mqtt", "mqtt_url", metavar="URL",
              help="Publish to mqtt://[USER@]HOST[:PORT][/PREFIX] (needs thermtool[mqtt]); the password comes "
                   "from THERMTOOL_MQTT_PASSWORD, mqtt-password in the config file, or --mqtt-password-file.")
@click.option("--mqtt-password", hidden=True,
              help="Only from THERMTOOL_MQTT_PASSWORD or the config file (a command line is visible in ps).")
@click.option("--mqtt-password-file", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Read the MQTT password from the first line of FILE (keep it chmod 600).")
@click.option("--mqtt-discovery/--no-mqtt-discovery", default=True, show_default=True,
              help="Publish Home Assistant discovery configs.")
@click.option("--stats-every", type=FiniteFloat(min=0, min_open=True), default=10.0, show_default=True,
              help="Seconds between min/max/mean messages over MQTT.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per event, one per line.")
def watch(sensor_request: SensorRequest, scene: str | None, rate: float | None, count: int | None,
          duration: float | None, min_delta: float | None, k_sigma: float, min_area: int | None, fov: float | None,
          warmup: float | None, absorb_after: float, start_frames: int, end_frames: int, update_every: float,
          snapshots: Path | None, command: str | None, exec_timeout: float, mqtt_url: str | None,
          mqtt_password: str | None, mqtt_password_file: Path | None, mqtt_discovery: bool, stats_every: float,
          as_json: bool) -> int:
    """Watch for warm bodies and report them: a thermal security camera and occupancy sensor.

    Each pixel is compared with a slowly learned background of temperatures (not colours), after taking
    out drift of the whole scene; pixels warmer than both --min-delta and --k-sigma times their noise are
    grouped into objects of at least --min-area pixels. An object starts after --start-frames frames and
    ends once its pixels have cooled back to the background for --end-frames frames: a seated person stays
    present. Events are printed as they happen (start, update, end) with the count present; implausible
    frames are skipped. Ctrl-C ends the objects present and exits 130.
    """
    from ..watch.hooks import CommandHook, split_command
    from ..watch.mqtt import MqttPublisher, parse_mqtt_url, with_password
    from ..watch.runner import Outputs, run_watch
    from ..watch.snapshots import SnapshotWriter
    from ..watch.watcher import Watcher

    report = reporter()
    config = DetectorConfig(min_delta=min_delta, k_sigma=k_sigma, min_area=min_area, fov=fov, warmup=warmup,
                            absorb_after=absorb_after, start_frames=start_frames, end_frames=end_frames,
                            update_every=update_every)
    if click.get_current_context().get_parameter_source("mqtt_password") is ParameterSource.COMMANDLINE:
        raise InputError("--mqtt-password on the command line is visible to every user (ps); set "
                         "THERMTOOL_MQTT_PASSWORD, mqtt-password in the config file, or --mqtt-password-file")
    target = with_password(parse_mqtt_url(mqtt_url), mqtt_password, mqtt_password_file) if mqtt_url else None
    if target is not None and target.password and mqtt_password is None and mqtt_password_file is None:
        report.warn("the MQTT password in --mqtt is visible to every user (ps); use THERMTOOL_MQTT_PASSWORD, "
                    "the config file or --mqtt-password-file")
    argv = split_command(command) if command is not None else None
    if scene and not sensor_request.takes("scene"):
        raise InputError(f"--scene needs a simulated camera (--sensor sim or sim-lepton), "
                         f"not {sensor_request.resolved_spec}")
    sensor = sensor_request.open({"rate": rate, "scene": scene})

    def emit(event: Event) -> None:
        click.echo(event.to_json() if as_json else event.describe())

    with graceful_stop() as stop, contextlib.ExitStack() as stack:
        hook = None
        if argv is not None:
            hook = CommandHook(argv, timeout=exec_timeout, warn=report.warn, detail=report.detail)
            stack.callback(hook.close, lambda: stop.requested)
        stack.enter_context(sensor)
        period = 1.0 / (rate or float(sensor.info.get("rate_hz") or 1.0))
        publisher = None
        if target is not None:
            publisher = stack.enter_context(MqttPublisher(target, discovery=mqtt_discovery, model=sensor.kind,
                                                          warn=report.warn))
            report.info(f"publishing to mqtt://{target.host}:{target.port} under {target.prefix}/")
        outputs = Outputs(emit, SnapshotWriter(snapshots) if snapshots else None, hook, publisher, stats_every,
                          report.warn)
        watcher = Watcher(config, period=period)
        learning = "the first frames" if warmup is None else f"{warmup:g} s"
        report.info(f"watching {sensor.kind}; learning the background for {learning}")

        def ready() -> None:
            detector = watcher.detector
            if detector is not None:
                report.info(f"background learned; watching for objects at least {detector.min_delta:g} "
                            f"{watcher.units} (and {k_sigma:g} sigma) warmer, {detector.min_area} px or larger")

        stats = run_watch(sensor, watcher, outputs, count=count, duration=duration,
                          should_stop=lambda: stop.requested, on_ready=ready)
    if watcher.skipped:
        report.warn(f"{watcher.skipped} implausible frame(s) skipped (mostly missing or outside the sensor's range)")
    if watcher.times.guessed:
        hint = "give the recording's --fps" if sensor.kind == "replay" else "set --rate"
        report.warn(f"{watcher.times.guessed} frame(s) had no newer timestamp; spaced {period:g} s apart "
                    f"({hint})")
    report.info(f"watched {stats.frames} frame(s): {stats.starts} object(s), {stats.events} event(s)")
    return stop.exit_code
