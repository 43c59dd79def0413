"""``/os-keypairs``: per-user key pairs (2.2 ``type``, 2.10 admins act for ``user_id``)."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.pagination import next_link
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.compute.api.common import at_least, body, int_query

CREATE = {"type": "object", "required": ["keypair"], "properties": {"keypair": {
    "type": "object", "required": ["name"], "additionalProperties": False,
    "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255},
                   "public_key": {"type": "string"}, "type": {"type": "string", "enum": ["ssh", "x509"]},
                   "user_id": {"type": "string"}}}}}


def register(router: Router, compute) -> None:
    keypairs = compute.keypairs

    def user_of(req: ApiRequest, requested: str | None = None) -> str:
        """Whose key pairs: the caller's, or (2.10, admin) the ``user_id`` asked for."""
        user_id = requested or (req.query.get("user_id") if at_least(req, 2, 10) else None)
        return user_id if user_id and at_least(req, 2, 10) else req.context.user_id

    def render(req: ApiRequest, kp, full: bool = False) -> dict:
        out = {"name": kp.name, "public_key": kp.public_key, "fingerprint": kp.fingerprint}
        if at_least(req, 2, 2):
            out["type"] = kp.type
        if full:
            out.update({"user_id": kp.user_id, "id": kp.id, "created_at": kp.created_at, "deleted": False,
                        "deleted_at": None, "updated_at": None})
        return out

    @router.get("/v2.1/os-keypairs")
    def list_keypairs(req: ApiRequest):
        user_id = user_of(req)
        req.authorize("os_compute_api:os-keypairs:index", {"user_id": user_id})
        limit = int_query(req, "limit") if at_least(req, 2, 35) else None
        marker = req.query.get("marker") if at_least(req, 2, 35) else None
        rows = keypairs.list(user_id, limit, marker)
        result = {"keypairs": [{"keypair": render(req, kp)} for kp in rows]}
        if limit and len(rows) == limit:
            result["keypairs_links"] = [{"rel": "next", "href": next_link(
                req.service_url + "/v2.1/os-keypairs", req.query, rows[-1].name)}]
        return result

    @router.post("/v2.1/os-keypairs")
    def create_keypair(req: ApiRequest):
        data = body(req, CREATE, "keypair")
        user_id = user_of(req, data.get("user_id"))
        req.authorize("os_compute_api:os-keypairs:create", {"user_id": user_id})
        key_type = data.get("type", "ssh") if at_least(req, 2, 2) else "ssh"
        kp, private = keypairs.create(user_id, req.context.project_id, data["name"], data.get("public_key"),
                                      key_type)
        out = render(req, kp)
        out["user_id"] = kp.user_id
        if private is not None:
            out["private_key"] = private
        return json_response({"keypair": out}, status=201 if at_least(req, 2, 2) else 200)

    @router.get("/v2.1/os-keypairs/{name}")
    def show_keypair(req: ApiRequest):
        user_id = user_of(req)
        req.authorize("os_compute_api:os-keypairs:show", {"user_id": user_id})
        return {"keypair": render(req, keypairs.get(user_id, req.path_params["name"]), full=True)}

    @router.delete("/v2.1/os-keypairs/{name}")
    def delete_keypair(req: ApiRequest):
        user_id = user_of(req)
        req.authorize("os_compute_api:os-keypairs:delete", {"user_id": user_id})
        keypairs.delete(user_id, req.path_params["name"])
        return Response(status_code=204 if at_least(req, 2, 2) else 202)
