"""The `thermtool` command: a lazy click group (subcommands import on use, so --help stays fast)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from .. import __version__
from ..errors import InputError, ThermtoolError

if TYPE_CHECKING:
    from ..config import Setting

#: name -> ("module:attr", one-line help). Listing commands imports none of them.
COMMANDS: dict[str, tuple[str, str]] = {
    "capture": ("thermtool.cli.capture:capture", "Record frames from a sensor into a folder."),
    "snapshot": ("thermtool.cli.snapshot:snapshot", "Save one frame (cron-safe)."),
    "sensors": ("thermtool.cli.sensors:sensors_command", "List sensor kinds and probe for hardware."),
    "info": ("thermtool.cli.info:info", "Describe frame files and recordings."),
    "render": ("thermtool.cli.render:render", "Render a frame or recording to PNG/JPEG pictures."),
    "colormaps": ("thermtool.cli.colormaps:colormaps_command", "List colormaps; preview them as a picture."),
    "upscalers": ("thermtool.cli.upscalers:upscalers_command", "List upscalers (interpolation methods)."),
    "plot3d": ("thermtool.cli.plot3d:plot3d", "Plot a frame as a 3-D surface (PNG, window or HTML)."),
    "heatmap": ("thermtool.cli.heatmap:heatmap", "Density heatmap of points, or where frames were hot."),
    "stats": ("thermtool.cli.stats:stats", "Temperature statistics, spots and boxes of frames."),
    "view": ("thermtool.cli.view:view", "Watch a camera live: window, terminal or browser."),
    "serve": ("thermtool.cli.serve:serve", "Serve the live view and frames over HTTP (no screen needed)."),
    "watch": ("thermtool.cli.watch:watch", "Watch for warm movers and report them (security camera)."),
}

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when run or asked for help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        from ..registry import resolve

        return resolve(COMMANDS[cmd_name][0])

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        if args and args[0] not in COMMANDS and not args[0].startswith("-"):
            from ..config import closest

            starts = [name for name in COMMANDS if name.startswith(args[0])]
            hint = f" (did you mean {starts[0]!r}?)" if len(starts) == 1 else closest(args[0], list(COMMANDS))
            ctx.fail(f"No such command {args[0]!r}{hint}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def option_keys(command: click.Command) -> tuple[dict[str, str], list[str]]:
    """Config/env spellings of a command's options -> parameter names, and the long names to suggest."""
    from ..config import option_key

    keys: dict[str, str] = {}
    long_names: list[str] = []
    for param in command.params:
        if not isinstance(param, click.Option) or param.name is None or param.name == "help":
            continue
        names = [option_key(opt) for opt in param.opts if opt.startswith("--")]
        long_names += names
        keys.update(dict.fromkeys(names, param.name))
        keys.setdefault(option_key(param.name), param.name)  # the internal name keeps working
    return keys, long_names


def _load_defaults(ctx: click.Context) -> None:
    """The invoked command's defaults from the config file and the environment (click's default_map)."""
    from ..config import command_defaults, config_path, read_config

    name = ctx.invoked_subcommand
    command = cli.get_command(ctx, name) if name else None
    if name is None or command is None:
        return

    def every_command() -> tuple[dict[str, str], list[str]]:
        keys: dict[str, str] = {}
        long_names: set[str] = set()
        for other in filter(None, (cli.get_command(ctx, n) for n in COMMANDS)):
            other_keys, other_names = option_keys(other)
            keys.update(other_keys)
            long_names.update(other_names)
        return keys, sorted(long_names)

    keys, long_names = option_keys(command)
    config = read_config(config_path())
    settings = command_defaults(name, list(COMMANDS), config, keys, long_names, every_command)
    ctx.default_map = {name: {param.name: _default_value(param, settings[param.name])
                              for param in command.params if param.name in settings}}


def _default_value(param: click.Parameter, setting: Setting) -> Any:
    """A config or environment value shaped for `param`: split when it takes several, checked when it takes one."""
    value = setting.value
    if param.multiple and isinstance(value, str):  # one string holds several values
        return param.type.split_envvar_value(value)
    if isinstance(value, list) and not param.multiple and param.nargs == 1:
        raise InputError(f"{setting.where}: takes one value, not a list")
    if isinstance(param.type, click.types.IntParamType) and isinstance(value, float) and not value.is_integer():
        raise InputError(f"{setting.where} = {value} is not a whole number")
    return value


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS,
             epilog="Example: thermtool snapshot --sensor sim --out snap.png")
@click.version_option(__version__, prog_name="thermtool")
@click.option("-v", "--verbose", count=True, help="More detail on stderr.")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, verbose: int, quiet: bool, debug: bool) -> None:
    """Capture, view and analyse frames from MLX90640 and FLIR Lepton thermal cameras.

    Every command works without hardware through the simulated cameras (--sensor sim, sim-lepton)
    and recorded frames (--sensor replay:PATH). Settings come from ~/.config/thermtool/config.toml,
    then THERMTOOL_* environment variables, then flags.
    """
    from .output import Reporter

    ctx.obj = Reporter(verbosity=-1 if quiet else verbose, debug=debug)
    _load_defaults(ctx)


def _debug_requested(argv: list[str]) -> bool:
    """--debug among the global options (before the command name), or THERMTOOL_DEBUG set."""
    for token in argv:
        if token == "--debug":
            return True
        if not token.startswith("-"):
            break
    return os.environ.get("THERMTOOL_DEBUG", "") not in ("", "0")


def _fail(message: str, code: int, debug: bool) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    first_line = " ".join(str(message).split())
    click.echo(f"thermtool: error: {first_line}", err=True)
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (0 ok, 1 runtime failure, 2 bad usage/input, 130 interrupted,
    143 terminated)."""
    from .signals import stop_signals

    argv = sys.argv[1:] if argv is None else list(argv)
    with stop_signals():
        return _run(argv, _debug_requested(argv))


def _run(argv: list[str], debug: bool) -> int:
    from .signals import Terminated, received_exit_code

    try:
        result: Any = cli.main(args=argv, prog_name="thermtool", standalone_mode=False,
                              auto_envvar_prefix="THERMTOOL")
    except click.exceptions.Abort:
        return 130
    except KeyboardInterrupt:
        return _fail("interrupted", 130, debug)
    except Terminated:
        return _fail("terminated", 143, debug)
    except click.ClickException as exc:
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        return _fail(exc.format_message() + hint, exc.exit_code, debug)
    except ThermtoolError as exc:  # after SIGTERM/Ctrl-C, an error ending the command is the stop's doing
        return _fail(str(exc), received_exit_code() or exc.exit_code, debug)
    except BrokenPipeError:
        return 1
    except Exception as exc:  # a bug: still one line unless --debug
        return _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", 1, debug)
    return result if isinstance(result, int) else 0


def main() -> None:
    """Console-script entry point."""
    code = run()
    sys.stdout.flush()
    sys.exit(code)
