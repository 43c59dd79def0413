"""JSON shapes of the metadefs catalog, as Glance renders them (root-relative links,
optional attributes left out when unset)."""

from __future__ import annotations

from typing import Any

from pocketstack.image.api.render import isotime
from pocketstack.image.metadefs.records import AssociationView, DefinitionView, NamespaceView

NAMESPACES = "/v2/metadefs/namespaces"


def _times(view) -> dict:
    return {"created_at": isotime(view.created_at), "updated_at": isotime(view.updated_at)}


def association(view: AssociationView) -> dict:
    body = {"name": view.name, "prefix": view.prefix, "properties_target": view.properties_target}
    return {**{k: v for k, v in body.items() if v is not None}, **_times(view)}


def resource_type(row) -> dict:
    return {"name": row.name, **_times(row)}


def definition_object(namespace: str, view: DefinitionView, prefix: str = "") -> dict:
    body = {"name": view.name, "properties": {}, **view.body}
    body["properties"] = {prefix + k: v for k, v in body["properties"].items()}
    if body.get("required"):
        body["required"] = [prefix + r for r in body["required"]]
    return {**body, **_times(view), "schema": "/v2/schemas/metadefs/object",
            "self": f"{NAMESPACES}/{namespace}/objects/{view.name}"}


def definition_property(view: DefinitionView) -> dict:
    return {"name": view.name, **view.body}


def tag(view: DefinitionView) -> dict:
    return {"name": view.name, **_times(view)}


def namespace(view: NamespaceView, *, resource_type: str | None = None) -> dict:
    """A namespace; a detailed view also lists its properties, objects and tags, with
    property names prefixed as the association with ``resource_type`` says."""
    names = {"namespace": view.namespace, "display_name": view.display_name, "description": view.description}
    body: dict[str, Any] = {k: v for k, v in names.items() if v is not None}
    body.update({"visibility": view.visibility, "protected": view.protected, "owner": view.owner,
                 **_times(view), "schema": "/v2/schemas/metadefs/namespace",
                 "self": f"{NAMESPACES}/{view.namespace}"})
    if view.associations:
        body["resource_type_associations"] = [association(a) for a in view.associations]
    prefix = next((a.prefix or "" for a in view.associations if a.name == resource_type), "")
    properties = {prefix + d.name: d.body for d in view.definitions if d.kind == "property"}
    objects = [definition_object(view.namespace, d, prefix) for d in view.definitions if d.kind == "object"]
    tags = [{"name": d.name} for d in view.definitions if d.kind == "tag"]
    for key, value in (("properties", properties), ("objects", objects), ("tags", tags)):
        if value:
            body[key] = value
    return body
