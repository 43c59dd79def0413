"""Running a worker process: a cloud without an HTTP server.

``pocketstack scheduler`` and ``pocketstack compute --host NAME`` (and any other worker,
such as a volume host) are the same program: build the :class:`~pocketstack.cloud.Cloud`
with the services whose managers the role needs, start the background workers of the
services that do the work here (each service's ``start()`` starts what the process's
``roles`` ask for: RPC servers on its topics, coordination membership with a heartbeat,
periodic sweeps), run until SIGTERM or SIGINT, then stop them — in-flight requests
finish, the process leaves its coordination groups — and release the database.

Settings (database_url, transport_url, coordination_url, cluster_name, roles, …) come
from the TOML file, the environment and the command line as for every process; a
scaled-out process needs a transport every process can reach (``amqp://``).  With
``metrics_port`` set, the process answers ``/metrics``, ``/healthcheck`` and
``/healthcheck/ready`` on that port (:mod:`pocketstack.common.probes`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import uvicorn
from starlette.applications import Starlette

from pocketstack.common.config import Settings

if TYPE_CHECKING:
    from pocketstack.cloud import Cloud

LOG = logging.getLogger(__name__)


def check_scaled_out(settings: Settings) -> None:
    """A process running part of the cloud must share RPC and coordination with the rest."""
    if settings.transport_url.startswith("inproc"):
        raise ValueError("a scaled-out process needs a shared RPC transport: set transport_url "
                         "(e.g. amqp://guest:guest@127.0.0.1:5672/)")
    if not settings.database_url:
        raise ValueError("a scaled-out process needs a shared database: set database_url")


def run_worker(settings: Settings, services: list[str], run: list[str]) -> int:
    """Build a cloud of ``services`` and run the workers of those in ``run`` until a signal."""
    from pocketstack.cloud import Cloud

    check_scaled_out(settings)
    cloud = Cloud(settings, services)
    try:
        asyncio.run(_serve(cloud, run))
    finally:
        cloud.close()
    return 0


async def _serve(cloud: Cloud, run: list[str]) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    async with _probe_listener(cloud):
        await cloud.start_services(run)
        LOG.info("%s running (roles %s); SIGTERM or Ctrl-C stops", ", ".join(run), ",".join(sorted(cloud.roles)))
        try:
            await stopping.wait()
        finally:
            LOG.info("stopping: finishing in-flight work")
            await cloud.stop_services()


class _ProbeServer(uvicorn.Server):
    """A uvicorn server that leaves SIGTERM and SIGINT to the worker it runs beside."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def _probe_listener(cloud: Cloud) -> AsyncIterator[None]:
    """Serve the process's probes on ``metrics_port`` (if set) while the block runs; it
    listens before the services start, so ``/healthcheck/ready`` can say they are starting."""
    settings = cloud.settings
    if not settings.metrics_port:
        yield
        return
    server = _ProbeServer(uvicorn.Config(Starlette(routes=cloud.probe_routes()), host=settings.host,
                                         port=settings.metrics_port, lifespan="off", log_config=None,
                                         access_log=False))
    task = asyncio.create_task(server.serve(), name="probe listener")
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():  # could not listen: say why rather than run unobservable
        task.result()
        raise OSError(f"could not listen on {settings.host}:{settings.metrics_port} for metrics")
    LOG.info("metrics and health checks on http://%s:%d/metrics", settings.host, settings.metrics_port)
    try:
        yield
    finally:
        server.should_exit = True
        await task
