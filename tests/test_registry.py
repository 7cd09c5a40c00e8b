"""The lazy registry: lazy imports, aliases, unknown names, entry-point plugins, missing extras."""

from __future__ import annotations

import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from thermtool import UnknownNameError
from thermtool.errors import MissingDependencyError
from thermtool.registry import Registry


def test_lazy_import_and_alias(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "lazy_mod_for_test.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("thing")
    reg.register("answer", "lazy_mod_for_test:VALUE", aliases=("a",))
    assert "lazy_mod_for_test" not in sys.modules
    assert reg.names() == ["answer"]
    assert "lazy_mod_for_test" not in sys.modules
    assert reg.get("a") == 42 and reg.canonical("a") == "answer"
    assert "lazy_mod_for_test" in sys.modules


def test_unknown_name_lists_valid_ones() -> None:
    reg = Registry("colormap")
    reg.register("one", 1)
    reg.register("two", 2)
    with pytest.raises(UnknownNameError) as info:
        reg.get("three")
    assert str(info.value) == "unknown colormap 'three'; valid: one, two"
    assert info.value.exit_code == 2
    assert "one" in reg and "three" not in reg


def test_more_names_are_registered_only_when_a_name_is_unknown() -> None:
    calls: list[int] = []

    def more(registry: Registry) -> None:
        calls.append(1)
        registry.register("late", 2)

    reg = Registry("number", more=more)
    reg.register("early", 1)
    assert reg.get("early") == 1 and not calls
    assert reg.get("late") == 2 and reg.names() == ["early", "late"] and len(calls) == 1
    with pytest.raises(UnknownNameError):
        reg.get("x")
    assert len(calls) == 1


def test_missing_optional_dependency_names_the_extra() -> None:
    reg = Registry("sensor")
    reg.register("needs", "a_module_that_is_not_installed_anywhere:thing", extra="lepton")
    with pytest.raises(MissingDependencyError, match=r"pip install .*\[lepton\]'"):
        reg.get("needs")


def test_entry_point_plugin_from_installed_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin distribution on sys.path declares an entry point; the registry finds and loads it."""
    (tmp_path / "tt_plugin.py").write_text(textwrap.dedent("""
        def make(target, *, colour="red"):
            return ("plugin sensor", target, colour)
    """))
    dist = tmp_path / "tt_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tt-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[thermtool.sensors]\nplugcam = tt_plugin:make\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert any(ep.name == "plugcam" for ep in metadata.entry_points(group="thermtool.sensors"))

    from thermtool.sensors import SENSORS, open_sensor

    fresh = Registry("sensor", group="thermtool.sensors")
    assert "plugcam" in fresh.names()
    monkeypatch.setattr(SENSORS, "_complete", False)
    assert open_sensor("plugcam:/dev/x", colour="blue") == ("plugin sensor", "/dev/x", "blue")


def test_long_name_lists_suggest_close_matches() -> None:
    reg = Registry("colormap")
    for name in [f"map{i}" for i in range(40)] + ["inferno", "inferno_r"]:
        reg.register(name, name)
    with pytest.raises(UnknownNameError) as info:
        reg.get("infern")
    message = str(info.value)
    assert "did you mean inferno" in message and "42 names" in message and "map17" not in message
