"""Identity entities as the API shows them, each with its ``links``."""

from __future__ import annotations

from pocketstack.identity import models as m


def collection(base: str, path: str, key: str, items: list[dict]) -> dict:
    return {key: items, "links": {"self": f"{base}/v3/{path}", "previous": None, "next": None}}


def _links(base: str, path: str) -> dict:
    return {"self": f"{base}/v3/{path}"}


def domain(base: str, d: m.Project, tags: list[str] | None = None) -> dict:
    return {**d.extra, "id": d.id, "name": d.name, "description": d.description, "enabled": d.enabled,
            "tags": tags or [], "options": {}, "links": _links(base, f"domains/{d.id}")}


def project(base: str, p: m.Project, tags: list[str] | None = None) -> dict:
    if p.is_domain:
        return {**domain(base, p, tags), "domain_id": None, "parent_id": None, "is_domain": True,
                "links": _links(base, f"projects/{p.id}")}
    return {**p.extra, "id": p.id, "name": p.name, "domain_id": p.domain_id, "description": p.description,
            "enabled": p.enabled, "parent_id": p.parent_id, "is_domain": False, "tags": tags or [],
            "options": {}, "links": _links(base, f"projects/{p.id}")}


def user(base: str, u: m.User) -> dict:
    body = {**u.extra, "id": u.id, "name": u.name, "domain_id": u.domain_id, "enabled": u.enabled,
            "password_expires_at": None, "options": u.options, "links": _links(base, f"users/{u.id}")}
    if u.default_project_id:
        body["default_project_id"] = u.default_project_id
    if u.description is not None:
        body["description"] = u.description
    return body


def group(base: str, g: m.Group) -> dict:
    return {**g.extra, "id": g.id, "name": g.name, "domain_id": g.domain_id, "description": g.description,
            "links": _links(base, f"groups/{g.id}")}


def role(base: str, r: m.Role) -> dict:
    return {"id": r.id, "name": r.name, "domain_id": None if r.domain_id == m.NULL_DOMAIN_ID else r.domain_id,
            "description": r.description, "options": r.options, "links": _links(base, f"roles/{r.id}")}


def role_ref(base: str, r: m.Role) -> dict:
    return {"id": r.id, "name": r.name, "links": _links(base, f"roles/{r.id}")}


def region(base: str, r: m.Region) -> dict:
    return {**r.extra, "id": r.id, "parent_region_id": r.parent_region_id, "description": r.description,
            "links": _links(base, f"regions/{r.id}")}


def service(base: str, s: m.Service) -> dict:
    return {**s.extra, "id": s.id, "type": s.type, "name": s.name, "enabled": s.enabled,
            "description": s.description, "links": _links(base, f"services/{s.id}")}


def endpoint(base: str, e: m.Endpoint) -> dict:
    return {**e.extra, "id": e.id, "service_id": e.service_id, "interface": e.interface, "url": e.url,
            "region_id": e.region_id, "region": e.region_id, "enabled": e.enabled,
            "links": _links(base, f"endpoints/{e.id}")}


def app_cred(base: str, c: m.ApplicationCredential, secret: str | None = None) -> dict:
    body = {"id": c.id, "name": c.name, "description": c.description, "user_id": c.user_id,
            "project_id": c.project_id, "system": c.system, "unrestricted": c.unrestricted,
            "expires_at": c.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if c.expires_at else None,
            "roles": [{"id": r["id"], "name": r["name"], "domain_id": r.get("domain_id")} for r in c.roles],
            "access_rules": [],
            "links": _links(base, f"users/{c.user_id}/application_credentials/{c.id}")}
    if secret is not None:
        body["secret"] = secret
    return body
