"""``GET /v2.0/agents``: pocketstack runs no Neutron agents (the datapath is a driver in
the service process), so the list is empty for everyone and every agent is a 404.

Answering instead of a bare 404 lets clients that list agents unconditionally (the
``openstack network agent list`` command, Tempest's agent checks) see the truth.  The
``agent`` extension is not advertised: nothing about agents can be changed.
"""

from __future__ import annotations

from pocketstack.common.api.app import ApiRequest, Router
from pocketstack.network import errors


def register(router: Router) -> None:
    @router.get("/v2.0/agents")
    def list_agents(req: ApiRequest):
        return {"agents": []}

    @router.get("/v2.0/agents/{agent_id}")
    def show_agent(req: ApiRequest):
        raise errors.not_found("Agent", req.path_params["agent_id"])
