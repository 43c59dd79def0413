"""``/v3/domains`` and ``/v3/projects`` (with tags and hierarchy)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.validation import validate
from pocketstack.identity import errors
from pocketstack.identity import models as m
from pocketstack.identity.api import render, schemas
from pocketstack.identity.api.entities import Family, crud_rules
from pocketstack.identity.manager import Identity

PROJECT_FIELDS = frozenset({"name", "description", "domain_id", "parent_id", "enabled", "is_domain", "tags",
                            "options"})
DOMAIN_FIELDS = frozenset({"name", "description", "enabled", "tags", "options", "explicit_domain_id"})
PROJECT_FILTERS = ("name", "domain_id", "parent_id", "enabled", "is_domain", "tags", "tags-any", "not-tags",
                   "not-tags-any")
TAGS_BODY = {"type": "object", "properties": {"tags": schemas.TAGS}, "required": ["tags"],
             "additionalProperties": False}


def tags_of(identity: Identity, ids: list[str]) -> dict[str, list[str]]:
    with identity.db.session(readonly=True) as s:
        return identity.resource.tags(s, ids)


class Tagged:
    """Renders projects or domains with their tags, read in one query."""

    def __init__(self, identity: Identity, render_one):
        self.identity = identity
        self.render_one = render_one

    def __call__(self, base: str, items: list[m.Project]) -> list[dict[str, Any]]:
        tags = tags_of(self.identity, [p.id for p in items])
        return [self.render_one(base, p, tags[p.id]) for p in items]


def domains(identity: Identity) -> Family:
    resource = identity.resource

    def add(own: dict, extra: dict) -> m.Project:
        return resource.create_domain(name=own["name"], description=own.get("description") or "",
                                      enabled=own.get("enabled", True), tags=own.get("tags"),
                                      domain_id=own.get("explicit_domain_id"), extra=extra)

    return Family(
        key="domain", plural="domains", fields=DOMAIN_FIELDS, create_schema=schemas.domain_create,
        update_schema=schemas.domain_update, rules=crud_rules("domain", "domains"),
        find=lambda wanted: resource.list_projects(domain=True, filters=wanted), fetch=resource.get_domain, add=add,
        change=lambda domain_id, own: resource.update_project(domain_id, own, domain=True),
        remove=lambda domain_id: resource.delete_project(domain_id, domain=True),
        render=Tagged(identity, render.domain), filters=("name", "enabled"),
        target=lambda domain_id: {"target.domain.id": domain_id})


def projects(identity: Identity) -> Family:
    resource = identity.resource

    def add(own: dict, extra: dict) -> m.Project:
        return resource.create_project(
            name=own["name"], domain_id=own.get("domain_id"), parent_id=own.get("parent_id"),
            description=own.get("description") or "", enabled=own.get("enabled", True),
            is_domain=own.get("is_domain", False), tags=own.get("tags"), extra=extra)

    # domain=None: a project acting as a domain is reachable through the projects API too.
    return Family(
        key="project", plural="projects", fields=PROJECT_FIELDS, create_schema=schemas.project_create,
        update_schema=schemas.project_update, rules=crud_rules("project", "projects"),
        find=lambda wanted: resource.list_projects(domain=bool(wanted.pop("is_domain", False)), filters=wanted),
        fetch=lambda project_id: resource.get_project(project_id, domain=None), add=add,
        change=lambda project_id, own: resource.update_project(project_id, own, domain=None),
        remove=lambda project_id: resource.delete_project(project_id, domain=None),
        render=Tagged(identity, render.project), filters=PROJECT_FILTERS, bools=("enabled", "is_domain"),
        scoped_list=True, target=lambda project_id: project_target(identity, project_id),
        decorate=lambda req, project, shown: add_hierarchy(identity, req.query, req.service_url, project, shown))


def project_target(identity: Identity, project_id: str) -> dict[str, Any]:
    """What ``identity:get_project`` is checked on: the project and, when it exists, its
    domain (a caller who may not see it gets a 403 rather than a 404)."""
    try:
        project = identity.resource.get_project(project_id, domain=None)
    except errors.NotFound:
        return {"target.project.id": project_id}
    return {"target.project.id": project.id, "target.project.domain_id": project.domain_id}


def add_hierarchy(identity: Identity, query, base: str, project: m.Project, shown: dict) -> None:
    """``?parents_as_ids``, ``?parents_as_list``, ``?subtree_as_ids``, ``?subtree_as_list``."""
    resource = identity.resource
    with identity.db.session(readonly=True) as s:
        if "parents_as_ids" in query or "parents_as_list" in query:
            parents = resource.ancestors(s, project)
            if "parents_as_list" in query:
                shown["parents"] = [{"project": render.project(base, p)} for p in parents]
            else:
                nested: dict[str, Any] | None = None
                for p in reversed(parents):
                    nested = {p.id: nested}
                shown["parents"] = nested
        if "subtree_as_ids" in query or "subtree_as_list" in query:
            subtree = resource.subtree(s, project.id)
            if "subtree_as_list" in query:
                shown["subtree"] = [{"project": render.project(base, p)} for p in subtree]
            else:
                shown["subtree"] = nest(project.id, subtree)


def nest(root_id: str, subtree: list[m.Project]) -> dict | None:
    """``subtree_as_ids``: ``{child: {grandchild: None}}`` below ``root_id``."""
    children: dict[str | None, list[str]] = {}
    for p in subtree:
        children.setdefault(p.parent_id, []).append(p.id)

    def build(pid: str) -> dict | None:
        kids = children.get(pid)
        return {k: build(k) for k in kids} if kids else None
    return build(root_id)


class ProjectTagsApi:
    """``/v3/projects/{project_id}/tags`` and ``.../tags/{tag}``."""

    def __init__(self, identity: Identity):
        self.identity = identity
        self.resource = identity.resource

    def _tags(self, project_id: str) -> list[str]:
        return tags_of(self.identity, [project_id])[project_id]

    def _visible(self, req: ApiRequest) -> m.Project:
        """The project, if the caller may see it (403 before 404, as Keystone)."""
        project_id = req.path_params["project_id"]
        req.authorize("identity:get_project", project_target(self.identity, project_id))
        return self.resource.get_project(project_id, domain=None)

    @route.get("/v3/projects/{project_id}/tags", policy="identity:get_project")
    def index(self, req: ApiRequest) -> dict:
        project = self._visible(req)
        return {"tags": self._tags(project.id)}

    @route.put("/v3/projects/{project_id}/tags", policy="identity:update_project")
    def replace(self, req: ApiRequest) -> dict:
        req.authorize()
        tags = validate(req.json(), TAGS_BODY)["tags"]
        project = self.resource.update_project(req.path_params["project_id"], {"tags": tags}, domain=None)
        return {"tags": self._tags(project.id)}

    @route.delete("/v3/projects/{project_id}/tags", policy="identity:update_project")
    def clear(self, req: ApiRequest) -> None:
        req.authorize()
        self.resource.update_project(req.path_params["project_id"], {"tags": []}, domain=None)

    @route.get("/v3/projects/{project_id}/tags/{tag}", policy="identity:get_project")
    def check(self, req: ApiRequest) -> None:
        project = self._visible(req)
        if req.path_params["tag"] not in self._tags(project.id):
            raise errors.TagNotFound(tag=req.path_params["tag"], project_id=project.id)

    @route.put("/v3/projects/{project_id}/tags/{tag}", policy="identity:update_project")
    def add(self, req: ApiRequest) -> Response:
        req.authorize()
        tag = validate(req.path_params["tag"], schemas.TAG)
        project = self.resource.get_project(req.path_params["project_id"], domain=None)
        current = self._tags(project.id)
        self.resource.update_project(project.id, {"tags": sorted(set(current) | {tag})}, domain=None)
        # Header values are Latin-1: the tag goes into the URL percent-encoded.
        return Response(status_code=201, headers={
            "Location": f"{req.service_url}/v3/projects/{project.id}/tags/{quote(tag, safe='')}"})

    @route.delete("/v3/projects/{project_id}/tags/{tag}", policy="identity:update_project")
    def remove(self, req: ApiRequest) -> None:
        req.authorize()
        project = self.resource.get_project(req.path_params["project_id"], domain=None)
        current = self._tags(project.id)
        tag = req.path_params["tag"]
        if tag not in current:
            raise errors.TagNotFound(tag=tag, project_id=project.id)
        self.resource.update_project(project.id, {"tags": [t for t in current if t != tag]}, domain=None)
