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
from pocketstack.common.api.routes import route
from pocketstack.network import errors
from pocketstack.network.agent_records import AgentDirectory
from pocketstack.network.api import inputs

UPDATABLE = {"admin_state_up": bool, "description": str}
FILTERS = ("id", "agent_type", "binary", "topic", "host", "admin_state_up", "alive", "description")


def matches(agent: dict, query) -> bool:
    """Whether ``agent`` passes the list filters (each repeatable, case-insensitive)."""
    for key in FILTERS:
        wanted = query.getlist(key)
        if wanted and str(agent[key]).lower() not in {w.lower() for w in wanted}:
            return False
    return True


def changes(body) -> dict:
    """The attributes a PUT changes: only ``admin_state_up`` and ``description``."""
    agent = body.get("agent") if isinstance(body, dict) else None
    if not isinstance(agent, dict):
        raise errors.ResourceBodyRequired()
    for key, value in agent.items():
        if key not in UPDATABLE:
            raise errors.InvalidInput(error_message=f"Attribute '{key}' not allowed in PUT")
        if not isinstance(value, UPDATABLE[key]) or (isinstance(value, str) and len(value) > 255):
            raise errors.InvalidInput(error_message=f"'{value}' is not a valid value for {key}")
    return agent


class AgentsApi:
    def __init__(self, agents: AgentDirectory):
        self.agents = agents

    @staticmethod
    def visible(req: ApiRequest) -> bool:
        """Whether the caller may see agents at all: the declared ``get_agent`` rule,
        enforced as Neutron does -- a caller it refuses sees none (an empty list, a 404),
        never a 403 that would confirm an agent exists."""
        return req.permits({"project_id": req.caller.project_id}, rule="get_agent")

    def found(self, req: ApiRequest, agent_id: str) -> dict:
        agent = self.agents.get(agent_id) if self.visible(req) else None
        if agent is None:
            raise errors.AgentNotFound(id=agent_id)
        return agent

    @route.get("/v2.0/agents", policy="get_agent")
    def index(self, req: ApiRequest):
        fields = req.query.getlist("fields")
        listed = [a for a in self.agents.list() if matches(a, req.query)] if self.visible(req) else []
        if fields:
            listed = [{k: v for k, v in a.items() if k in fields} for a in listed]
        return {"agents": listed}

    @route.get("/v2.0/agents/{agent_id}", policy="get_agent")
    def show(self, req: ApiRequest):
        return {"agent": self.found(req, req.path_params["agent_id"])}

    @route.put("/v2.0/agents/{agent_id}", policy="update_agent")
    def update(self, req: ApiRequest):
        agent_id = req.path_params["agent_id"]
        self.found(req, agent_id)
        req.authorize(target={"project_id": req.caller.project_id})
        # The body is read once the agent is found and the caller allowed (404, 403 first).
        agent_changes = changes(inputs.json_body(req))
        agent = self.agents.update(agent_id, agent_changes) if agent_changes else self.found(req, agent_id)
        if agent is None:
            raise errors.AgentNotFound(id=agent_id)
        return {"agent": agent}

    @route.delete("/v2.0/agents/{agent_id}", policy="delete_agent")
    def delete(self, req: ApiRequest):
        agent_id = req.path_params["agent_id"]
        self.found(req, agent_id)
        req.authorize(target={"project_id": req.caller.project_id})
        if not self.agents.delete(agent_id):
            raise errors.AgentNotFound(id=agent_id)
