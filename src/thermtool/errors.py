"""The thermtool exception family; each carries the CLI exit code it maps to."""

from __future__ import annotations


class ThermtoolError(Exception):
    """Base of every error thermtool raises on purpose; `exit_code` follows the CLI convention."""

    exit_code = 1


class InputError(ThermtoolError, ValueError):
    """Bad input from the user: a file that cannot be read as asked, an option value out of range."""

    exit_code = 2


class UnknownNameError(InputError, KeyError):
    """A name (sensor, upscaler, colormap, format) that no registry knows."""

    #: Longest list of valid names quoted in full; longer lists quote the closest matches.
    MAX_LISTED = 24

    def __init__(self, kind: str, name: str, valid: list[str]) -> None:
        self.kind, self.name, self.valid = kind, name, valid
        if len(valid) <= self.MAX_LISTED:
            hint = f"valid: {', '.join(valid)}"
        else:
            import difflib

            close = difflib.get_close_matches(name, valid, n=5, cutoff=0.5)
            hint = (f"did you mean {', '.join(close)}? " if close else "") + \
                f"({len(valid)} names; 'thermtool {kind.replace(' ', '')}s' lists them)"
        super().__init__(f"unknown {kind} {name!r}; {hint}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.args[0]


class OutputExistsError(InputError, FileExistsError):
    """An output file exists and --force was not given."""


class MissingDependencyError(ThermtoolError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    exit_code = 2

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs an optional dependency: {install_hint(extra)}")


def install_hint(extra: str) -> str:
    """The pip command that adds `extra` the way thermtool was installed: from its checkout, or by name."""
    import json
    from importlib import metadata
    from urllib.parse import unquote, urlparse

    try:
        origin = json.loads(metadata.distribution("thermtool").read_text("direct_url.json") or "{}")
    except (metadata.PackageNotFoundError, ValueError):
        origin = {}
    url = urlparse(str(origin.get("url", "")))
    if url.scheme == "file" and "dir_info" in origin:  # installed from a checkout (editable or not)
        editable = "-e " if origin["dir_info"].get("editable") else ""
        return f"pip install {editable}'{unquote(url.path)}[{extra}]' (the thermtool checkout)"
    return f"pip install 'thermtool[{extra}]'"


class SensorError(ThermtoolError):
    """A sensor could not be opened or read (wiring, bus, protocol)."""

    exit_code = 1


class SensorTimeoutError(SensorError, TimeoutError):
    """No new frame arrived in time."""


class SensorNotFoundError(SensorError):
    """Hardware detection found no sensor."""


class EndOfStream(SensorError):
    """A finite source (replay) has no more frames."""
