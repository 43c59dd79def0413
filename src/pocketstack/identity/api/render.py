"""Identity entities as the API shows them, each with its ``links``."""

from __future__ import annotations

from pocketstack.common.access_rules import Rule
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
            "password_expires_at": u.password_expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
            if u.password_expires_at else None, "options": u.options, "links": _links(base, f"users/{u.id}")}
    if u.default_project_id:
        body["default_project_id"] = u.default_project_id
    if u.description is not None:
        body["description"] = u.description
    return body


def group(base: str, g: m.Group) -> dict:
    return {**g.extra, "id": g.id, "name": g.name, "domain_id": g.domain_id, "description": g.description,
            "links": _links(base, f"groups/{g.id}")}


def role(base: str, r: m.Role) -> dict:
    return {**r.extra, "id": r.id, "name": r.name,
            "domain_id": None if r.domain_id == m.NULL_DOMAIN_ID else r.domain_id,
            "description": r.description, "options": r.options, "links": _links(base, f"roles/{r.id}")}


def role_ref(base: str, r: m.Role) -> dict:
    return {"id": r.id, "name": r.name, "links": _links(base, f"roles/{r.id}")}


def region(base: str, r: m.Region) -> dict:
    return {**r.extra, "id": r.id, "parent_region_id": r.parent_region_id, "description": r.description,
            "links": _links(base, f"regions/{r.id}")}


def access_rule(base: str, user_id: str, r: Rule) -> dict:
    return {**r.to_json(), "links": _links(base, f"users/{user_id}/access_rules/{r.id}")}


def service(base: str, s: m.Service) -> dict:
    return {**s.extra, "id": s.id, "type": s.type, "name": s.name, "enabled": s.enabled,
            "description": s.description, "links": _links(base, f"services/{s.id}")}


def policy(base: str, p: m.Policy) -> dict:
    return {**p.extra, "id": p.id, "type": p.type, "blob": p.blob, "links": _links(base, f"policies/{p.id}")}


def endpoint(base: str, e: m.Endpoint) -> dict:
    return {**e.extra, "id": e.id, "service_id": e.service_id, "interface": e.interface, "url": e.url,
            "region_id": e.region_id, "region": e.region_id, "enabled": e.enabled,
            "links": _links(base, f"endpoints/{e.id}")}


def app_cred(base: str, c: m.ApplicationCredential, rules: list[Rule], secret: str | None = None) -> dict:
    body = {"id": c.id, "name": c.name, "description": c.description, "user_id": c.user_id,
            "project_id": c.project_id, "system": c.system, "unrestricted": c.unrestricted,
            "expires_at": c.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if c.expires_at else None,
            "roles": [{"id": r["id"], "name": r["name"], "domain_id": r.get("domain_id")} for r in c.roles],
            "access_rules": [r.to_json() for r in rules],
            "links": _links(base, f"users/{c.user_id}/application_credentials/{c.id}")}
    if secret is not None:
        body["secret"] = secret
    return body


def isotime(value) -> str | None:
    """Keystone's sub-second ISO 8601 in UTC (``2026-12-06T18:00:00.000000Z``)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if value is not None else None


def trust(base: str, t: m.Trust, roles: list[m.Role] | None = None) -> dict:
    """A trust; ``roles`` given for the full view (show, create), omitted in lists."""
    body = {**t.extra, "id": t.id, "trustor_user_id": t.trustor_user_id, "trustee_user_id": t.trustee_user_id,
            "project_id": t.project_id, "impersonation": t.impersonation, "expires_at": isotime(t.expires_at),
            "remaining_uses": t.remaining_uses, "redelegation_count": t.redelegation_count,
            "redelegated_trust_id": t.redelegated_trust_id, "deleted_at": None,
            "links": _links(base, f"OS-TRUST/trusts/{t.id}")}
    if roles is not None:
        body["roles"] = [role(base, r) for r in roles]
        body["roles_links"] = {"self": f"{base}/v3/OS-TRUST/trusts/{t.id}/roles", "previous": None, "next": None}
    return body


def credential(base: str, c: m.Credential, blob: str) -> dict:
    return {**c.extra, "id": c.id, "user_id": c.user_id, "project_id": c.project_id, "type": c.type, "blob": blob,
            "links": _links(base, f"credentials/{c.id}")}


def ec2_credential(base: str, c: m.Credential, blob: dict) -> dict:
    return {"user_id": c.user_id, "tenant_id": c.project_id, "access": blob.get("access"),
            "secret": blob.get("secret"), "trust_id": blob.get("trust_id"),
            "links": _links(base, f"users/{c.user_id}/credentials/OS-EC2/{blob.get('access')}")}


def registered_limit(base: str, r: m.RegisteredLimit) -> dict:
    return {"id": r.id, "service_id": r.service_id, "region_id": r.region_id, "resource_name": r.resource_name,
            "default_limit": r.default_limit, "description": r.description,
            "links": _links(base, f"registered_limits/{r.id}")}


def limit(base: str, lim: m.Limit, registered: m.RegisteredLimit) -> dict:
    """A project's or domain's limit, showing its registered limit's service, region and
    resource name as its own."""
    return {"id": lim.id, "project_id": lim.project_id, "domain_id": lim.domain_id,
            "service_id": registered.service_id, "region_id": registered.region_id,
            "resource_name": registered.resource_name, "resource_limit": lim.resource_limit,
            "description": lim.description, "links": _links(base, f"limits/{lim.id}")}


def endpoint_group(base: str, g: m.EndpointGroup) -> dict:
    return {"id": g.id, "name": g.name, "description": g.description, "filters": g.filters,
            "links": _links(base, f"OS-EP-FILTER/endpoint_groups/{g.id}")}


def project_endpoint_group(base: str, group_id: str, project_id: str) -> dict:
    return {"endpoint_group_id": group_id, "project_id": project_id,
            "links": _links(base, f"OS-EP-FILTER/endpoint_groups/{group_id}/projects/{project_id}")}


FEDERATION = "OS-FEDERATION/identity_providers"


def identity_provider(base: str, idp: m.IdentityProvider, remote_ids: list[str]) -> dict:
    path = f"{FEDERATION}/{idp.id}"
    return {"id": idp.id, "enabled": idp.enabled, "description": idp.description, "domain_id": idp.domain_id,
            "authorization_ttl": idp.authorization_ttl, "remote_ids": remote_ids,
            "links": {**_links(base, path), "protocols": f"{base}/v3/{path}/protocols"}}


def protocol(base: str, p: m.FederationProtocol, *, listed: bool = False) -> dict:
    """A protocol as Keystone shows one (``id``, ``mapping_id``, links); a listing's
    also shows ``idp_id`` and ``remote_id_attribute``."""
    body: dict = {"id": p.id, "mapping_id": p.mapping_id,
            "links": {**_links(base, f"{FEDERATION}/{p.idp_id}/protocols/{p.id}"),
                      "identity_provider": f"{base}/v3/{FEDERATION}/{p.idp_id}"}}
    if listed:
        body.update(idp_id=p.idp_id, remote_id_attribute=p.remote_id_attribute)
    return body


def mapping(base: str, mp: m.Mapping) -> dict:
    return {"id": mp.id, "rules": mp.rules, "schema_version": mp.schema_version,
            "links": _links(base, f"OS-FEDERATION/mappings/{mp.id}")}


def service_provider(base: str, sp: m.ServiceProvider) -> dict:
    return {"id": sp.id, "auth_url": sp.auth_url, "sp_url": sp.sp_url, "description": sp.description,
            "enabled": sp.enabled, "relay_state_prefix": sp.relay_state_prefix,
            "links": _links(base, f"OS-FEDERATION/service_providers/{sp.id}")}
