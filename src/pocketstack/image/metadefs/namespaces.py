"""Namespaces and resource types of the metadefs catalog.

A namespace is created with everything it contains (associations, objects, properties,
tags) in one transaction, so a failed create leaves nothing behind.  Its row changes by
compare-and-swap on ``generation``; name clashes (create or rename) are caught by the
unique constraint and answered 409.  Resource types are created on first use, as Glance
does when a namespace is associated with a type it has not seen.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, run_in_transaction
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.image import errors
from pocketstack.image.metadefs import models as m
from pocketstack.image.metadefs.records import (
    AssociationView,
    NamespaceView,
    check_mutable,
    definition_view,
    load_namespace_row,
    namespace_views,
    visible_condition,
)


def _duplicate(name: str) -> errors.Conflict:
    return errors.DuplicateNamespace(namespace=name)


def _definition_rows(namespace_id: str, body: dict[str, Any], now) -> list[m.MetadefDefinition]:
    """The object, property and tag rows a namespace is created with; 409 on repeats."""
    items: list[tuple[str, str, dict]] = []
    for obj in body.get("objects") or []:
        items.append(("object", obj["name"], {k: v for k, v in obj.items() if k != "name"}))
    for name, prop in (body.get("properties") or {}).items():
        items.append(("property", name, dict(prop)))
    for tag in body.get("tags") or []:
        items.append(("tag", tag["name"], {}))
    seen: set[tuple[str, str]] = set()
    for kind, name, _ in items:
        if (kind, name) in seen:
            raise errors.DuplicateDefinition(kind=kind, name=name, namespace=body["namespace"])
        seen.add((kind, name))
    return [m.MetadefDefinition(id=str(uuid.uuid4()), namespace_id=namespace_id, kind=kind, name=name,
                                body=data, created_at=now, updated_at=now) for kind, name, data in items]


class NamespaceCatalog:
    def __init__(self, db: Database):
        self.db = db

    # -- namespaces ------------------------------------------------------------------
    def list_namespaces(self, context: RequestContext, paging: Paging, *, visibility: str | None = None,
                        resource_types: list[str] | None = None) -> list[NamespaceView]:
        with self.db.session(readonly=True) as s:
            marker = load_namespace_row(s, context, paging.marker) if paging.marker else None
            stmt = sa.select(m.MetadefNamespace).where(visible_condition(context))
            if visibility:
                stmt = stmt.where(m.MetadefNamespace.visibility == visibility)
            if resource_types:
                stmt = stmt.where(sa.select(m.MetadefAssociation.namespace_id).join(
                    m.MetadefResourceType, m.MetadefResourceType.id == m.MetadefAssociation.resource_type_id
                ).where(m.MetadefAssociation.namespace_id == m.MetadefNamespace.id,
                        m.MetadefResourceType.name.in_(resource_types)).exists())
            rows = list(s.scalars(apply_paging(stmt, m.MetadefNamespace, paging, marker)))
            return namespace_views(s, rows)

    def get_namespace(self, context: RequestContext, name: str, *, detailed: bool = False) -> NamespaceView:
        """The namespace (404 if the caller cannot see it); ``detailed`` adds its objects,
        properties and tags."""
        with self.db.session(readonly=True) as s:
            row = load_namespace_row(s, context, name)
            view = namespace_views(s, [row])[0]
            if not detailed:
                return view
            definitions = s.scalars(sa.select(m.MetadefDefinition).where(
                m.MetadefDefinition.namespace_id == row.id).order_by(m.MetadefDefinition.created_at,
                                                                     m.MetadefDefinition.name))
            return dataclasses.replace(view, definitions=[definition_view(d) for d in definitions])

    def create_namespace(self, context: RequestContext, body: dict[str, Any]) -> NamespaceView:
        """Create a namespace and its contents (``body`` already fits the schema)."""
        name = body["namespace"]
        type_ids = {a["name"]: self._resource_type_id(a["name"]) for a in body.get("resource_type_associations") or []}
        now = utcnow()
        row = m.MetadefNamespace(
            id=str(uuid.uuid4()), namespace=name, display_name=body.get("display_name"),
            description=body.get("description"), visibility=body.get("visibility", "private"),
            protected=body.get("protected", False), owner=body.get("owner", context.project_id),
            generation=0, created_at=now, updated_at=now)
        try:
            with self.db.session() as s:
                s.add(row)
                s.flush()
                s.add_all([m.MetadefAssociation(namespace_id=row.id, resource_type_id=type_ids[a["name"]],
                                                prefix=a.get("prefix"), properties_target=a.get("properties_target"),
                                                created_at=now, updated_at=now)
                           for a in {a["name"]: a for a in body.get("resource_type_associations") or []}.values()])
                s.add_all(_definition_rows(row.id, body, now))
        except sa_exc.IntegrityError:
            raise _duplicate(name) from None
        return self.get_namespace(context, name, detailed=True)

    def update_namespace(self, context: RequestContext, name: str, body: dict[str, Any]) -> NamespaceView:
        """Replace the namespace's attributes (Glance's PUT: what is left out returns to
        its default) and possibly rename it."""
        new_name = body["namespace"]

        def work(s: Session) -> None:
            row = load_namespace_row(s, context, name)
            check_mutable(context, row)
            owner = body.get("owner") or context.project_id
            if owner != row.owner and not context.is_admin:
                raise errors.OwnerChangeForbidden()
            cas_update(s, m.MetadefNamespace, where={"id": row.id, "generation": row.generation}, values={
                "namespace": new_name, "display_name": body.get("display_name"),
                "description": body.get("description"), "visibility": body.get("visibility") or "private",
                "protected": bool(body.get("protected", False)), "owner": owner,
                "generation": row.generation + 1, "updated_at": utcnow()})

        try:
            run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:
            raise _duplicate(new_name) from None
        return self.get_namespace(context, new_name)

    def delete_namespace(self, context: RequestContext, name: str) -> None:
        """Delete the namespace and (by cascade) everything in it; 403 while protected."""
        def work(s: Session) -> None:
            row = load_namespace_row(s, context, name)
            check_mutable(context, row)
            if row.protected:
                raise errors.NamespaceProtected(namespace=name)
            result = s.execute(sa.delete(m.MetadefNamespace).where(m.MetadefNamespace.id == row.id,
                                                                   m.MetadefNamespace.generation == row.generation))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for DML
                raise ConcurrentUpdate(f"metadef namespace {name} changed while being deleted")

        run_in_transaction(self.db, work)

    # -- resource types --------------------------------------------------------------
    def list_resource_types(self) -> list[m.MetadefResourceType]:
        with self.db.session(readonly=True) as s:
            rows = list(s.scalars(sa.select(m.MetadefResourceType).order_by(m.MetadefResourceType.name)))
            s.expunge_all()
            return rows

    def _resource_type_id(self, name: str) -> str:
        """The id of resource type ``name``, registering it on first use (concurrent
        first uses race on the unique name; the loser reads the winner's row)."""
        if not isinstance(name, str) or not name or len(name) > 80:
            raise errors.InvalidResourceTypeName()
        for _ in range(2):
            with self.db.session(readonly=True) as s:
                found = s.scalar(sa.select(m.MetadefResourceType.id).where(m.MetadefResourceType.name == name))
            if found:
                return found
            now = utcnow()
            try:
                with self.db.session() as s:
                    row = m.MetadefResourceType(id=str(uuid.uuid4()), name=name, protected=False,
                                                created_at=now, updated_at=now)
                    s.add(row)
                return row.id
            except sa_exc.IntegrityError:
                continue
        raise errors.ResourceTypeRace(name=name)

    def list_associations(self, context: RequestContext, name: str) -> list[AssociationView]:
        return self.get_namespace(context, name).associations

    def associate(self, context: RequestContext, name: str, body: dict[str, Any]) -> AssociationView:
        type_name = body["name"]
        type_id = self._resource_type_id(type_name)
        now = utcnow()

        def work(s: Session) -> AssociationView:
            row = load_namespace_row(s, context, name)
            check_mutable(context, row)
            if s.get(m.MetadefAssociation, (row.id, type_id)) is not None:
                raise self._duplicate_association(type_name, name)
            s.add(m.MetadefAssociation(namespace_id=row.id, resource_type_id=type_id, prefix=body.get("prefix"),
                                       properties_target=body.get("properties_target"),
                                       created_at=now, updated_at=now))
            s.flush()
            return AssociationView(type_name, body.get("prefix"), body.get("properties_target"), now, now)

        try:
            return run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:
            self.get_namespace(context, name)  # 404 if it went away meanwhile
            raise self._duplicate_association(type_name, name) from None

    @staticmethod
    def _duplicate_association(type_name: str, name: str) -> errors.Conflict:
        return errors.DuplicateAssociation(resource_type=type_name, namespace=name)

    def dissociate(self, context: RequestContext, name: str, type_name: str) -> None:
        def work(s: Session) -> None:
            row = load_namespace_row(s, context, name)
            check_mutable(context, row)
            type_id = s.scalar(sa.select(m.MetadefResourceType.id).where(m.MetadefResourceType.name == type_name))
            deleted = 0
            if type_id is not None:
                deleted = s.execute(sa.delete(m.MetadefAssociation).where(
                    m.MetadefAssociation.namespace_id == row.id,
                    m.MetadefAssociation.resource_type_id == type_id)).rowcount  # type: ignore[attr-defined]
            if not deleted:
                raise errors.AssociationNotFound(resource_type=type_name, namespace=name)

        run_in_transaction(self.db, work)
