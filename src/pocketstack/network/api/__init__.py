"""The Networking API (Neutron v2.0): one router assembled from the resource families."""

from __future__ import annotations

from pocketstack.common.api.routes import Router
from pocketstack.network.agent_records import AgentDirectory
from pocketstack.network.api import agents, discovery, resources, subresources
from pocketstack.network.manager import NetworkManager


def build_router(manager: NetworkManager, agents_directory: AgentDirectory) -> Router:
    router = Router()
    discovery.register(router)
    agents.register(router, agents_directory)
    # Sub-resource routes first: "/routers/{id}/add_router_interface" must not be taken
    # for a resource id.
    subresources.register(router, manager)
    resources.register(router, manager)
    return router
