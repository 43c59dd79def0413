"""The daemons the Linux datapath runs in its namespaces: a dnsmasq per network with DHCP,
a radvd per router that advertises IPv6 prefixes.

Each has a state directory holding its configuration files, the command line it was
started with (``command``) and its pid file (``pid``).  A process is this daemon only if
the pid file names it *and* its command line names the directory (a pid reused by
another process is not ours), so a restarted agent finds its daemons again and leaves
them running.  Both daemons re-read their files on SIGHUP: a change of files is a signal,
a change of command line a restart (and a change of files too, when the files the daemon
runs with now say a signal is not safe: ``reloadable``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path

from pocketstack.common import netns


class Daemon:
    def __init__(self, directory: Path):
        self.directory = directory

    def pid(self) -> int | None:
        try:
            pid = int((self.directory / "pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return None
        return pid if str(self.directory) in cmdline else None

    def ensure(self, ns: str, command: list[str], files: dict[str, str],
               reloadable: Callable[[dict[str, str], dict[str, str]], bool] = lambda running, wanted: True) -> None:
        """Run ``command`` in ``ns`` with exactly these files (name -> text) in the state
        directory: start it, restart it (another command line, or other files when
        ``reloadable`` says, of the files it runs with now and the wanted ones, that
        SIGHUP will not do) or signal it (other files)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        running: dict[str, str] = {}
        for name, text in files.items():
            path = self.directory / name
            if path.exists():
                running[name] = path.read_text()
            if running.get(name) != text:
                path.write_text(text)
        changed = any(running.get(name) != text for name, text in files.items())
        pid = self.pid()
        command_path = self.directory / "command"
        if pid is not None and ((command_path.exists() and command_path.read_text() != "\n".join(command))
                                or (changed and not reloadable(running, files))):
            self._end(pid)
            pid = None
        if pid is None:
            command_path.write_text("\n".join(command))
            netns.execute(ns, *command)
        elif changed:
            os.kill(pid, signal.SIGHUP)

    def stop(self) -> None:
        """End the daemon and remove its state directory."""
        pid = self.pid()
        if pid is not None:
            self._end(pid)
        shutil.rmtree(self.directory, ignore_errors=True)

    @staticmethod
    def _end(pid: int) -> None:
        """SIGTERM, then SIGKILL after 5 s: the daemon is gone when this returns, for a
        process left in a namespace keeps it (its interfaces, addresses, NAT) alive after
        ``ip netns delete`` -- a router set down would still answer."""
        for sig, patience in ((signal.SIGTERM, 250), (signal.SIGKILL, 100)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            for _ in range(patience):
                if not _alive(pid):
                    return
                threading.Event().wait(0.02)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie no longer holds its namespace)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def stop_others(root: Path, keep: set[str]) -> None:
    """Stop the daemons under ``root`` (one directory each) whose name is not in ``keep``."""
    if root.is_dir():
        for directory in root.iterdir():
            if directory.name not in keep:
                Daemon(directory).stop()
