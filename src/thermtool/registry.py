"""A small lazy registry: names map to "module:attr" strings imported on first use, plus entry points.

Sensors, upscalers, colormaps and file formats all use it, so a plugin adds a part by naming it in an
entry-point group (`thermtool.sensors`, `thermtool.upscalers`, `thermtool.colormaps`); nothing is imported
until the name is asked for. Entry points, and names a `more` hook registers (matplotlib's colormaps), are
looked up only when a name is not already known or the names are listed, so a lookup of a built-in name
imports nothing.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable
from typing import Any

from .errors import InputError, MissingDependencyError, UnknownNameError


def resolve(target: str) -> Any:
    """Import "package.module:attr.sub" and return the attribute."""
    module_name, _, attr = target.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


def _is_entry_point(target: Any) -> bool:
    """An importlib.metadata EntryPoint (checked without importing importlib.metadata when it is not loaded)."""
    metadata = sys.modules.get("importlib.metadata")
    return metadata is not None and isinstance(target, metadata.EntryPoint)


class Registry:
    """Name -> object, resolved lazily; entry points and `more` names join on listing or an unknown name."""

    def __init__(self, kind: str, group: str | None = None,
                 more: Callable[[Registry], None] | None = None) -> None:
        self.kind = kind
        self.group = group
        self._more = more
        self._targets: dict[str, Any] = {}
        self._aliases: dict[str, str] = {}
        self._loaded: dict[str, Any] = {}
        self._extras: dict[str, str] = {}
        self._complete = False

    def register(self, name: str, target: Any, *, aliases: Iterable[str] = (), extra: str | None = None) -> None:
        """Register `target` (an object or a "module:attr" string) as `name`; `extra` names the pip extra."""
        self._targets[name] = target
        self._loaded.pop(name, None)
        for alias in aliases:
            self._aliases[alias] = name
        if extra:
            self._extras[name] = extra

    def _complete_names(self) -> None:
        """Add the `more` hook's names, then entry points (built-in names win), once."""
        if self._complete:
            return
        self._complete = True
        if self._more is not None:
            self._more(self)
        if self.group:
            from importlib import metadata

            for ep in metadata.entry_points(group=self.group):
                self._targets.setdefault(ep.name, ep)

    def names(self) -> list[str]:
        """Registered names (entry points included), in registration order; aliases are not listed."""
        self._complete_names()
        return list(self._targets)

    def canonical(self, name: str) -> str:
        """The registered name for `name` or one of its aliases; UnknownNameError otherwise."""
        for attempt in range(2):
            if name in self._targets:
                return name
            if name in self._aliases:
                return self._aliases[name]
            if attempt == 0:
                self._complete_names()
        raise UnknownNameError(self.kind, name, self.names())

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.get(name)
        except InputError:
            return False
        return True

    def get(self, name: str) -> Any:
        """The object registered as `name`, imported on first use."""
        key = self.canonical(name)
        if key in self._loaded:
            return self._loaded[key]
        target = self._targets[key]
        try:
            if _is_entry_point(target):
                target = target.load()
            obj = resolve(target) if isinstance(target, str) else target
        except ImportError as exc:
            extra = self._extras.get(key)
            if extra:
                raise MissingDependencyError(f"{self.kind} {key!r}", extra) from exc
            raise
        self._loaded[key] = obj
        return obj
