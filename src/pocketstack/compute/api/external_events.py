"""``POST /os-server-external-events``: how Neutron and Cinder tell Nova that something
happened to a server (a port was plugged, a volume extended).

Each event is delivered through :meth:`ComputeContract.deliver_event`, which decides
its code (200 accepted, 404 no such server, 422 not on a host yet); the whole request is
404 when nothing was accepted and 207 when only some were.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.compute import errors
from pocketstack.compute.api.schemas import external_events as schemas
from pocketstack.compute.contract import ComputeContract


def outcome(event: dict, deliver: Callable[[str, str], int], at_2_51: bool) -> dict:
    """One event's answer: ``code`` 400 (``volume-extended`` before 2.51, not delivered),
    else what delivering it answered (:meth:`ComputeContract.deliver_event`: 200 accepted,
    404 no such server, 422 not on a host); ``status`` is ``failed`` unless accepted."""
    result = dict(event)
    result.setdefault("status", "completed")
    if event["name"] == "volume-extended" and not at_2_51:
        result.update(status="failed", code=400)
        return result
    result["code"] = deliver(event["server_uuid"], event["name"])
    if result["code"] != 200:
        result["status"] = "failed"
    return result


class ExternalEventsApi:
    def __init__(self, compute: ComputeContract):
        self.compute = compute

    @route.post("/v2.1/os-server-external-events", policy="os_compute_api:os-server-external-events:create",
                body=schemas.CREATE, authorize_first=True)
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        events = req.data["events"]
        out = [outcome(event, self.compute.deliver_event, req.at_least(2, 51)) for event in events]
        accepted = sum(1 for result in out if result["code"] == 200)
        if not accepted:
            raise errors.NoInstancesForEvents()
        return json_response({"events": out}, status=200 if accepted == len(out) else 207)
