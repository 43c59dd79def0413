"""``POST /os-server-external-events``: how Neutron and Cinder tell Nova that something
happened to a server (a port was plugged, a volume extended).

The fake hypervisor waits for no such event, so an accepted event completes at once;
what Nova checks is done the same way: an unknown server is a failed event (404), one
not on a host yet is 422, the whole request is 404 when nothing was accepted and 207
when only some were.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.errors import NotFound
from pocketstack.compute.api.common import at_least, body

_NAMES = ["network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"]
CREATE = {"type": "object", "required": ["events"], "additionalProperties": False, "properties": {"events": {
    "type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["name", "server_uuid"], "additionalProperties": False, "properties": {
            "name": {"type": "string", "enum": _NAMES + ["volume-extended"]},
            "server_uuid": {"type": "string", "format": "uuid"},
            "status": {"type": "string", "enum": ["failed", "completed", "in-progress"]},
            "tag": {"type": "string", "maxLength": 255}}}}}}


def register(router: Router, compute) -> None:
    @router.post("/v2.1/os-server-external-events")
    def create_events(req: ApiRequest):
        req.authorize("os_compute_api:os-server-external-events:create")
        events = body(req, CREATE, "events")
        out, accepted = [], 0
        for event in events:
            result = dict(event)
            result.setdefault("status", "completed")
            if event["name"] == "volume-extended" and not at_least(req, 2, 51):
                result.update(status="failed", code=400)
            else:
                try:
                    inst = compute.instances.get(event["server_uuid"])
                except NotFound:
                    inst = None
                if inst is None:
                    result.update(status="failed", code=404)
                elif not inst.host:
                    result.update(status="failed", code=422)
                else:
                    result["code"] = 200
                    accepted += 1
            out.append(result)
        if not accepted:
            raise NotFound("No instances found for any event")
        return json_response({"events": out}, status=200 if accepted == len(out) else 207)
