"""``/v3/roles``, implied roles, grants on projects/domains/system, and
``/v3/role_assignments``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import query_flag
from pocketstack.common.errors import BadRequest
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body
from pocketstack.identity.assignment import SYSTEM_TARGET, Grant
from pocketstack.identity.manager import Identity

# (URL prefix, actor type, scope type, inherited)
GRANT_PATHS = [
    ("/v3/projects/{scope_id}/users/{actor_id}/roles", "user", "project", False),
    ("/v3/projects/{scope_id}/groups/{actor_id}/roles", "group", "project", False),
    ("/v3/domains/{scope_id}/users/{actor_id}/roles", "user", "domain", False),
    ("/v3/domains/{scope_id}/groups/{actor_id}/roles", "group", "domain", False),
    ("/v3/system/users/{actor_id}/roles", "user", "system", False),
    ("/v3/system/groups/{actor_id}/roles", "group", "system", False),
]
INHERITED_PATHS = [
    ("/v3/OS-INHERIT/domains/{scope_id}/users/{actor_id}/roles", "user", "domain", True),
    ("/v3/OS-INHERIT/domains/{scope_id}/groups/{actor_id}/roles", "group", "domain", True),
    ("/v3/OS-INHERIT/projects/{scope_id}/users/{actor_id}/roles", "user", "project", True),
    ("/v3/OS-INHERIT/projects/{scope_id}/groups/{actor_id}/roles", "group", "project", True),
]


def register(router: Router, identity: Identity) -> None:
    assignment = identity.assignment

    # -- roles -----------------------------------------------------------------------
    @router.get("/v3/roles")
    def list_roles(req: ApiRequest):
        req.authorize("identity:list_roles")
        wanted = {k: req.query[k] for k in ("name", "domain_id") if k in req.query}
        return render.collection(req.service_url, "roles", "roles",
                                 [render.role(req.service_url, r) for r in assignment.list_roles(wanted)])

    @router.post("/v3/roles")
    def create_role(req: ApiRequest):
        req.authorize("identity:create_role")
        fields = body(req, schemas.role_create, "role")
        role = assignment.create_role(name=fields["name"], domain_id=fields.get("domain_id"),
                                      description=fields.get("description"), options=fields.get("options"))
        return json_response({"role": render.role(req.service_url, role)}, status=201)

    @router.get("/v3/roles/{role_id}")
    def get_role(req: ApiRequest):
        req.authorize("identity:get_role")
        return {"role": render.role(req.service_url, assignment.get_role(req.path_params["role_id"]))}

    @router.patch("/v3/roles/{role_id}")
    def update_role(req: ApiRequest):
        req.authorize("identity:update_role")
        fields = body(req, schemas.role_update, "role")
        return {"role": render.role(req.service_url, assignment.update_role(req.path_params["role_id"], fields))}

    @router.delete("/v3/roles/{role_id}")
    def delete_role(req: ApiRequest):
        req.authorize("identity:delete_role")
        assignment.delete_role(req.path_params["role_id"])

    # -- implied roles ---------------------------------------------------------------
    def implied_body(req, prior: m.Role, implied: list[m.Role]) -> dict:
        return {"prior_role": render.role_ref(req.service_url, prior),
                "implies": [render.role_ref(req.service_url, r) for r in implied]}

    @router.get("/v3/roles/{prior_id}/implies")
    def list_implied(req: ApiRequest):
        req.authorize("identity:implied_roles")
        prior_id = req.path_params["prior_id"]
        implied = assignment.list_implied_roles(prior_id).get(prior_id, [])
        return {"role_inference": implied_body(req, assignment.get_role(prior_id), implied),
                "links": {"self": f"{req.service_url}/v3/roles/{prior_id}/implies"}}

    @router.put("/v3/roles/{prior_id}/implies/{implied_id}")
    def create_implied(req: ApiRequest):
        req.authorize("identity:manage_implied_roles")
        prior, implied = assignment.create_implied_role(req.path_params["prior_id"], req.path_params["implied_id"])
        return json_response({"role_inference": {"prior_role": render.role_ref(req.service_url, prior),
                                                 "implies": render.role_ref(req.service_url, implied)}},
                             status=201)

    @router.get("/v3/roles/{prior_id}/implies/{implied_id}")
    def get_implied(req: ApiRequest):
        req.authorize("identity:implied_roles")
        prior, implied = assignment.get_implied_role(req.path_params["prior_id"], req.path_params["implied_id"])
        return {"role_inference": {"prior_role": render.role_ref(req.service_url, prior),
                                   "implies": render.role_ref(req.service_url, implied)}}

    @router.head("/v3/roles/{prior_id}/implies/{implied_id}")
    def check_implied(req: ApiRequest):
        req.authorize("identity:implied_roles")
        assignment.get_implied_role(req.path_params["prior_id"], req.path_params["implied_id"])

    @router.delete("/v3/roles/{prior_id}/implies/{implied_id}")
    def delete_implied(req: ApiRequest):
        req.authorize("identity:manage_implied_roles")
        assignment.delete_implied_role(req.path_params["prior_id"], req.path_params["implied_id"])

    @router.get("/v3/role_inferences")
    def list_inferences(req: ApiRequest):
        req.authorize("identity:implied_roles")
        rules = assignment.list_implied_roles()
        with identity.db.session(readonly=True) as s:
            priors = {pid: s.get(m.Role, pid) for pid in rules}
        return {"role_inferences": [implied_body(req, priors[pid], implied) for pid, implied in rules.items()],
                "links": {"self": f"{req.service_url}/v3/role_inferences"}}

    # -- grants ----------------------------------------------------------------------
    for prefix, actor_type, scope_type, inherited in GRANT_PATHS + INHERITED_PATHS:
        _register_grant_routes(router, identity, prefix, actor_type, scope_type, inherited)

    # -- /v3/role_assignments --------------------------------------------------------
    @router.get("/v3/role_assignments")
    def role_assignments(req: ApiRequest):
        q = req.query
        effective = query_flag(q, "effective")
        include_names = query_flag(q, "include_names")
        include_subtree = query_flag(q, "include_subtree")
        if include_subtree and "scope.project.id" not in q:
            raise BadRequest("scope.project.id needs to be specified if include_subtree is also specified.")
        if effective and "group.id" in q:
            raise BadRequest("Combining effective and group filter will always result in an empty list.")
        inherited = None
        if "scope.OS-INHERIT:inherited_to" in q:
            inherited = True
        req.authorize("identity:list_role_assignments", {"target.domain_id": q.get("scope.domain.id")})
        grants = assignment.list_assignments(
            user_id=q.get("user.id"), group_id=q.get("group.id"), role_id=q.get("role.id"),
            project_id=q.get("scope.project.id"), domain_id=q.get("scope.domain.id"),
            system="scope.system" in q, inherited=inherited, effective=effective,
            include_subtree=include_subtree)
        items = _render_assignments(req.service_url, identity, grants, include_names)
        return {"role_assignments": items,
                "links": {"self": str(req.url), "previous": None, "next": None}}


def _register_grant_routes(router: Router, identity: Identity, prefix: str, actor_type: str,
                           scope_type: str, inherited: bool) -> None:
    assignment = identity.assignment
    suffix = "/inherited_to_projects" if inherited else ""

    def parties(req: ApiRequest):
        scope_id = req.path_params.get("scope_id", SYSTEM_TARGET)
        return actor_type, req.path_params["actor_id"], scope_type, scope_id

    def target(req: ApiRequest) -> dict:
        return {"target.domain_id": req.path_params.get("scope_id") if scope_type == "domain" else None}

    def list_grants(req: ApiRequest):
        req.authorize("identity:list_grants", target(req))
        roles = assignment.list_grant_roles(*parties(req), inherited=inherited)
        return render.collection(req.service_url, req.raw.url.path.split("/v3/", 1)[1], "roles",
                                 [render.role(req.service_url, r) for r in roles])

    def grant(req: ApiRequest):
        req.authorize("identity:create_grant", target(req))
        assignment.grant(*parties(req), req.path_params["role_id"], inherited=inherited)
        return Response(status_code=204)

    def check(req: ApiRequest):
        req.authorize("identity:check_grant", target(req))
        assignment.check_grant(*parties(req), req.path_params["role_id"], inherited=inherited)
        return Response(status_code=204)

    def revoke(req: ApiRequest):
        req.authorize("identity:revoke_grant", target(req))
        assignment.revoke_grant(*parties(req), req.path_params["role_id"], inherited=inherited)

    list_path = prefix + ("/inherited_to_projects" if inherited else "")
    router.get(list_path)(list_grants)
    item = prefix + "/{role_id}" + suffix
    router.put(item)(grant)
    router.get(item)(check)
    router.head(item)(check)
    router.delete(item)(revoke)


def _render_assignments(base: str, identity: Identity, grants: list[Grant], include_names: bool) -> list[dict]:
    names: dict[tuple[str, str], dict] = {}
    if include_names:
        with identity.db.session(readonly=True) as s:
            def lookup(model, ident):
                key = (model.__tablename__, ident)
                if key not in names:
                    row = s.get(model, ident)
                    entry = {"id": ident}
                    if row is not None:
                        entry["name"] = row.name
                        domain_id = getattr(row, "domain_id", None)
                        if domain_id and domain_id not in (m.ROOT_DOMAIN_ID, m.NULL_DOMAIN_ID):
                            domain = s.get(m.Project, domain_id)
                            entry["domain"] = {"id": domain_id, "name": domain.name if domain else None}
                    names[key] = entry
                return names[key]

            for g in grants:
                lookup(m.Role, g.role_id)
                lookup(m.User if g.actor_type == "user" else m.Group, g.actor_id)
                if g.scope_type != "system":
                    lookup(m.Project, g.scope_id)
                    if g.via_group:
                        lookup(m.Group, g.via_group)
    items = []
    for g in grants:
        def ref(model, ident):
            return dict(names.get((model.__tablename__, ident), {"id": ident}))

        if g.scope_type == "system":
            scope = {"system": {"all": True}}
            scope_path = "system"
        else:
            scope = {g.scope_type: ref(m.Project, g.scope_id)}
            scope_path = f"{g.scope_type}s/{g.scope_id}"
        if g.inherited:
            scope["OS-INHERIT:inherited_to"] = "projects"
        actor_model = m.User if g.actor_type == "user" else m.Group
        actor_path = f"groups/{g.via_group}" if g.via_group else f"{g.actor_type}s/{g.actor_id}"
        entry = {"role": ref(m.Role, g.role_id), "scope": scope, g.actor_type: ref(actor_model, g.actor_id),
                 "links": {"assignment": f"{base}/v3/{scope_path}/{actor_path}/roles/{g.prior_role_id or g.role_id}"}}
        if g.via_group:
            entry["links"]["membership"] = f"{base}/v3/groups/{g.via_group}/users/{g.actor_id}"
        if g.prior_role_id:
            entry["links"]["prior_role"] = f"{base}/v3/roles/{g.prior_role_id}"
        items.append(entry)
    return items
