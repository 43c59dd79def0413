"""The Orchestration service as the cloud runs it: the Heat v1 API under
``/orchestration`` (catalog: ``/orchestration/v1/<project>``) and -- in processes with
the ``orchestration`` role -- an engine on the ``orchestration`` RPC topic."""

from __future__ import annotations

import socket

from pocketstack.common import rpc
from pocketstack.common.context import RequestContext
from pocketstack.common.service import Service
from pocketstack.orchestration import actions
from pocketstack.orchestration.engine.engine import Engine
from pocketstack.orchestration.engine.host import TOPIC, EngineHost
from pocketstack.orchestration.manager import OrchestrationManager
from pocketstack.orchestration.policies import RULES
from pocketstack.orchestration.resources.wait import HANDLE_TOKEN
from pocketstack.orchestration.trusts import trustee_password


class OrchestrationService(Service):
    name = "orchestration"
    # In the first region only: its engine acts through the top cloud's public APIs.
    regional = False
    catalog_name = "heat"
    catalog_suffix = "/v1/%(tenant_id)s"
    rules = RULES

    def __init__(self, cloud):
        super().__init__(cloud)
        self.manager = OrchestrationManager(cloud)
        self.host: EngineHost | None = None

    def app(self):
        from pocketstack.orchestration.api import build_router
        from pocketstack.orchestration.api.common import heat_format
        return self.api(build_router(self.manager), heat_format, validate_token=self.validate_token)

    def service_user(self) -> tuple[str, str]:
        """The trustee of stacks' trusts (:mod:`.trusts`)."""
        settings = self.cloud.settings
        return settings.orchestration_trustee_user, trustee_password(settings)

    def validate_token(self, token: str) -> RequestContext:
        """Keystone's tokens, and the tokens of wait condition handles (which may signal
        their own handle and nothing else)."""
        if token.startswith(HANDLE_TOKEN):
            return actions.handle_context(self.manager.store, token)
        return self.cloud.identity.validate_token(token)

    def engine(self, identity: str | None = None, lease: float | None = None) -> Engine:
        settings = self.cloud.settings
        return Engine(self.cloud, self.manager, identity or settings.orchestration_engine_id or socket.gethostname(),
                      lease or settings.orchestration_lease, settings.orchestration_poll)

    async def start(self) -> None:
        """Cast to the engines from now on; with the ``orchestration`` role run one."""
        cloud = self.cloud
        self.manager.client = rpc.RPCClient(cloud.transport, rpc.Target(TOPIC),
                                            timeout=cloud.settings.rpc_call_timeout, ttl=cloud.settings.rpc_cast_ttl)
        if "orchestration" in cloud.roles:
            self.host = EngineHost(self.engine(), cloud.transport)
            await self.host.start()

    async def stop(self) -> None:
        if self.host is not None:
            await self.host.stop()
            self.host = None
        self.manager.client = None
