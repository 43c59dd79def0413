"""The simulated machine of a fake host that another process runs (scaled out).

A fake host's guests live in the memory of the ``pocketstack compute --host`` process
that runs it, so that process *is* its machine.  The process claims a small file,
``<data_dir>/fake/<host>.machine`` (its pid and the kernel's start time of the process,
so a reused pid is not mistaken for it), and removes it when it stops cleanly; any other
process of this machine sharing the data directory -- the instance-HA monitor -- reads
the host's machine from it:

- no file: it cannot be read (``None``): a compute service stopped cleanly, or a host
  on another machine (the HA monitor then evacuates nothing);
- the process runs: alive (a compute service that only stopped checking in);
- the file is left and the process gone (``kill -9``): the machine is dead.

Powering it off (the ``fake`` fence driver) kills the process (SIGKILL, as pulling
the power) and is confirmed once it is gone, as the ``qemu-host`` fence kills guests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def start_time(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (``/proc/<pid>/stat`` field 22), None
    when there is no such process (or it is a zombie: it runs nothing any more)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) "
    return None if fields[0] in ("Z", "X") else fields[19]


class MachineFile:
    def __init__(self, path: Path):
        self.path = path

    def claim(self) -> None:
        """This process runs the host from now on."""
        pid = os.getpid()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(f".{pid}")
        temporary.write_text(f"{pid} {start_time(pid)}\n")
        temporary.replace(self.path)

    def release(self) -> None:
        """A clean stop: the host's machine cannot be read any more (nothing is evacuated)."""
        if self._owner() == (os.getpid(), start_time(os.getpid())):
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _owner(self) -> tuple[int, str] | None:
        try:
            pid, started = self.path.read_text().split()
            return int(pid), started
        except (OSError, ValueError):
            return None

    def _running(self) -> int | None:
        """The pid of the process that claimed the host, while it runs."""
        owner = self._owner()
        if owner is None:
            return None
        return owner[0] if start_time(owner[0]) == owner[1] else None

    def alive(self) -> bool | None:
        """Whether the host's process runs; None when no process claimed it."""
        if self._owner() is None:
            return None
        return self._running() is not None

    def power_off(self, wait: float = 10.0) -> None:
        """Kill the host's process (SIGKILL) and wait up to ``wait`` seconds until it is gone."""
        pid = self._running()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + wait
        while self._running() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
