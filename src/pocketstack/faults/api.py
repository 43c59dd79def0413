"""``/_pocketstack/faults``: the fault rules, read and changed live (admin only).

``GET`` lists the rules with their counters, ``POST`` adds one (``{"fault": {...}}``,
the fields of :mod:`.rules`), ``GET``/``DELETE /faults/{id}`` show or remove one and
``DELETE /faults`` removes them all.  A change applies from the next request on (how
it reaches the cloud's other processes: :mod:`.registry`).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.faults.policies import FAULTS
from pocketstack.faults.registry import Faults
from pocketstack.faults.rules import SCHEMA

CREATE = {"type": "object", "properties": {"fault": SCHEMA}, "required": ["fault"], "additionalProperties": False}


class FaultsApi:
    def __init__(self, faults: Faults):
        self.faults = faults

    @route.get("/faults", policy=FAULTS)
    def index(self, req: ApiRequest) -> dict[str, Any]:
        req.authorize()
        return {"faults": self.faults.rules()}

    @route.post("/faults", policy=FAULTS, body=CREATE, authorize_first=True)
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        rule = self.faults.add(req.data["fault"])
        location = f"{req.attributes['service_url']}/faults/{rule['id']}"
        return json_response({"fault": rule}, status=201, headers={"Location": location})

    @route.delete("/faults", policy=FAULTS)
    def clear(self, req: ApiRequest) -> None:
        req.authorize()
        self.faults.clear()

    @route.get("/faults/{rule_id}", policy=FAULTS)
    def show(self, req: ApiRequest) -> dict[str, Any]:
        req.authorize()
        return {"fault": self.faults.get(req.path_params["rule_id"])}

    @route.delete("/faults/{rule_id}", policy=FAULTS)
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.faults.remove(req.path_params["rule_id"])
