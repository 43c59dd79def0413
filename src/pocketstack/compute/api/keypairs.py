"""``/os-keypairs``: per-user key pairs (2.2 ``type``, 2.10 admins act for ``user_id``)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.pagination import next_link
from pocketstack.compute.api.common import caller_id, int_query
from pocketstack.compute.api.schemas import keypairs as schemas
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.keypairs import KeyPairs


def owner(caller: str, query: Mapping[str, str], at_2_10: bool, requested: str | None = None) -> str:
    """Whose key pairs: the caller's, or (2.10; the policy decides who may) the
    ``user_id`` of the body or the query."""
    user_id = requested or (query.get("user_id") if at_2_10 else None)
    return user_id if user_id and at_2_10 else caller


def render(req: ApiRequest, kp, full: bool = False) -> dict:
    out = {"name": kp.name, "public_key": kp.public_key, "fingerprint": kp.fingerprint}
    if req.at_least(2, 2):
        out["type"] = kp.type
    if full:
        out.update({"user_id": kp.user_id, "id": kp.id, "created_at": kp.created_at, "deleted": False,
                    "deleted_at": None, "updated_at": None})
    return out


class KeyPairsApi:
    def __init__(self, keypairs: KeyPairs):
        self.keypairs = keypairs

    @staticmethod
    def user_of(req: ApiRequest, requested: str | None = None) -> str:
        return owner(caller_id(req), req.query, req.at_least(2, 10), requested)

    @route.get("/v2.1/os-keypairs", policy="os_compute_api:os-keypairs:index",
               query=queries.from_2_75(queries.KEYPAIRS))
    def index(self, req: ApiRequest) -> dict:
        user_id = self.user_of(req)
        req.authorize(target={"user_id": user_id})
        limit = int_query(req, "limit") if req.at_least(2, 35) else None
        marker = req.query.get("marker") if req.at_least(2, 35) else None
        rows = self.keypairs.list(user_id, limit, marker)
        result: dict = {"keypairs": [{"keypair": render(req, kp)} for kp in rows]}
        if limit and len(rows) == limit:
            result["keypairs_links"] = [{"rel": "next", "href": next_link(
                req.service_url + "/v2.1/os-keypairs", req.query, rows[-1].name)}]
        return result

    # The body names the owner the rule is checked against: validated first.
    @route.post("/v2.1/os-keypairs", policy="os_compute_api:os-keypairs:create",
                body={"2.1": schemas.CREATE, "2.2": schemas.CREATE_V22, "2.10": schemas.CREATE_V210,
                      "2.92": schemas.CREATE_V292})
    def create(self, req: ApiRequest) -> Response:
        data = req.data["keypair"]
        user_id = self.user_of(req, data.get("user_id"))
        req.authorize(target={"user_id": user_id})
        kp, private = self.keypairs.create(user_id, req.caller.project_id, data["name"], data.get("public_key"),
                                           data.get("type", "ssh"))
        out = render(req, kp)
        out["user_id"] = kp.user_id
        if private is not None:
            out["private_key"] = private
        return json_response({"keypair": out}, status=201 if req.at_least(2, 2) else 200)

    @route.get("/v2.1/os-keypairs/{name}", policy="os_compute_api:os-keypairs:show",
               query=queries.from_2_75(queries.KEYPAIR))
    def show(self, req: ApiRequest) -> dict:
        user_id = self.user_of(req)
        req.authorize(target={"user_id": user_id})
        return {"keypair": render(req, self.keypairs.get(user_id, req.path_params["name"]), full=True)}

    @route.delete("/v2.1/os-keypairs/{name}", policy="os_compute_api:os-keypairs:delete",
                  query=queries.from_2_75(queries.KEYPAIR))
    def delete(self, req: ApiRequest) -> Response:
        user_id = self.user_of(req)
        req.authorize(target={"user_id": user_id})
        self.keypairs.delete(user_id, req.path_params["name"])
        return Response(status_code=204 if req.at_least(2, 2) else 202)
