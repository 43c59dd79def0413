"""Placement response shapes: provider bodies with their links."""

from __future__ import annotations

from urllib.parse import urlsplit

from pocketstack.common.api.request import ApiRequest


def prefix(req: ApiRequest) -> str:
    """Placement's links are root-relative paths under the service prefix."""
    return urlsplit(req.service_url).path.rstrip("/")


def location(req: ApiRequest, path: str) -> str:
    """Location headers are absolute URLs (WebOb made Placement's so); clients fetch them as is."""
    return req.service_url.rstrip("/") + path


def provider(req: ApiRequest, rp: dict) -> dict:
    base = f"{prefix(req)}/resource_providers/{rp['uuid']}"
    links = [{"rel": "self", "href": base}, {"rel": "inventories", "href": base + "/inventories"},
             {"rel": "usages", "href": base + "/usages"}]
    if req.at_least(1, 1):
        links.append({"rel": "aggregates", "href": base + "/aggregates"})
    if req.at_least(1, 6):
        links.append({"rel": "traits", "href": base + "/traits"})
    if req.at_least(1, 11):
        links.append({"rel": "allocations", "href": base + "/allocations"})
    body = {"uuid": rp["uuid"], "name": rp["name"], "generation": rp["generation"], "links": links}
    if req.at_least(1, 14):
        body["parent_provider_uuid"] = rp["parent_provider_uuid"]
        body["root_provider_uuid"] = rp["root_provider_uuid"]
    return body


def inventory(inv: dict, generation: int) -> dict:
    return {**inv, "resource_provider_generation": generation}
