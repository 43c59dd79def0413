"""``/v3/roles``, implied roles, grants on projects/domains/system, and
``/v3/role_assignments``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import RouteSpec, route
from pocketstack.common.validation import query_flag
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.entities import Family, crud_rules
from pocketstack.identity.api.users import rendered
from pocketstack.identity.assignment import SYSTEM_TARGET, AssignmentManager, Grant
from pocketstack.identity.manager import Identity

ROLE_FIELDS = frozenset({"name", "domain_id", "description", "options"})

# (URL prefix, actor type, scope type, inherited)
GRANT_PATHS = [
    ("/v3/projects/{scope_id}/users/{actor_id}/roles", "user", "project", False),
    ("/v3/projects/{scope_id}/groups/{actor_id}/roles", "group", "project", False),
    ("/v3/domains/{scope_id}/users/{actor_id}/roles", "user", "domain", False),
    ("/v3/domains/{scope_id}/groups/{actor_id}/roles", "group", "domain", False),
    ("/v3/system/users/{actor_id}/roles", "user", "system", False),
    ("/v3/system/groups/{actor_id}/roles", "group", "system", False),
    ("/v3/OS-INHERIT/domains/{scope_id}/users/{actor_id}/roles", "user", "domain", True),
    ("/v3/OS-INHERIT/domains/{scope_id}/groups/{actor_id}/roles", "group", "domain", True),
    ("/v3/OS-INHERIT/projects/{scope_id}/users/{actor_id}/roles", "user", "project", True),
    ("/v3/OS-INHERIT/projects/{scope_id}/groups/{actor_id}/roles", "group", "project", True),
]


def roles(identity: Identity) -> Family:
    assignment = identity.assignment
    return Family(
        key="role", plural="roles", fields=ROLE_FIELDS, create_schema=schemas.role_create,
        update_schema=schemas.role_update, rules=crud_rules("role", "roles"), find=assignment.list_roles,
        fetch=assignment.get_role, add=lambda own, extra: assignment.create_role(**own, extra=extra),
        change=assignment.update_role, remove=assignment.delete_role, render=rendered(render.role),
        filters=("name", "domain_id"), bools=())


def inference(base: str, prior: m.Role, implied: m.Role | list[m.Role]) -> dict[str, Any]:
    """A role inference rule (one implied role) or a prior role's rules (a list)."""
    implies: Any = ([render.role_ref(base, r) for r in implied] if isinstance(implied, list)
                    else render.role_ref(base, implied))
    return {"prior_role": render.role_ref(base, prior), "implies": implies}


IMPLIED = "/v3/roles/{prior_id}/implies/{implied_id}"


class ImpliedRolesApi:
    """Role inference rules: ``/v3/roles/{prior_id}/implies`` and ``/v3/role_inferences``."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.assignment = identity.assignment

    @route.get("/v3/roles/{prior_id}/implies", policy="identity:implied_roles")
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        prior_id = req.path_params["prior_id"]
        implied = self.assignment.list_implied_roles(prior_id).get(prior_id, [])
        return {"role_inference": inference(req.service_url, self.assignment.get_role(prior_id), implied),
                "links": {"self": f"{req.service_url}/v3/roles/{prior_id}/implies"}}

    @route.put(IMPLIED, policy="identity:manage_implied_roles")
    def create(self, req: ApiRequest):
        req.authorize()
        prior, implied = self.assignment.create_implied_role(req.path_params["prior_id"],
                                                             req.path_params["implied_id"])
        return json_response({"role_inference": inference(req.service_url, prior, implied)}, status=201)

    @route.get(IMPLIED, policy="identity:implied_roles")
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        prior, implied = self.assignment.get_implied_role(req.path_params["prior_id"], req.path_params["implied_id"])
        return {"role_inference": inference(req.service_url, prior, implied)}

    @route.head(IMPLIED, policy="identity:implied_roles")
    def check(self, req: ApiRequest) -> None:
        req.authorize()
        self.assignment.get_implied_role(req.path_params["prior_id"], req.path_params["implied_id"])

    @route.delete(IMPLIED, policy="identity:manage_implied_roles")
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.assignment.delete_implied_role(req.path_params["prior_id"], req.path_params["implied_id"])

    @route.get("/v3/role_inferences", policy="identity:implied_roles")
    def all(self, req: ApiRequest) -> dict:
        req.authorize()
        rules = self.assignment.list_implied_roles()
        with self.identity.db.session(readonly=True) as s:
            priors = {pid: prior for pid in rules if (prior := s.get(m.Role, pid)) is not None}
        return {"role_inferences": [inference(req.service_url, priors[pid], implied)
                                    for pid, implied in rules.items() if pid in priors],
                "links": {"self": f"{req.service_url}/v3/role_inferences"}}


class GrantsApi:
    """The roles of one kind of actor on one kind of scope (``/v3/projects/{scope_id}/
    users/{actor_id}/roles`` and the other nine): one instance per URL family."""

    def __init__(self, assignment: AssignmentManager, actor_type: str, scope_type: str, inherited: bool):
        self.assignment = assignment
        self.actor_type = actor_type
        self.scope_type = scope_type
        self.inherited = inherited

    def adapt_route(self, spec: RouteSpec) -> RouteSpec:
        """The inherited families end in ``/inherited_to_projects``, after the role."""
        return dataclasses.replace(spec, path=spec.path + ("/inherited_to_projects" if self.inherited else ""))

    def _parties(self, req: ApiRequest) -> tuple[str, str, str, str]:
        scope_id = req.path_params.get("scope_id", SYSTEM_TARGET)
        return self.actor_type, req.path_params["actor_id"], self.scope_type, scope_id

    def _target(self, req: ApiRequest) -> dict[str, Any]:
        return {"target.domain_id": req.path_params.get("scope_id") if self.scope_type == "domain" else None}

    @route.get("", policy="identity:list_grants")
    def index(self, req: ApiRequest) -> dict:
        """The roles the actor holds on the scope."""
        req.authorize(target=self._target(req))
        grants = self.assignment.list_grant_roles(*self._parties(req), inherited=self.inherited)
        return render.collection(req.service_url, req.raw.url.path.split("/v3/", 1)[1], "roles",
                                 [render.role(req.service_url, r) for r in grants])

    @route.put("/{role_id}", policy="identity:create_grant")
    def grant(self, req: ApiRequest) -> None:
        """Grant the role to the actor on the scope (204)."""
        req.authorize(target=self._target(req))
        self.assignment.grant(*self._parties(req), req.path_params["role_id"], inherited=self.inherited)

    @route.head("/{role_id}", policy="identity:check_grant")
    @route.get("/{role_id}", policy="identity:check_grant")
    def check(self, req: ApiRequest) -> None:
        """204 if the actor holds the role on the scope, else 404."""
        req.authorize(target=self._target(req))
        self.assignment.check_grant(*self._parties(req), req.path_params["role_id"], inherited=self.inherited)

    @route.delete("/{role_id}", policy="identity:revoke_grant")
    def revoke(self, req: ApiRequest) -> None:
        """Revoke the role from the actor on the scope (204)."""
        req.authorize(target=self._target(req))
        self.assignment.revoke_grant(*self._parties(req), req.path_params["role_id"], inherited=self.inherited)


def grants(assignment: AssignmentManager) -> list[tuple[GrantsApi, str]]:
    """Every grant URL family and its prefix."""
    return [(GrantsApi(assignment, actor_type, scope_type, inherited), prefix)
            for prefix, actor_type, scope_type, inherited in GRANT_PATHS]


def assignment_filters(query: Mapping[str, str]) -> dict[str, Any]:
    """``GET /v3/role_assignments``'s query as :meth:`AssignmentManager.list_assignments`
    arguments, and ``include_names`` (400 for the combinations Keystone refuses)."""
    effective = query_flag(query, "effective")
    include_names = query_flag(query, "include_names")
    include_subtree = query_flag(query, "include_subtree")
    if include_subtree and "scope.project.id" not in query:
        raise errors.SubtreeNeedsProject()
    if effective and "group.id" in query:
        raise errors.EffectiveWithGroup()
    return {"user_id": query.get("user.id"), "group_id": query.get("group.id"), "role_id": query.get("role.id"),
            "project_id": query.get("scope.project.id"), "domain_id": query.get("scope.domain.id"),
            "system": "scope.system" in query, "inherited": True if "scope.OS-INHERIT:inherited_to" in query else None,
            "effective": effective, "include_subtree": include_subtree, "include_names": include_names}


class RoleAssignmentsApi:
    """``/v3/role_assignments``."""

    def __init__(self, identity: Identity):
        self.identity = identity

    @route.get("/v3/role_assignments", policy="identity:list_role_assignments")
    def index(self, req: ApiRequest) -> dict:
        q = req.query
        wanted = assignment_filters(q)
        include_names = wanted.pop("include_names")
        req.authorize(target={"target.domain_id": q.get("scope.domain.id")})
        grants = self.identity.assignment.list_assignments(**wanted)
        return {"role_assignments": render_assignments(req.service_url, self.identity, grants, include_names),
                "links": {"self": str(req.url), "previous": None, "next": None}}


def render_assignments(base: str, identity: Identity, grants: list[Grant], include_names: bool) -> list[dict]:
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

        scope: dict[str, Any]
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
        entry: dict[str, Any] = {
            "role": ref(m.Role, g.role_id), "scope": scope, g.actor_type: ref(actor_model, g.actor_id),
            "links": {"assignment": f"{base}/v3/{scope_path}/{actor_path}/roles/{g.prior_role_id or g.role_id}"}}
        if g.via_group:
            entry["links"]["membership"] = f"{base}/v3/groups/{g.via_group}/users/{g.actor_id}"
        if g.prior_role_id:
            entry["links"]["prior_role"] = f"{base}/v3/roles/{g.prior_role_id}"
        items.append(entry)
    return items
