"""A cloud: settings, database, policy, identity and the services built on them.

``Cloud`` is the one object every process builds first.  It migrates the database,
creates the identity facade (every service validates tokens through it) and
instantiates the services asked for; ``asgi_app`` mounts their APIs under their path
prefixes and runs their background workers for the lifetime of the server.  A worker
process (``pocketstack scheduler``, ``pocketstack compute``) builds the same object and
runs only some services' workers (:mod:`pocketstack.common.worker`); ``roles`` says
which parts of a service a process runs.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import socket
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from pocketstack import __version__
from pocketstack.common import rpc
from pocketstack.common.config import Settings
from pocketstack.common.coordination import Coordinator
from pocketstack.common.db import Database
from pocketstack.common.db.engine import PoolLimits
from pocketstack.common.db.migrate import upgrade
from pocketstack.common.policy import Enforcer
from pocketstack.common.service import Service
from pocketstack.identity.manager import Identity

if TYPE_CHECKING:
    from pocketstack.compute.contract import ComputeContract
    from pocketstack.image.contract import ImageContract
    from pocketstack.network.contract import NetworkContract
    from pocketstack.object.contract import ObjectContract
    from pocketstack.placement.contract import PlacementContract
    from pocketstack.volume.contract import VolumeContract

LOG = logging.getLogger(__name__)

# Service name -> "module:Class".  Imported lazily so a process only loads what it runs.
SERVICES: dict[str, str] = {
    "identity": "pocketstack.identity.service:IdentityService",
    "network": "pocketstack.network.service:NetworkService",
    "placement": "pocketstack.placement.service:PlacementService",
    "image": "pocketstack.image.service:ImageService",
    "compute": "pocketstack.compute.service:ComputeService",
    "object": "pocketstack.object.service:ObjectService",
    "volume": "pocketstack.volume.service:VolumeService",
}


def load_service_class(name: str) -> type[Service]:
    module, _, cls = SERVICES[name].partition(":")
    return getattr(importlib.import_module(module), cls)


class Cloud:
    def __init__(self, settings: Settings, services: list[str] | None = None, migrate: bool = True):
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.effective_database_url, PoolLimits(
            settings.database_pool_size, settings.database_max_overflow, settings.database_pool_timeout,
            serves_api="api" in settings.role_set))
        if migrate:
            upgrade(self.db.engine)
        self.enforcer = Enforcer(policy_file=settings.policy_file or None)
        self.identity = Identity(self.db, settings)
        self.roles = settings.role_set
        names = services or settings.service_list or list(SERVICES)
        unknown = [n for n in names if n not in SERVICES]
        if unknown:
            raise ValueError(f"unknown service(s): {', '.join(unknown)}")
        self.services: list[Service] = [load_service_class(n)(self) for n in names]
        self._started: list[Service] = []

    @functools.cached_property
    def coordinator(self) -> Coordinator:
        """This process's member of the coordination backend (started on first use)."""
        coordinator = Coordinator(self.settings.effective_coordination_url, f"{socket.gethostname()}-{os.getpid()}")
        coordinator.start()
        return coordinator

    @property
    def in_process_rpc(self) -> bool:
        """True for the in-process transport: every queue lives and dies with this process."""
        return urlsplit(self.settings.transport_url).scheme == "inproc"

    @functools.cached_property
    def transport(self) -> rpc.Transport:
        """This process's RPC transport.  A bare ``inproc://`` is private to this cloud, so
        two clouds in one process (tests) never consume each other's requests."""
        url = self.settings.transport_url
        if self.in_process_rpc and not urlsplit(url).netloc:
            url = f"inproc://cloud-{uuid.uuid4().hex}"
        return rpc.get_transport(url, queue_prefix=self.settings.cluster_name)

    async def start_services(self, names: list[str] | None = None) -> None:
        """Start the background workers of ``names`` (default: every service), in order."""
        self._started = [s for s in self.services if names is None or s.name in names]
        for service in self._started:
            await service.start()

    async def stop_services(self) -> None:
        """Stop what :meth:`start_services` started, in reverse, then the RPC transport."""
        for service in reversed(self._started):
            await service.stop()
        self._started = []
        if "transport" in self.__dict__:
            await self.transport.close()
            del self.__dict__["transport"]

    def close(self) -> None:
        """Release what the cloud holds: coordination membership, database connections."""
        if "coordinator" in self.__dict__:
            self.coordinator.stop()
        self.db.dispose()

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    # -- what services may call of each other ------------------------------------------
    # Each service exposes one typed contract (``<service>/contract.py``), implemented by
    # its ``manager``; these are the only doors between service folders.  None when the
    # service does not run in this process.
    def contract(self, name: str) -> Any:
        running = next((s for s in self.services if s.name == name), None)
        return None if running is None else running.manager

    @property
    def www_authenticate(self) -> str:
        """What every service's 401 points clients at: this cloud's Keystone."""
        return f'Keystone uri="{self.settings.effective_public_url}/identity"'

    @property
    def compute(self) -> ComputeContract | None:
        return self.contract("compute")

    @property
    def network(self) -> NetworkContract | None:
        return self.contract("network")

    @property
    def volume(self) -> VolumeContract | None:
        return self.contract("volume")

    @property
    def image(self) -> ImageContract | None:
        return self.contract("image")

    @property
    def placement(self) -> PlacementContract | None:
        return self.contract("placement")

    @property
    def object_store(self) -> ObjectContract | None:
        return self.contract("object")

    def catalog(self) -> list[tuple[str, str, str]]:
        return [(s.catalog_type, s.catalog_name, s.catalog_url()) for s in self.services]

    def asgi_app(self) -> Starlette:
        async def root(request: Request):
            return JSONResponse({"name": "pocketstack", "version": __version__,
                                 "services": {s.name: s.url for s in self.services}})

        @contextlib.asynccontextmanager
        async def lifespan(app):
            await self.start_services()
            try:
                yield
            finally:
                await self.stop_services()
                self.close()

        routes = [Route("/", root)] + [r for s in self.services for r in s.routes()] + \
            [Mount(s.path, app=s.app()) for s in self.services]
        return Starlette(routes=routes, lifespan=lifespan)
