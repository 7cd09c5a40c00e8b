"""The JSON sidecar written beside single-frame data files: units, time, sensor, metadata.

Capture folders keep the same records in one JSON-lines manifest instead (`manifest.py`); `read_sidecar`
finds a data file's record in either place.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .limits import MAX_META_BYTES

SIDECAR_VERSION = 1

#: Types of the sidecar fields readers use: a wrong type is a one-line error naming the field.
_FIELD_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "units": ((str,), "a unit name such as \"C\""),
    "timestamp": ((str, int, float, type(None)), "an ISO 8601 time or epoch seconds"),
    "sensor": ((str,), "a string"),
    "meta": ((dict,), "a JSON object"),
    "encoding": ((str,), "a string"),
}


def sidecar_path(path: Path) -> Path:
    """`frame.npy` -> `frame.json` (beside it, same stem)."""
    return path.with_suffix(".json")


def jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, datetimes, paths, tuples and non-finite floats into plain JSON values."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def dumps(record: dict[str, Any]) -> str:
    """Serialise a sidecar/manifest record as stable, readable JSON."""
    return json.dumps(jsonable(record), indent=2, sort_keys=True, allow_nan=False) + "\n"


def frame_record(frame: Any, **extra: Any) -> dict[str, Any]:
    """The sidecar record of `frame` (a thermtool.Frame)."""
    record = {"thermtool_sidecar": SIDECAR_VERSION, "units": frame.units,
              "timestamp": frame.timestamp.isoformat(), "sensor": frame.sensor,
              "shape": list(frame.shape), "meta": frame.meta}
    record.update(extra)
    return record


def read_sidecar(path: Path) -> dict[str, Any] | None:
    """The record of data file `path`: its sidecar, else its line in the folder's manifest, else None.

    InputError when the sidecar is broken.
    """
    side = sidecar_path(path)
    if not side.is_file():
        from .manifest import manifest_record

        return manifest_record(path)
    try:
        if side.stat().st_size > MAX_META_BYTES:
            raise InputError(f"{side}: over {MAX_META_BYTES >> 20} MiB, too large to be a metadata sidecar")
        record = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{side}: broken metadata sidecar ({exc})") from None
    except OSError as exc:
        raise InputError(f"{side}: cannot read ({exc.strerror})") from None
    if not isinstance(record, dict) or "units" not in record:
        raise InputError(f"{side}: not a thermtool sidecar (no 'units')")
    for key, (kinds, what) in _FIELD_TYPES.items():
        value = record.get(key)
        if key in record and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise InputError(f"{side}: field {key!r} must be {what}, got {type(value).__name__} {value!r:.40}")
    return record


def write_with_sidecar(frame: Any, path: Path, payload: bytes, *, force: bool, store: Any = None,
                       **extra: Any) -> Path:
    """Write the data file and its metadata: the data file is published first, the sidecar never alone.

    With `store` (a capture's manifest.FrameStore) the store records the metadata and publishes the file.
    """
    if store is not None:
        return store.publish(frame, path, payload, force=force, **extra)
    from ..fileio import write_with_companion

    record = dumps(frame_record(frame, **extra)).encode()
    return write_with_companion(path, payload, sidecar_path(path), record, force=force)


def frame_from_record(data: Any, record: dict[str, Any] | None, path: Path, default_units: str = "C") -> Any:
    """A Frame of `data` described by its sidecar `record`, or by the file (mtime, source) without one."""
    from datetime import datetime, timezone

    from ..frame import Frame

    if record:
        try:
            return Frame(data, record.get("units", default_units), record.get("timestamp"),
                         record.get("sensor", ""), record.get("meta", {}))
        except InputError as exc:
            raise InputError(f"{sidecar_path(path)}: {exc}") from None
    return Frame(data, default_units, datetime.fromtimestamp(path.stat().st_mtime, timezone.utc), "",
                 {"source": str(path)})
