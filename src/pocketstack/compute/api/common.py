"""What every Compute API module shares: microversion negotiation, body parsing, the
project a request acts on, and instance lookup with Nova's visibility rules."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import NotFound
from pocketstack.common.pagination import DEFAULT_MAX_LIMIT
from pocketstack.common.validation import validate
from pocketstack.compute import errors

if TYPE_CHECKING:
    from pocketstack.volume.contract import VolumeContract

# The highest microversion whose behaviour changes are all implemented (docs/compute.md).
VERSIONS = VersionRange("compute", Version(2, 1), Version(2, 104), legacy_header="X-OpenStack-Nova-API-Version")


# Nova's ``parameter_types.boolean``: JSON booleans and the strings oslo's
# ``bool_from_string`` understands ("True", "on", "1", ...), as clients send both.
BOOLEAN = {"type": ["boolean", "string"],
           "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
                    False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"]}


def to_bool(value) -> bool:
    """A value that matched ``BOOLEAN`` as a Python bool."""
    return value if isinstance(value, bool) else value.lower() in ("true", "1", "on", "yes")


# oslo's ``bool_from_string(strict=True)``, which Nova uses for boolean query parameters.
_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def query_bool(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value not in _TRUE + _FALSE:
        raise errors.InvalidBooleanQuery(value=raw, name=name, accepted=", ".join(_TRUE + _FALSE))
    return value in _TRUE


def finish(req: ApiRequest, response: Response) -> None:
    """Microversion headers, and the request id under Nova's own header name too (clients
    and Tempest read ``x-compute-request-id``)."""
    response.headers["x-compute-request-id"] = req.attributes["request_id"]
    version = req.attributes.get("version")
    if version is not None:
        for key, value in VERSIONS.response_headers(version).items():
            response.headers[key] = value


def accepted() -> Response:
    """202 with no body, as most Nova actions answer."""
    return Response(status_code=202)


def access_ip(server: dict, field: str) -> str:
    """``accessIPv4``/``accessIPv6`` checked and stored in canonical form ("" when unset),
    as Nova's IP address fields do (``0:0::babe:dc0c:1602`` becomes ``::babe:dc0c:1602``)."""
    value = server.get(field) or ""
    if not value:
        return ""
    wanted = 4 if field == "accessIPv4" else 6
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        address = None
    if address is None or address.version != wanted:
        raise errors.InvalidAccessIp(field=field, value=value, version=wanted)
    return str(address)


def version(req: ApiRequest) -> Version:
    return req.attributes["version"]


def at_least(req: ApiRequest, major: int, minor: int) -> bool:
    return version(req) >= (major, minor)


def body(req: ApiRequest, schema: dict, key: str | None = None) -> Any:
    data = validate(req.json(), schema)
    return data[key] if key else data


def schema_at(req: ApiRequest, schemas: dict[str, dict]) -> dict:
    """The schema of the highest microversion (a key of ``schemas``) not above the
    request's."""
    chosen = None
    for start, schema in sorted(schemas.items(), key=lambda kv: Version.parse(kv[0])):
        if chosen is None or version(req) >= Version.parse(start):
            chosen = schema
    assert chosen is not None
    return chosen


def versioned_body(req: ApiRequest, schemas: dict[str, dict], key: str | None = None) -> Any:
    """The body checked against :func:`schema_at`: for a route that must find its server
    (404) or authorize (403) before it validates, so cannot declare ``body=``."""
    return body(req, schema_at(req, schemas), key)


def url(req: ApiRequest, *parts: str) -> str:
    return "/".join([req.service_url + "/v2.1", *parts])


def bookmark(req: ApiRequest, *parts: str) -> str:
    return "/".join([req.service_url, *parts])


def links(req: ApiRequest, *parts: str) -> list[dict]:
    return [{"rel": "self", "href": url(req, *parts)}, {"rel": "bookmark", "href": bookmark(req, *parts)}]


def caller_id(req: ApiRequest) -> str:
    """The calling user's id: every token names its user (401 otherwise)."""
    user_id = req.caller.user_id
    if user_id is None:
        raise errors.AuthenticationRequired()
    return user_id


def caller_project(req: ApiRequest) -> str:
    """The caller's project, which what it creates belongs to (and counts against): a
    token scoped to no project (system scope) cannot create servers (403)."""
    project_id = req.caller.project_id
    if project_id is None:
        raise errors.ProjectScopeRequired()
    return project_id


def parse_time(value: str, name: str) -> dt.datetime:
    """An ISO 8601 time as naive UTC (how the tables store times)."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise errors.InvalidFilterTime(name=name, value=value) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed


def changes_window(query: Mapping[str, str], at: Version,
                   since_from: tuple[int, int] = (2, 1)) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The ``changes-since`` (from microversion ``since_from``) and ``changes-before``
    (2.66) bounds of a listing's ``updated_at``, at microversion ``at``; Nova's 400 when
    they are crossed."""
    since = before = None
    if "changes-since" in query and at >= since_from:
        since = parse_time(query["changes-since"], "changes-since")
    if "changes-before" in query and at >= (2, 66):
        before = parse_time(query["changes-before"], "changes-before")
    if since is not None and before is not None and before < since:
        raise errors.ChangesWindowCrossed()
    return since, before


def in_window(when: dt.datetime | None, since: dt.datetime | None, before: dt.datetime | None) -> bool:
    return when is None or ((since is None or when >= since) and (before is None or when <= before))


def limited(req: ApiRequest, items: list) -> list:
    """Nova's ``common.limited``: ``offset`` and ``limit`` (non-negative integers, else
    400); no limit, 0 or more than ``max_limit`` means ``max_limit``."""
    offset, limit = int_query(req, "offset") or 0, int_query(req, "limit")
    return items[offset:offset + min(DEFAULT_MAX_LIMIT, limit or DEFAULT_MAX_LIMIT)]


def volume_service(compute) -> VolumeContract:
    """The volume service's contract; a 400 in a cloud without one (Nova's answer when
    Cinder cannot be reached is no better)."""
    manager = compute.volumes()
    if manager is None:
        raise errors.VolumeServiceUnavailable()
    return manager


def is_admin(req: ApiRequest) -> bool:
    return req.context is not None and req.context.is_admin


def int_query(req: ApiRequest, name: str, minimum: int = 0) -> int | None:
    raw = req.query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise errors.InvalidQueryInteger(name=name, value=raw) from None
    if value < minimum:
        raise errors.QueryIntegerTooSmall(name=name, value=raw, minimum=minimum)
    return value


def get_instance(compute, req: ApiRequest, instance_id: str, rule: str, read_deleted: bool = False):
    """The instance if the caller may apply ``rule`` to it; 404 for other projects'
    servers (Nova does not reveal they exist), 403 when the rule refuses.  With
    ``read_deleted`` a deleted server is found too (Nova's ``read_deleted='yes'``)."""
    try:
        inst = compute.instances.get(instance_id)
    except NotFound:
        inst = compute.instances.get_deleted(instance_id) if read_deleted else None
        if inst is None:
            raise errors.InstanceNotFound(instance_id=instance_id) from None
    if not is_admin(req) and inst.project_id != req.caller.project_id:
        raise errors.InstanceNotFound(instance_id=instance_id)
    req.authorize(rule, {"project_id": inst.project_id, "user_id": inst.user_id})
    return inst


def with_server_groups(compute, req: ApiRequest, out: dict) -> dict:
    """From 2.71 a server's show, update and rebuild responses (not its lists) name the
    group it belongs to: ``server_groups``, a list of at most one id."""
    if at_least(req, 2, 71):
        out["server_groups"] = compute.groups.of_instance(out["id"])
    return out


def check_unlocked(req: ApiRequest, inst) -> None:
    """A locked server refuses changes from anyone but an admin (409, as Nova)."""
    if inst.locked and not is_admin(req):
        raise errors.InstanceIsLocked(instance_id=inst.id)


def record_action(compute, req: ApiRequest, inst, action: str) -> str:
    """Start the instance action ``action`` of the request (``os-instance-actions``)."""
    return compute.actions.start(inst.id, action, req.attributes["request_id"], req.caller.project_id,
                                 req.caller.user_id)


def start_delete(compute, req: ApiRequest, inst) -> None:
    """Move the server to ``deleting`` and cast the delete (DELETE and forceDelete)."""
    check_unlocked(req, inst)
    inst = compute.instances.begin_delete(inst.id)
    compute.rpc.delete_instance(inst.host, inst.id, record_action(compute, req, inst, "delete"))
