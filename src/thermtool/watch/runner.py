"""The watch loop: read frames from a sensor, detect, and hand each event to the outputs in a fixed order.

For every event: the snapshot is saved first (start events, so its path can travel with the event), then
the event is printed, given to the --exec command and published over MQTT. Frame statistics go to MQTT
every `stats_every` seconds of frame time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import EndOfStream, ThermtoolError
from ..frame import Frame
from ..sensors.base import Sensor
from .events import Event
from .hooks import CommandHook
from .mqtt import MqttPublisher
from .snapshots import SnapshotWriter
from .watcher import Watcher


def frame_stats(frame: Frame) -> dict[str, Any]:
    """Minimum, maximum and mean of the finite pixels (None when there are none), with units and time."""
    finite = frame.data[np.isfinite(frame.data)]
    values = (float(finite.min()), float(finite.max()), float(finite.mean(dtype=np.float64))) if finite.size \
        else (None, None, None)
    stats: dict[str, Any] = {key: None if v is None else round(v, 3) for key, v in zip(("min", "max", "mean"), values,
                                                                                     strict=True)}
    time = frame.timestamp.isoformat() if frame.timestamp else None
    return {**stats, "units": frame.units, "time": time}


@dataclass
class Outputs:
    """Where events go: `emit` (print), optional snapshots, command hook and MQTT publisher."""

    emit: Callable[[Event], None]
    snapshots: SnapshotWriter | None = None
    hook: CommandHook | None = None
    mqtt: MqttPublisher | None = None
    stats_every: float = 10.0
    warn: Callable[[str], None] = print
    _next_stats: float = field(default=0.0, init=False)

    def first_frame(self, frame: Frame) -> None:
        """Tell the outputs what the frames are (MQTT discovery depends on their units)."""
        if self.mqtt is not None:
            self.mqtt.announce(frame.units)

    def frame(self, frame: Frame, t: float) -> None:
        """Per frame: statistics to MQTT when due."""
        if self.mqtt is not None and t >= self._next_stats:
            self.mqtt.stats(frame_stats(frame))
            self._next_stats = t + self.stats_every

    def event(self, event: Event, frame: Frame, watcher: Watcher) -> Event:
        """Send one event everywhere; returns it as sent (with its snapshot path)."""
        if self.snapshots is not None and event.kind == "start":
            try:
                event = event.replace(snapshot=str(self.snapshots.save(frame, event, watcher.present())))
            except (OSError, ThermtoolError) as exc:  # a full disk must not stop the watching
                self.warn(f"snapshot of #{event.track} not saved: {exc}")
        self.emit(event)
        if self.hook is not None:
            self.hook.submit(event)
        if self.mqtt is not None:
            self.mqtt.event(event)
        return event


@dataclass
class WatchStats:
    """What a watch run did: frames read, events sent, objects started."""

    frames: int = 0
    events: int = 0
    starts: int = 0


def run_watch(sensor: Sensor, watcher: Watcher, outputs: Outputs, *, count: int | None = None,
              duration: float | None = None, should_stop: Callable[[], bool] = lambda: False,
              on_ready: Callable[[], None] | None = None) -> WatchStats:
    """Watch until `count` frames, `duration` seconds of frame time, the end of a finite source or a stop.

    Objects still present when it stops get their end events. `on_ready` is called once warm-up is over.
    """
    stats = WatchStats()
    last: Frame | None = None
    while not should_stop() and (count is None or stats.frames < count):
        try:
            frame = sensor.read()
        except EndOfStream:
            break
        if last is None:
            outputs.first_frame(frame)
        warming, skipped = watcher.warming_up, watcher.skipped
        events = watcher.feed(frame)
        stats.frames += 1
        if skipped == 0 and watcher.skipped:
            outputs.warn(f"frame {stats.frames - 1} is implausible (mostly missing or outside the sensor's "
                         "range): skipped, and so will be any like it")
        last = frame
        if warming and not watcher.warming_up and on_ready is not None:
            on_ready()
        outputs.frame(frame, watcher.t)
        _send(events, frame, watcher, outputs, stats)
        if duration is not None and watcher.t >= duration:
            break
    if last is not None:
        _send(watcher.finish(), last, watcher, outputs, stats)
    return stats


def _send(events: list[Event], frame: Frame, watcher: Watcher, outputs: Outputs, stats: WatchStats) -> None:
    for event in events:
        outputs.event(event, frame, watcher)
        stats.events += 1
        stats.starts += event.kind == "start"
