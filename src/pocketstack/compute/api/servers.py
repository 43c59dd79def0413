"""``/servers``: create, list (with Nova's filters, sorting and paging), show, update,
delete."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import secrets

from starlette.datastructures import QueryParams
from starlette.responses import Response

from pocketstack.common.api.pagination import DEFAULT_MAX_LIMIT, next_link
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import Router
from pocketstack.common.api.validation import parse_bool
from pocketstack.common.errors import BadRequest, Conflict, Forbidden, NotFound
from pocketstack.compute import block_devices
from pocketstack.compute import states as st
from pocketstack.compute.api import render, security_groups
from pocketstack.compute.api.common import (
    access_ip,
    at_least,
    body,
    get_instance,
    int_query,
    is_admin,
    links,
    start_delete,
    url,
)
from pocketstack.compute.instances import SORT_KEYS, BootRequest, ServerFilters, check_user_data, embed_flavor
from pocketstack.compute.topology import TopologyError, choose_topology

_METADATA = {"type": "object",  # too many items is a 403 (metadata_items quota), as Nova
             "propertyNames": {"type": "string", "minLength": 1, "maxLength": 255},
             "additionalProperties": {"type": "string", "maxLength": 255}}
_NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
_BDM = {"type": "object", "properties": {
    "source_type": {"type": "string", "enum": ["image", "volume", "snapshot", "blank"]},
    "destination_type": {"type": "string", "enum": ["local", "volume"]},
    "uuid": {"type": "string"}, "boot_index": {"type": ["integer", "string", "null"]},
    "volume_size": {"type": ["integer", "string"]}, "delete_on_termination": {"type": ["boolean", "string"]},
    "device_name": {"type": ["string", "null"]}, "disk_bus": {"type": "string"},
    "device_type": {"type": "string"}, "guest_format": {"type": "string"}, "tag": {"type": "string"},
    "volume_type": {"type": ["string", "null"]}}}
CREATE = {"type": "object", "required": ["server"], "properties": {
    "server": {"type": "object", "required": ["name", "flavorRef"], "properties": {
        "name": _NAME, "flavorRef": {"type": ["string", "integer"], "minLength": 1},
        "imageRef": {"type": "string"}, "description": {"type": ["string", "null"], "maxLength": 255},
        "metadata": _METADATA, "key_name": {"type": "string"}, "user_data": {"type": "string",
                                                                               "maxLength": 65535},
        "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
        "min_count": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
        "max_count": {"type": ["integer", "string"], "pattern": r"^[0-9]+$", "minimum": 1},
        "return_reservation_id": {"type": ["boolean", "string"]},
        "networks": {"anyOf": [{"type": "string", "enum": ["none", "auto"]},
                               {"type": "array", "items": {"type": "object", "properties": {
                                   "uuid": {"type": "string"}, "port": {"type": ["string", "null"]},
                                   "fixed_ip": {"type": "string"}, "tag": {"type": "string"}},
                                   "additionalProperties": False}}]},
        "security_groups": {"type": "array", "items": {"type": "object", "properties": {
            "name": {"type": "string"}}}},
        "block_device_mapping_v2": {"type": "array", "items": _BDM},
        "config_drive": {"type": ["boolean", "string"]}, "adminPass": {"type": "string"},
        "accessIPv4": {"type": "string"}, "accessIPv6": {"type": "string"},
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
        "tags": {"type": "array", "maxItems": 50, "items": {"type": "string", "minLength": 1, "maxLength": 60}},
        "trusted_image_certificates": {"type": ["array", "null"]},
        "personality": {"type": "array"}},
        "additionalProperties": False},
    "os:scheduler_hints": {"type": "object"}, "OS-SCH-HNT:scheduler_hints": {"type": "object"}}}
UPDATE = {"type": "object", "required": ["server"], "properties": {"server": {
    "type": "object", "additionalProperties": False, "properties": {
        "name": _NAME, "description": {"type": ["string", "null"], "maxLength": 255},
        "accessIPv4": {"type": "string"}, "accessIPv6": {"type": "string"},
        "OS-DCF:diskConfig": {"type": "string"}}}}}


def _count(value, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}.") from None
    if number < 1:
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {value}.")
    return number


def _parse_time(value: str, name: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid filter field: {name}. Value: {value}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def register(router: Router, compute) -> None:
    instances = compute.instances

    def render_many(req: ApiRequest, rows) -> list[dict]:
        metadata, tags = instances.details([r.id for r in rows])
        addresses = compute.addresses([r.id for r in rows])
        volumes = compute.block_devices.volumes_attached([r.id for r in rows])
        return [render.server(req, r, metadata[r.id], tags[r.id], addresses[r.id], volumes[r.id]) for r in rows]

    def show_one(req: ApiRequest, inst) -> dict:
        return render_many(req, [inst])[0]

    # -- create ----------------------------------------------------------------------
    def boot_request(req: ApiRequest, server: dict, hints: dict) -> BootRequest:
        """Validate everything about the request before anything is counted or stored."""
        ctx = req.context
        try:
            flavor = compute.flavors.get_visible(str(server["flavorRef"]).rsplit("/", 1)[-1], ctx.project_id,
                                                 is_admin(req))
        except NotFound:
            raise BadRequest(f"Flavor {server['flavorRef']} could not be found.") from None
        if flavor.disabled:
            raise BadRequest(f"Flavor {flavor.id} is disabled.")
        embedded = embed_flavor(flavor, compute.flavors.extra_specs(flavor.id))
        image_id = (server.get("imageRef") or "").rsplit("/", 1)[-1]
        max_requested = _count(server.get("max_count", server.get("min_count", 1)), "max_count")
        disks = block_devices.parse(compute.cloud, ctx, server.get("block_device_mapping_v2") or [], image_id,
                                    max_requested, lambda i: compute.images.bootable(ctx, i))
        image = None
        if disks is None or not disks.boot_from_volume:
            for bdm in server.get("block_device_mapping_v2") or []:
                if str(bdm.get("boot_index")) == "0" and bdm.get("source_type") == "image":
                    image_id = bdm.get("uuid", "")
            if not image_id:
                raise BadRequest("Missing imageRef attribute")
            image = compute.images.bootable(ctx, image_id)
            if image.min_ram and embedded["ram"] < image.min_ram:
                raise BadRequest("Flavor's memory is too small for requested image.")
            if image.min_disk and embedded["disk"] and embedded["disk"] < image.min_disk:
                raise BadRequest("Flavor's disk is too small for requested image.")
        image_properties = dict(image.properties) if image is not None else disks.image_properties
        try:
            choose_topology(embedded["vcpus"], embedded["extra_specs"], image_properties)
        except TopologyError as error:
            raise BadRequest(str(error)) from None
        networks = server.get("networks")
        if networks is None and at_least(req, 2, 37):
            raise BadRequest("Invalid input for field/attribute networks: 'networks' is a required property "
                             "since microversion 2.37.")
        if isinstance(networks, list) and networks and not compute.network_available():
            raise BadRequest("Networks other than 'auto' and 'none' need the network service, which is not "
                             "running in this cloud.")
        if "personality" in server:
            if at_least(req, 2, 57):
                raise BadRequest("Invalid input for field/attribute server. Additional properties are not "
                                 "allowed ('personality' was unexpected)")
            compute.quotas.check_limit(ctx.project_id, "injected_files", len(server["personality"]))
        if "description" in server and not at_least(req, 2, 19):
            raise BadRequest("Invalid input: 'description' needs microversion 2.19.")
        if "tags" in server and not at_least(req, 2, 52):
            raise BadRequest("Invalid input: 'tags' on create needs microversion 2.52.")
        for tag in server.get("tags") or []:
            instances.check_tag(tag)
        check_user_data(server.get("user_data"))
        metadata = server.get("metadata") or {}
        compute.quotas.check_limit(ctx.project_id, "metadata_items", len(metadata))
        key_name = server.get("key_name")
        key_data = None
        if key_name is not None:
            try:
                key_data = compute.keypairs.get(ctx.user_id, key_name).public_key
            except NotFound:
                raise BadRequest("Invalid key_name provided.") from None
        zone = server.get("availability_zone")
        if zone and zone not in {n.availability_zone for n in compute.hosts.list()}:
            raise BadRequest(f"The requested availability zone is not available: {zone}")
        group_id = hints.get("group")
        if group_id is not None:
            group_id = str(group_id)
            try:
                group = compute.groups.get(group_id)
            except NotFound:
                raise BadRequest(f"Invalid server group {group_id}.") from None
            if group.project_id != ctx.project_id and not is_admin(req):
                raise BadRequest(f"Invalid server group {group_id}.")
        min_count = _count(server.get("min_count", 1), "min_count")
        max_count = _count(server.get("max_count", min_count), "max_count")
        if max_count < min_count:
            raise BadRequest("min_count must be <= max_count")
        requested = requested_networks(req, networks, max_count)
        return BootRequest(
            name=server["name"], flavor=embedded, image_ref=image.id if image is not None else disks.image_id,
            image_properties=image_properties, boot_from_volume=disks is not None and disks.boot_from_volume,
            block_devices=disks.rows if disks is not None else [],
            min_count=min_count, max_count=max_count,
            description=server.get("description"), key_name=key_name, key_data=key_data,
            user_data=server.get("user_data"), metadata=metadata, tags=list(server.get("tags") or []),
            availability_zone=zone, group_id=group_id,
            config_drive="True" if str(server.get("config_drive", "")).lower() == "true" else "",
            access_ipv4=access_ip(server, "accessIPv4"), access_ipv6=access_ip(server, "accessIPv6"),
            security_groups=security_group_names(req, server),
            scheduler_hints=hints, requested_networks=requested)

    def security_group_names(req: ApiRequest, server: dict) -> list[str]:
        names = [g.get("name", "default") for g in server.get("security_groups") or []] or ["default"]
        security_groups.check_names(compute, req, names)
        return names

    def requested_networks(req: ApiRequest, networks, max_count: int):
        """Nova's ``networks`` as the network service's ``requested_networks``; networks and
        ports are looked up now so that a wrong id is a 400, not a failed build."""
        if networks is None or isinstance(networks, str) or not compute.network_available():
            return networks
        network = compute.network()
        requests = []
        for item in networks:
            port_id, net_id, fixed_ip = item.get("port"), item.get("uuid"), item.get("fixed_ip")
            if port_id:
                if max_count > 1:
                    raise BadRequest("Unable to launch multiple instances with a single configured port ID. "
                                     "Please launch your instance one by one with different ports.")
                try:
                    port = network.get(req.context, "ports", str(port_id))
                except NotFound:
                    raise BadRequest(f"Port {port_id} could not be found.") from None
                if port["device_id"]:
                    raise Conflict(f"Port {port_id} is still in use.")
                requests.append({"port_id": port["id"]})
                continue
            if not net_id:
                raise BadRequest("Bad networks format: network uuid is not in proper format or port is missing")
            try:
                network.get(req.context, "networks", str(net_id))
            except NotFound:
                raise BadRequest(f"Network {net_id} could not be found.") from None
            request = {"network_id": str(net_id)}
            if fixed_ip:
                try:
                    ipaddress.ip_address(fixed_ip)
                except ValueError:
                    raise BadRequest(f"Invalid fixed IP address ({fixed_ip})") from None
                if max_count > 1:
                    raise BadRequest("max_count cannot be greater than 1 if an fixed_ip is specified.")
                request["fixed_ip"] = fixed_ip
            requests.append(request)
        return requests

    @router.post("/v2.1/servers")
    def create_server(req: ApiRequest):
        req.authorize("os_compute_api:servers:create", {"project_id": req.context.project_id})
        data = body(req, CREATE)
        hints = data.get("os:scheduler_hints") or data.get("OS-SCH-HNT:scheduler_hints") or {}
        server = data["server"]
        boot = boot_request(req, server, hints)
        created = instances.create(req.context, boot)
        compute.rpc.build_instances([(inst.id, compute.actions.start(inst.id, "create", req.attributes["request_id"],
                                                                     req.context.project_id, req.context.user_id))
                                     for inst in created])
        if str(server.get("return_reservation_id", "")).lower() == "true":
            return json_response({"reservation_id": created[0].reservation_id}, status=202)
        first = created[0]
        out = {"id": first.id, "links": links(req, "servers", first.id), "OS-DCF:diskConfig": "MANUAL",
               "security_groups": [{"name": n} for n in first.security_groups],
               "adminPass": server.get("adminPass") or secrets.token_urlsafe(9)}
        return json_response({"server": out}, status=202, headers={"Location": url(req, "servers", first.id)})

    # -- list ------------------------------------------------------------------------
    def filters(req: ApiRequest) -> ServerFilters:
        q = req.query
        admin = is_admin(req)
        all_tenants = "all_tenants" in q and (q.get("all_tenants") == "" or parse_bool(q["all_tenants"],
                                                                                        "all_tenants"))
        project_id = req.context.project_id
        if all_tenants:
            req.authorize("os_compute_api:servers:index:get_all_tenants")
            project_id = q.get("project_id") or q.get("tenant_id") or None
        f = ServerFilters(project_id=project_id, name=q.get("name") or None,
                          flavor_id=q.get("flavor"), image_ref=q.get("image"),
                          reservation_id=q.get("reservation_id"), key_name=q.get("key_name"),
                          availability_zone=q.get("availability_zone"))
        if "status" in q:
            wanted = []
            for status in q.getlist("status"):
                if status.upper() not in st.STATUS_FILTER:
                    if at_least(req, 2, 38):
                        raise BadRequest(f"Invalid status value {status}")
                    return ServerFilters(project_id=project_id, vm_states=[])
                wanted += st.STATUS_FILTER[status.upper()]
            f.vm_states = wanted
        if admin:
            f.host = q.get("host")
            f.user_id = q.get("user_id")
        if "changes-since" in q:
            f.changes_since = _parse_time(q["changes-since"], "changes-since")
        patterns = {4: q.get("ip") or None, 6: q.get("ip6") or None}
        if not (admin or at_least(req, 2, 5)):
            patterns[6] = None  # before 2.5 only admins may filter by ip6 (Nova ignores it)
        if any(patterns.values()):
            f.ids = servers_with_ips(req, patterns)
        if at_least(req, 2, 26):
            for key, attr in (("tags", "tags"), ("tags-any", "tags_any"), ("not-tags", "not_tags"),
                              ("not-tags-any", "not_tags_any")):
                if q.get(key):
                    setattr(f, attr, [t for t in q[key].split(",") if t])
        return f

    def servers_with_ips(req: ApiRequest, patterns: dict[int, str | None]) -> list[str]:
        """Nova's ``ip``/``ip6`` filters: the servers with a fixed IP of that version the
        regular expression matches (from its start, as Nova's ``re.match``), read from one
        listing of the caller's ports.  A pattern that is a plain address fragment (``^``,
        ``$`` and ``\\.`` aside) narrows that listing in SQL, as Nova asks Neutron for
        ``ip_address_substr``: its dots are then literal dots, as they are for Nova."""
        network = compute.network()
        if network is None:
            return []
        compiled = {}
        for version, pattern in patterns.items():
            if pattern:
                try:
                    compiled[version] = re.compile(pattern)
                except re.error:
                    raise BadRequest(f"Invalid ip{'6' if version == 6 else ''} filter regex {pattern!r}.") from None
        query = []
        if len(compiled) == 1:
            literal = next(iter(patterns[v] for v in compiled)).lstrip("^").rstrip("$").replace("\\.", ".")
            if re.fullmatch(r"[0-9a-fA-F.:]+", literal):
                query.append(("fixed_ips", f"ip_address_substr={literal}"))
        ports, _ = network.list(req.context, "ports", QueryParams(query))
        return sorted({port["device_id"] for port in ports if port["device_owner"].startswith("compute:")
                       for ip in port["fixed_ips"]
                       if (p := compiled.get(ipaddress.ip_address(ip["ip_address"]).version))
                       and p.match(ip["ip_address"])})

    def sorting(req: ApiRequest) -> list[tuple[str, str]]:
        keys, dirs = req.query.getlist("sort_key"), req.query.getlist("sort_dir")
        for key in keys:
            if key not in SORT_KEYS:
                raise BadRequest(f"Invalid sort key {key}")
            if key in ("host", "node") and not is_admin(req):
                raise Forbidden(f"Only administrators can sort servers by {key}")
        for direction in dirs:
            if direction not in ("asc", "desc"):
                raise BadRequest(f"Invalid sort direction {direction}")
        sort = [(k, dirs[i] if i < len(dirs) else "desc") for i, k in enumerate(keys)]
        for key in ("created_at", "uuid"):
            if key not in keys:
                sort.append((key, "desc"))
        return sort

    def listing(req: ApiRequest, detail: bool):
        req.authorize("os_compute_api:servers:detail" if detail else "os_compute_api:servers:index",
                      {"project_id": req.context.project_id})
        # As Nova: at most max_limit servers per page, asked for or not, and a ``next`` link
        # whenever a page is full.
        limit = min(int_query(req, "limit") if "limit" in req.query else DEFAULT_MAX_LIMIT, DEFAULT_MAX_LIMIT)
        rows = instances.list(filters(req), sorting(req), limit, req.query.get("marker"), brief=not detail)
        result = {"servers": render_many(req, rows) if detail else [render.summary(req, r) for r in rows]}
        if limit and len(rows) == limit:
            path = "/v2.1/servers/detail" if detail else "/v2.1/servers"
            result["servers_links"] = [{"rel": "next", "href": next_link(req.service_url + path, req.query,
                                                                          rows[-1].id)}]
        return result

    @router.get("/v2.1/servers")
    def list_servers(req: ApiRequest):
        return listing(req, detail=False)

    @router.get("/v2.1/servers/detail")
    def list_servers_detail(req: ApiRequest):
        return listing(req, detail=True)

    # -- one server ------------------------------------------------------------------
    @router.get("/v2.1/servers/{server_id}")
    def show_server(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:show")
        return {"server": show_one(req, inst)}

    @router.put("/v2.1/servers/{server_id}")
    def update_server(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:update")
        data = body(req, UPDATE, "server")
        if "description" in data and not at_least(req, 2, 19):
            raise BadRequest("Invalid input: 'description' needs microversion 2.19.")
        fields = {"name": "name", "description": "description", "accessIPv4": "access_ipv4",
                  "accessIPv6": "access_ipv6"}
        values = {column: data[field] for field, column in fields.items() if field in data}
        for field in ("accessIPv4", "accessIPv6"):
            if field in data:
                values[fields[field]] = access_ip(data, field)
        return {"server": render.changed(show_one(req, instances.update(inst.id, values)))}

    @router.delete("/v2.1/servers/{server_id}")
    def delete_server(req: ApiRequest):
        inst = get_instance(compute, req, req.path_params["server_id"], "os_compute_api:servers:delete")
        start_delete(compute, req, inst)
        return Response(status_code=204)
