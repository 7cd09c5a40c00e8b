"""Each command imports only what it uses: the third-party packages loaded by a run may not grow.

Start-up dominates short commands (a cron snapshot, one render): matplotlib, scipy or even numpy loaded for
nothing cost tenths of a second here and seconds on a Pi Zero. Each case runs the command in a fresh
interpreter and compares the top-level third-party packages it loaded with the allowed set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

PROBE = """
import json, sys
before = set(sys.modules)
from thermtool.cli import run
code = run(sys.argv[1:])
loaded = {name.partition(".")[0] for name in set(sys.modules) - before}
third_party = sorted(n for n in loaded if not n.startswith("_") and n not in sys.stdlib_module_names)
print(json.dumps({"code": code, "packages": third_party}))
"""


def _packages(args: list[str], cwd: Path) -> set[str]:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd,
                            timeout=60, check=False)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, result.stderr
    return set(report["packages"]) - {"thermtool", "cython_runtime"}


#: What every command that runs loads: the CLI and the config file's location.
COMMON = {"click", "platformdirs"}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("imports")
    np.save(folder / "one.npy", np.linspace(15, 35, 24 * 32, dtype=np.float32).reshape(24, 32))
    np.save(folder / "points.npy", np.random.default_rng(0).uniform(0, 100, (1000, 2)))
    return folder


@pytest.mark.parametrize("args,allowed", [
    (["--help"], {"click"}),
    (["render", "one.npy", "-o", "one.png", "--force"], {*COMMON, "numpy", "cv2", "PIL", "threadpoolctl"}),
    (["snapshot", "--sensor", "sim", "--out", "snap.png", "--force"],
     {*COMMON, "numpy", "cv2", "PIL", "threadpoolctl"}),
    (["capture", "--sensor", "sim", "--out", "frames", "--count", "2", "--rate", "32", "--force"],
     {*COMMON, "numpy"}),
    (["heatmap", "points.npy", "-o", "heat.png", "--size", "100x100", "--force"], {*COMMON, "numpy", "cv2"}),
], ids=["help", "render", "snapshot", "capture", "heatmap"])
def test_command_imports_no_more_than_it_needs(workdir: Path, args: list[str], allowed: set[str]) -> None:
    loaded = _packages(args, workdir)
    assert loaded <= allowed, f"thermtool {args[0]} now also imports {sorted(loaded - allowed)}"
