"""Neutron's agents extension (``/v2.0/agents``): the network agent processes.

Every ``pocketstack network-agent --host NAME`` process (and the all-in-one cloud's own
in-process agent) is listed with ``alive`` from its coordination heartbeat.  Operators
may change ``admin_state_up`` and ``description`` and delete an agent's record (a
running agent registers again on its next heartbeat, as Neutron's do).  Agents are
admin-only, and as in Neutron a caller who may not see them gets an empty list and a
404 for any agent, not a 403 that would confirm the agent exists.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import Router
from pocketstack.network import errors
from pocketstack.network.agent_records import AgentDirectory
from pocketstack.network.api import inputs

UPDATABLE = {"admin_state_up": bool, "description": str}
FILTERS = ("id", "agent_type", "binary", "topic", "host", "admin_state_up", "alive", "description")


def _matches(agent: dict, query) -> bool:
    for key in FILTERS:
        wanted = query.getlist(key)
        if wanted and str(agent[key]).lower() not in {w.lower() for w in wanted}:
            return False
    return True


def _changes(body) -> dict:
    agent = body.get("agent") if isinstance(body, dict) else None
    if not isinstance(agent, dict):
        raise errors.bad_request("Resource body required")
    for key, value in agent.items():
        if key not in UPDATABLE:
            raise errors.invalid_input(f"Attribute '{key}' not allowed in PUT")
        if not isinstance(value, UPDATABLE[key]) or (key == "description" and len(value) > 255):
            raise errors.invalid_input(f"'{value}' is not a valid value for {key}")
    return agent


def register(router: Router, agents: AgentDirectory) -> None:
    def visible(req: ApiRequest) -> bool:
        return req.allowed("get_agent", {"project_id": req.context.project_id})

    def found(req: ApiRequest, agent_id: str) -> dict:
        agent = agents.get(agent_id) if visible(req) else None
        if agent is None:
            raise errors.not_found("Agent", agent_id)
        return agent

    @router.get("/v2.0/agents")
    def list_agents(req: ApiRequest):
        fields = req.query.getlist("fields")
        listed = [a for a in agents.list() if _matches(a, req.query)] if visible(req) else []
        if fields:
            listed = [{k: v for k, v in a.items() if k in fields} for a in listed]
        return {"agents": listed}

    @router.get("/v2.0/agents/{agent_id}")
    def show_agent(req: ApiRequest):
        return {"agent": found(req, req.path_params["agent_id"])}

    @router.put("/v2.0/agents/{agent_id}")
    def update_agent(req: ApiRequest):
        agent_id = req.path_params["agent_id"]
        found(req, agent_id)
        req.authorize("update_agent", {"project_id": req.context.project_id})
        changes = _changes(inputs.json_body(req))
        agent = agents.update(agent_id, changes) if changes else found(req, agent_id)
        if agent is None:
            raise errors.not_found("Agent", agent_id)
        return {"agent": agent}

    @router.delete("/v2.0/agents/{agent_id}")
    def delete_agent(req: ApiRequest):
        found(req, req.path_params["agent_id"])
        req.authorize("delete_agent", {"project_id": req.context.project_id})
        if not agents.delete(req.path_params["agent_id"]):
            raise errors.not_found("Agent", req.path_params["agent_id"])
