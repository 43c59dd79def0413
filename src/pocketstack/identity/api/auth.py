"""Version discovery and ``/v3/auth/*``."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import query_flag, validate
from pocketstack.common.errors import NotFound, Unauthorized
from pocketstack.identity.api import render, schemas
from pocketstack.identity.manager import Identity

VERSION = "v3.14"
UPDATED = "2020-04-07T00:00:00Z"
MEDIA_TYPE = "application/vnd.openstack.identity-v3+json"


def version_document(base: str) -> dict:
    return {"id": VERSION, "status": "stable", "updated": UPDATED,
            "links": [{"rel": "self", "href": f"{base}/v3/"}],
            "media-types": [{"base": "application/json", "type": MEDIA_TYPE}]}


def register(router: Router, identity: Identity) -> None:
    tokens = identity.tokens

    @router.get("/", public=True)
    def versions(req: ApiRequest):
        return json_response({"versions": {"values": [version_document(req.service_url)]}}, status=300)

    @router.get("/v3", public=True)
    def version(req: ApiRequest):
        return {"version": version_document(req.service_url)}

    router.get("/v3/", public=True)(version)

    @router.post("/v3/auth/tokens", public=True)
    def issue_token(req: ApiRequest):
        auth = validate(req.json(), schemas.auth)["auth"]
        vt = tokens.authenticate(auth)
        catalog = not query_flag(req.query, "nocatalog")
        if catalog:
            with identity.db.session(readonly=True) as s:
                vt.catalog = identity.catalog.build_catalog(s, vt.project.id if vt.project else None)
        return json_response(tokens.render(vt, catalog=catalog), status=201,
                             headers={"X-Subject-Token": vt.token})

    def subject(req: ApiRequest, catalog: bool = False):
        token = req.headers.get("x-subject-token")
        if not token:
            raise NotFound("Could not find token: X-Subject-Token header is missing.")
        return tokens.validate(token, catalog=catalog)

    @router.get("/v3/auth/tokens")
    def validate_token(req: ApiRequest):
        catalog = not query_flag(req.query, "nocatalog")
        vt = subject(req, catalog)
        req.authorize("identity:validate_token", {"target.token.user_id": vt.user.id})
        return json_response(tokens.render(vt, catalog=catalog), headers={"X-Subject-Token": vt.token})

    @router.head("/v3/auth/tokens")
    def check_token(req: ApiRequest):
        vt = subject(req)
        req.authorize("identity:validate_token", {"target.token.user_id": vt.user.id})
        return Response(status_code=200, headers={"X-Subject-Token": vt.token})

    @router.delete("/v3/auth/tokens")
    def revoke_token(req: ApiRequest):
        vt = subject(req)
        req.authorize("identity:revoke_token", {"target.token.user_id": vt.user.id})
        identity.revoke.revoke_token(vt.payload)

    @router.get("/v3/auth/catalog")
    def auth_catalog(req: ApiRequest):
        if req.context.scope == "unscoped":
            raise Unauthorized("The service catalog is only available to scoped tokens.")
        with identity.db.session(readonly=True) as s:
            catalog = identity.catalog.build_catalog(s, req.context.project_id)
        return {"catalog": catalog, "links": {"self": f"{req.service_url}/v3/auth/catalog",
                                              "previous": None, "next": None}}

    @router.get("/v3/auth/projects")
    def auth_projects(req: ApiRequest):
        projects = [p for p in identity.assignment.projects_for_user(req.context.user_id) if p.enabled]
        tags = _tags(identity, [p.id for p in projects])
        return render.collection(req.service_url, "auth/projects", "projects",
                                 [render.project(req.service_url, p, tags[p.id]) for p in projects])

    @router.get("/v3/auth/domains")
    def auth_domains(req: ApiRequest):
        domains = [d for d in identity.assignment.domains_for_user(req.context.user_id) if d.enabled]
        return render.collection(req.service_url, "auth/domains", "domains",
                                 [render.domain(req.service_url, d) for d in domains])

    @router.get("/v3/auth/system")
    def auth_system(req: ApiRequest):
        with identity.db.session(readonly=True) as s:
            roles = identity.assignment.effective_roles(s, req.context.user_id, system=True)
        return {"system": [{"all": True}] if roles else [],
                "links": {"self": f"{req.service_url}/v3/auth/system", "previous": None, "next": None}}


def _tags(identity: Identity, ids: list[str]) -> dict[str, list[str]]:
    with identity.db.session(readonly=True) as s:
        return identity.resource.tags(s, ids)
