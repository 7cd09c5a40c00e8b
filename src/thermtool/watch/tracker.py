"""Tracking warm objects from frame to frame, with hysteresis, into start/update/end events (pure).

An object must be seen in `start_frames` consecutive frames before its start event (one noisy frame starts
nothing) and missed in `end_frames` consecutive frames before its end event (one frame where it dips under
the threshold ends nothing). Objects are linked between frames by the gap between their boxes, so a fast
walker seen at a low frame rate keeps its number.

Occupancy: a confirmed object that is not found in a frame (a seated person dimmed under the threshold)
is held, not missed, while `still_warm(track)` says the pixels it last covered are still warmer than their
background; it ends only when they have cooled back. A new warm patch inside an object's footprint is a
part of that object (a dimmed body showing in pieces), not a new one. Each track also notes when it last
moved (its centre shifted by `MOTION_PX` or more), so the detector can let a motionless warm thing become
background.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .blobs import Blob
from .events import Box, Event

#: Shift of an object's centre (pixels) that counts as moving. A living body's breathing, typing and
#: shifting move the centre of its warmth by tenths of a pixel even on a 16x12 sensor; a radiator does not.
MOTION_PX = 0.25
#: Sightings whose pixels make up an object's footprint: a body that dims in part keeps its whole outline.
FOOTPRINT_SIGHTINGS = 8


@dataclass(eq=False)
class Track:
    """An object followed over frames; `number` is 0 until it is confirmed (its start event)."""

    blob: Blob
    first_t: float
    last_t: float
    hits: int = 1
    misses: int = 0
    number: int = 0
    last_report: float = 0.0
    peak: float = float("-inf")
    anchor: tuple[float, float] = (math.nan, math.nan)
    moved_t: float = 0.0
    settled_t: float = -math.inf
    sightings: deque[np.ndarray] = field(default_factory=lambda: deque(maxlen=FOOTPRINT_SIGHTINGS))

    @property
    def footprint(self) -> np.ndarray:
        """Flat indices of the pixels the object covered in its last few sightings."""
        return np.unique(np.concatenate(self.sightings)) if self.sightings else self.blob.pixels

    @classmethod
    def begin(cls, blob: Blob, t: float) -> Track:
        """A new candidate first seen as `blob` at `t` (it has just moved in)."""
        sightings = deque([blob.pixels], FOOTPRINT_SIGHTINGS)
        return cls(blob, t, t, peak=blob.peak, anchor=blob.centre, moved_t=t, sightings=sightings)

    def follow(self, blob: Blob, t: float) -> None:
        """Take `blob` as the track's latest sighting at `t`; note the time if its centre moved."""
        self.blob = blob
        self.sightings.append(blob.pixels)
        if math.isnan(self.anchor[0]):
            self.anchor = blob.centre  # re-anchored after losing pixels to the background
        elif math.hypot(blob.centre[0] - self.anchor[0], blob.centre[1] - self.anchor[1]) >= MOTION_PX:
            self.anchor, self.moved_t = blob.centre, t

    def settle(self, t: float) -> None:
        """The object became background at `t`; its next centre (moved by losing pixels) is its resting
        place, not motion."""
        self.anchor, self.settled_t = (math.nan, math.nan), t

    @property
    def confirmed(self) -> bool:
        """True once the start event was sent."""
        return self.number > 0


class Tracker:
    """Links blobs into tracks and emits events; `link_distance` is the largest box gap (pixels) to link."""

    def __init__(self, start_frames: int = 2, end_frames: int = 3, update_every: float = 1.0,
                 link_distance: int = 3) -> None:
        self.start_frames, self.end_frames = start_frames, end_frames
        self.update_every, self.link_distance = update_every, link_distance
        self.tracks: list[Track] = []
        self._numbers = 0

    @property
    def active(self) -> int:
        """Objects currently present (confirmed and not ended)."""
        return sum(track.confirmed for track in self.tracks)

    def present(self) -> list[tuple[int, Box]]:
        """(number, last box) of each object present."""
        return [(track.number, track.blob.box) for track in self.tracks if track.confirmed]

    def step(self, blobs: list[Blob], t: float, frame: int, shape: tuple[int, int],
             still_warm: Callable[[Track], bool] = lambda track: False) -> list[Event]:
        """Feed the blobs of frame number `frame` at time `t`; return its events (ends, starts, then updates).

        `still_warm(track)` decides whether a confirmed object not seen in this frame is held (still there).
        """
        pairs = self._match(blobs)
        linked = {id(track) for track, _ in pairs}
        ends: list[Event] = []
        for track in list(self.tracks):
            if id(track) in linked:
                continue
            if track.confirmed and still_warm(track):
                track.last_t, track.misses = t, 0
                continue
            track.misses += 1
            if not track.confirmed:
                self.tracks.remove(track)  # a candidate must be seen in consecutive frames
            elif track.misses >= self.end_frames:
                self.tracks.remove(track)
                ends.append(self._event("end", track, t, frame, shape))
        starts: list[Event] = []
        updates: list[Track] = []
        for track, blob in pairs:
            track.follow(blob, t)
            track.last_t = t
            track.hits, track.misses = track.hits + 1, 0
            track.peak = max(track.peak, blob.peak)
            if not track.confirmed and track.hits >= self.start_frames:
                starts.append(self._confirm(track, t, frame, shape))
            elif track.confirmed and t - track.last_report >= self.update_every:
                updates.append(track)
        used = {id(blob) for _, blob in pairs}
        footprints = [track.footprint for track in self.tracks if track.confirmed]
        for blob in blobs:
            if id(blob) not in used and not any(np.intersect1d(blob.pixels, f).size for f in footprints):
                track = Track.begin(blob, t)
                self.tracks.append(track)
                if self.start_frames <= 1:
                    starts.append(self._confirm(track, t, frame, shape))
        for track in updates:
            track.last_report = t
        return ends + starts + [self._event("update", track, t, frame, shape) for track in updates]

    def finish(self, t: float, frame: int, shape: tuple[int, int]) -> list[Event]:
        """End every object still present (the stream stopped); candidates are dropped."""
        confirmed = [track for track in self.tracks if track.confirmed]
        self.tracks = []
        return [self._event("end", track, t, frame, shape) for track in confirmed]

    def _confirm(self, track: Track, t: float, frame: int, shape: tuple[int, int]) -> Event:
        self._numbers += 1
        track.number, track.last_report = self._numbers, t
        return self._event("start", track, t, frame, shape)

    def _match(self, blobs: list[Blob]) -> list[tuple[Track, Blob]]:
        """Greedy pairs of (track, blob), closest boxes first, confirmed tracks before candidates."""
        options = []
        for track in self.tracks:
            for blob in blobs:
                gap = track.blob.box.gap(blob.box)
                if gap <= self.link_distance:
                    options.append((gap, not track.confirmed, -track.blob.box.iou(blob.box), track, blob))
        options.sort(key=lambda option: option[:3])
        pairs: list[tuple[Track, Blob]] = []
        taken_tracks: set[int] = set()
        taken_blobs: set[int] = set()
        for *_, track, blob in options:
            if id(track) not in taken_tracks and id(blob) not in taken_blobs:
                taken_tracks.add(id(track))
                taken_blobs.add(id(blob))
                pairs.append((track, blob))
        return pairs

    def _event(self, kind: str, track: Track, t: float, frame: int, shape: tuple[int, int]) -> Event:
        blob = track.blob
        return Event(kind, track.number, frame, t, blob.box, blob.area,
                     track.peak if kind == "end" else blob.peak, blob.mean, blob.delta,
                     track.last_t - track.first_t, self.active, shape)
