"""Serving the APIs from several processes: ``pocketstack up|api --api-workers N``.

One Python process serves requests on one core.  So the process that runs the command
(the primary: bootstrap, every background worker, the metadata API) binds the listening
socket and starts ``N - 1`` API worker processes that accept on the same socket; the
kernel hands each new connection to whichever process is free to accept it.  An API
worker is exactly a scaled-out ``pocketstack api`` (roles ``api``): it builds its own
:class:`~pocketstack.cloud.Cloud` over the same database, coordination backend and data
directory, and sends RPC to the workers — over the shared broker when there is one
(``amqp://``), otherwise to the primary's in-process broker through the bridge on a Unix
socket (:mod:`pocketstack.common.rpc.transports.local`).  Nothing else changes: state
lives in the database, and everything a process caches is invalidated through it.

The primary supervises its workers: one that dies is started again (with a growing
delay if it keeps dying), and all of them stop with it — on a clean exit they are
terminated, and the kernel signals them if the primary is killed outright.
"""

from __future__ import annotations

import ctypes
import dataclasses
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pocketstack.common import config, log, startgc

LOG = logging.getLogger(__name__)

ENV = "POCKETSTACK_API_WORKER"
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"  # common.metrics.MULTIPROCESS_ENV, without importing the library
MAX_AUTO_WORKERS = 4
_PR_SET_PDEATHSIG = 1


def worker_count(settings: config.Settings) -> int:
    """How many processes serve the APIs: the setting, or one per core (at most four:
    past that the database, not Python, is what a small cloud waits for)."""
    if settings.api_workers > 0:
        return settings.api_workers
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS))


def share_metrics(settings: config.Settings) -> None:
    """Make this process and the API workers it starts keep their metric values in files
    of ``<data_dir>/metrics`` (emptied: a previous run's counts are gone), so ``/metrics``
    answers the sum of all of them whichever process a scrape reaches
    (:mod:`pocketstack.common.metrics`).  Must run before prometheus_client is imported:
    the library picks where values live at import."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("share_metrics() must run before prometheus_client is imported")
    directory = settings.data_dir / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_ENV] = str(directory)


def bridge_path(settings: config.Settings) -> Path:
    return settings.data_dir / "rpc.sock"


def listen(settings: config.Settings) -> socket.socket:
    """The API's listening socket, bound before anything starts so that a port in use
    stops the command at once, and inherited by every API worker."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        sock.close()
        raise ValueError(f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class ApiWorkers:
    """The primary's API worker processes: started, restarted when they die, stopped."""

    RESTART_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0)

    def __init__(self, settings: config.Settings, sock: socket.socket, count: int):
        self.settings, self.sock, self.count = settings, sock, count
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self._stopping = threading.Event()
        self._serving: Callable[[], bool] = lambda: True
        self._thread = threading.Thread(target=self._supervise, name="api workers", daemon=True)

    def _environment(self) -> dict[str, str]:
        values = {f.name: getattr(self.settings, f.name) for f in dataclasses.fields(self.settings)}
        values = {name: str(value) if isinstance(value, Path) else value for name, value in values.items()}
        transport = self.settings.transport_url
        if transport.startswith("inproc"):
            transport = f"local://{bridge_path(self.settings)}"
        values.update(roles="api", transport_url=transport)
        return {**os.environ, ENV: json.dumps({"settings": values, "fd": self.sock.fileno(),
                                                "parent": os.getpid()})}

    def _spawn(self, index: int) -> None:
        process = subprocess.Popen([sys.executable, "-m", "pocketstack.cli.api_workers"], env=self._environment(),
                                   pass_fds=(self.sock.fileno(),))
        self.processes[index] = process
        LOG.info("API worker %d started (pid %d)", index + 1, process.pid)

    def start(self, serving: Callable[[], bool]) -> None:
        """Start the workers once ``serving()`` is true: the primary answers first, and
        the workers' own start-up does not compete with it for the CPU."""
        self._serving = serving
        self._thread.start()

    def _supervise(self) -> None:
        while not self._serving():
            if self._stopping.wait(0.05):
                return
        for index in range(self.count):
            self._spawn(index)
        failures = [0] * self.count
        while not self._stopping.wait(0.5):
            for index, process in enumerate(self.processes):
                if process is None or process.poll() is None:
                    continue
                delay = self.RESTART_DELAYS[min(failures[index], len(self.RESTART_DELAYS) - 1)]
                failures[index] += 1
                LOG.error("API worker %d (pid %d) exited with %s; starting it again in %gs",
                          index + 1, process.pid, process.returncode, delay)
                if self._stopping.wait(delay):
                    return
                self._spawn(index)

    def stop(self, timeout: float = 15.0) -> None:
        """Let every worker finish its in-flight requests (SIGTERM), then kill stragglers."""
        self._stopping.set()
        running = [p for p in self.processes if p is not None and p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for process in running:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGTERM this process when the primary dies (Linux), and leave
    at once if it already has."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        sys.exit(0)


def run_api_worker(spec: dict[str, Any]) -> int:
    """An API worker process: a cloud of roles ``api`` serving the inherited socket."""
    startgc.pause()  # until its services run (Cloud.asgi_app)
    import uvicorn

    from pocketstack.cloud import Cloud

    _die_with_parent(spec["parent"])
    settings = config.load(overrides=spec["settings"], environ={})
    log.setup(settings.log_level, settings.log_format)
    sock = socket.socket(fileno=spec["fd"])
    cloud = Cloud(settings, migrate=False, primary=False)
    server = uvicorn.Server(uvicorn.Config(cloud.asgi_app(), log_config=None, access_log=False, lifespan="on",
                                           timeout_keep_alive=int(settings.client_socket_timeout)))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(run_api_worker(json.loads(os.environ.pop(ENV))))
