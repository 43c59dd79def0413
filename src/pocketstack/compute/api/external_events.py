"""``POST /os-server-external-events``: how Neutron and Cinder tell Nova that something
happened to a server (a port was plugged, a volume extended).

The fake hypervisor waits for no such event, so an accepted event completes at once;
what Nova checks is done the same way: an unknown server is a failed event (404), one
not on a host yet is 422, the whole request is 404 when nothing was accepted and 207
when only some were.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.errors import NotFound
from pocketstack.common.validation import validate
from pocketstack.compute import errors
from pocketstack.compute.api.schemas import external_events as schemas
from pocketstack.compute.instances import Instances


def outcome(event: dict, find: Callable[[str], object | None], at_2_51: bool) -> dict:
    """One event's answer: ``code`` 200 when accepted, else 400 (``volume-extended``
    before 2.51), 404 (no such server) or 422 (not on a host)."""
    result = dict(event)
    result.setdefault("status", "completed")
    if event["name"] == "volume-extended" and not at_2_51:
        result.update(status="failed", code=400)
        return result
    inst = find(event["server_uuid"])
    if inst is None:
        result.update(status="failed", code=404)
    elif not getattr(inst, "host", None):
        result.update(status="failed", code=422)
    else:
        result["code"] = 200
    return result


class ExternalEventsApi:
    def __init__(self, instances: Instances):
        self.instances = instances

    def find(self, instance_id: str):
        try:
            return self.instances.get(instance_id)
        except NotFound:
            return None

    # Authorized before the body is validated (a 403 before a 400): no ``body=``.
    @route.post("/v2.1/os-server-external-events", policy="os_compute_api:os-server-external-events:create")
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        events = validate(req.json(), schemas.CREATE)["events"]
        out = [outcome(event, self.find, req.at_least(2, 51)) for event in events]
        accepted = sum(1 for result in out if result["code"] == 200)
        if not accepted:
            raise errors.NoInstancesForEvents()
        return json_response({"events": out}, status=200 if accepted == len(out) else 207)
