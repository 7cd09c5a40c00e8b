"""Property tests: random and mutated VoSPI byte streams never crash the decoder and never make a corrupted
frame; the driver on a garbage SPI line gives up with a SensorError within bounded (virtual) time.

Example counts are modest so the file runs in seconds; the decoder's work is linear in its input (each byte
is looked at once, and its state is a fixed-size frame buffer plus under one packet of carry).
"""

from __future__ import annotations

from functools import cache
from itertools import pairwise

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thermtool import SensorError
from thermtool.clock import VirtualClock
from thermtool.sensors.lepton.device import LeptonSensor
from thermtool.sensors.lepton.telemetry import encode_telemetry
from thermtool.sensors.lepton.vospi import (
    PACKET_BYTES,
    SEGMENT_PACKET,
    VospiDecoder,
    discard_packets,
    encode_frame,
    layout,
)

LAYOUTS = [(2, "off"), (2, "footer"), (3, "off"), (3, "header")]
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def source(model: int, telemetry: str) -> tuple[list[np.ndarray], bytes]:
    """Three distinct frames and their stream as the camera sends it (duplicates, invalid segments, gaps)."""
    rng = np.random.default_rng(model)
    lay = layout(model, telemetry)
    frames = [rng.integers(0, 0x10000, lay.shape, dtype=np.uint16) for _ in range(3)]
    parts = []
    for i, pixels in enumerate(frames):
        rows = encode_telemetry(frame_counter=i + 1, uptime_ms=i) if telemetry != "off" else None
        groups = encode_frame(pixels, lay, rows)
        repeats = groups * 3 if model == 2 else groups + [_invalid(g) for g in groups * 2]
        for group in repeats:
            parts += [discard_packets(3), group]
    return frames, np.concatenate(parts).tobytes()


def _invalid(segment: np.ndarray) -> np.ndarray:
    out = segment.copy()
    out[SEGMENT_PACKET, 0] &= 0x0F
    return out


def decode(data: bytes, model: int, telemetry: str, cuts: list[int]) -> tuple[list[np.ndarray], VospiDecoder]:
    decoder = VospiDecoder(layout(model, telemetry))
    got, start = [], 0
    for cut in [*sorted(c % (len(data) + 1) for c in cuts), len(data)]:
        got += [f.pixels for f in decoder.feed(data[start:cut])]
        start = cut
        assert len(decoder._carry) < PACKET_BYTES  # bounded state whatever arrives
    return got, decoder


@FUZZ
@given(layout_index=st.integers(0, len(LAYOUTS) - 1), data=st.binary(min_size=0, max_size=30_000),
       cuts=st.lists(st.integers(0, 30_000), max_size=6))
def test_random_bytes_make_no_frame(layout_index: int, data: bytes, cuts: list[int]) -> None:
    model, telemetry = LAYOUTS[layout_index]
    got, _ = decode(data, model, telemetry, cuts)
    assert got == []


MUTATION = st.tuples(st.sampled_from(["flip", "delete", "insert", "duplicate", "swap", "drop"]),
                     st.integers(0, 10**9), st.integers(1, 400), st.binary(min_size=1, max_size=40))


def mutate(data: bytes, mutations: list[tuple[str, int, int, bytes]]) -> bytes:
    """Bit flips, byte-range deletions and insertions, and whole-packet duplication, swaps and drops."""
    out = bytearray(data)
    for kind, where, size, blob in mutations:
        at = where % max(len(out), 1)
        packet = at - at % PACKET_BYTES
        if kind == "flip" and out:
            out[at] ^= 1 << (size % 8)
        elif kind == "delete":
            del out[at:at + size]
        elif kind == "insert":
            out[at:at] = blob
        elif kind == "duplicate":
            out[packet:packet] = out[packet:packet + PACKET_BYTES]
        elif kind == "drop":
            del out[packet:packet + PACKET_BYTES]
        elif kind == "swap":
            other = packet + PACKET_BYTES * (1 + size % 70)
            # Two packets with the same ID (packet number; segment number on packet 20) from different segments
            # cannot be told apart: VoSPI's CRC covers each packet alone. Swapping them is no detectable fault.
            if other + PACKET_BYTES <= len(out) and out[packet:packet + 2] != out[other:other + 2]:
                a, b = bytes(out[packet:packet + PACKET_BYTES]), bytes(out[other:other + PACKET_BYTES])
                out[packet:packet + PACKET_BYTES], out[other:other + PACKET_BYTES] = b, a
    return bytes(out)


@FUZZ
@given(layout_index=st.integers(0, len(LAYOUTS) - 1), mutations=st.lists(MUTATION, min_size=1, max_size=8),
       cuts=st.lists(st.integers(0, 200_000), max_size=6))
def test_mutated_streams_give_exact_frames_or_none(layout_index: int, mutations: list[tuple[str, int, int, bytes]],
                                                   cuts: list[int]) -> None:
    model, telemetry = LAYOUTS[layout_index]
    frames, clean = source(model, telemetry)
    got, decoder = decode(mutate(clean, mutations), model, telemetry, cuts)
    order = []
    for pixels in got:
        matches = [i for i, f in enumerate(frames) if np.array_equal(pixels, f)]
        assert matches, "a corrupted frame came out"
        order.append(matches[0])
    assert order == sorted(order)  # never out of order
    assert all(a != b for a, b in pairwise(order))  # duplicates stay dropped
    assert decoder.stats.frames == len(got)


class ReplaySpi:
    """An SPI line that replays fixed bytes forever, taking bus time on a virtual clock."""

    def __init__(self, data: bytes, clock: VirtualClock) -> None:
        self.data, self.clock, self.offset = data or b"\x00", clock, 0

    def readbytes(self, count: int) -> bytes:
        self.clock.sleep(count * 8 / 20e6)
        reps = (self.offset + count) // len(self.data) + 1
        chunk = (self.data * reps)[self.offset:self.offset + count]
        self.offset = (self.offset + count) % len(self.data)
        return chunk

    def close(self) -> None:
        pass


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=1, max_size=5000), model=st.sampled_from([None, 2, 3]))
def test_driver_on_garbage_gives_up_in_bounded_time(data: bytes, model: int | None) -> None:
    clock = VirtualClock()
    sensor = LeptonSensor("lepton", spi=ReplaySpi(data, clock), model=model, clock=clock, timeout=0.3,
                          background=False)
    try:
        with sensor:
            sensor.read()
    except SensorError as exc:
        assert "check the wiring" in str(exc)
    else:
        raise AssertionError("a frame came out of garbage")
    # open (one resync) plus detection or reading: each at most the give-up time plus a stall resync
    assert clock.now < 2 * (0.3 + 1.0 + 0.25) + 0.25
