"""Snapshots of metadefs rows handed out by the catalog, and the visibility and
ownership rules every operation starts with.

A namespace is visible to admin, to its owner's project, and (when ``public``) to
everyone; otherwise it does not exist for the caller (404, so private names do not
leak).  Only admin and the owner's project change it or its definitions (403), as in
Glance's database layer; the API's policy rules come on top.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.image import errors
from pocketstack.image.metadefs import models as m

KINDS = ("object", "property", "tag")


@dataclass(frozen=True)
class AssociationView:
    name: str
    prefix: str | None
    properties_target: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class DefinitionView:
    kind: str
    name: str
    body: dict
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class NamespaceView:
    id: str
    namespace: str
    display_name: str | None
    description: str | None
    visibility: str
    protected: bool
    owner: str | None
    generation: int
    created_at: dt.datetime
    updated_at: dt.datetime
    associations: list[AssociationView] = field(default_factory=list)
    # Filled only by a detailed read (showing one namespace).
    definitions: list[DefinitionView] = field(default_factory=list)

    def policy_target(self) -> dict[str, Any]:
        return {"project_id": self.owner, "owner": self.owner, "visibility": self.visibility,
                "namespace": self.namespace}


_NAMESPACE_FIELDS = [f for f in NamespaceView.__dataclass_fields__ if f not in ("associations", "definitions")]


def namespace_not_found(name: str) -> errors.NotFound:
    return errors.NamespaceNotFound(namespace=name)


def visible_condition(context: RequestContext):
    """WHERE clause: the namespaces ``context`` may see."""
    if context.is_admin:
        return sa.true()
    if context.project_id is None:
        return m.MetadefNamespace.visibility == "public"
    return sa.or_(m.MetadefNamespace.visibility == "public", m.MetadefNamespace.owner == context.project_id)


def load_namespace_row(session: Session, context: RequestContext, name: str) -> m.MetadefNamespace:
    row = session.scalar(sa.select(m.MetadefNamespace).where(m.MetadefNamespace.namespace == name,
                                                             visible_condition(context)))
    # MariaDB compares names case-insensitively; a namespace is named exactly.
    if row is None or row.namespace != name:
        raise namespace_not_found(name)
    return row


def check_mutable(context: RequestContext, namespace: m.MetadefNamespace | NamespaceView) -> None:
    if context.is_admin:
        return
    if namespace.owner is None or namespace.owner != context.project_id:
        raise errors.NamespaceNotMutable(namespace=namespace.namespace)


def association_views(session: Session, namespace_ids: list[str]) -> dict[str, list[AssociationView]]:
    """Each namespace's resource type associations, in one query."""
    result: dict[str, list[AssociationView]] = {i: [] for i in namespace_ids}
    if not namespace_ids:
        return result
    rows = session.execute(
        sa.select(m.MetadefAssociation, m.MetadefResourceType.name)
        .join(m.MetadefResourceType, m.MetadefResourceType.id == m.MetadefAssociation.resource_type_id)
        .where(m.MetadefAssociation.namespace_id.in_(namespace_ids))
        .order_by(m.MetadefAssociation.created_at, m.MetadefResourceType.name))
    for association, name in rows:
        result[association.namespace_id].append(AssociationView(
            name, association.prefix, association.properties_target, association.created_at,
            association.updated_at))
    return result


def namespace_views(session: Session, rows: list[m.MetadefNamespace]) -> list[NamespaceView]:
    associations = association_views(session, [r.id for r in rows])
    return [NamespaceView(**{f: getattr(r, f) for f in _NAMESPACE_FIELDS}, associations=associations[r.id])
            for r in rows]


def definition_view(row: m.MetadefDefinition) -> DefinitionView:
    return DefinitionView(row.kind, row.name, dict(row.body or {}), row.created_at, row.updated_at)
