"""Identity (Keystone v3) in the isolation matrix: projects and their tags, users,
groups, roles, grants and role assignments, application credentials, domains, regions,
services, endpoints and tokens.

Keystone answers 403 (never 404) to what the policy refuses
(keystone/common/policies/*.py): a project-scoped member or reader reads its own
project, its own user, its own application credentials and tokens, the default domain
and the regions; the rest is the admin's (or a system reader's).  A restricted
application credential manages no application credentials, itself included
(keystone/api/users.py ``_check_unrestricted_application_credential``).  Trusts
(keystone/common/policies/trust.py) are read by their trustor, trustee, admins and
system readers, deleted by the trustor or an admin, and created only by the trustor,
never from an application credential's token (keystone/api/trusts.py).  Credentials and
EC2 credentials (keystone/common/policies/credential.py, ec2_credential.py) are their
owner's and the admin's; a listing shows each caller only their own.  Unified limits
(keystone/common/policies/limit.py, registered_limit.py, keystone/api/limits.py): the
admin writes; anyone reads registered limits and the enforcement model; a project's
users read and list its limits, and nobody else's.  Endpoint filtering
(keystone/common/policies/endpoint_group.py, project_endpoint.py), policy blobs
(keystone/common/policies/policy.py), endpoint policies (policy_association.py) and
federation's identity providers, protocols and mappings (identity_provider.py,
protocol.py, mapping.py) and Keystone to Keystone's service providers
(service_provider.py) are the admin's (and a system reader's) alone, as are OAuth
consumers, authorizing request tokens and reading access tokens (consumer.py,
access_token.py).
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import ADMIN_ONLY, EVERYONE, FORBIDDEN, LISTED, OK, UNLISTED, Op, Resource, expect

V3 = "/identity/v3"
DOMAIN_CONFIG = V3 + "/domains/{configured_domain}/config"
PROJECT_A_READ = expect(OK, OK, OK, FORBIDDEN, FORBIDDEN)
# What only a_member (or the admin) may do with a_member's things.
A_MEMBER_OWNS = expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# keystone/common/policies/role.py: list_roles is ADMIN_OR_SYSTEM_READER_OR_DOMAIN_MANAGER.


def post(w, path: str, key: str, body: dict | list, persona: str = "admin") -> dict:
    return w.call("POST", f"{V3}/{path}", persona, json={key: body}).json()[key]


def make_project(w) -> dict:
    return {"id": post(w, "projects", "project", {"name": unique("iso-proj")})["id"]}


def make_project_tag(w) -> dict:
    """A fresh tag on project A."""
    tag = unique("iso-tag")
    w.call("PUT", f"{V3}/projects/{w.project('a')}/tags/{tag}")
    return {"id": tag}


def make_user(w) -> dict:
    return {"id": post(w, "users", "user", {"name": unique("iso-user"), "password": "pw-iso-user-1"})["id"]}


def make_group(w) -> dict:
    """A group with a user of its own in it (not a persona: leaving a group revokes the
    user's tokens)."""
    group = post(w, "groups", "group", {"name": unique("iso-group")})
    user = make_user(w)
    w.call("PUT", f"{V3}/groups/{group['id']}/users/{user['id']}")
    return {"id": group["id"], "user": user["id"]}


def make_role(w) -> dict:
    return {"id": post(w, "roles", "role", {"name": unique("iso-role")})["id"]}


def make_reader_role(w) -> dict:
    return {"id": w.role_id("reader")}


def make_grant(w) -> dict:
    """A fresh user holding the reader role on project A."""
    user = make_user(w)
    w.call("PUT", f"{V3}/projects/{w.project('a')}/users/{user['id']}/roles/{w.shared('reader_role')}")
    return user


def make_app_credential(w) -> dict:
    """A restricted application credential of a_member's on project A."""
    cred = post(w, f"users/{w.persona('a_member')}/application_credentials", "application_credential",
                {"name": unique("iso-appcred")}, "a_member")
    return {"id": cred["id"], "secret": cred["secret"]}


def make_access_rule(w) -> dict:
    """An access rule of a_member's, carried by an application credential of theirs."""
    rule = {"service": "compute", "method": "GET", "path": f"/v2.1/{unique('iso-rule')}"}
    cred = post(w, f"users/{w.persona('a_member')}/application_credentials", "application_credential",
                {"name": unique("iso-appcred"), "access_rules": [rule]}, "a_member")
    return {"id": cred["access_rules"][0]["id"], "credential": cred["id"]}


def make_unused_access_rule(w) -> dict:
    """An access rule of a_member's whose credential is gone (deletable)."""
    rule = make_access_rule(w)
    w.call("DELETE", f"{V3}/users/{w.persona('a_member')}/application_credentials/{rule['credential']}",
           "a_member")
    return {"id": rule["id"]}


def make_domain(w, enabled: bool = True) -> dict:
    return {"id": post(w, "domains", "domain", {"name": unique("iso-domain"), "enabled": enabled})["id"]}


def make_configured_domain(w) -> dict:
    """A domain with a configuration of its own (its driver stays SQL: nothing reads the URL)."""
    domain = make_domain(w)
    w.call("PUT", f"{V3}/domains/{domain['id']}/config", json={"config": {
        "identity": {"driver": "sql"}, "ldap": {"url": "ldap://127.0.0.1:1", "password": "iso-secret"}}})
    return domain


def make_region(w) -> dict:
    return {"id": post(w, "regions", "region", {"id": unique("iso-region")})["id"]}


def make_service(w) -> dict:
    return {"id": post(w, "services", "service", {"type": unique("iso-type"), "name": unique("iso-svc")})["id"]}


def make_policy(w) -> dict:
    return {"id": post(w, "policies", "policy", {"type": "application/json", "blob": '{"a": "rule:b"}'})["id"]}


def make_endpoint(w) -> dict:
    return {"id": post(w, "endpoints", "endpoint", {"service_id": str(w.shared("service")), "interface": "public",
                                                   "url": "http://iso.example/"})["id"]}


def make_token(w) -> dict:
    """A fresh token of a_member's (one to revoke)."""
    user = w.persona("a_member")
    return {"id": w.api.token(user.name, "pw-isolation-1", project=w.project("a").name)}


def make_trust(w) -> dict:
    """a_member's trust delegating the reader role on project A to a fresh user."""
    trustee = make_user(w)
    trust = post(w, "OS-TRUST/trusts", "trust", {
        "trustor_user_id": str(w.persona("a_member")), "trustee_user_id": trustee["id"],
        "project_id": str(w.project("a")), "impersonation": False, "roles": [{"name": "reader"}]}, "a_member")
    return {"id": trust["id"], "trustee": trustee["id"]}


def make_credential(w) -> dict:
    """a_member's ``cert`` credential on project A."""
    return {"id": post(w, "credentials", "credential", {
        "user_id": str(w.persona("a_member")), "project_id": str(w.project("a")), "type": "cert",
        "blob": "iso-pem"}, "a_member")["id"]}


def make_ec2_credential(w) -> dict:
    """a_member's EC2 credential on project A (named by its access key)."""
    cred = w.call("POST", f"{V3}/users/{w.persona('a_member')}/credentials/OS-EC2", "a_member",
                  json={"tenant_id": str(w.project("a"))}).json()["credential"]
    return {"id": cred["access"]}


def make_registered_limit(w, name: str | None = None) -> dict:
    """A registered limit of the shared service, for a resource of its own."""
    name = name or unique("iso-res")
    limit = post(w, "registered_limits", "registered_limits", [
        {"service_id": str(w.shared("service")), "resource_name": name, "default_limit": 10}])[0]
    return {"id": limit["id"], "resource_name": name}


def make_limit(w) -> dict:
    """Project A's limit, on a registered limit of its own (one a limit refers to cannot
    change)."""
    registered = make_registered_limit(w)
    limit = post(w, "limits", "limits", [{"service_id": str(w.shared("service")), "project_id": str(w.project("a")),
                                          "resource_name": registered["resource_name"], "resource_limit": 5}])[0]
    return {"id": limit["id"]}


EPF = V3 + "/OS-EP-FILTER"


def make_endpoint_group(w) -> dict:
    return {"id": post(w, "OS-EP-FILTER/endpoint_groups", "endpoint_group", {
        "name": unique("iso-epg"), "filters": {"service_id": str(w.shared("service"))}})["id"]}


def make_group_project(w) -> dict:
    """A fresh project associated with the shared endpoint group (never project A: its
    catalog would change)."""
    project = make_project(w)
    w.call("PUT", f"{EPF}/endpoint_groups/{w.shared('endpoint_group')}/projects/{project['id']}")
    return project


def make_endpoint_project(w) -> dict:
    """A fresh project associated with the shared endpoint."""
    project = make_project(w)
    w.call("PUT", f"{EPF}/projects/{project['id']}/endpoints/{w.shared('endpoint')}")
    return project


def make_endpoint_policy(w) -> dict:
    """A policy associated with a service, that service in a region, and an endpoint of
    it, all of its own (the association cells name the shared ones)."""
    policy = make_policy(w)["id"]
    service = make_service(w)["id"]
    region = make_region(w)["id"]
    endpoint = post(w, "endpoints", "endpoint", {"service_id": service, "interface": "public",
                                                 "url": "http://iso-epp.example/", "region_id": region})["id"]
    ext = f"{V3}/policies/{policy}/OS-ENDPOINT-POLICY"
    for target in (f"endpoints/{endpoint}", f"services/{service}", f"services/{service}/regions/{region}"):
        w.call("PUT", f"{ext}/{target}")
    return {"id": policy, "service": service, "region": region, "endpoint": endpoint}


EPP = V3 + "/policies/{policy}/OS-ENDPOINT-POLICY"
EPP_MINE = V3 + "/policies/{endpoint_policy}/OS-ENDPOINT-POLICY"


FED = V3 + "/OS-FEDERATION"
# No "{0}": the matrix fills braces in bodies.
RULES = [{"local": [{"user": {"name": "iso-user"}}], "remote": [{"type": "REMOTE_USER"}]}]


def make_mapping(w) -> dict:
    mapping_id = unique("iso-map")
    w.call("PUT", f"{FED}/mappings/{mapping_id}", json={"mapping": {"rules": RULES}})
    return {"id": mapping_id}


def make_identity_provider(w) -> dict:
    """An identity provider with a ``mapped`` protocol through the shared mapping."""
    idp_id = unique("iso-idp")
    w.call("PUT", f"{FED}/identity_providers/{idp_id}", json={"identity_provider": {"enabled": True}})
    w.call("PUT", f"{FED}/identity_providers/{idp_id}/protocols/mapped",
           json={"protocol": {"mapping_id": str(w.shared("mapping"))}})
    return {"id": idp_id}


# Disabled (Keystone's default), so that no token of the other tests lists it.
SP_BODY = {"auth_url": "https://sp.example.org/v3/OS-FEDERATION/identity_providers/iso/protocols/saml2/auth",
           "sp_url": "https://sp.example.org/Shibboleth.sso/SAML2/ECP"}


def make_service_provider(w) -> dict:
    sp_id = unique("iso-sp")
    w.call("PUT", f"{FED}/service_providers/{sp_id}", json={"service_provider": SP_BODY})
    return {"id": sp_id}


OAUTH = V3 + "/OS-OAUTH1"


def make_consumer(w) -> dict:
    return {"id": post(w, "OS-OAUTH1/consumers", "consumer", {"description": unique("iso-consumer")})["id"]}


def make_oauth_request_token(w) -> dict:
    """A request token of a fresh consumer for roles on the admin's project."""
    from oauth1_flow import form, request_token
    consumer = post(w, "OS-OAUTH1/consumers", "consumer", {})
    response = request_token(w.api, consumer, str(w.project("admin")))
    assert response.status_code == 201, response.text
    return {"id": form(response)["oauth_token"]}


def make_oauth_access_token(w) -> dict:
    """The admin's access token delegating the reader role on the admin's project (only
    admins authorize request tokens, Keystone's default)."""
    from oauth1_flow import delegate
    _consumer, access = delegate(w.api, w.admin_token, w.admin_token, str(w.project("admin")), [{"name": "reader"}])
    return {"id": access["oauth_token"]}


RESOURCES = [
    Resource("project", make_project),
    Resource("a_project_tag", make_project_tag),
    Resource("user", make_user),
    Resource("group", make_group),
    Resource("role", make_role),
    Resource("reader_role", make_reader_role),
    Resource("grant", make_grant),
    Resource("app_credential", make_app_credential),
    Resource("doomed_app_credential", make_app_credential),
    Resource("access_rule", make_access_rule),
    Resource("unused_access_rule", make_unused_access_rule),
    Resource("domain", make_domain),
    Resource("disabled_domain", lambda w: make_domain(w, enabled=False)),
    Resource("configured_domain", make_configured_domain),
    Resource("doomed_configured_domain", make_configured_domain),
    Resource("region", make_region),
    Resource("service", make_service),
    Resource("endpoint", make_endpoint),
    Resource("policy", make_policy),
    Resource("token", make_token),
    Resource("trust", make_trust),
    Resource("doomed_trust", make_trust),
    Resource("credential", make_credential),
    Resource("ec2_credential", make_ec2_credential),
    Resource("registered_limit", make_registered_limit),
    Resource("limit_base", make_registered_limit),  # what "limit:create" makes project A's limit of
    Resource("limit", make_limit),
    Resource("endpoint_group", make_endpoint_group),
    Resource("group_project", make_group_project),
    Resource("endpoint_project", make_endpoint_project),
    Resource("endpoint_policy", make_endpoint_policy),
    Resource("mapping", make_mapping),
    Resource("doomed_mapping", make_mapping),
    Resource("identity_provider", make_identity_provider),
    Resource("doomed_identity_provider", make_identity_provider),
    Resource("service_provider", make_service_provider),
    Resource("doomed_service_provider", make_service_provider),
    Resource("consumer", make_consumer),
    Resource("doomed_consumer", make_consumer),
    Resource("oauth_request_token", make_oauth_request_token),
    Resource("oauth_access_token", make_oauth_access_token),
    Resource("doomed_oauth_access_token", make_oauth_access_token),
]


def crud(resource: str, collection: str, member: str, create_body: dict, update_body: dict,
         read=ADMIN_ONLY, delete_resource: str | None = None, list_marks: dict | None = None) -> list[Op]:
    """list, show, create, update, delete of an admin-managed ``resource``."""
    deleted = delete_resource or resource
    return [
        Op(resource, "list", "GET", f"{V3}/{collection}", read, marks=list_marks or {}),
        Op(resource, "show", "GET", f"{V3}/{collection}/{{{resource}}}", read),
        Op(resource, "create", "POST", f"{V3}/{collection}", ADMIN_ONLY, body={member: create_body}),
        Op(resource, "update", "PATCH", f"{V3}/{collection}/{{{resource}}}", ADMIN_ONLY, body={member: update_body}),
        Op(resource, "delete", "DELETE", f"{V3}/{collection}/{{{deleted}}}", ADMIN_ONLY, consumes=deleted),
    ]


APP_CREDS = V3 + "/users/{a_member}/application_credentials"

OPS = [
    # -- projects --------------------------------------------------------------------------
    *crud("project", "projects", "project", {"name": "{new}"}, {"description": "changed"}),
    Op("project", "show-own", "GET", V3 + "/projects/{project_a}", PROJECT_A_READ, everywhere=True),
    Op("project", "auth-projects", "GET", V3 + "/auth/projects",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{project_a}", everywhere=True),
    Op("project", "user-projects", "GET", V3 + "/users/{a_member}/projects", A_MEMBER_OWNS),
    Op("project-tag", "list", "GET", V3 + "/projects/{project_a}/tags", PROJECT_A_READ),
    Op("project-tag", "show", "GET", V3 + "/projects/{project_a}/tags/{a_project_tag}", PROJECT_A_READ),
    Op("project-tag", "add", "PUT", V3 + "/projects/{project_a}/tags/{new}", ADMIN_ONLY),
    Op("project-tag", "delete", "DELETE", V3 + "/projects/{project_a}/tags/{a_project_tag}", ADMIN_ONLY,
       consumes="a_project_tag"),
    # -- users and groups ------------------------------------------------------------------
    *crud("user", "users", "user", {"name": "{new}"}, {"description": "changed"}),
    Op("user", "show-a-member", "GET", V3 + "/users/{a_member}", A_MEMBER_OWNS, everywhere=True),
    Op("user", "groups-of-a-member", "GET", V3 + "/users/{a_member}/groups", A_MEMBER_OWNS),
    *crud("group", "groups", "group", {"name": "{new}"}, {"description": "changed"}),
    Op("group", "list-users", "GET", V3 + "/groups/{group}/users", ADMIN_ONLY),
    Op("group", "check-user", "HEAD", V3 + "/groups/{group}/users/{group.user}", ADMIN_ONLY),
    Op("group", "add-user", "PUT", V3 + "/groups/{group}/users/{user}", ADMIN_ONLY),
    Op("group", "remove-user", "DELETE", V3 + "/groups/{group}/users/{group.user}", ADMIN_ONLY, consumes="group"),
    # -- roles, grants, assignments --------------------------------------------------------
    *crud("role", "roles", "role", {"name": "{new}"}, {"description": "changed"}),
    Op("role", "inferences", "GET", V3 + "/role_inferences", ADMIN_ONLY),
    Op("grant", "list", "GET", V3 + "/projects/{project_a}/users/{grant}/roles", ADMIN_ONLY),
    Op("grant", "check", "HEAD", V3 + "/projects/{project_a}/users/{grant}/roles/{reader_role}", ADMIN_ONLY),
    Op("grant", "create", "PUT", V3 + "/projects/{project_a}/users/{user}/roles/{reader_role}", ADMIN_ONLY,
       everywhere=True),
    # No one but the admin grants roles, to themselves least of all (the admin's own
    # assignments stay untouched: the suite shares its token).
    Op("grant", "create-for-self", "PUT", V3 + "/projects/{project_a}/users/{me}/roles/{role}",
       {p: FORBIDDEN for p in ("a_member", "a_reader", "b_member", "b_reader", "a_appcred")}, every_persona=False),
    Op("grant", "revoke", "DELETE", V3 + "/projects/{project_a}/users/{grant}/roles/{reader_role}", ADMIN_ONLY,
       consumes="grant"),
    Op("role-assignment", "list", "GET", V3 + "/role_assignments", ADMIN_ONLY),
    Op("role-assignment", "list-project-a", "GET", V3 + "/role_assignments?scope.project.id={project_a}",
       ADMIN_ONLY),
    # -- application credentials (a_member's, restricted) -----------------------------------
    Op("app-credential", "list", "GET", APP_CREDS, {**A_MEMBER_OWNS, "a_appcred": OK}, everywhere=True),
    Op("app-credential", "show", "GET", APP_CREDS + "/{app_credential}", {**A_MEMBER_OWNS, "a_appcred": OK}),
    Op("app-credential", "create-own", "POST", V3 + "/users/{me}/application_credentials",
       {**EVERYONE, "a_appcred": FORBIDDEN}, body={"application_credential": {"name": "{new}"}}),
    # Only the user itself creates one (an admin included: Keystone's RULE_OWNER).
    Op("app-credential", "create-for-a-member", "POST", APP_CREDS,
       {**expect(FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN), "a_appcred": FORBIDDEN},
       body={"application_credential": {"name": "{new}"}}),
    Op("app-credential", "delete", "DELETE", APP_CREDS + "/{app_credential}",
       {**A_MEMBER_OWNS, "a_appcred": FORBIDDEN}, consumes="app_credential"),
    Op("app-credential", "delete-itself", "DELETE", APP_CREDS + "/{doomed_app_credential}",
       {"a_appcred_self": FORBIDDEN}, every_persona=False, everywhere=True),
    # -- access rules (a_member's; keystone/common/policies/access_rule.py: the owner or a
    # system reader reads, the owner or an admin deletes one no credential uses) ------------
    Op("access-rule", "list", "GET", V3 + "/users/{a_member}/access_rules", {**A_MEMBER_OWNS, "a_appcred": OK}),
    Op("access-rule", "show", "GET", V3 + "/users/{a_member}/access_rules/{access_rule}",
       {**A_MEMBER_OWNS, "a_appcred": OK}),
    Op("access-rule", "delete", "DELETE", V3 + "/users/{a_member}/access_rules/{unused_access_rule}",
       A_MEMBER_OWNS, consumes="unused_access_rule", everywhere=True),
    Op("access-rule", "delete-in-use", "DELETE", V3 + "/users/{a_member}/access_rules/{access_rule}",
       expect(FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)),
    # -- domains, regions, services, endpoints ------------------------------------------------
    *crud("domain", "domains", "domain", {"name": "{new}"}, {"description": "changed"},
          delete_resource="disabled_domain"),
    Op("domain", "show-default", "GET", V3 + "/domains/default", EVERYONE),
    *crud("region", "regions", "region", {"id": "{new}"}, {"description": "changed"}, read=EVERYONE),
    *crud("service", "services", "service", {"type": "{new}"}, {"description": "changed"}),
    *crud("endpoint", "endpoints", "endpoint", {"service_id": "{service}", "interface": "internal",
                                                "url": "http://iso.example/"}, {"url": "http://changed.example/"}),
    *crud("policy", "policies", "policy", {"type": "text/plain", "blob": "{new}"}, {"blob": "changed"}),
    Op("catalog", "show", "GET", V3 + "/auth/catalog", EVERYONE),
    # -- trusts (a_member's) -------------------------------------------------------------------
    Op("trust", "list", "GET", V3 + "/OS-TRUST/trusts", ADMIN_ONLY, everywhere=True),
    Op("trust", "list-a-member", "GET", V3 + "/OS-TRUST/trusts?trustor_user_id={a_member}", A_MEMBER_OWNS),
    Op("trust", "show", "GET", V3 + "/OS-TRUST/trusts/{trust}", {**A_MEMBER_OWNS, "a_appcred": FORBIDDEN}),
    Op("trust", "roles", "GET", V3 + "/OS-TRUST/trusts/{trust}/roles", A_MEMBER_OWNS),
    Op("trust", "role", "HEAD", V3 + "/OS-TRUST/trusts/{trust}/roles/{reader_role}", A_MEMBER_OWNS),
    # Only the trustor creates a trust (an admin included), of roles they hold in project A.
    Op("trust", "create-for-a-member", "POST", V3 + "/OS-TRUST/trusts",
       {**expect(FORBIDDEN, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN), "a_appcred": FORBIDDEN},
       body={"trust": {"trustor_user_id": "{a_member}", "trustee_user_id": "{trust.trustee}",
                       "project_id": "{project_a}", "impersonation": False, "roles": [{"name": "reader"}]}},
       everywhere=True),
    Op("trust", "delete", "DELETE", V3 + "/OS-TRUST/trusts/{doomed_trust}", A_MEMBER_OWNS, consumes="doomed_trust"),
    # -- credentials and EC2 credentials (a_member's) ------------------------------------------
    Op("credential", "list", "GET", V3 + "/credentials", expect(LISTED, LISTED, UNLISTED, UNLISTED, UNLISTED),
       watch="{credential}", everywhere=True),
    Op("credential", "show", "GET", V3 + "/credentials/{credential}", {**A_MEMBER_OWNS, "a_appcred": OK}),
    Op("credential", "create-for-a-member", "POST", V3 + "/credentials", A_MEMBER_OWNS,
       body={"credential": {"user_id": "{a_member}", "type": "cert", "blob": "{new}"}}),
    Op("credential", "update", "PATCH", V3 + "/credentials/{credential}", A_MEMBER_OWNS,
       body={"credential": {"blob": "changed"}}),
    Op("credential", "delete", "DELETE", V3 + "/credentials/{credential}", A_MEMBER_OWNS, consumes="credential"),
    Op("ec2-credential", "list", "GET", V3 + "/users/{a_member}/credentials/OS-EC2", A_MEMBER_OWNS),
    Op("ec2-credential", "show", "GET", V3 + "/users/{a_member}/credentials/OS-EC2/{ec2_credential}", A_MEMBER_OWNS),
    Op("ec2-credential", "create", "POST", V3 + "/users/{a_member}/credentials/OS-EC2",
       {**A_MEMBER_OWNS, "a_appcred": FORBIDDEN}, body={"tenant_id": "{project_a}"}),
    Op("ec2-credential", "delete", "DELETE", V3 + "/users/{a_member}/credentials/OS-EC2/{ec2_credential}",
       A_MEMBER_OWNS, consumes="ec2_credential"),
    # -- unified limits ---------------------------------------------------------------------
    Op("registered-limit", "list", "GET", V3 + "/registered_limits?service_id={service}",
       expect(LISTED, LISTED, LISTED, LISTED, LISTED), watch="{registered_limit}"),
    Op("registered-limit", "show", "GET", V3 + "/registered_limits/{registered_limit}", EVERYONE),
    Op("registered-limit", "create", "POST", V3 + "/registered_limits", ADMIN_ONLY, body={"registered_limits": [
        {"service_id": "{service}", "resource_name": "{new}", "default_limit": 1}]}),
    Op("registered-limit", "update", "PATCH", V3 + "/registered_limits/{registered_limit}", ADMIN_ONLY,
       body={"registered_limit": {"default_limit": 20}}),
    Op("registered-limit", "delete", "DELETE", V3 + "/registered_limits/{registered_limit}", ADMIN_ONLY,
       consumes="registered_limit"),
    Op("limit", "model", "GET", V3 + "/limits/model", EVERYONE),
    Op("limit", "list", "GET", V3 + "/limits", expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{limit}",
       everywhere=True),
    Op("limit", "show", "GET", V3 + "/limits/{limit}", PROJECT_A_READ),
    Op("limit", "create", "POST", V3 + "/limits", ADMIN_ONLY, body={"limits": [
        {"service_id": "{service}", "project_id": "{project_a}", "resource_name": "{limit_base.resource_name}",
         "resource_limit": 1}]}),
    Op("limit", "update", "PATCH", V3 + "/limits/{limit}", ADMIN_ONLY, body={"limit": {"resource_limit": 7}}),
    Op("limit", "delete", "DELETE", V3 + "/limits/{limit}", ADMIN_ONLY, consumes="limit"),
    # -- endpoint filtering (never on project A, whose catalog the other cells use) ----------
    *crud("endpoint_group", "OS-EP-FILTER/endpoint_groups", "endpoint_group",
          {"name": "{new}", "filters": {"interface": "public"}}, {"description": "changed"}),
    Op("endpoint-group", "endpoints", "GET", EPF + "/endpoint_groups/{endpoint_group}/endpoints", ADMIN_ONLY),
    Op("endpoint-group", "projects", "GET", EPF + "/endpoint_groups/{endpoint_group}/projects", ADMIN_ONLY),
    Op("endpoint-group", "show-project", "GET", EPF + "/endpoint_groups/{endpoint_group}/projects/{group_project}",
       ADMIN_ONLY),
    Op("endpoint-group", "add-project", "PUT", EPF + "/endpoint_groups/{endpoint_group}/projects/{project}",
       ADMIN_ONLY),
    Op("endpoint-group", "remove-project", "DELETE",
       EPF + "/endpoint_groups/{endpoint_group}/projects/{group_project}", ADMIN_ONLY, consumes="group_project"),
    Op("endpoint-group", "of-project", "GET", EPF + "/projects/{group_project}/endpoint_groups", ADMIN_ONLY),
    Op("project-endpoint", "list", "GET", EPF + "/projects/{endpoint_project}/endpoints", ADMIN_ONLY),
    Op("project-endpoint", "check", "HEAD", EPF + "/projects/{endpoint_project}/endpoints/{endpoint}", ADMIN_ONLY),
    Op("project-endpoint", "add", "PUT", EPF + "/projects/{project}/endpoints/{endpoint}", ADMIN_ONLY),
    Op("project-endpoint", "remove", "DELETE", EPF + "/projects/{endpoint_project}/endpoints/{endpoint}",
       ADMIN_ONLY, consumes="endpoint_project"),
    Op("project-endpoint", "projects-of-endpoint", "GET", EPF + "/endpoints/{endpoint}/projects", ADMIN_ONLY),
    # -- endpoint policies (keystone/common/policies/policy_association.py: the admin's and a
    # system reader's) ----------------------------------------------------------------------
    Op("endpoint-policy", "add-endpoint", "PUT", EPP + "/endpoints/{endpoint}", ADMIN_ONLY),
    Op("endpoint-policy", "add-service", "PUT", EPP + "/services/{service}", ADMIN_ONLY),
    Op("endpoint-policy", "add-service-region", "PUT", EPP + "/services/{service}/regions/{region}", ADMIN_ONLY),
    Op("endpoint-policy", "check-endpoint", "GET", EPP_MINE + "/endpoints/{endpoint_policy.endpoint}", ADMIN_ONLY),
    Op("endpoint-policy", "check-service", "HEAD", EPP_MINE + "/services/{endpoint_policy.service}", ADMIN_ONLY),
    Op("endpoint-policy", "check-service-region", "GET",
       EPP_MINE + "/services/{endpoint_policy.service}/regions/{endpoint_policy.region}", ADMIN_ONLY),
    Op("endpoint-policy", "remove-endpoint", "DELETE", EPP_MINE + "/endpoints/{endpoint_policy.endpoint}",
       ADMIN_ONLY, consumes="endpoint_policy"),
    Op("endpoint-policy", "remove-service", "DELETE", EPP_MINE + "/services/{endpoint_policy.service}",
       ADMIN_ONLY, consumes="endpoint_policy"),
    Op("endpoint-policy", "remove-service-region", "DELETE",
       EPP_MINE + "/services/{endpoint_policy.service}/regions/{endpoint_policy.region}", ADMIN_ONLY,
       consumes="endpoint_policy"),
    Op("endpoint-policy", "endpoints", "GET", EPP_MINE + "/endpoints", ADMIN_ONLY),
    Op("endpoint-policy", "of-endpoint", "GET", V3 + "/endpoints/{endpoint_policy.endpoint}/OS-ENDPOINT-POLICY/policy",
       ADMIN_ONLY),
    # -- federation: the admin's (and a system reader's) alone --------------------------------
    Op("identity-provider", "list", "GET", FED + "/identity_providers", ADMIN_ONLY),
    Op("identity-provider", "show", "GET", FED + "/identity_providers/{identity_provider}", ADMIN_ONLY),
    Op("identity-provider", "create", "PUT", FED + "/identity_providers/{new}", ADMIN_ONLY,
       body={"identity_provider": {"description": "iso"}}),
    Op("identity-provider", "update", "PATCH", FED + "/identity_providers/{identity_provider}", ADMIN_ONLY,
       body={"identity_provider": {"description": "changed"}}),
    Op("identity-provider", "delete", "DELETE", FED + "/identity_providers/{doomed_identity_provider}", ADMIN_ONLY,
       consumes="doomed_identity_provider"),
    Op("protocol", "list", "GET", FED + "/identity_providers/{identity_provider}/protocols", ADMIN_ONLY),
    Op("protocol", "show", "GET", FED + "/identity_providers/{identity_provider}/protocols/mapped", ADMIN_ONLY),
    Op("protocol", "create", "PUT", FED + "/identity_providers/{identity_provider}/protocols/{new}", ADMIN_ONLY,
       body={"protocol": {"mapping_id": "{mapping}"}}),
    Op("protocol", "update", "PATCH", FED + "/identity_providers/{identity_provider}/protocols/mapped", ADMIN_ONLY,
       body={"protocol": {"mapping_id": "{mapping}"}}),
    Op("protocol", "delete", "DELETE", FED + "/identity_providers/{doomed_identity_provider}/protocols/mapped",
       ADMIN_ONLY, consumes="doomed_identity_provider"),
    Op("mapping", "list", "GET", FED + "/mappings", ADMIN_ONLY),
    Op("mapping", "show", "GET", FED + "/mappings/{mapping}", ADMIN_ONLY),
    Op("mapping", "create", "PUT", FED + "/mappings/{new}", ADMIN_ONLY, body={"mapping": {"rules": RULES}}),
    Op("mapping", "update", "PATCH", FED + "/mappings/{mapping}", ADMIN_ONLY, body={"mapping": {"rules": RULES}}),
    Op("mapping", "delete", "DELETE", FED + "/mappings/{doomed_mapping}", ADMIN_ONLY, consumes="doomed_mapping"),
    Op("service-provider", "list", "GET", FED + "/service_providers", ADMIN_ONLY),
    Op("service-provider", "show", "GET", FED + "/service_providers/{service_provider}", ADMIN_ONLY),
    Op("service-provider", "create", "PUT", FED + "/service_providers/{new}", ADMIN_ONLY,
       body={"service_provider": SP_BODY}),
    Op("service-provider", "update", "PATCH", FED + "/service_providers/{service_provider}", ADMIN_ONLY,
       body={"service_provider": {"description": "changed"}}),
    Op("service-provider", "delete", "DELETE", FED + "/service_providers/{doomed_service_provider}", ADMIN_ONLY,
       consumes="doomed_service_provider"),
    Op("project", "federation-projects", "GET", FED + "/projects",
       expect(UNLISTED, LISTED, LISTED, UNLISTED, UNLISTED), watch="{project_a}", everywhere=True),
    # -- OAuth 1.0a (keystone/common/policies/consumer.py, access_token.py): consumers,
    # authorizing request tokens and reading access tokens are the admin's; an access
    # token is deleted by its user (a member) or an admin -----------------------------------
    *crud("consumer", "OS-OAUTH1/consumers", "consumer", {"description": "{new}"}, {"description": "changed"},
          delete_resource="doomed_consumer"),
    Op("oauth-request-token", "authorize", "PUT", OAUTH + "/authorize/{oauth_request_token}", ADMIN_ONLY,
       body={"roles": [{"name": "reader"}]}, everywhere=True),
    Op("oauth-access-token", "list", "GET", V3 + "/users/{admin}/OS-OAUTH1/access_tokens", ADMIN_ONLY),
    Op("oauth-access-token", "show", "GET", V3 + "/users/{admin}/OS-OAUTH1/access_tokens/{oauth_access_token}",
       ADMIN_ONLY),
    Op("oauth-access-token", "roles", "GET",
       V3 + "/users/{admin}/OS-OAUTH1/access_tokens/{oauth_access_token}/roles", ADMIN_ONLY),
    Op("oauth-access-token", "role", "GET",
       V3 + "/users/{admin}/OS-OAUTH1/access_tokens/{oauth_access_token}/roles/{reader_role}", ADMIN_ONLY),
    Op("oauth-access-token", "delete", "DELETE",
       V3 + "/users/{admin}/OS-OAUTH1/access_tokens/{doomed_oauth_access_token}", ADMIN_ONLY,
       consumes="doomed_oauth_access_token"),
    # -- domain-specific configuration (keystone/common/policies/domain_config.py: the admin's, a
    # system reader's reads) ----------------------------------------------------------------------
    Op("domain-config", "show", "GET", DOMAIN_CONFIG, ADMIN_ONLY, everywhere=True),
    Op("domain-config", "show-group", "GET", DOMAIN_CONFIG + "/ldap", ADMIN_ONLY),
    Op("domain-config", "show-option", "GET", DOMAIN_CONFIG + "/ldap/url", ADMIN_ONLY),
    Op("domain-config", "defaults", "GET", V3 + "/domains/config/default", ADMIN_ONLY),
    Op("domain-config", "option-default", "GET", V3 + "/domains/config/ldap/url/default", ADMIN_ONLY),
    Op("domain-config", "create", "PUT", DOMAIN_CONFIG, ADMIN_ONLY,
       body={"config": {"identity": {"driver": "sql"}, "ldap": {"url": "ldap://127.0.0.1:1"}}}, everywhere=True),
    Op("domain-config", "update", "PATCH", DOMAIN_CONFIG + "/ldap/url", ADMIN_ONLY,
       body={"config": {"url": "ldap://127.0.0.1:2"}}),
    Op("domain-config", "delete", "DELETE", V3 + "/domains/{doomed_configured_domain}/config", ADMIN_ONLY,
       consumes="doomed_configured_domain"),
    # -- password rules: readable by anyone with a token (Keystone's empty rule) ---------------
    Op("security-compliance", "show", "GET", V3 + "/domains/default/config/security_compliance", EVERYONE),
    # -- tokens (a_member's: its subject and the admin validate or revoke it) ---------------
    Op("token", "validate", "GET", V3 + "/auth/tokens", A_MEMBER_OWNS, headers={"X-Subject-Token": "{token}"}),
    Op("token", "revoke", "DELETE", V3 + "/auth/tokens", A_MEMBER_OWNS, headers={"X-Subject-Token": "{token}"},
       consumes="token"),
]
