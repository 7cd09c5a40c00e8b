"""--exec hooks: the event reaches the command in its environment; failures are logged, never fatal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from thermtool import Frame
from thermtool.errors import InputError
from thermtool.formats.npz import write_recording
from thermtool.watch import Box, Event
from thermtool.watch.hooks import CommandHook, event_environment, split_command

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
RECORD = "import json, os, sys; open(sys.argv[1], 'a').write(json.dumps({k: v for k, v in os.environ.items() " \
         "if k.startswith('THERMTOOL_EVENT')}) + '\\n')"


def event(kind: str = "start", track: int = 1, **changes: object) -> Event:
    base = Event(kind, track, 26, 6.5, Box(1, 7, 5, 13), 55, 32.25, 29.4, 11.0, 0.25, 1, (24, 32), "C", T0, "sim")
    return base.replace(**changes)


def read_records(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_event_environment() -> None:
    env = event_environment(event(snapshot="/tmp/a.png"))
    assert env["THERMTOOL_EVENT"] == "start" and env["THERMTOOL_EVENT_ID"] == "1"
    assert env["THERMTOOL_EVENT_BOX"] == "1,7,5,13" and env["THERMTOOL_EVENT_WIDTH"] == "5"
    assert env["THERMTOOL_EVENT_PEAK"] == "32.25" and env["THERMTOOL_EVENT_UNITS"] == "C"
    assert env["THERMTOOL_EVENT_TIME"] == "2026-03-04T05:06:07+00:00"
    assert env["THERMTOOL_EVENT_SNAPSHOT"] == "/tmp/a.png"
    assert json.loads(env["THERMTOOL_EVENT_JSON"]) == event(snapshot="/tmp/a.png").to_dict()
    assert event_environment(event())["THERMTOOL_EVENT_SNAPSHOT"] == ""
    assert all(isinstance(v, str) for v in env.values())


def test_the_command_gets_each_event_in_order(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    hook = CommandHook([sys.executable, "-c", RECORD, str(out)])
    for kind in ("start", "update", "end"):
        hook.submit(event(kind))
    hook.close()
    records = read_records(out)
    assert [r["THERMTOOL_EVENT"] for r in records] == ["start", "update", "end"]
    assert records[0]["THERMTOOL_EVENT_BOX"] == "1,7,5,13" and hook.runs == 3 and hook.failures == 0


def test_failing_hanging_and_missing_commands_are_logged_and_later_events_still_run(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    script = "import sys, time; k = __import__('os').environ['THERMTOOL_EVENT']; " \
             "time.sleep(5) if k == 'update' else None; sys.exit(3 if k == 'start' else 0)"
    warnings: list[str] = []
    failing = CommandHook([sys.executable, "-c", script], timeout=0.5, warn=warnings.append)
    recording = CommandHook([sys.executable, "-c", RECORD, str(out)], warn=warnings.append)
    missing = CommandHook(["/nonexistent/thermtool-hook"], warn=warnings.append)
    for kind in ("start", "update", "end"):
        for hook in (failing, recording, missing):
            hook.submit(event(kind))
    for hook in (failing, recording, missing):
        hook.close()
    assert [r["THERMTOOL_EVENT"] for r in read_records(out)] == ["start", "update", "end"]
    assert failing.failures == 2 and missing.failures == 3 and recording.failures == 0
    assert any("exited with status 3" in w for w in warnings)
    assert any("killed after 0.5 s" in w for w in warnings)
    assert sum("could not run" in w for w in warnings) == 3


def test_event_data_cannot_inject_shell_syntax(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    trap = tmp_path / "pwned"
    hook = CommandHook.from_command(f"{sys.executable} -c \"{RECORD}\" {out}")
    hook.submit(event(sensor=f"cam; touch {trap}", snapshot=f"$(touch {trap})"))
    hook.close()
    (record,) = read_records(out)
    assert record["THERMTOOL_EVENT_SENSOR"] == f"cam; touch {trap}" and not trap.exists()


def test_a_full_backlog_drops_events_with_a_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    hook = CommandHook([sys.executable, "-c", "import time; time.sleep(0.3)"], backlog=1, warn=warnings.append)
    for track in range(1, 6):
        hook.submit(event(track=track))
    hook.close()
    assert hook.dropped >= 3 and hook.runs + hook.dropped == 5
    assert any("dropped" in w for w in warnings)


def test_drops_are_reported_at_a_bounded_rate() -> None:
    warnings: list[str] = []
    hook = CommandHook([sys.executable, "-c", "import time; time.sleep(1)"], backlog=1, warn=warnings.append)
    for track in range(1, 2001):
        hook.submit(event(track=track))
    hook.close(should_stop=lambda: True)
    assert hook.dropped >= 1990
    drop_lines = [w for w in warnings if "dropped" in w]
    assert 1 <= len(drop_lines) <= 3 and f"{hook.dropped} dropped in all" in drop_lines[-1]


def test_nul_and_control_characters_in_event_fields_reach_the_command_replaced(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    warnings: list[str] = []
    hook = CommandHook([sys.executable, "-c", RECORD, str(out)], warn=warnings.append)
    hook.submit(event(sensor="cam\x00era\x1b[2J\n\ud800", snapshot="a\x00b"))
    hook.submit(event("end"))
    hook.close()
    first, second = read_records(out)
    assert first["THERMTOOL_EVENT_SENSOR"] == "cam?era?[2J??" and first["THERMTOOL_EVENT_SNAPSHOT"] == "a?b"
    assert "\x00" not in first["THERMTOOL_EVENT_JSON"] and second["THERMTOOL_EVENT"] == "end"
    assert hook.failures == 0 and not warnings


def test_the_worker_survives_an_event_that_breaks_and_runs_the_next(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    warnings: list[str] = []
    hook = CommandHook([sys.executable, "-c", RECORD, str(out)], warn=warnings.append)
    hook.submit(event(units=object()))  # type: ignore[arg-type]  # not serialisable: to_json raises
    hook.submit(event("end"))
    hook.close()
    assert [r["THERMTOOL_EVENT"] for r in read_records(out)] == ["end"]
    assert hook.failures == 1 and any("TypeError" in w for w in warnings)


def test_a_timed_out_command_is_killed_with_its_children(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    script = ("import subprocess, sys, time; child = subprocess.Popen([sys.executable, '-c', "
              "'import time; time.sleep(60)']); open(sys.argv[1], 'w').write(str(child.pid)); time.sleep(60)")
    warnings: list[str] = []
    hook = CommandHook([sys.executable, "-c", script, str(pid_file)], timeout=1.0, warn=warnings.append)
    hook.submit(event())
    hook.close()
    child = int(pid_file.read_text())
    assert any("killed after 1 s" in w for w in warnings)
    with pytest.raises(ProcessLookupError):
        for _ in range(50):  # reaped by init once killed; a zombie may linger a moment
            os.kill(child, 0)
            if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
                raise ProcessLookupError
            time.sleep(0.05)


def test_a_stop_abandons_the_queue_and_ends_within_the_timeout() -> None:
    warnings: list[str] = []
    hook = CommandHook([sys.executable, "-c", "import time; time.sleep(30)"], timeout=1.0, warn=warnings.append)
    for track in range(1, 6):
        hook.submit(event(track=track))
    started = time.monotonic()
    hook.close(should_stop=lambda: True)
    assert time.monotonic() - started < 1.0 + 3.0  # the run in progress is bounded by its timeout
    assert not hook.alive and hook.runs == 1 and hook.abandoned == 4
    assert any("4 queued event(s) not run" in w for w in warnings)


def test_command_lines_are_split_like_a_shell_would() -> None:
    assert split_command("notify-send 'warm mover' --urgency=low") == ["notify-send", "warm mover", "--urgency=low"]
    with pytest.raises(InputError, match="--exec"):
        split_command("  ")
    with pytest.raises(InputError, match="quotation"):
        split_command("say 'unclosed")
    with pytest.raises(InputError):
        CommandHook(["true"], timeout=0)


def warm_mover_recording(path: Path, frames: int = 400, sensor: str = "rec") -> Path:
    """A recording where a warm 5x5 object walks in after frame 60 (1 frame per 10 ms)."""
    rng = np.random.default_rng(3)
    recorded = []
    for i in range(frames):
        data = (25.0 + rng.normal(0.0, 0.1, (24, 32))).astype(np.float32)
        if i >= 60:
            x = (i - 60) // 10 % 27
            data[8:13, x:x + 5] = 34.0
        recorded.append(Frame(data, "C", T0 + timedelta(milliseconds=10 * i), sensor))
    return write_recording(recorded, path)


def test_sigterm_ends_watch_within_the_exec_timeout_while_a_hook_hangs(tmp_path: Path,
                                                                        signal_and_wait: Any) -> None:
    marker = tmp_path / "hook-started"
    recording = warm_mover_recording(tmp_path / "mover.npz")
    hook = f"{sys.executable} -c \"import pathlib, time; pathlib.Path('{marker}').touch(); time.sleep(60)\""
    proc = subprocess.Popen([sys.executable, "-m", "thermtool", "watch", "--sensor", f"replay:{recording}",
                             "--warmup", "0.3", "--exec", hook, "--exec-timeout", "1.5"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30.0
    while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # more events queue up behind the hanging hook
    err, elapsed = signal_and_wait(proc)
    assert marker.exists(), "the hook never ran"
    assert proc.returncode == 143 and "Traceback" not in err
    assert elapsed < 1.5 + 1.0 + 2.0  # the hook's timeout plus a second, with slack for a loaded machine
    assert "killed after 1.5 s" in err


def test_watch_hands_a_nul_laden_sensor_name_to_its_hook_cleaned(tmp_path: Path) -> None:
    from thermtool.cli import run

    out = tmp_path / "events.jsonl"
    recording = warm_mover_recording(tmp_path / "mover.npz", frames=120, sensor="cam\x00\x1b]0;pwned\x07")
    assert run(["watch", "--sensor", f"replay:{recording}", "--rate", "100", "--warmup", "0.3", "--json",
                "--exec", f"{sys.executable} -c \"{RECORD}\" {out}"]) == 0
    records = read_records(out)
    assert records and all(r["THERMTOOL_EVENT_SENSOR"] == "cam??]0;pwned?" for r in records)
    assert records[-1]["THERMTOOL_EVENT"] == "end"
