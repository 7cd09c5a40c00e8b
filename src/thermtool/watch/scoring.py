"""Scoring the watch mode against per-frame labels of a recording: passes found, delays, recall, precision (pure).

Labels are one integer per frame: above 0 someone is in view, 0 nobody, below 0 unsure (ignored). The
detector's answer is whether it reports anyone present after each frame, plus the frame spans of the
objects it tracked. A pass is a run of labelled-present frames; a false start is a tracked object whose
whole span lies in frames labelled empty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .events import Event


@dataclass(frozen=True)
class Score:
    """How a run matched its labels; delays are in frames, one per pass found."""

    passes: int
    found: int
    delays: tuple[int, ...]
    present_frames: int
    hits: int
    false_frames: int
    false_starts: int

    @property
    def recall(self) -> float:
        """Fraction of labelled-present frames in which someone was reported (1 when none are labelled)."""
        return self.hits / self.present_frames if self.present_frames else 1.0

    @property
    def precision(self) -> float:
        """Fraction of the labelled frames with someone reported that really had someone (1 when none)."""
        reported = self.hits + self.false_frames
        return self.hits / reported if reported else 1.0


def passes_of(labels: Sequence[int]) -> list[tuple[int, int]]:
    """(first, last) frame of each run of labelled-present frames."""
    runs: list[tuple[int, int]] = []
    start: int | None = None
    for index, label in enumerate([*labels, 0]):
        if label > 0 and start is None:
            start = index
        elif label <= 0 and start is not None:
            runs.append((start, index - 1))
            start = None
    return runs


def spans_of(events: Sequence[Event], frames: int) -> list[tuple[int, int]]:
    """(start frame, end frame) of each tracked object, from its start and end events (open ones run to the end)."""
    opened: dict[int, int] = {}
    spans: list[tuple[int, int]] = []
    for event in events:
        if event.kind == "start":
            opened[event.track] = event.frame
        elif event.kind == "end" and event.track in opened:
            spans.append((opened.pop(event.track), event.frame))
    spans.extend((first, frames - 1) for first in opened.values())
    return sorted(spans)


def score(labels: Sequence[int], reported: Sequence[bool], spans: Sequence[tuple[int, int]]) -> Score:
    """Score per-frame `reported` presence and object `spans` against `labels` (same length as `reported`)."""
    truth = np.asarray(labels, dtype=np.int64)
    seen = np.asarray(reported, dtype=bool)
    if truth.shape != seen.shape:
        raise ValueError(f"{truth.size} labels for {seen.size} frames")
    delays = []
    runs = passes_of(labels)
    for first, last in runs:
        hit = np.flatnonzero(seen[first:last + 1])
        if hit.size:
            delays.append(int(hit[0]))
    false_starts = sum(1 for first, last in spans if not truth[first:last + 1].any())
    return Score(len(runs), len(delays), tuple(delays), int((truth > 0).sum()), int((seen & (truth > 0)).sum()),
                 int((seen & (truth == 0)).sum()), false_starts)
