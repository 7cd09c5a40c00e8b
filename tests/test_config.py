"""Config file and environment: long option names, internal names, unknown keys and bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from thermtool.cli import run
from thermtool.config import Config, command_defaults
from thermtool.errors import InputError


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("THERMTOOL_CONFIG", str(path))
    return path


def _capture(tmp_path: Path, *args: str) -> int:
    return run(["capture", "--sensor", "sim", "--out", str(tmp_path / "out"), "--rate", "32", *args])


@pytest.mark.parametrize("text", ['[capture]\nformat = "csv"\ncount = 1\n',
                                  '[capture]\nfmt = "csv"\ncount = 1\n',
                                  '[defaults]\nformat = "csv"\n[capture]\ncount = 1\n'])
def test_config_keys_are_the_long_option_names(tmp_path: Path, config: Path, text: str) -> None:
    config.write_text(text)
    assert _capture(tmp_path) == 0
    assert [p.suffix for p in (tmp_path / "out").glob("2*") if p.suffix != ".json"] == [".csv"]


@pytest.mark.parametrize("name", ["THERMTOOL_CAPTURE_FORMAT", "THERMTOOL_FORMAT", "THERMTOOL_CAPTURE_FMT"])
def test_environment_names_are_the_long_option_names(tmp_path: Path, config: Path,
                                                     monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "csv")
    assert _capture(tmp_path, "--count", "1") == 0
    assert [p.suffix for p in (tmp_path / "out").glob("2*") if p.suffix != ".json"] == [".csv"]


@pytest.mark.parametrize(("text", "expected"), [
    ('[capture]\nfromat = "npz"\n',
     "[capture] fromat: 'thermtool capture' has no such option (did you mean 'format'?)"),
    ('[defaults]\nsensr = "sim"\n', "[defaults] sensr: no command has such an option (did you mean 'sensor'?)"),
    ('[captur]\ncount = 1\n', "unknown section [captur] (did you mean 'capture'?)"),
    ("[capture]\ncount = inf\n", "[capture] count = inf is not a finite number"),
    ("[defaults]\nrate = nan\n", "[defaults] rate = nan is not a finite number"),
    ("[capture]\ncount = 1.5\n", "[capture] count = 1.5 is not a whole number"),
    ("[capture]\nout = [\"a\", \"b\"]\n", "[capture] out: takes one value, not a list"),
    ("[capture.count]\nx = 1\n", "[capture] count must be a number, string or true/false"),
])
def test_bad_config_is_one_line_exit_2_naming_file_section_and_key(
        tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str) -> None:
    config.write_text(text)
    assert _capture(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"thermtool: error: {config}: ") and expected in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_defaults_key_other_commands_have_is_fine(tmp_path: Path, config: Path) -> None:
    config.write_text('[defaults]\nsensor = "sim"\nsnapshot-dir = "x"\n')
    assert run(["upscalers"]) == 0  # neither option belongs to `upscalers`
    assert run(["snapshot", "--out", str(tmp_path / "a.npy")]) == 0


def test_several_values_from_one_string(tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config.write_text('[stats]\nbox = "door=0,0,4,4 window=4,4,2,2"\n')
    assert run(["stats", "--sensor", "sim", "--count", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert '"door"' in out and '"window"' in out


def test_precedence_defaults_command_environment() -> None:
    keys = {"count": "count", "format": "fmt", "fmt": "fmt"}
    config = Config(Path("c.toml"), {"defaults": {"count": 1, "format": "npy"}, "capture": {"count": 2}})
    values = command_defaults("capture", ["capture"], config, keys, ["count", "format"], lambda: (keys, []),
                              environ={"THERMTOOL_FORMAT": "csv", "THERMTOOL_CAPTURE_FORMAT": "npz",
                                       "THERMTOOL_EVENT_FORMAT": "x", "THERMTOOL_UNRELATED": "y"})
    assert {k: v.value for k, v in values.items()} == {"count": 2, "fmt": "npz"}
    assert values["count"].where == "c.toml: [capture] count" and values["fmt"].where == "$THERMTOOL_CAPTURE_FORMAT"
    with pytest.raises(InputError, match="unknown section"):
        command_defaults("capture", ["capture"], Config(Path("c.toml"), {"view": {}}), keys, [], lambda: (keys, []))


def _doc_configs() -> list[tuple[str, str]]:
    import re
    import textwrap

    repo = Path(__file__).resolve().parents[1]
    found = []
    for page in [repo / "README.md", *sorted((repo / "docs").rglob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^( *)```toml\n(.*?)^ *```", text, re.MULTILINE | re.DOTALL):
            found.append((page.name, textwrap.dedent(match.group(2))))
    return found


@pytest.mark.parametrize(("page", "text"), _doc_configs())
def test_config_examples_in_the_docs_are_accepted(page: str, text: str, config: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from thermtool.config import tomllib  # tomli before Python 3.11

    config.write_text(text)
    for section in tomllib.loads(text):
        assert run(["info" if section == "defaults" else section, "--help"]) == 0, capsys.readouterr().err
