"""What a caller sees of a resource: operator-only attributes hidden, ``fields=`` applied,
collections wrapped with ``<collection>_links`` when paged."""

from __future__ import annotations

from urllib.parse import urlencode

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.pagination import Paging
from pocketstack.network import store

# Attributes Neutron's maps mark ``is_visible: False``: in the policy target, never shown.
INVISIBLE = {"address_group": ("shared",), "metering_label_rule": ("project_id",)}
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
    if paging.limit:
        links = page_links(req, items, paging.limit)
        if links:
            body[f"{key}_links"] = links
    return body


def page_links(req: ApiRequest, items: list[dict], limit: int) -> list[dict]:
    """Neutron's ``get_pagination_links``: ``next`` unless a short forward page ended the
    listing, ``previous`` unless a short backward page reached its start -- so a full
    first page has a ``previous`` too, and an empty page past the end one back."""
    reverse = store.page_reverse(req.query)
    base = str(req.raw.url.replace(query=""))
    kept = [(k, v) for k, v in req.query.multi_items() if k not in ("marker", "page_reverse")]
    links = []
    if not (len(items) < limit and not reverse):
        marker = [("marker", items[-1]["id"])] if items else []
        links.append({"rel": "next", "href": f"{base}?{urlencode(kept + marker)}"})
    if not (len(items) < limit and reverse):
        marker = [("marker", items[0]["id"])] if items else []
        links.append({"rel": "previous", "href": f"{base}?{urlencode(kept + marker + [('page_reverse', 'True')])}"})
    return links


def if_match_revision(req: ApiRequest) -> int | None:
    """``If-Match: revision_number=N`` (Neutron's optimistic concurrency header)."""
    raw = req.headers.get("if-match", "")
    for part in raw.split(","):
        key, _, value = part.strip().partition("=")
        if key == "revision_number" and value.removeprefix("-").isdigit():
            return int(value)  # a negative one is stale like any other
    return None
