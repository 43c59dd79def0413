"""CPU time of server processes from /proc (Linux), shared by the benchmarks.

A server may be several processes (pocketstack's API worker processes, Keystone's
uwsgi workers, Swift's forked workers): a benchmark names the parent and counts the
parent, its threads, its live child processes (recursively) and the children it has
already reaped, so the figure is the whole server's whatever its process model.
"""

from __future__ import annotations

import os
from pathlib import Path


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from every thread's ``children`` list)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid``, its reaped children and its live
    descendants; 0 for a process that is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        kids = children(pid)
    except OSError:
        return 0.0
    own = sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in kids)
