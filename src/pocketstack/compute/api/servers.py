"""``/servers``: create, list (with Nova's filters, sorting and paging), show, update,
delete.

Building a boot request and reading a listing's query are plain functions (unit-tested
in tests/unit/test_compute_handlers.py); :class:`ServersApi` strings them together with
the lookups that need the cloud (flavors, images, key pairs, networks).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

from pocketstack.common.api.microversions import Version
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.common.errors import ApiError, NotFound
from pocketstack.common.pagination import DEFAULT_MAX_LIMIT, next_link
from pocketstack.common.validation import parse_bool
from pocketstack.compute import block_devices, disk_config, errors, legacy_bdm, volume_backed
from pocketstack.compute import states as st
from pocketstack.compute.api import render, security_groups, spec_views
from pocketstack.compute.api.common import (
    access_ip,
    caller_id,
    caller_project,
    changes_window,
    get_instance,
    int_query,
    is_admin,
    links,
    query_bool,
    start_delete,
    url,
    versioned_body,
    with_server_groups,
)
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.api.schemas import servers as schemas
from pocketstack.compute.instances import (
    SORT_KEYS,
    BootRequest,
    ServerFilters,
    check_personality,
    check_user_data,
    embed_flavor,
)
from pocketstack.compute.topology import TopologyError, choose_topology

if TYPE_CHECKING:
    from pocketstack.common.context import RequestContext
    from pocketstack.compute.manager import Compute
    from pocketstack.network.contract import NetworkContract


# -- building a boot request: the parts that need no lookups ---------------------------------
def parse_count(value: Any, name: str) -> int:
    """``min_count``/``max_count`` as a positive integer (Nova accepts digit strings too)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise errors.InvalidCount(name=name, value=value) from None
    if number < 1:
        raise errors.InvalidCount(name=name, value=value)
    return number


def requested_max(server: Mapping[str, Any]) -> int:
    """The most instances the request may create (what block device checks size for)."""
    return parse_count(server.get("max_count", server.get("min_count", 1)), "max_count")


def instance_counts(server: Mapping[str, Any]) -> tuple[int, int]:
    """``(min_count, max_count)``; ``max_count`` defaults to ``min_count``."""
    min_count = parse_count(server.get("min_count", 1), "min_count")
    max_count = parse_count(server.get("max_count", min_count), "max_count")
    if max_count < min_count:
        raise errors.CountRange()
    return min_count, max_count


def reference_id(ref: Any) -> str:
    """An id from an id or a link (``flavorRef``/``imageRef`` may be either)."""
    return str(ref or "").rsplit("/", 1)[-1]


def boot_image_id(server: Mapping[str, Any]) -> str:
    """The image a server boots from when no volume is its root: ``imageRef``, or the
    image of a ``boot_index`` 0 image mapping; 400 when there is none."""
    image_id = reference_id(server.get("imageRef"))
    for bdm in server.get("block_device_mapping_v2") or []:
        if str(bdm.get("boot_index")) == "0" and bdm.get("source_type") == "image":
            image_id = bdm.get("uuid", "")
    if not image_id:
        raise errors.ImageRefMissing()
    return image_id


def check_image_fits(flavor: Mapping[str, Any], min_ram: int, min_disk: int) -> None:
    """The flavor must give the image at least the memory and disk it asks for (a disk of
    0 grows to the image, as Nova's flavors with ``disk=0``)."""
    if min_ram and flavor["ram"] < min_ram:
        raise errors.FlavorMemoryTooSmall()
    if min_disk and flavor["disk"] and flavor["disk"] < min_disk:
        raise errors.FlavorDiskTooSmall()


def security_group_names(server: Mapping[str, Any]) -> list[str]:
    """The named security groups, ``default`` when none is named."""
    return [g.get("name", "default") for g in server.get("security_groups") or []] or ["default"]


def config_drive(server: Mapping[str, Any]) -> str:
    """Nova stores ``config_drive`` as ``"True"`` or ``""``."""
    return "True" if str(server.get("config_drive", "")).lower() == "true" else ""


def wants_reservation_id(server: Mapping[str, Any]) -> bool:
    return str(server.get("return_reservation_id", "")).lower() == "true"


def scheduler_hints(data: Mapping[str, Any]) -> dict[str, Any]:
    return dict(data.get("os:scheduler_hints") or data.get("OS-SCH-HNT:scheduler_hints") or {})


@dataclass(frozen=True)
class NetworkRequest:
    """One entry of ``networks``: a port, or a network with an optional fixed IP; either
    with an optional device tag."""

    port_id: str | None = None
    network_id: str | None = None
    fixed_ip: str | None = None
    tag: str | None = None


def parse_networks(networks: Any, max_count: int) -> list[NetworkRequest]:
    """The entries of a ``networks`` list, checked as Nova checks them before any lookup."""
    parsed = []
    for item in networks:
        port_id, net_id, fixed_ip, tag = item.get("port"), item.get("uuid"), item.get("fixed_ip"), item.get("tag")
        if port_id:
            if max_count > 1:
                raise errors.MultiplePortsNotApplicable()
            parsed.append(NetworkRequest(port_id=str(port_id), tag=tag))
            continue
        if not net_id:
            raise errors.BadNetworksFormat()
        if fixed_ip:
            try:
                ipaddress.ip_address(fixed_ip)
            except ValueError:
                raise errors.InvalidFixedIpAddress(address=fixed_ip) from None
            if max_count > 1:
                raise errors.FixedIpWithMultipleInstances()
        parsed.append(NetworkRequest(network_id=str(net_id), fixed_ip=fixed_ip or None, tag=tag))
    return parsed


def _tagged(request: NetworkRequest) -> dict[str, str]:
    """The device tag of a requested network, kept with it for the build (2.70 shows it)."""
    return {"tag": request.tag} if request.tag else {}


def resolve_networks(network: NetworkContract, context: RequestContext, requests: list[NetworkRequest]) -> list[dict]:
    """Nova's ``networks`` as the network service's ``requested_networks``: networks and
    ports are looked up now so that a wrong id is a 400 (a port in use a 409), not a
    failed build."""
    resolved = []
    for request in requests:
        if request.port_id is not None:
            try:
                port = network.get(context, "ports", request.port_id)
            except NotFound:
                raise errors.PortNotFoundForBoot(port_id=request.port_id) from None
            if port["device_id"]:
                raise errors.PortInUse(port_id=request.port_id)
            resolved.append({"port_id": port["id"], **_tagged(request)})
            continue
        if request.network_id is None:  # parse_networks makes every entry a port or a network
            raise errors.BadNetworksFormat()
        try:
            network.get(context, "networks", request.network_id)
        except NotFound:
            raise errors.NetworkNotFoundForBoot(network_id=request.network_id) from None
        entry = {"network_id": request.network_id, **_tagged(request)}
        if request.fixed_ip:
            entry["fixed_ip"] = request.fixed_ip
        resolved.append(entry)
    return resolved


def only_network(network: NetworkContract, context: RequestContext) -> list[dict] | None:
    """No ``networks`` before 2.37: the one network the project may use (its own unshared
    ones and every shared one, as Nova's ``_get_available_networks``), none without any,
    409 with several (Nova's ``NetworkAmbiguous``)."""
    own, _ = network.list(context, "networks", QueryParams([("project_id", context.project_id or ""),
                                                            ("shared", "false")]))
    shared, _ = network.list(context, "networks", QueryParams([("shared", "true")]))
    ids = list(dict.fromkeys(n["id"] for n in [*own, *shared]))
    if len(ids) > 1:
        raise errors.NetworkAmbiguous()
    return [{"network_id": ids[0]}] if ids else None


# -- reading a listing's query -------------------------------------------------------------


def wants_all_tenants(query: QueryParams) -> bool:
    """``all_tenants`` present and (empty or) true."""
    return "all_tenants" in query and (query.get("all_tenants") == "" or parse_bool(query["all_tenants"],
                                                                                     "all_tenants"))


_TRUE_WORDS = ("1", "t", "true", "on", "y", "yes")
# Nova's regular-expression filters among those 2.83 allows everyone (the exact ones,
# user_id, vm_state and task_state, are read beside them).
PATTERN_FILTERS = ("availability_zone", "config_drive", "key_name", "created_at", "launched_at", "terminated_at",
                   "power_state", "progress")


def parse_filters(query: QueryParams, project_id: str | None, admin: bool,
                  version: Version) -> tuple[ServerFilters, dict[int, re.Pattern[str]]]:
    """The listing's filters, and the ``ip``/``ip6`` patterns (by IP version) still to
    resolve to server ids through the network service.  ``project_id`` is the project
    listed (None: all of them)."""
    q = query
    f = ServerFilters(project_id=project_id, name=q.get("name") or None,
                      flavor_id=q.get("flavor"), image_ref=q.get("image"),
                      reservation_id=q.get("reservation_id"))
    if admin or version >= (2, 83):  # 2.83 opens these to everyone (Nova strips them before)
        f.patterns = {key: q[key] for key in PATTERN_FILTERS if key in q}
        f.user_id = q.get("user_id")
        f.task_state = q.get("task_state")
        if "vm_state" in q:
            f.vm_states = [q["vm_state"]]  # ``status`` (below) wins, as in Nova
    if "status" in q:
        wanted = []
        for status in q.getlist("status"):
            if status.upper() not in st.STATUS_FILTER:
                if version >= (2, 38):
                    raise errors.InvalidStatusFilter(value=status)
                return ServerFilters(project_id=project_id, vm_states=[]), {}  # Nova: nothing matches
            wanted += st.STATUS_FILTER[status.upper()]
        f.vm_states = wanted
    if "locked" in q and (version >= (2, 73) or admin):  # Nova lets admins use any filter
        f.locked = query_bool(q["locked"], "locked")
    if admin:
        f.host = q.get("host")
        # oslo's bool_from_string(default=False): anything but a true word lists live servers.
        f.deleted = q.get("deleted", "").strip().lower() in _TRUE_WORDS
    if f.vm_states == [st.DELETED]:  # status=deleted: the deleted servers, for admins only
        if not admin:
            raise errors.DeletedListForbidden()
        f.deleted = True
    f.changes_since, f.changes_before = changes_window(q, version)
    patterns = {4: q.get("ip") or None, 6: q.get("ip6") or None}
    if not (admin or version >= (2, 5)):
        patterns[6] = None  # before 2.5 only admins may filter by ip6 (Nova ignores it)
    compiled = {}
    for ip_version, pattern in patterns.items():
        if pattern:
            try:
                compiled[ip_version] = re.compile(pattern)
            except re.error:
                raise errors.InvalidIpFilter(suffix="6" if ip_version == 6 else "", pattern=pattern) from None
    if version >= (2, 26):
        for key, attr in (("tags", "tags"), ("tags-any", "tags_any"), ("not-tags", "not_tags"),
                          ("not-tags-any", "not_tags_any")):
            if q.get(key):
                setattr(f, attr, [t for t in q[key].split(",") if t])
    return f, compiled


def ip_substring(compiled: Mapping[int, re.Pattern[str]]) -> str | None:
    """With one ``ip``/``ip6`` pattern that is a plain address fragment (``^``, ``$`` and
    ``\\.`` aside), the fragment: the port listing is narrowed by it in SQL, as Nova asks
    Neutron for ``ip_address_substr`` (its dots are then literal dots, as for Nova)."""
    if len(compiled) != 1:
        return None
    literal = next(iter(compiled.values())).pattern.lstrip("^").rstrip("$").replace("\\.", ".")
    return literal if re.fullmatch(r"[0-9a-fA-F.:]+", literal) else None


def matching_servers(ports: list[dict], compiled: Mapping[int, re.Pattern[str]]) -> list[str]:
    """The servers with a fixed IP of a version a pattern matches (from its start, as
    Nova's ``re.match``), among these ports."""
    return sorted({port["device_id"] for port in ports if port["device_owner"].startswith("compute:")
                   for ip in port["fixed_ips"]
                   if (p := compiled.get(ipaddress.ip_address(ip["ip_address"]).version))
                   and p.match(ip["ip_address"])})


def parse_sort(query: QueryParams, admin: bool, version: Version) -> list[tuple[str, str]]:
    """``sort_key``/``sort_dir`` pairs (``desc`` by default), ending with ``created_at``
    and ``uuid`` for a stable order; ``locked`` is a key from 2.73."""
    keys, dirs = query.getlist("sort_key"), query.getlist("sort_dir")
    for key in keys:
        if key not in SORT_KEYS or (key == "locked" and version < (2, 73)):
            raise errors.InvalidServerSortKey(key=key)
        if key in ("host", "node") and not admin:
            raise errors.SortKeyForbidden(key=key)
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise errors.InvalidSortDirection(direction=direction)
    sort = [(k, dirs[i] if i < len(dirs) else "desc") for i, k in enumerate(keys)]
    for key in ("created_at", "uuid"):
        if key not in keys:
            sort.append((key, "desc"))
    return sort


def full_views(compute: Compute, req: ApiRequest, rows) -> list[dict]:
    """Servers as ``GET /servers/{id}`` and ``/servers/detail`` show them (and, from 2.75,
    the update and rebuild responses)."""
    metadata, tags = compute.instances.details([r.id for r in rows])
    addresses = compute.addresses([r.id for r in rows])
    volumes = compute.block_devices.volumes_attached([r.id for r in rows])
    statuses = compute.hosts.statuses() if req.at_least(2, 16) else {}
    return spec_views.add(compute, req, [
        render.server(req, r, metadata[r.id], tags[r.id], addresses[r.id], volumes[r.id], statuses) for r in rows])


def changed_view(compute: Compute, req: ApiRequest, inst) -> dict:
    """The update and rebuild responses' server: before 2.75 without the extensions Nova's
    view builder leaves out there, from 2.75 everything ``GET`` shows (2.75's cleanup)."""
    out = full_views(compute, req, [inst])[0]
    return out if req.at_least(2, 75) else render.changed(out)


class ServersApi:
    def __init__(self, compute: Compute):
        self.compute = compute
        self.instances = compute.instances

    def render_many(self, req: ApiRequest, rows) -> list[dict]:
        return full_views(self.compute, req, rows)

    def show_one(self, req: ApiRequest, inst) -> dict:
        return self.render_many(req, [inst])[0]

    # -- create ----------------------------------------------------------------------
    def image_mappings(self, ctx, image_ref: str) -> list[dict]:
        """The block device mappings ``image_ref`` defines (none when it cannot be read: the
        checks below then refuse the image as they would anyway)."""
        try:
            image = self.compute.images.bootable(ctx, image_ref)
        except ApiError:
            return []
        return volume_backed.image_mappings(dict(image.properties))

    def boot_request(self, req: ApiRequest, server: dict, hints: dict) -> BootRequest:
        """Validate everything about the request before anything is counted or stored."""
        compute, ctx = self.compute, req.caller
        try:
            flavor = compute.flavors.get_visible(reference_id(server["flavorRef"]), ctx.project_id, is_admin(req))
        except NotFound:
            raise errors.FlavorNotFoundForBoot(flavor_ref=server["flavorRef"]) from None
        if flavor.disabled:
            raise errors.FlavorDisabled(flavor_id=flavor.id)
        embedded = embed_flavor(flavor, compute.flavors.extra_specs(flavor.id))
        mappings = legacy_bdm.to_v2(server)  # block_device_mapping (v1) or block_device_mapping_v2
        image_ref = reference_id(server.get("imageRef"))
        if image_ref:  # a volume-backed server's snapshot maps the disks to make from its snapshots
            mappings = volume_backed.merge(self.image_mappings(ctx, image_ref), mappings)
        disks = block_devices.parse(compute.volumes(), ctx, mappings, image_ref, requested_max(server),
                                    lambda i: compute.images.bootable(ctx, i), volume_types=req.at_least(2, 67),
                                    multiattach=req.at_least(2, 60))
        if disks is not None and disks.boot_from_volume:
            image_ref, image_properties = disks.image_id, disks.image_properties
        else:
            image = compute.images.bootable(ctx, boot_image_id(server))
            check_image_fits(embedded, image.min_ram, image.min_disk)
            image_ref, image_properties = image.id, dict(image.properties)
        try:
            choose_topology(embedded["vcpus"], embedded["extra_specs"], image_properties)
        except TopologyError as error:
            raise errors.InvalidTopology(reason=str(error)) from None
        networks = server.get("networks")
        if isinstance(networks, list) and networks and not compute.network_available():
            raise errors.NetworkServiceMissing()
        injected = check_personality(server.get("personality") or [], compute.quotas.limits(caller_project(req)))
        for tag in server.get("tags") or []:
            self.instances.check_tag(tag)
        check_user_data(server.get("user_data"))
        metadata = server.get("metadata") or {}
        compute.quotas.check_limit(caller_project(req), "metadata_items", len(metadata))
        key_name = server.get("key_name")
        key_data = None
        if key_name is not None:
            try:
                key_data = compute.keypairs.get(caller_id(req), key_name).public_key
            except NotFound:
                raise errors.InvalidKeyName() from None
        zone = server.get("availability_zone")
        if zone and zone not in {n.availability_zone for n in compute.hosts.list()}:
            raise errors.AvailabilityZoneUnavailable(zone=zone)
        requested_host = self.requested_host(req, server)
        group_id = hints.get("group")
        if group_id is not None:
            group_id = str(group_id)
            try:
                group = compute.groups.get(group_id)
            except NotFound:
                raise errors.InvalidServerGroup(group_id=group_id) from None
            if group.project_id != ctx.project_id and not is_admin(req):
                raise errors.InvalidServerGroup(group_id=group_id)
        min_count, max_count = instance_counts(server)
        if server.get("hostname") and max_count > 1:  # 2.90's schema admits it
            raise errors.AmbiguousHostnameForMultipleInstances()
        requested: Any = networks
        network = compute.network()
        if not networks and network is not None:  # absent or [] (before 2.37)
            requested = only_network(network, ctx)
        elif isinstance(networks, list) and network is not None:
            requested = resolve_networks(network, ctx, parse_networks(networks, max_count))
        names = security_groups.check_names(compute, req, security_group_names(server))
        return BootRequest(
            name=server["name"], flavor=embedded, image_ref=image_ref,
            image_properties=image_properties, boot_from_volume=disks is not None and disks.boot_from_volume,
            block_devices=disks.rows if disks is not None else [],
            min_count=min_count, max_count=max_count,
            description=server.get("description"), key_name=key_name, key_data=key_data,
            user_data=server.get("user_data"), injected_files=injected, metadata=metadata,
            tags=list(server.get("tags") or []),
            availability_zone=zone, requested_host=requested_host, group_id=group_id,
            config_drive=config_drive(server),
            access_ipv4=access_ip(server, "accessIPv4"), access_ipv6=access_ip(server, "accessIPv6"),
            security_groups=names, scheduler_hints=hints, requested_networks=requested,
            hostname=server.get("hostname"),
            auto_disk_config=disk_config.from_image(disk_config.requested(server), image_ref, image_properties))

    def requested_host(self, req: ApiRequest, server: dict) -> str | None:
        """2.74's ``host`` and/or ``hypervisor_hostname`` (admins): the host the build must
        go to, through the scheduler's filters.  Each node here is its host's only one,
        named as the host, so a pair must name the same node (400 otherwise, as Nova)."""
        host, node = server.get("host"), server.get("hypervisor_hostname")
        if not host and not node:
            return None
        req.authorize("compute:servers:create:requested_destination", {})
        if host and node and host != node:
            raise errors.RequestedHostNotFound(host=host)
        wanted = host or node
        if wanted not in {n.host for n in self.compute.hosts.list()}:
            raise errors.RequestedHostNotFound(host=wanted)
        return wanted

    @route.post("/v2.1/servers", policy="os_compute_api:servers:create", body=schemas.CREATE)
    def create(self, req: ApiRequest):
        compute = self.compute
        req.authorize(target={"project_id": req.caller.project_id})
        server = req.data["server"]
        boot = self.boot_request(req, server, scheduler_hints(req.data))
        created = self.instances.create(req.caller, boot)
        ids = [inst.id for inst in created]
        actions = compute.actions.start_many(ids, "create", req.attributes["request_id"], req.caller.project_id,
                                             req.caller.user_id)
        compute.rpc.build_instances(list(zip(ids, actions)))
        if wants_reservation_id(server):
            return json_response({"reservation_id": created[0].reservation_id}, status=202)
        first = created[0]
        out = {"id": first.id, "links": links(req, "servers", first.id),
               "OS-DCF:diskConfig": disk_config.to_api(first.auto_disk_config),
               "security_groups": [{"name": n} for n in first.security_groups],
               "adminPass": server.get("adminPass") or secrets.token_urlsafe(9)}
        return json_response({"server": out}, status=202, headers={"Location": url(req, "servers", first.id)})

    # -- list ------------------------------------------------------------------------
    def filters(self, req: ApiRequest) -> ServerFilters:
        q = req.query
        project_id = req.caller.project_id
        if wants_all_tenants(q):
            req.authorize("os_compute_api:servers:index:get_all_tenants")
            project_id = q.get("project_id") or q.get("tenant_id") or None
        version = req.version
        assert version is not None
        f, patterns = parse_filters(q, project_id, is_admin(req), version)
        if patterns:
            f.ids = self.servers_with_ips(req, patterns)
        return f

    def servers_with_ips(self, req: ApiRequest, compiled: dict[int, re.Pattern[str]]) -> list[str]:
        """Nova's ``ip``/``ip6`` filters, from one listing of the caller's ports."""
        network = self.compute.network()
        if network is None:
            return []
        literal = ip_substring(compiled)
        query = [("fixed_ips", f"ip_address_substr={literal}")] if literal else []
        ports, _ = network.list(req.caller, "ports", QueryParams(query))
        return matching_servers(ports, compiled)

    def listing(self, req: ApiRequest, detail: bool) -> dict:
        req.authorize(target={"project_id": req.caller.project_id})
        # As Nova: at most max_limit servers per page, asked for or not, and a ``next`` link
        # whenever a page is full.
        asked = int_query(req, "limit")
        limit = DEFAULT_MAX_LIMIT if asked is None else min(asked, DEFAULT_MAX_LIMIT)
        sort = parse_sort(req.query, is_admin(req), req.attributes["version"])
        rows = self.instances.list(self.filters(req), sort, limit, req.query.get("marker"), brief=not detail)
        result: dict[str, Any] = {
            "servers": self.render_many(req, rows) if detail else [render.summary(req, r) for r in rows]}
        if limit and len(rows) == limit:
            path = "/v2.1/servers/detail" if detail else "/v2.1/servers"
            result["servers_links"] = [{"rel": "next", "href": next_link(req.service_url + path, req.query,
                                                                          rows[-1].id)}]
        return result

    @route.get("/v2.1/servers", policy="os_compute_api:servers:index",
               query=queries.from_2_75(queries.SERVERS))
    def index(self, req: ApiRequest):
        return self.listing(req, detail=False)

    @route.get("/v2.1/servers/detail", policy="os_compute_api:servers:detail",
               query=queries.from_2_75(queries.SERVERS))
    def detail(self, req: ApiRequest):
        return self.listing(req, detail=True)

    # -- one server ------------------------------------------------------------------
    @route.get("/v2.1/servers/{server_id}", policy="os_compute_api:servers:show")
    def show(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"], "os_compute_api:servers:show")
        return {"server": with_server_groups(self.compute, req, self.show_one(req, inst))}

    @route.put("/v2.1/servers/{server_id}", policy="os_compute_api:servers:update")
    def update(self, req: ApiRequest):
        # The server is found (404) before the body is checked (400), as the matrix expects.
        inst = get_instance(self.compute, req, req.path_params["server_id"], "os_compute_api:servers:update")
        data = versioned_body(req, schemas.UPDATE, "server")
        fields = {"name": "name", "description": "description", "accessIPv4": "access_ipv4",
                  "accessIPv6": "access_ipv6", "hostname": "hostname"}  # hostname: 2.90's schema
        values = {column: data[field] for field, column in fields.items() if field in data}
        for field in ("accessIPv4", "accessIPv6"):
            if field in data:
                values[fields[field]] = access_ip(data, field)
        if disk_config.API_KEY in data:  # set as it is, the image unasked (Nova's update)
            values["auto_disk_config"] = disk_config.requested(data)
        if "pinned_availability_zone" in data:  # 2.104's schema
            values["requested_az"] = spec_views.pinned_zone(inst, data["pinned_availability_zone"])
        out = changed_view(self.compute, req, self.instances.update(inst.id, values))
        return {"server": with_server_groups(self.compute, req, out)}

    @route.delete("/v2.1/servers/{server_id}", policy="os_compute_api:servers:delete", status=204)
    def delete(self, req: ApiRequest):
        inst = get_instance(self.compute, req, req.path_params["server_id"], "os_compute_api:servers:delete")
        start_delete(self.compute, req, inst)
