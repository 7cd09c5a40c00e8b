"""Settings precedence: config file < THERMTOOL_* environment < command-line flags.

The file is TOML at `~/.config/thermtool/config.toml` (or $THERMTOOL_CONFIG). `[defaults]` applies to every
command that has the option, a `[COMMAND]` table to one command. Keys are the long option names (`format`,
`snapshot-dir` or `snapshot_dir`); environment variables are `THERMTOOL_<OPTION>` for every command and
`THERMTOOL_<COMMAND>_<OPTION>` for one:

    [defaults]
    sensor = "mlx90640"
    cmap = "inferno"

    [capture]
    rate = 2
    format = "npz"
"""

from __future__ import annotations

import datetime
import difflib
import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .fileio import read_regular_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ENV_PREFIX = "THERMTOOL_"
#: Environment variables that are not option defaults.
RESERVED_ENV = {"THERMTOOL_CONFIG", "THERMTOOL_DEBUG"}
#: Variables `watch --exec` sets for its hooks (a hook that runs thermtool must not take them as options).
EVENT_PREFIX = "THERMTOOL_EVENT"
DEFAULTS = "defaults"


@dataclass(frozen=True)
class Config:
    """A parsed config file: its path (for messages) and its tables."""

    path: Path | None = None
    tables: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    """One option default and where it came from ("FILE: [section] key" or "$NAME"), for messages."""

    value: Any
    where: str


def config_path(environ: Mapping[str, str] = os.environ) -> Path | None:
    """Where the config file is (it may not exist); None when no home folder can be found (cron, env -i)."""
    if environ.get("THERMTOOL_CONFIG"):
        return Path(environ["THERMTOOL_CONFIG"]).expanduser()
    try:
        from platformdirs import user_config_dir

        return Path(user_config_dir("thermtool")) / "config.toml"
    except (KeyError, RuntimeError, OSError):
        return None


def read_config(path: Path | None) -> Config:
    """Parse the config file; a missing file is empty, a broken one is an InputError naming the line."""
    if path is None or not path.exists():
        return Config(path)
    try:
        text = read_regular_file(path).decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise InputError(f"{path}: config file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: broken config file: {exc}") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read config file ({exc.strerror})") from None
    for key, value in data.items():
        if not isinstance(value, dict):
            raise InputError(f"{path}: {key!r} must be a [table] (a command name or [defaults])")
    return Config(path, data)


def option_key(name: str) -> str:
    """The one spelling of an option name: `--snapshot-dir`, `SNAPSHOT_DIR` and `snapshot-dir` all match."""
    return name.strip().lstrip("-").lower().replace("-", "_")


def closest(name: str, valid: list[str]) -> str:
    """' (did you mean X?)' for the valid name closest to `name` (two when nearly tied), or '' when none is close."""
    ratio = {v: difflib.SequenceMatcher(None, name, v).ratio() for v in valid}
    matches = [v for v in sorted(valid, key=ratio.__getitem__, reverse=True)[:2] if ratio[v] >= 0.6]
    matches = [v for v in matches if ratio[v] >= ratio[matches[0]] - 0.05]
    return f" (did you mean {' or '.join(map(repr, matches))}?)" if matches else ""


def _checked(value: Any, where: str) -> Any:
    """A config value click can convert: finite numbers, strings, booleans, or lists of them."""
    if isinstance(value, list):
        return [_checked(item, where) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        raise InputError(f"{where} = {value} is not a finite number")
    if isinstance(value, dict | datetime.date | datetime.time):
        raise InputError(f"{where} must be a number, string or true/false, not a {type(value).__name__}")
    return value


def command_defaults(command: str, commands: list[str], config: Config, keys: Mapping[str, str],
                     long_names: list[str], every_command: Callable[[], tuple[Mapping[str, str], list[str]]],
                     environ: Mapping[str, str] = os.environ) -> dict[str, Setting]:
    """One command's option defaults by parameter name: [defaults], then [command], then the environment.

    `keys` maps every accepted spelling (long option names and internal names, via `option_key`) to the
    parameter name; `long_names` are the spellings to suggest. An unknown section or key in the file is an
    InputError naming file, section, key and the closest valid name; a [defaults] key is unknown only when no
    command has it (`every_command()`: the keys and long names of all commands, asked for only then since it
    imports every command).
    Unknown environment names are ignored: the environment holds variables of other programs too.
    """
    for section in config.tables:
        if section != DEFAULTS and section not in commands:
            raise InputError(f"{config.path}: unknown section [{section}]"
                             f"{closest(section, [DEFAULTS, *commands]) or f'; valid: {DEFAULTS}, a command name'}")
    result: dict[str, Setting] = {}
    for section in (DEFAULTS, command):
        for raw, value in config.tables.get(section, {}).items():
            key = option_key(raw)
            where = f"{config.path}: [{section}] {raw}"
            if key in keys:
                result[keys[key]] = Setting(_checked(value, where), where)
            elif section == command:
                raise InputError(f"{where}: 'thermtool {command}' has no such option{closest(key, long_names)}")
            elif key not in (everything := every_command())[0]:
                raise InputError(f"{where}: no command has such an option{closest(key, everything[1])}")
    prefix = f"{ENV_PREFIX}{option_key(command).upper()}_"
    shared = {k: v for k, v in environ.items() if k.startswith(ENV_PREFIX) and not k.startswith(prefix)}
    own = {k: v for k, v in environ.items() if k.startswith(prefix)}
    for variables, start in ((shared, len(ENV_PREFIX)), (own, len(prefix))):
        for name, value in variables.items():
            key = option_key(name[start:])
            if name not in RESERVED_ENV and not name.startswith(EVENT_PREFIX) and value != "" and key in keys:
                result[keys[key]] = Setting(value, f"${name}")
    return result
