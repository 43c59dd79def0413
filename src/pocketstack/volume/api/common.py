"""What every Block Storage API module shares: microversions, bodies, paging, links."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from pocketstack.common.api.microversions import Version, VersionRange
from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.pagination import Paging, next_link, parse_paging
from pocketstack.common.validation import parse_bool
from pocketstack.volume import errors
from pocketstack.volume.api.validation import validate_integer
from pocketstack.volume.quotas import MAX_INT
from pocketstack.volume.volumes import Volumes

# The highest microversion whose behaviour changes are implemented (docs/volume.md).
VERSIONS = VersionRange("volume", Version(3, 0), Version(3, 70))
PREFIX = "/v3/{project_id}"  # optional (3.67): api/__init__.py routes "/v3/..." too


def finish(req: ApiRequest, response: Response) -> None:
    """Every answer names the microversion it was served at (``OpenStack-API-Version``)."""
    version = req.version
    if version is not None:
        for key, value in VERSIONS.response_headers(version).items():
            response.headers[key] = value


def accepted(payload: Any = None) -> Response:
    return json_response(payload, status=202) if payload is not None else Response(status_code=202)


def flag(req: ApiRequest, name: str) -> bool:
    value = req.query.get(name)
    return value is not None and parse_bool(value, name)


# What Cinder reads from a listing's query before its filters: paging and sorting.
PAGING_PARAMS = frozenset(("marker", "limit", "offset", "sort", "sort_key", "sort_dir"))


def reject_invalid_filters(req: ApiRequest, allowed: tuple[str, ...]) -> None:
    """Cinder's ``reject_invalid_filters`` (the generalized filters of 3.33+): a
    non-admin's query may hold only the resource's configured filters (a 400 naming the
    others; ``all_tenants``, which cinderclient always sends, is let through)."""
    if req.caller.is_admin:
        return
    invalid = [key for key in req.query if key not in allowed and key not in PAGING_PARAMS and key != "all_tenants"]
    if invalid:
        raise errors.InvalidFilters(names=",".join(invalid))


def consumes_quota(req: ApiRequest) -> bool | None:
    """3.65's ``consumes_quota`` list filter: None when absent (or before 3.65)."""
    if not req.at_least(3, 65) or "consumes_quota" not in req.query:
        return None
    return to_bool(req.query["consumes_quota"], "consumes_quota")


def with_count(req: ApiRequest) -> bool:
    """3.45's ``with_count``: a listing adds ``count``, the rows its filters match in all
    (before 3.45 the parameter means nothing)."""
    return req.at_least(3, 45) and flag(req, "with_count")


def all_projects(req: ApiRequest) -> bool:
    return flag(req, "all_tenants") or flag(req, "all_projects")


def authorize_on_volume(req: ApiRequest, volumes: Volumes, volume_id: str) -> None:
    """A snapshot, backup or transfer create's policy check (the route's), in Cinder's
    order: the volume is looked up as the caller first (another project's is a 404, to its
    readers too), then the rule is checked against the volume's project."""
    volume = volumes.get(req.caller, volume_id)
    req.authorize(target={"project_id": volume.project_id})


def is_detail(req: ApiRequest) -> bool:
    """Whether a listing is served as ``.../detail`` (one handler serves both paths)."""
    return req.route is not None and req.route.path.endswith("/detail")


def own_project(req: ApiRequest) -> dict[str, str | None]:
    """The policy target of a collection: the caller's own project."""
    return {"project_id": req.caller.project_id}


def paging(req: ApiRequest, sort_keys: tuple[str, ...]) -> Paging:
    """Cinder also takes ``display_name`` (the v1 name of the field) as a sort key for ``name``."""
    aliases = ("display_name",) if "name" in sort_keys else ()
    page = parse_paging(req.query, allowed_sort_keys=sort_keys + aliases)
    page.sort = [("name" if key == "display_name" else key, direction) for key, direction in page.sort]
    return page


def offset(req: ApiRequest) -> int:
    """Cinder's ``offset`` list parameter: rows to skip before the page starts."""
    return validate_integer(req.query.get("offset", "0"), "offset", 0, MAX_INT)


def _in_path(req: ApiRequest) -> list[str]:
    """The project id when the URL names one: links leave it out when it does not (3.67)."""
    project_id = req.path_params.get("project_id")
    return [project_id] if project_id else []


def url(req: ApiRequest, *parts: str) -> str:
    return "/".join([req.service_url + "/v3", *_in_path(req), *parts])


def links(req: ApiRequest, *parts: str) -> list[dict]:
    bookmark = "/".join([req.service_url, *_in_path(req), *parts])
    return [{"rel": "self", "href": url(req, *parts)}, {"rel": "bookmark", "href": bookmark}]


def page_links(req: ApiRequest, key: str, items: list, page: Paging, base: str) -> dict:
    """``<key>_links`` with a ``next`` link when the page is full."""
    if page.limit and len(items) >= page.limit:
        return {f"{key}_links": [{"rel": "next", "href": next_link(url(req, base), req.query, items[-1].id)}]}
    return {}


TRUE_WORDS = ("true", "1", "yes", "on", "y", "t")
FALSE_WORDS = ("false", "0", "no", "off", "n", "f")


def to_bool(value: Any, name: str) -> bool:
    """Cinder's booleans: ``true``/``1``/``yes``/``on``/``y``/``t`` and their negations."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    raise errors.InvalidInput(reason=f"{name} must be a boolean, got {value!r}.")
