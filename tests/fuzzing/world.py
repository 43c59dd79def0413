"""The resources the fuzzer's path parameters point at.

Everything lives in a fresh *home* project: an admin and a member user of it (the
fuzzer's identities) own a server, a volume, a network, an image, a container..., so
whatever a fuzzed request manages to change stays there.  Identity's own targets
(a domain, a project, a user, roles...) are separate sacrificial resources, never the
fuzzer's identities or the suite's shared admin and demo.  Hosts, services and agents
that other tests schedule on are never targets: the compute ids point at a private fake
host, disabled the whole time it is not being fuzzed.

:attr:`World.known` maps a path segment to the ids that may follow it
(``"servers" -> [server id]``), or a parameter name to its values.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pocketstack.identity.totp import decode_secret, totp
from pocketstack.image.import_filter import GLANCE_DEFAULTS, ImportFilter

from conftest import unique

COMPUTE = {"OpenStack-API-Version": "compute latest"}
VOLUME = {"OpenStack-API-Version": "volume latest"}
PLACEMENT = {"OpenStack-API-Version": "placement latest"}
PASSWORD = "fuzz-secret-1"


@dataclass
class World:
    admin: str = ""    # token: admin role on the home project
    member: str = ""   # token: member role on the home project
    project: str = ""  # the home project's id
    network_flavor: str = ""  # a Networking service flavor (``flavors``, after compute's)
    known: dict[str, list[str]] = field(default_factory=dict)
    # Valid bodies, as (method, concrete path, body): what building the world sent, and
    # the actions of ACTION_SEEDS.  The fuzzer mutates them one value at a time.
    seeds: list[tuple[str, str, object]] = field(default_factory=list)
    fake_host: object = None
    aggregates_before: set[int] = field(default_factory=set)  # the cloud's, left alone
    image_size_cap: int = 0  # the cloud's, restored when the fuzzer is done
    import_filter: ImportFilter = GLANCE_DEFAULTS  # likewise
    saml: tuple = ()  # the cloud's SAML and WebSSO front ends (likewise) and the fuzz metadata's directory

    def add(self, key: str, *values: str) -> None:
        self.known.setdefault(key, []).extend(values)


class Builder:
    """Creates the world's resources through the API, failing loudly on a surprise, and
    keeps every body it sent as a seed."""

    def __init__(self, api, token: str, world: World):
        self.api, self.token, self.world = api, token, world

    def call(self, method: str, path: str, expect: tuple[int, ...] = (200, 201, 202, 204), **kwargs):
        response = self.api.request(method, path, self.token, **kwargs)
        assert response.status_code in expect, (method, path, response.status_code, response.text)
        if kwargs.get("json") is not None:
            self.world.seeds.append((method, path, kwargs["json"]))
        return response

    def create(self, path: str, key: str | None, body: dict, headers: dict | None = None) -> dict:
        data = self.call("POST", path, json={key: body} if key else body, headers=headers or {}).json()
        return data[key] if key else data

    def wait(self, path: str, key: str, statuses: tuple[str, ...], headers: dict | None = None,
             timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            found = self.call("GET", path, headers=headers or {}).json()[key]
            if found["status"] in statuses:
                return found
            assert time.monotonic() < deadline, found
            time.sleep(0.05)


def identity_user(b: Builder, project: dict, role: str) -> str:
    """A fresh user with ``role`` on ``project``; its token (how it authenticated, by
    name and by id, are seeds)."""
    name = unique("fuzz-user")
    user = b.create("/identity/v3/users", "user", {"name": name, "password": PASSWORD})
    role_id = b.call("GET", f"/identity/v3/roles?name={role}").json()["roles"][0]["id"]
    b.call("PUT", f"/identity/v3/projects/{project['id']}/users/{user['id']}/roles/{role_id}")
    scope = {"project": {"id": project["id"]}}
    for who in ({"name": name, "domain": {"id": "default"}}, {"id": user["id"]}):
        auth = {"identity": {"methods": ["password"], "password": {"user": {**who, "password": PASSWORD}}},
                "scope": scope}
        b.call("POST", "/identity/v3/auth/tokens", json={"auth": auth})
    return b.api.token(name, PASSWORD, project=project["name"])


def build_identity(world: World, b: Builder) -> None:
    v3 = "/identity/v3"
    domain = b.create(f"{v3}/domains", "domain", {"name": unique("fuzz-dom")})
    project = b.create(f"{v3}/projects", "project", {"name": unique("fuzz-target")})
    user = b.create(f"{v3}/users", "user", {"name": unique("fuzz-target"), "password": PASSWORD})
    group = b.create(f"{v3}/groups", "group", {"name": unique("fuzz-grp")})
    roles = [b.create(f"{v3}/roles", "role", {"name": unique("fuzz-role")})["id"] for _ in range(2)]
    region = b.create(f"{v3}/regions", "region", {"id": unique("fuzz-region")})
    service = b.create(f"{v3}/services", "service", {"type": unique("fuzz"), "name": unique("fuzz-svc")})
    endpoint = b.create(f"{v3}/endpoints", "endpoint", {"service_id": service["id"], "interface": "public",
                                                        "url": "http://fuzz.invalid/", "region_id": region["id"]})
    world.add("domains", domain["id"])
    world.add("projects", project["id"])
    world.add("users", user["id"])
    world.add("groups", group["id"])
    world.add("roles", roles[0])
    world.add("implies", roles[1])
    world.add("regions", region["id"])
    world.add("services", service["id"])
    world.add("endpoints", endpoint["id"])
    world.add("members", project["id"])  # Glance image members are projects
    # The fuzz domain's own configuration (SQL driver; an LDAP URL on loopback, never read):
    # /v3/domains/{domain_id}/config/{group}/{option} with real groups and options.
    b.call("PUT", f"{v3}/domains/{domain['id']}/config", json={"config": {
        "identity": {"driver": "sql"}, "ldap": {"url": "ldap://127.0.0.1:1", "page_size": 0}}})
    world.add("config", "ldap", "identity")
    world.add("ldap", "url", "page_size")
    world.add("identity", "driver")
    policy = b.create(f"{v3}/policies", "policy", {"type": "application/json", "blob": '{"fuzz": "rule:x"}'})
    world.add("policies", policy["id"])
    b.call("PUT", f"{v3}/policies/{policy['id']}/OS-ENDPOINT-POLICY/services/{service['id']}/regions/{region['id']}")
    build_delegation(world, b, user["id"])
    build_mfa(b, user["id"])
    build_limits(world, b, service["id"], region["id"], project["id"])
    group = b.create(f"{v3}/OS-EP-FILTER/endpoint_groups", "endpoint_group", {
        "name": unique("fuzz-epg"), "filters": {"service_id": service["id"]}})
    b.call("PUT", f"{v3}/OS-EP-FILTER/endpoint_groups/{group['id']}/projects/{project['id']}")
    b.call("PUT", f"{v3}/OS-EP-FILTER/projects/{project['id']}/endpoints/{endpoint['id']}")
    world.add("endpoint_groups", group["id"])
    build_federation(world, b)
    build_oauth1(world, b)


def build_oauth1(world: World, b: Builder) -> None:
    """An OAuth consumer, a request token of another (to authorize) and an access token
    of the fuzzer's admin on the home project (OS-OAUTH1)."""
    from oauth1_flow import delegate, form, request_token
    v3 = "/identity/v3"
    consumer = b.create(f"{v3}/OS-OAUTH1/consumers", "consumer", {"description": "fuzz"})
    pending = form(request_token(b.api, consumer, world.project))
    _other, access = delegate(b.api, b.token, b.token, world.project, [{"name": "member"}])
    b.call("PUT", f"{v3}/OS-OAUTH1/authorize/{pending['oauth_token']}", json={"roles": [{"name": "member"}]})
    world.add("consumers", consumer["id"])
    world.add("authorize", pending["oauth_token"])
    world.add("access_tokens", access["oauth_token"])


def build_federation(world: World, b: Builder) -> None:
    """A mapping and an enabled identity provider with a ``mapped`` protocol through it
    (created with PUT on ids of the caller's choosing, as Keystone's API does)."""
    fed = "/identity/v3/OS-FEDERATION"
    mapping, idp = unique("fuzz-map"), unique("fuzz-idp")
    b.call("PUT", f"{fed}/mappings/{mapping}", json={"mapping": {"rules": [
        {"local": [{"user": {"name": "{0}"}}, {"group_ids": "{1}"}],
         "remote": [{"type": "REMOTE_USER"}, {"type": "GROUPS", "whitelist": ["a", "b"]}]}]}})
    b.call("PUT", f"{fed}/identity_providers/{idp}", json={"identity_provider": {
        "enabled": True, "description": "fuzz", "remote_ids": [unique("fuzz-remote")], "authorization_ttl": 1}})
    b.call("PUT", f"{fed}/identity_providers/{idp}/protocols/mapped", json={"protocol": {
        "mapping_id": mapping, "remote_id_attribute": "IDP"}})
    world.add("mappings", mapping)
    world.add("identity_providers", idp)
    world.add("protocols", "mapped")
    build_saml(world, b, mapping)
    build_service_provider(world, b)


def build_service_provider(world: World, b: Builder) -> None:
    """An enabled service provider (Keystone to Keystone), and the assertions of the
    world's admin token for it, bare and ECP (seeds of the saml2 routes, which sign)."""
    sp = unique("fuzz-sp")
    b.call("PUT", f"/identity/v3/OS-FEDERATION/service_providers/{sp}", json={"service_provider": {
        "auth_url": "https://sp.invalid/v3/OS-FEDERATION/identity_providers/fuzz/protocols/saml2/auth",
        "sp_url": "https://sp.invalid/Shibboleth.sso/SAML2/ECP", "enabled": True, "relay_state_prefix": "fuzz:"}})
    world.add("service_providers", sp)
    auth = {"auth": {"identity": {"methods": ["token"], "token": {"id": world.admin}},
                     "scope": {"service_provider": {"id": sp}}}}
    for path in ("saml2", "saml2/ecp"):
        b.call("POST", f"/identity/v3/auth/OS-FEDERATION/{path}", json=auth)


SAML_METADATA = """<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://idp.invalid/ecp"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
                            Location="https://idp.invalid/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"""


def build_saml(world: World, b: Builder, mapping: str) -> None:
    """A SAML identity provider (its metadata only: it never answers) with a ``saml2``
    protocol, and a trusted dashboard, so that ECP's start, WebSSO and the assertion
    consumers do their work on what the fuzzer sends (the cloud's front ends come back
    in :func:`retire`)."""
    from pocketstack.identity.saml import SamlFrontEnd
    from pocketstack.identity.websso import WebSso
    fed = "/identity/v3/OS-FEDERATION"
    entity, idp = f"https://{unique('fuzz-saml')}.invalid/idp", unique("fuzz-saml")
    directory = Path(tempfile.mkdtemp(prefix="fuzz-saml-"))
    (directory / "idp.xml").write_text(SAML_METADATA.format(entity=entity))
    identity = b.api.cloud.identity
    world.saml = (identity.saml, identity.websso, directory)
    identity.saml = SamlFrontEnd(identity.saml.pending, (str(directory / "idp.xml"),))
    identity.websso = WebSso(("https://dashboard.invalid/",))
    b.call("PUT", f"{fed}/identity_providers/{idp}", json={"identity_provider": {
        "enabled": True, "remote_ids": [entity]}})
    b.call("PUT", f"{fed}/identity_providers/{idp}/protocols/saml2", json={"protocol": {
        "mapping_id": mapping, "remote_id_attribute": "MELLON_IDP"}})
    world.add("identity_providers", idp)
    world.add("protocols", "saml2")


def build_limits(world: World, b: Builder, service_id: str, region_id: str, project_id: str) -> None:
    """Registered limits of the sacrificial service (one in its region) and a limit of the
    sacrificial project on the first (so that one is in use, the other free)."""
    v3 = "/identity/v3"
    registered = b.call("POST", f"{v3}/registered_limits", json={"registered_limits": [
        {"service_id": service_id, "resource_name": "fuzz-cores", "default_limit": 10, "description": "fuzz"},
        {"service_id": service_id, "region_id": region_id, "resource_name": "fuzz-ram", "default_limit": -1}]})
    limit = b.call("POST", f"{v3}/limits", json={"limits": [
        {"service_id": service_id, "project_id": project_id, "resource_name": "fuzz-cores", "resource_limit": 5}]})
    world.add("registered_limits", *(r["id"] for r in registered.json()["registered_limits"]))
    world.add("limits", limit.json()["limits"][0]["id"])


def build_mfa(b: Builder, user_id: str) -> None:
    """MFA rules and a ``totp`` credential on the target user; a password login (a 401
    with an auth receipt) and a ``totp`` login with that receipt are seeds."""
    v3 = "/identity/v3"
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    b.call("POST", f"{v3}/credentials", json={"credential": {"user_id": user_id, "type": "totp", "blob": secret}})
    b.call("PATCH", f"{v3}/users/{user_id}", json={"user": {"options": {
        "multi_factor_auth_enabled": True, "multi_factor_auth_rules": [["password", "totp"]]}}})
    partial = b.call("POST", f"{v3}/auth/tokens", expect=(401,), json={"auth": {"identity": {
        "methods": ["password"], "password": {"user": {"id": user_id, "password": PASSWORD}}}}})
    b.call("POST", f"{v3}/auth/tokens", headers={"Openstack-Auth-Receipt": partial.headers["Openstack-Auth-Receipt"]},
           json={"auth": {"identity": {"methods": ["totp"], "totp": {"user": {
               "id": user_id, "passcode": totp(decode_secret(secret), time.time())}}}}})


def build_delegation(world: World, b: Builder, trustee_id: str) -> None:
    """A trust, a credential and an EC2 credential of the fuzzer's admin, and a (badly)
    signed ec2tokens request as a seed."""
    v3 = "/identity/v3"
    me = b.call("GET", f"{v3}/auth/tokens", headers={"X-Subject-Token": b.token}).json()["token"]["user"]["id"]
    trust = b.create(f"{v3}/OS-TRUST/trusts", "trust", {
        "trustor_user_id": me, "trustee_user_id": trustee_id, "project_id": world.project, "impersonation": False,
        "roles": [{"name": "member"}]})
    credential = b.create(f"{v3}/credentials", "credential", {"user_id": me, "type": "cert", "blob": "fuzz"})
    ec2 = b.call("POST", f"{v3}/users/{me}/credentials/OS-EC2", json={"tenant_id": world.project}).json()["credential"]
    b.call("POST", f"{v3}/ec2tokens", expect=(401,), json={"credentials": {
        "access": ec2["access"], "signature": "fuzz", "host": "h", "verb": "GET", "path": "/",
        "params": {"SignatureVersion": "2", "Action": "DescribeRegions"}}})
    world.add("trusts", trust["id"])
    world.add("credentials", credential["id"])
    world.add("OS-EC2", ec2["access"])


def build_network(world: World, b: Builder) -> None:
    v2 = "/network/v2.0"
    net = b.create(f"{v2}/networks", "network", {"name": unique("fuzz-net")})
    octet = uuid.uuid4().int % 200 + 20
    subnet = b.create(f"{v2}/subnets", "subnet", {"network_id": net["id"], "ip_version": 4,
                                                  "cidr": f"10.{octet}.0.0/24"})
    pool = b.create(f"{v2}/subnetpools", "subnetpool", {"name": unique("fuzz-pool"),
                                                        "prefixes": [f"10.{octet}.128.0/17"], "default_prefixlen": 26,
                                                        "default_quota": 4096})
    port = b.create(f"{v2}/ports", "port", {"network_id": net["id"], "extra_dhcp_opts": [
        {"opt_name": "bootfile-name", "opt_value": "fuzz.0", "ip_version": 4}]})
    router = b.create(f"{v2}/routers", "router", {"name": unique("fuzz-rtr")})
    group = b.create(f"{v2}/security-groups", "security_group", {"name": unique("fuzz-sg")})
    public = b.create(f"{v2}/networks", "network", {"name": unique("fuzz-ext"), "router:external": True})
    b.create(f"{v2}/subnets", "subnet", {"network_id": public["id"], "ip_version": 4,
                                          "cidr": f"172.{octet % 16 + 16}.{octet}.0/24"})
    fip = b.create(f"{v2}/floatingips", "floatingip", {"floating_network_id": public["id"]})
    scope = b.create(f"{v2}/address-scopes", "address_scope", {"name": unique("fuzz-as"), "ip_version": 4})
    policy = b.create(f"{v2}/rbac-policies", "rbac_policy", {"object_type": "network", "object_id": net["id"],
                                                             "action": "access_as_shared",
                                                             "target_tenant": uuid.uuid4().hex})
    # A trunk on ports of its own (the world's port stays deletable), with one subport and
    # a spare port for add_subports; removing and re-adding it seeds both actions.
    parent, sub, spare = (b.create(f"{v2}/ports", "port", {"network_id": net["id"]})["id"] for _ in range(3))
    trunk = b.create(f"{v2}/trunks", "trunk", {"name": unique("fuzz-trunk"), "port_id": parent, "sub_ports": [
        {"port_id": sub, "segmentation_type": "vlan", "segmentation_id": 100}]})
    spare_vlan = {"port_id": spare, "segmentation_type": "vlan", "segmentation_id": 101}
    b.call("PUT", f"{v2}/trunks/{trunk['id']}/add_subports", json={"sub_ports": [spare_vlan]})
    b.call("PUT", f"{v2}/trunks/{trunk['id']}/remove_subports", json={"sub_ports": [{"port_id": spare}]})
    qos = b.create(f"{v2}/qos/policies", "policy", {"name": unique("fuzz-qos"), "description": "fuzz"})
    # An address group, its actions and a rule naming it (their bodies are seeds).
    address_group = b.create(f"{v2}/address-groups", "address_group", {
        "name": unique("fuzz-ag"), "description": "fuzz", "addresses": [f"10.{octet}.64.0/24"]})
    for action in ("add_addresses", "remove_addresses"):
        b.call("PUT", f"{v2}/address-groups/{address_group['id']}/{action}", json={"addresses": ["192.0.2.1/32"]})
    b.create(f"{v2}/security-group-rules", "security_group_rule", {
        "security_group_id": group["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": 22,
        "port_range_max": 22, "remote_address_group_id": address_group["id"]})
    # A metering label and rule; a service flavor with a profile bound (the bodies are seeds).
    label = b.create(f"{v2}/metering/metering-labels", "metering_label", {"name": unique("fuzz-ml"),
                                                                          "description": "fuzz"})
    metering_rule = b.create(f"{v2}/metering/metering-label-rules", "metering_label_rule", {
        "metering_label_id": label["id"], "direction": "egress", "excluded": False,
        "source_ip_prefix": f"10.{octet}.0.0/24", "destination_ip_prefix": "192.0.2.0/24"})
    world.network_flavor = b.create(f"{v2}/flavors", "flavor", {"name": unique("fuzz-fl"), "description": "fuzz",
                                                                "service_type": "L3_ROUTER_NAT", "enabled": True})["id"]
    profile = b.create(f"{v2}/service_profiles", "service_profile", {"description": "fuzz", "metainfo": "{}",
                                                                      "enabled": True})
    b.call("POST", f"{v2}/flavors/{world.network_flavor}/service_profiles",
           json={"service_profile": {"id": profile["id"]}})
    # A policy of every other RBAC object type too (their bodies are seeds).
    shares = [b.create(f"{v2}/rbac-policies", "rbac_policy", {
        "object_type": object_type, "object_id": object_id, "action": "access_as_shared",
        "target_tenant": uuid.uuid4().hex})["id"]
        for object_type, object_id in (("security_group", group["id"]), ("subnetpool", pool["id"]),
                                       ("address_scope", scope["id"]), ("qos_policy", qos["id"]),
                                       ("address_group", address_group["id"]))]
    qos_rules = {kind: b.create(f"{v2}/qos/policies/{qos['id']}/{kind}_rules", f"{kind}_rule", body)["id"]
                 for kind, body in (("bandwidth_limit", {"max_kbps": 1000, "direction": "ingress"}),
                                    ("dscp_marking", {"dscp_mark": 26}), ("minimum_bandwidth", {"min_kbps": 100}))}
    # The fuzzer's own agent (registered, never alive: nothing else is scheduled on it),
    # its L3 and DHCP rows hosting the world's router and network (the scheduler API's
    # seeds; the L3 row is the agent seed).
    from pocketstack.network import agent_records
    from pocketstack.network.drivers.base import DHCP_AGENT, L3_AGENT
    host = unique("fuzz-agent-host")
    agent_records.register(b.api.cloud.db, host, {"datapath_driver": "linux"}, serves=(DHCP_AGENT, L3_AGENT))
    rows = {a["agent_type"]: a for a in b.api.cloud.service("network").agents.list() if a["host"] == host}
    agent = rows[L3_AGENT]
    b.call("POST", f"{v2}/agents/{agent['id']}/l3-routers", json={"router_id": router["id"]})
    b.call("POST", f"{v2}/agents/{rows[DHCP_AGENT]['id']}/dhcp-networks", json={"network_id": net["id"]})
    for key, value in (("networks", net["id"]), ("subnets", subnet["id"]), ("subnetpools", pool["id"]),
                       ("ports", port["id"]), ("routers", router["id"]), ("security-groups", group["id"]),
                       ("os-security-groups", group["id"]), ("floatingips", fip["id"]),
                       ("network-ip-availabilities", net["id"]),
                       ("quotas", world.project), ("agents", agent["id"]), ("l3-routers", router["id"]),
                       ("dhcp-networks", net["id"]), ("address-scopes", scope["id"]),
                       ("rbac-policies", policy["id"]), ("trunks", trunk["id"]), ("policies", qos["id"]),
                       ("rule-types", "bandwidth_limit"), ("address-groups", address_group["id"]),
                       ("metering-labels", label["id"]), ("metering-label-rules", metering_rule["id"]),
                       ("service_profiles", profile["id"])):
        world.add(key, value)
    world.add("rbac-policies", *shares)
    for kind, rule_id in qos_rules.items():
        world.add(f"{kind}_rules", rule_id)
        world.add(f"alias_{kind}_rules", rule_id)
    world.add("collection", "networks", "subnets", "subnetpools", "ports", "routers", "security-groups",
              "floatingips", "trunks")


def build_placement(world: World, b: Builder) -> None:
    p = "/placement"
    rp = b.create(f"{p}/resource_providers", None, {"name": unique("fuzz-rp")}, PLACEMENT)["uuid"]
    rc = "CUSTOM_FUZZ_" + uuid.uuid4().hex[:8].upper()
    trait = "CUSTOM_FUZZ_" + uuid.uuid4().hex[:8].upper()
    b.call("PUT", f"{p}/resource_classes/{rc}", headers=PLACEMENT)
    b.call("PUT", f"{p}/traits/{trait}", headers=PLACEMENT)
    b.call("PUT", f"{p}/resource_providers/{rp}/inventories", headers=PLACEMENT, json={
        "resource_provider_generation": 0, "inventories": {"VCPU": {"total": 8}, rc: {"total": 100}}})
    consumer = str(uuid.uuid4())
    b.call("PUT", f"{p}/allocations/{consumer}", headers=PLACEMENT, json={
        "allocations": {rp: {"resources": {"VCPU": 1}}}, "project_id": world.project,
        "user_id": uuid.uuid4().hex, "consumer_generation": None, "consumer_type": "INSTANCE"})
    world.add("resource_providers", rp)
    world.add("inventories", "VCPU", rc)
    world.add("resource_classes", rc)
    world.add("traits", trait)
    world.add("allocations", consumer)


def build_image(world: World, b: Builder) -> None:
    image = b.create("/image/v2/images", None, {"name": unique("fuzz-img"), "disk_format": "qcow2",
                                                "container_format": "bare"})
    b.call("PUT", f"/image/v2/images/{image['id']}/file", content=b"fuzz image bytes",
           headers={"Content-Type": "application/octet-stream"})
    ns = unique("fuzz-ns")
    b.create("/image/v2/metadefs/namespaces", None, {
        "namespace": ns, "objects": [{"name": "fuzz-obj", "properties": {}}],
        "properties": {"fuzz-prop": {"title": "P", "type": "string"}}, "tags": [{"name": "fuzz-tag"}]})
    for name in ("staged", "queued"):  # for the import seeds
        other = b.create("/image/v2/images", None, {"name": unique("fuzz-img"), "disk_format": "raw",
                                                    "container_format": "bare"})
        world.add(f"{name}_images", other["id"])
    b.call("PUT", f"/image/v2/images/{world.known['staged_images'][0]}/stage", content=b"fuzz staged bytes",
           headers={"Content-Type": "application/octet-stream"})
    world.add("images", image["id"])
    world.add("namespaces", ns)
    world.add("objects", "fuzz-obj")
    world.add("properties", "fuzz-prop")
    world.add("tags", "fuzz-tag")


def aggregate_ids(b: Builder) -> set[int]:
    return {a["id"] for a in b.call("GET", "/compute/v2.1/os-aggregates").json()["aggregates"]}


def build_compute(world: World, b: Builder, api) -> None:
    v2 = "/compute/v2.1"
    world.aggregates_before = aggregate_ids(b)
    flavor = b.create(f"{v2}/flavors", "flavor", {"name": unique("fuzz-flv"), "ram": 64, "vcpus": 1, "disk": 0},
                      COMPUTE)
    b.call("POST", f"{v2}/flavors/{flavor['id']}/os-extra_specs", headers=COMPUTE,
           json={"extra_specs": {"fuzz:key": "v"}})
    aggregate = b.create(f"{v2}/os-aggregates", "aggregate", {"name": unique("fuzz-agg")}, COMPUTE)
    server = b.create(f"{v2}/servers", "server", {"name": unique("fuzz-vm"), "imageRef": world.known["images"][0],
                                                  "flavorRef": flavor["id"], "networks": "none"}, COMPUTE)
    b.wait(f"{v2}/servers/{server['id']}", "server", ("ACTIVE", "ERROR"), COMPUTE)
    hosts = api.cloud.service("compute").compute.hosts
    node = hosts.add_fake_host(unique("fuzz-host"), 4, 4096, 100, availability_zone=unique("fuzz-az"))
    hosts.update_service(node.service_id, disabled=True, disabled_reason="fuzz target")
    world.fake_host = node
    for key, value in (("flavors", flavor["id"]), ("os-extra_specs", "fuzz:key"),
                       ("os-aggregates", str(aggregate["id"])),
                       ("servers", server["id"]), ("metadata", "fuzz-key"), ("os-quota-sets", world.project),
                       ("os-quota-class-sets", unique("fuzz-class")), ("os-services", node.service_id),
                       ("os-hosts", node.host), ("os-hypervisors", node.host)):
        world.add(key, value)


def build_ha(world: World, b: Builder) -> None:
    """A failover segment holding the private fake host (disabled already: whatever the
    fuzzer makes of ``reserved`` leaves it so); deleted again by :func:`retire`."""
    ha, micro = "/instance-ha/v1", {"OpenStack-API-Version": "instance-ha 1.3"}
    segment = b.create(f"{ha}/segments", "segment", {"name": unique("fuzz-seg"), "recovery_method": "auto",
                                                     "service_type": "COMPUTE"}, micro)
    host = b.create(f"{ha}/segments/{segment['uuid']}/hosts", "host", {
        "name": world.fake_host.host, "type": "COMPUTE", "control_attributes": "SSH"}, micro)
    world.add("segments", segment["uuid"])
    world.add("hosts", host["uuid"])


def build_volume(world: World, b: Builder) -> None:
    """Unlimited volume quotas first: sizes that no quota stops reach the database."""
    v3 = f"/volume/v3/{world.project}"
    b.call("PUT", f"{v3}/os-quota-sets/{world.project}", headers=VOLUME, json={"quota_set": {
        "volumes": -1, "gigabytes": -1, "snapshots": -1, "backups": -1, "backup_gigabytes": -1}})
    vtype = b.create(f"{v3}/types", "volume_type", {"name": unique("fuzz-type")}, VOLUME)
    volumes = [b.create(f"{v3}/volumes", "volume", {"size": 1, "name": unique("fuzz-vol")}, VOLUME)["id"]
               for _ in range(4)]
    for vid in volumes:
        b.wait(f"{v3}/volumes/{vid}", "volume", ("available", "error"), VOLUME)
    snapshot = b.create(f"{v3}/snapshots", "snapshot", {"volume_id": volumes[0]}, VOLUME)["id"]
    b.wait(f"{v3}/snapshots/{snapshot}", "snapshot", ("available", "error"), VOLUME)
    backup = b.create(f"{v3}/backups", "backup", {"volume_id": volumes[0]}, VOLUME)["id"]
    b.wait(f"{v3}/backups/{backup}", "backup", ("available", "error"), VOLUME)
    qos = b.create(f"{v3}/qos-specs", "qos_specs", {"name": unique("fuzz-qos")}, VOLUME)["id"]
    attachment = b.create(f"{v3}/attachments", "attachment", {
        "volume_uuid": volumes[1], "instance_uuid": world.known["servers"][0]}, VOLUME)["id"]
    transfer = b.create(f"{v3}/os-volume-transfer", "transfer", {"volume_id": volumes[2]}, VOLUME)["id"]
    v3_transfer = b.create(f"{v3}/volume-transfers", "transfer", {
        "volume_id": volumes[3], "name": unique("fuzz-transfer"), "no_snapshots": True}, VOLUME)["id"]
    # A volume of a type no backend serves: its create fails with a user message.
    nobody = b.create(f"{v3}/types", "volume_type", {"name": unique("fuzz-nobody"),
                                                     "extra_specs": {"vendor_name": "nobody"}}, VOLUME)
    failed = b.create(f"{v3}/volumes", "volume", {"size": 1, "volume_type": nobody["id"]}, VOLUME)["id"]
    b.wait(f"{v3}/volumes/{failed}", "volume", ("error",), VOLUME)
    message = next(m["id"] for m in b.call("GET", f"{v3}/messages", headers=VOLUME).json()["messages"]
                   if m.get("resource_uuid") == failed)
    gtype = b.create(f"{v3}/group_types", "group_type", {"name": unique("fuzz-gtype"),
                                                         "group_specs": {"fuzz-spec": "v"}}, VOLUME)["id"]
    group = b.create(f"{v3}/groups", "group", {"name": unique("fuzz-group"), "group_type": gtype,
                                               "volume_types": [vtype["id"]]}, VOLUME)["id"]
    b.wait(f"{v3}/groups/{group}", "group", ("available", "error"), VOLUME)
    group_snapshot = b.create(f"{v3}/group_snapshots", "group_snapshot", {"group_id": group}, VOLUME)["id"]
    b.wait(f"{v3}/group_snapshots/{group_snapshot}", "group_snapshot", ("available", "error"), VOLUME)
    encryption = b.create(f"{v3}/types/{vtype['id']}/encryption", "encryption", {
        "provider": "luks", "control_location": "front-end", "cipher": "aes-xts-plain64", "key_size": 256},
        VOLUME)["encryption_id"]
    for key, value in (("group_types", gtype), ("group_specs", "fuzz-spec"), ("groups", group),
                       ("group_snapshots", group_snapshot), ("encryption", encryption)):
        world.add(key, value)
    for key, value in (("v3", world.project), ("types", vtype["id"]), ("extra_specs", "fuzz-spec"),
                       ("volumes", volumes[0]), ("snapshots", snapshot), ("backups", backup), ("qos-specs", qos),
                       ("attachments", attachment), ("os-volume-transfer", transfer),
                       ("volume-transfers", v3_transfer), ("target", world.project), ("messages", message),
                       ("os-volumes", volumes[0]), ("os-snapshots", snapshot)):
        world.add(key, value)


def build_object(world: World, b: Builder) -> None:
    account = f"AUTH_{world.project}"
    container = unique("fuzz-ct")
    b.call("PUT", f"/object-store/v1/{account}/{container}")
    b.call("PUT", f"/object-store/v1/{account}/{container}/fuzz-obj", content=b"fuzz")
    world.add("v1", account)
    world.add(account, container)
    world.add("container", container)
    world.add(container, "fuzz-obj")


def action_seeds(world: World) -> list[tuple[str, str, object]]:
    """Valid bodies of action routes (building the world performs no action), on the
    world's resources.  Nothing here deletes what the fuzzer needs, nor copies a whole
    volume (an image upload would, once per replayed seed)."""
    first = {key: values[0] for key, values in world.known.items()}
    server = f"/compute/v2.1/servers/{first['servers']}/action"
    volume = f"/volume/v3/{world.project}/volumes/{first['volumes']}/action"
    v3 = f"/volume/v3/{world.project}"
    stack = f"/orchestration/v1/{world.project}/stacks/{first['stacks']}/{world.known[first['stacks']][0]}"
    return [
        ("POST", server, {"os-stop": None}), ("POST", server, {"os-start": None}),
        ("POST", server, {"reboot": {"type": "SOFT"}}), ("POST", server, {"lock": {"locked_reason": "fuzz"}}),
        ("POST", server, {"unlock": None}), ("POST", server, {"os-resetState": {"state": "active"}}),
        ("POST", server, {"createImage": {"name": "fuzz-snap", "metadata": {"k": "v"}}}),
        ("POST", server, {"resize": {"flavorRef": first["flavors"]}}), ("POST", server, {"confirmResize": None}),
        ("POST", server, {"rebuild": {"imageRef": first["images"], "name": "fuzz"}}),
        ("POST", server, {"changePassword": {"adminPass": "fuzz-pass"}}),
        ("POST", server, {"addSecurityGroup": {"name": "default"}}),
        ("POST", server, {"os-getConsoleOutput": {"length": 10}}),
        ("POST", server, {"os-getVNCConsole": {"type": "novnc"}}),
        ("POST", f"/compute/v2.1/servers/{first['servers']}/remote-consoles",
         {"remote_console": {"protocol": "vnc", "type": "novnc"}}),
        ("POST", f"/compute/v2.1/os-aggregates/{first['os-aggregates']}/action",
         {"set_metadata": {"metadata": {"fuzz": "v"}}}),
        ("POST", f"/compute/v2.1/flavors/{first['flavors']}/action", {"addTenantAccess": {"tenant": world.project}}),
        ("POST", volume, {"os-extend": {"new_size": 2}}), ("POST", volume, {"os-set_bootable": {"bootable": True}}),
        ("POST", volume, {"os-reset_status": {"status": "available", "attach_status": "detached"}}),
        ("POST", volume, {"os-update_readonly_flag": {"readonly": False}}),
        ("POST", f"/volume/v3/{world.project}/snapshots/{first['snapshots']}/action",
         {"os-reset_status": {"status": "available"}}),
        ("POST", f"/volume/v3/{world.project}/types/{first['types']}/action",
         {"addProjectAccess": {"project": world.project}}),
        ("POST", f"/volume/v3/{world.project}/backups/{first['backups']}/restore", {"restore": {"name": "fuzz"}}),
        ("POST", f"{v3}/groups/{first['groups']}/action", {"reset_status": {"status": "available"}}),
        ("PUT", f"{v3}/groups/{first['groups']}", {"group": {"name": "fuzz", "description": "d"}}),
        ("POST", f"{v3}/groups/action", {"create-from-src": {"source_group_id": first["groups"]}}),
        ("POST", f"/volume/v3/{world.project}/group_snapshots/{first['group_snapshots']}/action",
         {"reset_status": {"status": "available"}}),
        ("PUT", f"/volume/v3/{world.project}/group_types/{first['group_types']}/group_specs/fuzz-spec",
         {"fuzz-spec": "w"}),
        ("PUT", f"/network/v2.0/routers/{first['routers']}/add_router_interface", {"subnet_id": first["subnets"]}),
        ("PUT", f"/network/v2.0/routers/{first['routers']}/add_extraroutes", {"router": {"routes": []}}),
        ("PATCH", f"/image/v2/images/{first['images']}", [{"op": "replace", "path": "/name", "value": "fuzz"}]),
        ("POST", f"/image/v2/images/{first['staged_images']}/import", {"method": {"name": "glance-direct"}}),
        ("POST", f"/image/v2/images/{first['queued_images']}/import",
         {"method": {"name": "web-download", "uri": FUZZ_IMPORT_URI}, "stores": ["fuzz"], "all_stores": False}),
        ("PUT", f"/volume/v3/{world.project}/os-quota-sets/{world.project}", {"quota_set": {"volumes": 20}}),
        ("PUT", f"{v3}/os-quota-class-sets/{first['os-quota-class-sets']}", {"quota_class_set": {"volumes": 20}}),
        ("PUT", f"{v3}/types/{first['types']}/encryption/{first['encryption']}", {"encryption": {"key_size": 512}}),
        ("POST", f"{v3}/backups/import_record", {"backup-record": {
            "backup_service": "cinder.backup.drivers.swift.SwiftBackupDriver", "backup_url": "e30="}}),
        ("PUT", f"/compute/v2.1/os-quota-sets/{world.project}", {"quota_set": {"instances": 20}}),
        ("PUT", f"/network/v2.0/quotas/{world.project}", {"quota": {"network": 20}}),
        *[("POST", f"{stack}/actions", {action: None}) for action in ("check", "suspend", "resume")],
        ("POST", f"{stack}/resources/h/signal", {"status": "SUCCESS", "reason": "fuzz", "data": {"k": 1}, "id": "f"}),
    ]


# While fuzzing, an image holds at most this much: a volume the fuzzer manages to upload
# to an image (os-volume_upload_image on a 1 GiB volume) stops there instead of writing
# gigabytes of zeros to the image store.
FUZZ_IMAGE_SIZE_CAP = 64 << 20
# While fuzzing, a web-download import may fetch from loopback's discard port only
# (refused at once): a mutated URI never leaves the machine.
FUZZ_IMPORT_URI = "http://127.0.0.1:9/fuzz.qcow2"
FUZZ_IMPORT_FILTER = ImportFilter(allowed_hosts=frozenset({"127.0.0.1"}), allowed_ports=frozenset({9}))


def build_orchestration(world: World, b: Builder) -> None:
    """A stack of Heat's own resources (nothing slow), its name and id, its resources."""
    base = f"/orchestration/v1/{world.project}"
    template = {"heat_template_version": "2018-08-31", "parameters": {"n": {"type": "number", "default": 4}},
                "resources": {"r": {"type": "OS::Heat::RandomString", "properties": {"length": {"get_param": "n"}}},
                              "t": {"type": "OS::Heat::TestResource", "properties": {
                                  "value": {"get_attr": ["r", "value"]}}},
                              "h": {"type": "OS::Heat::WaitConditionHandle"},
                              "n": {"type": "inner.yaml"}},  # a nested stack (nested_depth, show_nested)
                "outputs": {"o": {"value": {"get_attr": ["t", "output"]}}}}
    inner = {"heat_template_version": "2018-08-31", "resources": {"i": {"type": "OS::Heat::None"}}}
    name = unique("fuzz-stack")
    stack = b.create(f"{base}/stacks", None, {"stack_name": name, "template": template,
                                              "files": {"inner.yaml": json.dumps(inner)}})["stack"]
    url = f"{base}/stacks/{name}/{stack['id']}"
    deadline = time.monotonic() + 30
    while b.call("GET", url).json()["stack"]["stack_status"].endswith("IN_PROGRESS"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    world.add("v1", world.project)
    world.add("stacks", name)
    world.add(name, stack["id"])
    world.add("resources", "r", "t", "h", "n")
    world.add("outputs", "o")
    world.add("resource_types", "OS::Heat::TestResource")
    world.add("template_versions", "heat_template_version.2018-08-31")
    config = b.create(f"{base}/software_configs", None, {"name": "fuzz", "group": "script", "config": "true",
                                                        "inputs": [{"name": "x"}]})["software_config"]
    deployment = b.create(f"{base}/software_deployments", None, {
        "config_id": config["id"], "server_id": "fuzz-server", "input_values": {"x": 1}})["software_deployment"]
    world.add("software_configs", config["id"])
    world.add("software_deployments", deployment["id"])
    world.add("metadata", "fuzz-server")


def build_world(api, admin_token: str) -> World:
    """A home project with the fuzzer's two users and one of everything in it."""
    world = World()
    shared_admin = Builder(api, admin_token, world)
    project = shared_admin.create("/identity/v3/projects", "project", {"name": unique("fuzz-home")})
    world.admin = identity_user(shared_admin, project, "admin")
    world.member = identity_user(shared_admin, project, "member")
    world.project = project["id"]
    b = Builder(api, world.admin, world)
    build_identity(world, b)
    build_network(world, b)
    build_placement(world, b)
    build_image(world, b)
    build_compute(world, b, api)
    world.add("flavors", world.network_flavor)  # after compute's: the first is the resize seeds' flavor
    build_ha(world, b)
    build_volume(world, b)
    build_object(world, b)
    build_orchestration(world, b)
    world.seeds.extend(action_seeds(world))
    images = api.cloud.service("image").manager  # last: retire() restores them
    world.image_size_cap, images.data.size_cap = images.data.size_cap, FUZZ_IMAGE_SIZE_CAP
    world.import_filter, images.importer.allowed = images.importer.allowed, FUZZ_IMPORT_FILTER
    return world


def retire(api, world: World) -> None:
    """Leave the shared cloud as other tests expect it: the private host disabled (the
    fuzzer may have enabled it) and out of its failover segment, the home project's
    servers gone, no aggregate (aggregates are global: a test may expect none) left
    behind, the image size cap and import filter back."""
    images = api.cloud.service("image").manager
    images.data.size_cap = world.image_size_cap
    images.importer.allowed = world.import_filter
    if world.saml:
        api.cloud.identity.saml, api.cloud.identity.websso, directory = world.saml
        shutil.rmtree(directory, ignore_errors=True)
    for sp in world.known.get("service_providers", []):  # no other test's token lists it
        api.request("DELETE", f"/identity/v3/OS-FEDERATION/service_providers/{sp}", api.cloud.identity.issue_token(
            "admin", "admin"))
    hosts = api.cloud.service("compute").compute.hosts
    for segment in world.known.get("segments", []):
        api.request("DELETE", f"/instance-ha/v1/segments/{segment}", world.admin)
    hosts.update_service(world.fake_host.service_id, disabled=True, disabled_reason="fuzz finished")
    servers = api.request("GET", "/compute/v2.1/servers", world.admin, headers=COMPUTE).json().get("servers", [])
    for server in servers:
        api.request("DELETE", f"/compute/v2.1/servers/{server['id']}", world.admin, headers=COMPUTE)
    b = Builder(api, world.admin, world)
    for aggregate_id in aggregate_ids(b) - world.aggregates_before:
        path = f"/compute/v2.1/os-aggregates/{aggregate_id}"
        for host in b.call("GET", path).json()["aggregate"]["hosts"]:
            b.call("POST", f"{path}/action", json={"remove_host": {"host": host}})
        b.call("DELETE", path)
