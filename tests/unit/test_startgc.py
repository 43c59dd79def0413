"""The collector paused during a server's start (pocketstack/common/startgc.py): off
from pause() to settle(), then on with what the start built frozen; a process that
never paused is left alone.  Each case runs in a fresh interpreter: the collector is
process-wide."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _run(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(SRC)},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_pause_then_settle_freezes_the_start_and_collects_again() -> None:
    printed = _run("import gc; from pocketstack.common import startgc\n"
                   "startgc.pause(); a = gc.isenabled(); kept = [[] for _ in range(1000)]\n"
                   "startgc.settle(); print(a, gc.isenabled(), gc.get_freeze_count() >= 1000)")
    assert printed == ["False", "True", "True"]


def test_settle_without_pause_changes_nothing() -> None:
    assert _run("import gc; from pocketstack.common import startgc\n"
                "startgc.settle(); print(gc.isenabled(), gc.get_freeze_count())") == ["True", "0"]
