"""The docs name what exists: every test a doc cites (`test_file.py::name`, `::name` after it, `*` a
wildcard) is in tests/, and docs/architecture.md names every module of src/thermtool."""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatchcase
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]


def _test_names() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for path in (ROOT / "tests").glob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names[path.name] = {node.name for node in ast.walk(tree)
                            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}
    return names


def _cited(name: str, defined: set[str]) -> bool:
    pattern = name.split("[")[0]
    return any(fnmatchcase(item, pattern) for item in defined)


def test_every_cited_test_exists() -> None:
    names = _test_names()
    missing = []
    for doc in DOCS:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            current = None
            for match in re.finditer(r"`(?:tests/)?(test_\w+\.py)?(?:::([\w*\[\]-]+))?`", line):
                file, test = match.groups()
                if file:
                    current = file
                    if file not in names:
                        missing.append(f"{doc.name}:{number}: {file}")
                        continue
                if test and current in names and not _cited(test, names[current]):
                    missing.append(f"{doc.name}:{number}: {current}::{test}")
    assert not missing, missing


def test_architecture_names_every_module() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    package = ROOT / "src" / "thermtool"
    unnamed = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if path.name == "__init__.py" and path.parent != package:
            continue  # a package's __init__ is its row
        if path.parent.name == "cli" and path.name != "__init__.py":
            continue  # "one module per command"
        if not re.search(rf"`[^`]*\b{re.escape(path.stem)}(\.py)?\b[^`]*`", text):
            unnamed.append(rel)
    assert not unnamed, unnamed
