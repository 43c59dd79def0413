"""What a caller sees of a resource: operator-only attributes hidden, ``fields=`` applied,
collections wrapped with ``<collection>_links`` when paged."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.pagination import Paging, next_link

# Attributes Neutron's maps mark ``is_visible: False``: in the policy target, never shown.
INVISIBLE = {"address_group": ("shared",)}
HIDDEN = {
    "network": ("provider:network_type", "provider:physical_network", "provider:segmentation_id"),
    "port": ("binding:host_id", "binding:profile", "binding:vif_type", "binding:vif_details"),
}


def visible(req: ApiRequest, member: str, item: dict) -> dict:
    """``item`` without the attributes the caller's policy does not let it read."""
    hidden = [*INVISIBLE.get(member, ()),
              *(a for a in HIDDEN.get(member, ()) if not req.allowed(f"get_{member}:{a}", item))]
    if not hidden:
        return item
    return {k: v for k, v in item.items() if k not in hidden}


def select_fields(req: ApiRequest, item: dict) -> dict:
    fields = [f for raw in req.query.getlist("fields") for f in raw.split(",") if f]
    if not fields:
        return item
    return {k: v for k, v in item.items() if k in fields}


def one(req: ApiRequest, member: str, item: dict) -> dict:
    return {member: select_fields(req, visible(req, member, item))}


def collection(req: ApiRequest, member: str, key: str, items: list[dict], paging: Paging) -> dict:
    body = {key: [select_fields(req, visible(req, member, i)) for i in items]}
    if paging.limit and len(items) >= paging.limit:
        base = str(req.raw.url.replace(query=""))
        body[f"{key}_links"] = [{"rel": "next", "href": next_link(base, req.query, items[-1]["id"])}]
    return body


def if_match_revision(req: ApiRequest) -> int | None:
    """``If-Match: revision_number=N`` (Neutron's optimistic concurrency header)."""
    raw = req.headers.get("if-match", "")
    for part in raw.split(","):
        key, _, value = part.strip().partition("=")
        if key == "revision_number" and value.isdigit():
            return int(value)
    return None
