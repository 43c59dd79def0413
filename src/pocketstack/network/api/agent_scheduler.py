"""Neutron's ``l3_agent_scheduler`` and ``dhcp_agent_scheduler`` extensions: which
network agent hosts a router or a network's DHCP, and moving them (admin only, as in
Neutron: others get a 403).  One agent per router and per network (:mod:`..scheduling`):
scheduling a hosted one is a 409, so moving is a DELETE then a POST.  A successful
POST answers 201 with a ``null`` body, as Neutron's does.
"""

from __future__ import annotations

import sqlalchemy as sa

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.network import errors, scheduling, store, views
from pocketstack.network.agent_records import AgentDirectory
from pocketstack.network.api import inputs
from pocketstack.network.context import read, transact
from pocketstack.network.manager import NetworkManager
from pocketstack.network.models import Network, Router


def _id_in_body(req: ApiRequest, key: str) -> str:
    body = inputs.json_body(req)
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise errors.InvalidInput(error_message=f"'{key}' is required: the id of the resource to schedule")
    return value


class AgentSchedulerApi:
    def __init__(self, manager: NetworkManager, agents: AgentDirectory):
        self.manager = manager
        self.agents = agents

    def _agent(self, req: ApiRequest) -> str:
        req.authorize(target={"project_id": req.caller.project_id})
        agent = self.agents.get(req.path_params["agent_id"])
        if agent is None:
            raise errors.AgentNotFound(id=req.path_params["agent_id"])
        return agent["id"]

    def _hosting(self, req: ApiRequest, binding: scheduling.Binding, model, resource_id: str) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})

        def work(w):
            store.fetch(w.s, model, w.ctx, resource_id)  # 404 for an unknown router or network
            agent = scheduling.agent_of(w, binding, resource_id)
            return agent.id if agent is not None else None
        agent_id = read(self.manager.env, req.caller, work)
        agent = self.agents.get(agent_id) if agent_id else None
        return {"agents": [agent] if agent else []}

    def _hosted(self, req: ApiRequest, binding: scheduling.Binding, model, plural: str) -> dict:
        agent_id = self._agent(req)

        def work(w):
            ids = scheduling.hosted_by(w, binding, agent_id)
            return views.render(w.s, list(w.s.scalars(sa.select(model).where(model.id.in_(ids)).order_by(model.id))))
        return {plural: read(self.manager.env, req.caller, work)}

    # -- L3 ----------------------------------------------------------------------------------
    @route.get("/v2.0/routers/{router_id}/l3-agents", policy="get_l3-agents")
    def l3_agents(self, req: ApiRequest):
        return self._hosting(req, scheduling.RouterL3Agent, Router, req.path_params["router_id"])

    @route.get("/v2.0/agents/{agent_id}/l3-routers", policy="get_l3-routers")
    def l3_routers(self, req: ApiRequest):
        return self._hosted(req, scheduling.RouterL3Agent, Router, "routers")

    @route.post("/v2.0/agents/{agent_id}/l3-routers", policy="create_l3-router")
    def add_router(self, req: ApiRequest):
        agent_id = self._agent(req)
        router_id = _id_in_body(req, "router_id")
        transact(self.manager.env, req.caller, lambda w: scheduling.add_router(w, agent_id, router_id))
        return json_response(None, status=201)

    @route.delete("/v2.0/agents/{agent_id}/l3-routers/{router_id}", policy="delete_l3-router")
    def remove_router(self, req: ApiRequest):
        agent_id, router_id = self._agent(req), req.path_params["router_id"]
        transact(self.manager.env, req.caller, lambda w: scheduling.remove_router(w, agent_id, router_id))

    # -- DHCP --------------------------------------------------------------------------------
    @route.get("/v2.0/networks/{network_id}/dhcp-agents", policy="get_dhcp-agents")
    def dhcp_agents(self, req: ApiRequest):
        return self._hosting(req, scheduling.NetworkDhcpAgent, Network, req.path_params["network_id"])

    @route.get("/v2.0/agents/{agent_id}/dhcp-networks", policy="get_dhcp-networks")
    def dhcp_networks(self, req: ApiRequest):
        return self._hosted(req, scheduling.NetworkDhcpAgent, Network, "networks")

    @route.post("/v2.0/agents/{agent_id}/dhcp-networks", policy="create_dhcp-network")
    def add_network(self, req: ApiRequest):
        agent_id = self._agent(req)
        network_id = _id_in_body(req, "network_id")
        transact(self.manager.env, req.caller, lambda w: scheduling.add_network(w, agent_id, network_id))
        return json_response(None, status=201)

    @route.delete("/v2.0/agents/{agent_id}/dhcp-networks/{network_id}", policy="delete_dhcp-network")
    def remove_network(self, req: ApiRequest):
        agent_id, network_id = self._agent(req), req.path_params["network_id"]
        transact(self.manager.env, req.caller, lambda w: scheduling.remove_network(w, agent_id, network_id))
