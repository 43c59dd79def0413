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

import asyncio
import contextlib
import dataclasses
import functools
import importlib
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pocketstack import __version__
from pocketstack.common import rpc, startgc
from pocketstack.common.config import Settings
from pocketstack.common.coordination import Coordinator
from pocketstack.common.db import Database
from pocketstack.common.db.engine import PoolLimits
from pocketstack.common.db.migrate import upgrade
from pocketstack.common.health import Check
from pocketstack.common.metrics import Metrics
from pocketstack.common.policy import Enforcer
from pocketstack.common.probes import probe_routes, sample_process
from pocketstack.common.service import Service
from pocketstack.faults.asgi import DroppingApp
from pocketstack.faults.registry import Faults
from pocketstack.faults.signal import ChangeSignal
from pocketstack.identity.manager import Identity

if TYPE_CHECKING:
    import httpx

    from pocketstack.common.rpc.transports.local import BrokerBridge
    from pocketstack.compute.contract import ComputeContract
    from pocketstack.image.contract import ImageContract
    from pocketstack.network.contract import NetworkContract
    from pocketstack.object.contract import ObjectContract
    from pocketstack.placement.contract import PlacementContract
    from pocketstack.testing.keeper import StateKeeper
    from pocketstack.volume.contract import VolumeContract

LOG = logging.getLogger(__name__)
TOOLS_PATH = "/_pocketstack"

# Service name -> "module:Class".  Imported lazily so a process only loads what it runs.
SERVICES: dict[str, str] = {
    "identity": "pocketstack.identity.service:IdentityService",
    "network": "pocketstack.network.service:NetworkService",
    "placement": "pocketstack.placement.service:PlacementService",
    "image": "pocketstack.image.service:ImageService",
    "compute": "pocketstack.compute.service:ComputeService",
    "object": "pocketstack.object.service:ObjectService",
    "volume": "pocketstack.volume.service:VolumeService",
    "ha": "pocketstack.ha.service:HaService",
    "orchestration": "pocketstack.orchestration.service:OrchestrationService",
}

# Web front ends: served beside the APIs by the processes with the "api" role, acting
# for users only through those APIs (:meth:`Cloud.api_client`).  They are no services:
# no catalog entry, no contract, no workers.
FRONTENDS: dict[str, str] = {
    "dashboard": "pocketstack.dashboard.service:DashboardService",
}


def load_service_class(name: str) -> type[Service]:
    module, _, cls = {**SERVICES, **FRONTENDS}[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def further_regions(settings: Settings) -> list[str]:
    """The names in ``regions``, checked: distinct, not the cloud's own region, and only
    for the all-in-one cloud (each region is a SQLite file and an in-process broker)."""
    names = [n.strip() for n in settings.regions.split(",") if n.strip()]
    if not names:
        return []
    if settings.database_url or not settings.transport_url.startswith(("inproc", "local")):
        raise ValueError("regions are served by the all-in-one cloud (SQLite, in-process RPC) only")
    if settings.region in names or len(set(names)) != len(names):
        raise ValueError(f"regions must be distinct and differ from region {settings.region!r}")
    return names


class Prefixed:
    """A service's app answering a path at the server's root as if it were under the
    service's ``prefix`` (a root alias: :attr:`Service.root_aliases`)."""

    def __init__(self, app: ASGIApp, prefix: str):
        self.app, self.prefix = app, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self.prefix + scope["path"]
        await self.app({**scope, "path": path, "raw_path": path.encode(),
                        "root_path": scope.get("root_path", "") + self.prefix}, receive, send)


class LazyApp:
    """A service's ASGI app, built on its first request.

    Building an API imports its handler modules and declares its routes: a large part of
    start-up, and none of it needed before a client calls that service.  The first call
    builds it in a worker thread (the event loop keeps serving), once."""

    def __init__(self, build: Callable[[], ASGIApp]):
        self._build = build
        self._app: ASGIApp | None = None
        self._lock: asyncio.Lock | None = None

    def built(self) -> ASGIApp:
        """The app, built now if no request has built it yet (for tools that read the
        declared routes, such as the fuzzer)."""
        if self._app is None:
            self._app = self._build()
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            self._lock = self._lock or asyncio.Lock()
            async with self._lock:
                if self._app is None:
                    self._app = await asyncio.to_thread(self._build)
        await self._app(scope, receive, send)


class Cloud:
    def __init__(self, settings: Settings, services: list[str] | None = None, migrate: bool = True,
                 primary: bool = True, bridge: Path | None = None, identity: Identity | None = None,
                 faults: Faults | None = None):
        """``primary`` is False in the extra API worker processes of ``--api-workers``
        (:mod:`pocketstack.cli.api_workers`): they leave what a node recovers at start to
        the process that owns it.  ``bridge``: the Unix socket on which this (primary,
        in-process RPC) cloud serves its broker to those processes.  ``identity``: the
        Keystone of the cloud this one is a further region of (:meth:`_build_regions`), and
        ``faults`` its fault rules."""
        self.settings = settings
        self.primary = primary
        self.bridge = bridge
        self.is_region = identity is not None  # a further region of another cloud
        further_regions(settings)  # a wrong setting fails before anything is built
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # This cloud's own registry: two clouds in one process never mix their counts.
        self.metrics = Metrics()
        self.db = Database(settings.effective_database_url, PoolLimits(
            settings.database_pool_size, settings.database_max_overflow, settings.database_pool_timeout,
            serves_api="api" in settings.role_set), metrics=self.metrics)
        if migrate:
            upgrade(self.db.engine)
        self.enforcer = Enforcer(policy_file=settings.policy_file or None)
        self.identity = identity or Identity(self.db, settings)
        # Fault rules (pocketstack/faults), which every process of the cloud applies; a
        # further region applies those of the cloud it belongs to.
        self.faults = faults or Faults(self.db, ChangeSignal(settings.data_dir / "faults.generation"),
                                       settings.faults_refresh_interval)
        if faults is None and settings.faults_file and primary and "api" in settings.role_set:
            # Once per API server start (not per API worker process, nor by the workers):
            # the rules' counts start over then, and only then.
            self.faults.load_file(settings.faults_file)
        self.roles = settings.role_set
        names = services or settings.service_list or list(SERVICES)
        if identity is not None:  # a further region: everything regional, Keystone is shared
            names = [n for n in names if load_service_class(n).regional]
        unknown = [n for n in names if n not in SERVICES]
        if unknown:
            raise ValueError(f"unknown service(s): {', '.join(unknown)}")
        self.services: list[Service] = [load_service_class(n)(self) for n in names]
        # Front ends (the dashboard) are served once, by the top cloud's API processes.
        self.frontends: list[Service] = [load_service_class(n)(self) for n in FRONTENDS] \
            if "api" in self.roles and identity is None else []
        for service in [*self.services, *self.frontends, *self.tools]:  # before any app is built
            self.enforcer.register(service.rules)
        self._started: list[Service] = []
        self.regions: list[Cloud] = [] if identity is not None else self._build_regions(migrate)
        self._up: set[str] = set()  # services whose start() returned
        self._bridge_server: BrokerBridge | None = None  # serving ``bridge`` while the app runs
        sample_process(self)

    def _build_regions(self, migrate: bool) -> list[Cloud]:
        """The further regions of ``regions`` (an all-in-one feature for clients that test
        multi-region logic): each a cloud of the regional services with its own data
        directory, database, RPC broker and hosts, served under ``/regions/<name>`` by the
        same process and listed in the one Keystone's catalog under its region."""
        regions = []
        for name in further_regions(self.settings):
            data_dir = self.settings.data_dir / "regions" / name
            transport = self.settings.transport_url
            if transport.startswith("local"):
                transport = f"local://{data_dir / 'rpc.sock'}"
            settings = dataclasses.replace(
                self.settings, region=name, regions="", data_dir=data_dir, transport_url=transport,
                public_url=f"{self.settings.effective_public_url}/regions/{name}", coordination_url="")
            bridge = data_dir / "rpc.sock" if self.bridge is not None else None
            regions.append(Cloud(settings, migrate=migrate, primary=self.primary, bridge=bridge,
                                 identity=self.identity, faults=self.faults))
        return regions

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
        return rpc.get_transport(url, queue_prefix=self.settings.cluster_name, metrics=self.metrics)

    async def start_services(self, names: list[str] | None = None) -> None:
        """Start the background workers of ``names`` (default: every service), in order,
        then those of the further regions."""
        self._started = [s for s in self.services if names is None or s.name in names]
        for service in self._started:
            await service.start()
            self._up.add(service.name)
        for region in self.regions:
            await region.start_services(names)
        if self.built_transport is not None:
            self.built_transport.connect()  # so that readiness reports a broker that is down

    @property
    def built_transport(self) -> rpc.Transport | None:
        """The RPC transport if this process made it (probes must not make one)."""
        return self.__dict__.get("transport")

    def service_states(self) -> dict[str, bool]:
        """The services this process runs (once asked to start them): started or not yet."""
        return {s.name: s.name in self._up for s in self._started}

    async def stop_services(self) -> None:
        """Stop what :meth:`start_services` started, in reverse, then the RPC transport."""
        for region in reversed(self.regions):
            await region.stop_services()
        for service in reversed(self._started):
            self._up.discard(service.name)
            await service.stop()
        self._started = []
        await self.renew_transport()

    def running_services(self) -> list[Service]:
        """The services whose workers :meth:`start_services` started, in start order."""
        return list(self._started)

    async def renew_transport(self) -> None:
        """Close the RPC transport; the next use opens a new one (with empty queues, for
        the in-process transport).  Its users must be stopped and started around this."""
        if "transport" in self.__dict__:
            await self.transport.close()
            del self.__dict__["transport"]
            if self._bridge_server is not None:  # the API worker processes' replies come through the new one
                self._bridge_server.follow_broker()

    @functools.cached_property
    def state(self) -> StateKeeper:
        """This cloud's state as a whole: reset, snapshots (:mod:`pocketstack.testing`)."""
        from pocketstack.testing.keeper import StateKeeper

        return StateKeeper(self)

    def close(self) -> None:
        """Release what the cloud holds: coordination membership, database connections."""
        for region in self.regions:
            region.close()
        if "coordinator" in self.__dict__:
            self.coordinator.stop()
        self.db.dispose()

    # -- health and readiness (common/health.py, common/probes.py) ------------------------
    def liveness(self) -> list[Check]:
        """``/healthcheck``: this process serves and reaches its database."""
        return [self.db.check()]

    def readiness(self) -> list[Check]:
        """``/healthcheck/ready``: green once every service this process runs has started
        and each one's workers are up (hosts registered, agents and RPC servers running),
        with the database and the RPC broker reachable -- in every region it serves."""
        states = self.service_states()
        waiting = [name for name, up in states.items() if not up]
        checks = [*self.liveness(), Check("services", bool(states) and not waiting,
                                          f"starting: {', '.join(waiting)}" if waiting else
                                          ", ".join(states) if states else "not started")]
        transport = self.built_transport
        if transport is not None:
            checks.append(Check("rpc", transport.connected,
                                "connected" if transport.connected else "not connected to the broker"))
        checks += [check for s in self._started if states[s.name] for check in s.health()]
        # Further regions served by this process (each also answers at /regions/<name>/healthcheck/ready).
        return checks + [Check(f"{region.settings.region}/{check.name}", check.ok, check.details)
                         for region in self.regions for check in region.readiness()]

    def probe_routes(self) -> list[Route]:
        """``/healthcheck``, ``/healthcheck/ready`` and ``/metrics`` of this process."""
        validate = None if self.settings.metrics_public else self.identity.validate_token
        return probe_routes(self.liveness, self.readiness, self.metrics, validate)

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

    def service_users(self) -> list[tuple[str, str]]:
        """The (name, password) of the users the services act as, for bootstrap."""
        return [user for s in self.services if (user := s.service_user()) is not None]

    @functools.cached_property
    def api_routes(self) -> list[BaseRoute]:
        """Every served route: the root document, services' root routes, their mounted
        APIs and the front ends.  Built once: the server and :meth:`api_client` share the
        same apps."""
        async def root(request: Request):
            return JSONResponse({"name": "pocketstack", "version": __version__,
                                 "services": {s.name: s.url for s in self.services}})

        apps = {s.path: LazyApp(s.app) for s in [*self.services, *self.frontends, *self.tools]}
        aliases = [Route(alias, Prefixed(apps[s.path], s.path)) for s in self.services for alias in s.root_aliases]
        return [Route("/", root), *self.probe_routes()] + [r for s in self.services for r in s.routes()] + aliases + \
            [Mount(path, app=app) for path, app in apps.items()] + \
            [Mount(f"/regions/{region.settings.region}", routes=region.api_routes) for region in self.regions]

    @functools.cached_property
    def tools(self) -> list[Service]:
        """pocketstack's own API at ``/_pocketstack`` (reset, snapshots, fault rules): the
        whole cloud's, so not repeated per region."""
        from pocketstack.testing.service import ToolsService

        return [] if self.is_region else [ToolsService(self)]

    def asgi_app(self, on_start: Callable[[], Awaitable[None]] | None = None) -> Starlette:
        """The served app: services' workers run for its lifetime.  ``on_start`` runs once
        they are up and before the server answers a request (``up --seed``); if it
        raises, the server does not start."""
        @contextlib.asynccontextmanager
        async def lifespan(app):
            bridges = [cloud._broker_bridge() for cloud in (self, *self.regions) if cloud.bridge is not None]
            for bridge in bridges:
                await bridge.start()
            await self.start_services()
            startgc.settle()
            try:
                if on_start is not None:
                    await on_start()
                yield
            finally:
                for bridge in bridges:
                    await bridge.stop()
                for cloud in (self, *self.regions):
                    cloud._bridge_server = None
                await self.stop_services()
                self.close()

        return DroppingApp(routes=self.api_routes, lifespan=lifespan)

    def _broker_bridge(self) -> BrokerBridge:
        """What serves this cloud's in-process broker to its API worker processes, and
        what only this process can do for them: a live reset (it runs the workers a reset
        starts again)."""
        from pocketstack.common.rpc.transports.inproc import InprocTransport
        from pocketstack.common.rpc.transports.local import BrokerBridge, PrimaryOps

        def broker() -> InprocTransport:
            assert isinstance(self.transport, InprocTransport)
            return self.transport

        assert self.bridge is not None
        ops: PrimaryOps = {} if self.is_region else {"reset": self.state.reset}
        self._bridge_server = BrokerBridge(broker, self.bridge, ops)
        return self._bridge_server

    def api_client(self, token: str | None = None, timeout: float = 60.0) -> httpx.AsyncClient:
        """An HTTP client of this cloud's public APIs acting with ``token``: the same routes,
        policies, validation and error bodies a remote client meets, never a side door.
        Orchestration and the dashboard act for users through it.  When this process
        serves every API the requests stay in-process (ASGI, no socket); otherwise (an
        API process of some services only, a worker) they go to the public URL, where the
        cloud serves them all.  URLs are the catalog's
        (``/compute/v2.1/servers``), relative to the public URL."""
        import httpx  # only the processes that act for users need it

        headers = {"X-Auth-Token": token} if token else {}
        base_url = self.settings.effective_public_url
        if "api" in self.roles and {s.name for s in self.services} >= set(SERVICES):
            transport = httpx.ASGITransport(app=DroppingApp(routes=self.api_routes))
            return httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers, timeout=timeout)
        return httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)
