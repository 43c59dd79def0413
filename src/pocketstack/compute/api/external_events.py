"""``POST /os-server-external-events``: how Neutron and Cinder tell Nova that something
happened to a server (a port was plugged, from 2.51 a volume extended: ``volume-extended``,
recorded as an ``extend_volume`` action whose host resizes the guest's disk, from 2.76 its
power changed outside Compute: ``power-update``, recorded as a ``start``/``stop`` action).

Each event is delivered through :meth:`ComputeContract.deliver_event`, which decides
its code (200 accepted, 404 no such server, 422 not on a host yet); the whole request is
207 when any event failed (Nova dropped its 404 for "none accepted", bug 1855752).
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.compute.api.schemas import external_events as schemas
from pocketstack.compute.contract import POWER_UPDATE_TAGS, TAG_REQUIRED, ComputeContract


def outcome(event: dict, deliver: Callable[[str, str], int], at_2_51: bool) -> dict:
    """One event's answer: ``code`` 400 (``volume-extended`` before 2.51, not delivered),
    else what delivering it answered (:meth:`ComputeContract.deliver_event`: 200 accepted,
    404 no such server, 422 not on a host), but 400 for a found server when an event that
    needs a ``tag`` has none (Nova's TAG_REQUIRED); ``status`` is ``failed`` unless accepted."""
    result = dict(event)
    result.setdefault("status", "completed")
    if event["name"] == "volume-extended" and not at_2_51:
        result.update(status="failed", code=400)
        return result
    result["code"] = deliver(event["server_uuid"], event["name"])
    if result["code"] != 404 and event["name"] in TAG_REQUIRED and event.get("tag") is None:
        result["code"] = 400
    if result["code"] != 200:
        result["status"] = "failed"
    return result


class ExternalEventsApi:
    def __init__(self, compute: ComputeContract):
        self.compute = compute

    @route.post("/v2.1/os-server-external-events", policy="os_compute_api:os-server-external-events:create",
                body={"2.1": schemas.CREATE, "2.76": schemas.CREATE_V276, "2.82": schemas.CREATE_V282},
                authorize_first=True)
    def create(self, req: ApiRequest) -> Response:
        req.authorize()
        events = req.data["events"]
        out = [outcome(event, self.compute.deliver_event, req.at_least(2, 51)) for event in events]
        for result in out:
            # 2.76: the host takes note of a power change (an unknown tag is dropped, as Nova).
            if result["code"] == 200 and result["name"] == "power-update" and result["tag"] in POWER_UPDATE_TAGS:
                self.compute.update_power(result["server_uuid"], result["tag"], req.attributes["request_id"],
                                          req.caller.project_id, req.caller.user_id)
            # 2.51: the host resizes the guest's disk of the extended volume (the tag).
            if result["code"] == 200 and result["name"] == "volume-extended":
                self.compute.volume_extended(result["server_uuid"], result["tag"], req.attributes["request_id"],
                                             req.caller.project_id, req.caller.user_id)
        # As Nova since bug 1855752: 207 when any event failed, all of them included (never 404).
        return json_response({"events": out}, status=200 if all(r["code"] == 200 for r in out) else 207)
