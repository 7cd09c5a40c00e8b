"""Decompression bombs and non-regular files, read under an address-space cap: refused before allocation."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from thermtool import Frame, InputError, load_frame
from thermtool.formats import load_frames
from thermtool.formats.limits import MAX_IMAGE_PIXELS, MAX_MEMBER_BYTES, check_image_file
from thermtool.formats.npz import write_recording

#: Address space the reading process gets: thermtool with OpenCV needs about 0.5 GiB; every bomb asks for more.
ADDRESS_SPACE = 1 << 30


def _deflated_zeros(prefix: bytes, zeros: int) -> bytes:
    """A raw deflate stream of `prefix` then `zeros` NUL bytes, built from one compressed MiB repeated."""
    def flushed(data: bytes) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        return packer.compress(data) + packer.flush(zlib.Z_FULL_FLUSH)  # byte-aligned, no back-references

    mib, rest = divmod(zeros, 1 << 20)
    return (flushed(prefix) + flushed(bytes(1 << 20)) * mib + flushed(bytes(rest))
            + zlib.compressobj(9, zlib.DEFLATED, -15).flush())


def _npy_header(shape: tuple[int, ...], descr: str) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _zip(path: Path, members: dict[str, tuple[bytes, int, int]]) -> None:
    """A zip of deflated members (name -> (compressed, uncompressed size, CRC-32))."""
    local, central = b"", b""
    for name, (data, size, crc) in members.items():
        raw_name = name.encode()
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0x21, crc, len(data), size,
                               len(raw_name), 0, 0, 0, 0, 0, len(local)) + raw_name
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0x21, crc, len(data), size,
                             len(raw_name), 0) + raw_name + data
    path.write_bytes(local + central + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                                                   len(central), len(local), 0))


def _member(shape: tuple[int, ...], descr: str) -> tuple[bytes, int, int]:
    """An all-zero .npy member; the CRC is right for small members (a bomb's is never reached)."""
    header = _npy_header(shape, descr)
    body = int(np.prod(shape, dtype=np.int64)) * np.dtype(descr).itemsize
    crc = zlib.crc32(header + bytes(body)) if body < 1 << 20 else 0
    return _deflated_zeros(header, body), len(header) + body, crc


def _png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(1 << 16)))
            + chunk(b"IEND", b""))


def _tiff(width: int, height: int) -> bytes:
    tags = [(256, width), (257, height), (258, 16), (259, 1), (262, 1), (273, 8), (277, 1), (278, height),
            (279, min(width * height * 2, 0xFFFFFFFF))]
    entries = b"".join(struct.pack("<HHII", tag, 4, 1, value) for tag, value in tags)  # all LONG values
    pixels = bytes(1 << 12)
    return (b"II*\x00" + struct.pack("<I", 8 + len(pixels)) + pixels + struct.pack("<H", len(tags)) + entries
            + struct.pack("<I", 0))


@pytest.fixture
def bombs(tmp_path: Path) -> dict[str, Path]:
    """Small files that declare gigabytes (each far beyond ADDRESS_SPACE), and a FIFO."""
    made = {
        "png": (tmp_path / "bomb.png", _png(50000, 50000)),
        "tiff": (tmp_path / "bomb.tiff", _tiff(30000, 30000)),
    }
    for name, data in made.values():
        name.write_bytes(data)
    small = _member((1, 2, 2), "<f4")
    _zip(tmp_path / "frames.npz", {"frames.npy": _member((6000, 240, 160), "<f8")})  # 1.8 GB of frames
    _zip(tmp_path / "timestamps.npz", {"frames.npy": small, "timestamps.npy": _member((200_000_000,), "<f8")})
    _zip(tmp_path / "meta.npz", {"frames.npy": small, "meta.npy": _member((), "<U400000000")})
    _zip(tmp_path / "foreign.npz", {"image.npy": small, "junk.npy": _member((250_000_000,), "<f8")})
    os.mkfifo(tmp_path / "fifo.npy")
    files = {name: path for name, (path, _) in made.items()}
    files.update({p.stem: p for p in tmp_path.glob("*.npz")})
    files["fifo"] = tmp_path / "fifo.npy"
    return files


def test_bombs_are_refused_under_an_address_space_cap(bombs: dict[str, Path]) -> None:
    assert (bombs["frames"].stat().st_size < 4 << 20) and bombs["png"].stat().st_size < 1 << 20
    code = ("import resource, sys\n"
            f"resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE}))\n"
            "from thermtool.cli import run\n"
            "for path in sys.argv[1:]:\n"
            "    print(run(['info', path]), flush=True)\n")
    names = list(bombs)
    result = subprocess.run([sys.executable, "-c", code, *(str(bombs[n]) for n in names)],
                            capture_output=True, text=True, timeout=60)  # a FIFO read would block
    codes = dict(zip(names, result.stdout.split(), strict=False))
    errors = dict(zip(names, result.stderr.splitlines(), strict=False))
    assert len(result.stderr.splitlines()) == len(names), result.stderr
    assert codes == dict.fromkeys(names, "2"), result.stderr
    for name in ("png", "tiff"):
        assert "refused before decoding" in errors[name]
    for name in ("frames", "timestamps", "foreign"):
        assert "refused before decompressing" in errors[name]
    assert "limit for metadata" in errors["meta"]
    assert "not a regular file" in errors["fifo"]


def test_images_within_the_limit_still_read(tmp_path: Path) -> None:
    frame = Frame(np.full((120, 160), 21.5, np.float32), timestamp=0)
    for suffix in (".tiff", ".png"):
        path = frame.save(tmp_path / f"f{suffix}", "png16" if suffix == ".png" else None)
        check_image_file(path, "image")
        assert load_frame(path) == frame
    (tmp_path / "at-limit.png").write_bytes(_png(4096, MAX_IMAGE_PIXELS // 4096))
    check_image_file(tmp_path / "at-limit.png", "PNG")
    (tmp_path / "over.png").write_bytes(_png(4097, MAX_IMAGE_PIXELS // 4096))
    with pytest.raises(InputError, match="refused before decoding"):
        check_image_file(tmp_path / "over.png", "PNG")


def test_an_image_of_another_kind_under_a_png_name_is_refused(tmp_path: Path) -> None:
    import cv2

    _, jpeg = cv2.imencode(".jpg", np.zeros((8, 8), np.uint8))
    (tmp_path / "x.png").write_bytes(jpeg.tobytes())
    with pytest.raises(InputError, match="not a readable PNG image"):
        load_frame(tmp_path / "x.png")


def test_recordings_within_the_limit_still_read(tmp_path: Path) -> None:
    frames = [Frame(np.full((24, 32), float(i), np.float32), timestamp=i, meta={"n": i}) for i in range(3)]
    path = write_recording(frames, tmp_path / "r.npz")
    assert [f.meta for f in load_frames(path)] == [{"n": i} for i in range(3)]
    _zip(tmp_path / "over.npz", {"frames.npy": _member((1, 1, MAX_MEMBER_BYTES // 4 + 1), "<f4")})
    with pytest.raises(InputError, match="limit per member"):
        load_frame(tmp_path / "over.npz")


@pytest.mark.parametrize("record", [
    {"units": 5}, {"units": ["C"]}, {"units": "C", "timestamp": True}, {"units": "C", "timestamp": 1e300},
    {"units": "C", "timestamp": [1]}, {"units": "C", "sensor": {"a": 1}}, {"units": "C", "meta": 5},
    {"units": "C", "encoding": 5}, {"units": "C", "timestamp": 99999999999999},
])
@pytest.mark.parametrize("suffix", [".npy", ".tiff", ".csv"])
def test_sidecar_fields_of_the_wrong_type_are_one_line_errors(tmp_path: Path, record: dict[str, object],
                                                              suffix: str, capsys: pytest.CaptureFixture[str]) -> None:
    from thermtool.cli import run

    path = Frame(np.zeros((2, 2), np.float32)).save(tmp_path / f"f{suffix}")
    path.with_suffix(".json").write_text(json.dumps(record))
    assert run(["info", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" not in err and "f." in err, err
