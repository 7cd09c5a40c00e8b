"""The controls every live view shares: one key table, one settings state, one set of actions.

Pure: no I/O, no clock. A backend turns its own events into key names or action names, calls
`ViewState.apply`, and acts on the returned `Effect` (quit, snapshot) itself.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import InputError

#: Units the `t` key cycles through.
UNITS = ("C", "F", "K")
#: Range modes the `r` key cycles through ("fixed" only when a fixed range was given).
RANGE_MODES = ("percentile", "auto", "equalize", "fixed")
#: Colormaps the `c`/`x` keys cycle through first (those that are registered); the rest follow by name.
PREFERRED_CMAPS = ("inferno", "ironbow", "magma", "plasma", "viridis", "turbo", "jet", "rainbow-hc",
                   "white-hot", "black-hot", "grey", "coolwarm", "hot", "cividis")


class Effect(enum.Enum):
    """What a backend must do after an action, beyond redrawing with the new state."""

    NONE = "none"
    QUIT = "quit"
    SNAPSHOT = "snapshot"


@dataclass(frozen=True)
class Control:
    """One control: its action name, the keys that trigger it, a button label and what it does (help texts)."""

    action: str
    keys: tuple[str, ...]
    label: str
    description: str


#: The key table, in the order help screens list it.
CONTROLS: tuple[Control, ...] = (
    Control("quit", ("q", "escape"), "Quit", "quit"),
    Control("snapshot", ("s",), "Snapshot", "save a snapshot (picture + temperatures, timestamped)"),
    Control("cmap_next", ("c",), "Colormap ▶", "next colormap"),
    Control("cmap_prev", ("x",), "◀ Colormap", "previous colormap"),
    Control("upscaler_next", ("i",), "Upscaler ▶", "next upscaler"),
    Control("upscaler_prev", ("u",), "◀ Upscaler", "previous upscaler"),
    Control("units", ("t",), "Units", "units C / F / K"),
    Control("filter", ("f",), "Filter", "frame filter on / off"),
    Control("range", ("r",), "Range", "range mode (percentile, auto, equalize, fixed)"),
    Control("lock", ("l",), "Lock range", "lock the colour range / unlock"),
    Control("pause", ("space",), "Pause", "pause / resume"),
    Control("help", ("h",), "Help", "show / hide this help"),
)
ACTIONS: dict[str, Control] = {c.action: c for c in CONTROLS}
KEYMAP: dict[str, str] = {key: c.action for c in CONTROLS for key in c.keys}
#: Spellings backends deliver for the same key.
KEY_ALIASES = {" ": "space", "esc": "escape", "\x1b": "escape"}


def action_for_key(key: str) -> str | None:
    """The action a key press names ("c" -> "cmap_next"), or None for keys without one."""
    key = KEY_ALIASES.get(key, key)
    return KEYMAP.get(key if len(key) > 1 else key.lower()) if key else None


def key_label(key: str) -> str:
    """How a key is written on screen ("escape" -> "Esc")."""
    return {"escape": "Esc", "space": "space"}.get(key, key)


def help_lines(extra: Sequence[tuple[str, str]] = ()) -> list[str]:
    """The key table as lines ("c        next colormap"), then `extra` (name, description) rows after a blank
    line, all with one key column width, for monospace help overlays."""
    rows = [("/".join(key_label(k) for k in c.keys), c.description) for c in CONTROLS]
    width = max(len(name) for name, _ in [*rows, *extra]) + 3
    lines = [f"{name:<{width}}{text}" for name, text in rows]
    return lines + ([""] + [f"{name:<{width}}{text}" for name, text in extra] if extra else [])


def cycle_names(start: str, available: Sequence[str], preferred: Sequence[str] = ()) -> tuple[str, ...]:
    """The cycle order: `start`, then the preferred names that exist, then the rest of `available`."""
    ordered = [start, *(n for n in preferred if n in available), *available]
    return tuple(dict.fromkeys(ordered))


def _step(names: Sequence[str], current: str, step: int) -> str:
    index = names.index(current) if current in names else (-1 if step > 0 else 0)
    return names[(index + step) % len(names)]


@dataclass(frozen=True)
class ViewState:
    """The settings a live view shows with, and how they change; immutable, so backends can share it."""

    cmap: str
    upscaler: str
    cmaps: tuple[str, ...]
    upscalers: tuple[str, ...]
    units: str = "C"
    range_mode: str = "percentile"
    fixed_range: tuple[float, float] | None = None
    locked: bool = False
    filter: bool = False
    paused: bool = False
    help: bool = False
    spot: tuple[int, int] | None = None
    version: int = field(default=0, compare=False)

    @property
    def range_modes(self) -> tuple[str, ...]:
        """The range modes `r` cycles through (fixed only when a fixed range is known)."""
        return RANGE_MODES if self.fixed_range is not None else RANGE_MODES[:-1]

    def apply(self, action: str) -> tuple[ViewState, Effect]:
        """Perform `action` (an ACTIONS name): the new state and the effect the backend must carry out."""
        if action not in ACTIONS:
            raise InputError(f"unknown action {action!r}; valid: {', '.join(ACTIONS)}")
        if action == "quit":
            return self, Effect.QUIT
        if action == "snapshot":
            return self, Effect.SNAPSHOT
        changes: dict[str, Any] = {
            "cmap_next": lambda: {"cmap": _step(self.cmaps, self.cmap, 1)},
            "cmap_prev": lambda: {"cmap": _step(self.cmaps, self.cmap, -1)},
            "upscaler_next": lambda: {"upscaler": _step(self.upscalers, self.upscaler, 1)},
            "upscaler_prev": lambda: {"upscaler": _step(self.upscalers, self.upscaler, -1)},
            "units": lambda: {"units": _step(UNITS, self.units, 1)},
            "filter": lambda: {"filter": not self.filter},
            "range": lambda: {"range_mode": _step(self.range_modes, self.range_mode, 1), "locked": False},
            "lock": lambda: {"locked": not self.locked},
            "pause": lambda: {"paused": not self.paused},
            "help": lambda: {"help": not self.help},
        }[action]()
        return self.changed(**changes), Effect.NONE

    def key(self, key: str) -> tuple[ViewState, Effect]:
        """Perform the action of a key press; keys without an action change nothing."""
        action = action_for_key(key)
        return self.apply(action) if action else (self, Effect.NONE)

    def changed(self, **changes: Any) -> ViewState:
        """A copy with `changes` and the version bumped (views redraw when the version moves)."""
        return replace(self, **changes, version=self.version + 1)

    def pin(self, spot: tuple[int, int] | None) -> ViewState:
        """Pin the spot meter to (row, column) of the sensor image, or unpin it with None."""
        return self.changed(spot=None if spot is None else (int(spot[0]), int(spot[1])))

    def update(self, values: Mapping[str, Any]) -> ViewState:
        """Apply settings from a JSON object (the web API); unknown keys or bad values are an InputError."""
        if not isinstance(values, Mapping):
            raise InputError("settings must be a JSON object")
        parsers = {"cmap": lambda v: _member(v, self.cmaps, "colormap"),
                   "upscaler": lambda v: _member(v, self.upscalers, "upscaler"),
                   "units": lambda v: _member(str(v).upper(), UNITS, "units"),
                   "range": lambda v: _member(v, self.range_modes, "range mode"),
                   "locked": _boolean, "filter": _boolean, "paused": _boolean, "help": _boolean,
                   "spot": _spot}
        unknown = sorted(set(values) - set(parsers))
        if unknown:
            raise InputError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(parsers)}")
        changes = {("range_mode" if k == "range" else k): parsers[k](v) for k, v in values.items()}
        return self.changed(**changes) if changes else self

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON-ready object (what GET /api/state returns, with the choices)."""
        return {"cmap": self.cmap, "upscaler": self.upscaler, "units": self.units, "range": self.range_mode,
                "fixed_range": list(self.fixed_range) if self.fixed_range else None, "locked": self.locked,
                "filter": self.filter, "paused": self.paused, "help": self.help,
                "spot": list(self.spot) if self.spot else None, "version": self.version,
                "choices": {"cmap": list(self.cmaps), "upscaler": list(self.upscalers), "units": list(UNITS),
                            "range": list(self.range_modes)}}

    def describe(self) -> str:
        """The settings as one short line ("inferno | bicubic | C | percentile | filter off")."""
        parts = [self.cmap, self.upscaler, self.units,
                 self.range_mode + (" locked" if self.locked else ""), f"filter {'on' if self.filter else 'off'}"]
        if self.paused:
            parts.append("PAUSED")
        return " | ".join(parts)


def _member(value: Any, valid: Sequence[str], what: str) -> str:
    if not isinstance(value, str) or value not in valid:
        raise InputError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise InputError(f"expected true or false, got {value!r}")
    return value


def _spot(value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)):
        return int(value[0]), int(value[1])
    raise InputError(f"spot must be [row, column] or null, got {value!r}")
