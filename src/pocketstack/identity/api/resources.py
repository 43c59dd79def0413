"""``/v3/domains`` and ``/v3/projects`` (with tags and hierarchy)."""

from __future__ import annotations

from urllib.parse import quote

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import validate
from pocketstack.common.errors import NotFound
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.common import body, filters, split_extra
from pocketstack.identity.manager import Identity

PROJECT_FIELDS = {"name", "description", "domain_id", "parent_id", "enabled", "is_domain", "tags", "options"}
DOMAIN_FIELDS = {"name", "description", "enabled", "tags", "options", "explicit_domain_id"}


def register(router: Router, identity: Identity) -> None:
    resource = identity.resource

    def tags_of(ids):
        with identity.db.session(readonly=True) as s:
            return resource.tags(s, ids)

    def show_project(req, project, status=200):
        return json_response({"project": render.project(req.service_url, project, tags_of([project.id])[project.id])},
                             status=status)

    def show_domain(req, domain, status=200):
        return json_response({"domain": render.domain(req.service_url, domain, tags_of([domain.id])[domain.id])},
                             status=status)

    # -- domains ---------------------------------------------------------------------
    @router.get("/v3/domains")
    def list_domains(req: ApiRequest):
        req.authorize("identity:list_domains")
        domains = resource.list_projects(domain=True, filters=filters(req, ("name", "enabled")))
        tags = tags_of([d.id for d in domains])
        return render.collection(req.service_url, "domains", "domains",
                                 [render.domain(req.service_url, d, tags[d.id]) for d in domains])

    @router.post("/v3/domains")
    def create_domain(req: ApiRequest):
        req.authorize("identity:create_domain")
        own, extra = split_extra(body(req, schemas.domain_create, "domain"), DOMAIN_FIELDS)
        domain = resource.create_domain(name=own["name"], description=own.get("description") or "",
                                        enabled=own.get("enabled", True), tags=own.get("tags"),
                                        domain_id=own.get("explicit_domain_id"), extra=extra)
        return show_domain(req, domain, 201)

    @router.get("/v3/domains/{domain_id}")
    def get_domain(req: ApiRequest):
        domain_id = req.path_params["domain_id"]
        req.authorize("identity:get_domain", {"target.domain.id": domain_id})
        return show_domain(req, resource.get_domain(domain_id))

    @router.patch("/v3/domains/{domain_id}")
    def update_domain(req: ApiRequest):
        req.authorize("identity:update_domain")
        own, extra = split_extra(body(req, schemas.domain_update, "domain"), DOMAIN_FIELDS)
        if extra:
            own["extra"] = extra
        return show_domain(req, resource.update_project(req.path_params["domain_id"], own, domain=True))

    @router.delete("/v3/domains/{domain_id}")
    def delete_domain(req: ApiRequest):
        req.authorize("identity:delete_domain")
        resource.delete_project(req.path_params["domain_id"], domain=True)

    # -- projects --------------------------------------------------------------------
    @router.get("/v3/projects")
    def list_projects(req: ApiRequest):
        wanted = filters(req, ("name", "domain_id", "parent_id", "enabled", "is_domain",
                               "tags", "tags-any", "not-tags", "not-tags-any"), bools=("enabled", "is_domain"))
        req.authorize("identity:list_projects", {"target.domain_id": wanted.get("domain_id")})
        projects = resource.list_projects(domain=bool(wanted.pop("is_domain", False)), filters=wanted)
        tags = tags_of([p.id for p in projects])
        return render.collection(req.service_url, "projects", "projects",
                                 [render.project(req.service_url, p, tags[p.id]) for p in projects])

    @router.post("/v3/projects")
    def create_project(req: ApiRequest):
        req.authorize("identity:create_project")
        own, extra = split_extra(body(req, schemas.project_create, "project"), PROJECT_FIELDS)
        project = resource.create_project(
            name=own["name"], domain_id=own.get("domain_id"), parent_id=own.get("parent_id"),
            description=own.get("description") or "", enabled=own.get("enabled", True),
            is_domain=own.get("is_domain", False), tags=own.get("tags"), extra=extra)
        return show_project(req, project, 201)

    @router.get("/v3/projects/{project_id}")
    def get_project(req: ApiRequest):
        project = _authorized_project(req, identity)
        result = render.project(req.service_url, project, tags_of([project.id])[project.id])
        with identity.db.session(readonly=True) as s:
            if "parents_as_ids" in req.query or "parents_as_list" in req.query:
                parents = resource.ancestors(s, project)
                if "parents_as_list" in req.query:
                    result["parents"] = [{"project": render.project(req.service_url, p)} for p in parents]
                else:
                    nested = None
                    for p in reversed(parents):
                        nested = {p.id: nested}
                    result["parents"] = nested
            if "subtree_as_ids" in req.query or "subtree_as_list" in req.query:
                subtree = resource.subtree(s, project.id)
                if "subtree_as_list" in req.query:
                    result["subtree"] = [{"project": render.project(req.service_url, p)} for p in subtree]
                else:
                    result["subtree"] = _nest(project.id, subtree)
        return {"project": result}

    @router.patch("/v3/projects/{project_id}")
    def update_project(req: ApiRequest):
        req.authorize("identity:update_project")
        own, extra = split_extra(body(req, schemas.project_update, "project"), PROJECT_FIELDS)
        if extra:
            own["extra"] = extra
        # domain=None: a project acting as a domain is reachable through the projects API too.
        return show_project(req, resource.update_project(req.path_params["project_id"], own, domain=None))

    @router.delete("/v3/projects/{project_id}")
    def delete_project(req: ApiRequest):
        req.authorize("identity:delete_project")
        resource.delete_project(req.path_params["project_id"], domain=None)

    # -- project tags ----------------------------------------------------------------
    @router.get("/v3/projects/{project_id}/tags")
    def list_tags(req: ApiRequest):
        project = _authorized_project(req, identity)
        return {"tags": tags_of([project.id])[project.id]}

    @router.put("/v3/projects/{project_id}/tags")
    def replace_tags(req: ApiRequest):
        req.authorize("identity:update_project")
        tags = validate(req.json(), {"type": "object", "properties": {"tags": schemas.TAGS},
                                     "required": ["tags"], "additionalProperties": False})["tags"]
        project = resource.update_project(req.path_params["project_id"], {"tags": tags}, domain=None)
        return {"tags": tags_of([project.id])[project.id]}

    @router.delete("/v3/projects/{project_id}/tags")
    def delete_tags(req: ApiRequest):
        req.authorize("identity:update_project")
        resource.update_project(req.path_params["project_id"], {"tags": []}, domain=None)

    @router.get("/v3/projects/{project_id}/tags/{tag}")
    def check_tag(req: ApiRequest):
        project = _authorized_project(req, identity)
        if req.path_params["tag"] not in tags_of([project.id])[project.id]:
            raise NotFound(f"Tag {req.path_params['tag']} not found on project {project.id}.")

    @router.put("/v3/projects/{project_id}/tags/{tag}")
    def add_tag(req: ApiRequest):
        req.authorize("identity:update_project")
        tag = validate(req.path_params["tag"], schemas.TAG)
        project = resource.get_project(req.path_params["project_id"], domain=None)
        current = tags_of([project.id])[project.id]
        resource.update_project(project.id, {"tags": sorted(set(current) | {tag})}, domain=None)
        # Header values are Latin-1: the tag goes into the URL percent-encoded.
        return Response(status_code=201, headers={
            "Location": f"{req.service_url}/v3/projects/{project.id}/tags/{quote(tag, safe='')}"})

    @router.delete("/v3/projects/{project_id}/tags/{tag}")
    def delete_tag(req: ApiRequest):
        req.authorize("identity:update_project")
        project = resource.get_project(req.path_params["project_id"], domain=None)
        current = tags_of([project.id])[project.id]
        if req.path_params["tag"] not in current:
            raise NotFound(f"Tag {req.path_params['tag']} not found on project {project.id}.")
        resource.update_project(project.id, {"tags": [t for t in current if t != req.path_params["tag"]]},
                                domain=None)


def _authorized_project(req: ApiRequest, identity: Identity):
    """Load the project (a project acting as a domain too, as in Keystone), answering 403 rather than 404
    to callers who may not see it."""
    project_id = req.path_params["project_id"]
    try:
        project = identity.resource.get_project(project_id, domain=None)
    except NotFound:
        req.authorize("identity:get_project", {"target.project.id": project_id})
        raise
    req.authorize("identity:get_project", {"target.project.id": project.id,
                                           "target.project.domain_id": project.domain_id})
    return project


def _nest(root_id: str, subtree) -> dict | None:
    children: dict[str, list[str]] = {}
    for p in subtree:
        children.setdefault(p.parent_id, []).append(p.id)

    def build(pid):
        kids = children.get(pid)
        return {k: build(k) for k in kids} if kids else None
    return build(root_id)
