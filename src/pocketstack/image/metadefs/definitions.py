"""Objects, properties and tags of a metadefs namespace: named JSON documents (one
table, told apart by ``kind``) that are created, renamed, listed and deleted alike.

A name is unique per kind within a namespace: creators race on the INSERT and the loser
gets 409.  Deleting all definitions of a kind is refused while the namespace is
protected; it bumps the namespace's generation so that it cannot interleave with the
namespace being protected (the compare-and-swap fails and the work re-runs).
"""

from __future__ import annotations

import builtins
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.image import errors
from pocketstack.image.metadefs import models as m
from pocketstack.image.metadefs.records import DefinitionView, check_mutable, definition_view, load_namespace_row

D = m.MetadefDefinition


def duplicate(kind: str, name: str, namespace: str) -> errors.Conflict:
    return errors.DuplicateDefinition(kind=kind, name=name, namespace=namespace)


def not_found(kind: str, name: str, namespace: str) -> errors.NotFound:
    return errors.DefinitionNotFound(kind=kind, name=name, namespace=namespace)


def _load(s: Session, namespace_id: str, kind: str, name: str, namespace: str) -> D:
    row = s.scalar(sa.select(D).where(D.namespace_id == namespace_id, D.kind == kind, D.name == name))
    if row is None or row.name != name:  # exact match, also on case-insensitive collations
        raise not_found(kind, name, namespace)
    return row


class DefinitionCatalog:
    def __init__(self, db: Database):
        self.db = db

    def list(self, context: RequestContext, namespace: str, kind: str, paging: Paging | None = None
             ) -> list[DefinitionView]:
        with self.db.session(readonly=True) as s:
            ns = load_namespace_row(s, context, namespace)
            stmt = sa.select(D).where(D.namespace_id == ns.id, D.kind == kind)
            if paging is None:
                stmt = stmt.order_by(D.name)
            else:
                marker = _load(s, ns.id, kind, paging.marker, namespace) if paging.marker else None
                stmt = apply_paging(stmt, D, paging, marker)
            return [definition_view(r) for r in s.scalars(stmt)]

    def get(self, context: RequestContext, namespace: str, kind: str, name: str) -> DefinitionView:
        with self.db.session(readonly=True) as s:
            ns = load_namespace_row(s, context, namespace)
            return definition_view(_load(s, ns.id, kind, name, namespace))

    def create(self, context: RequestContext, namespace: str, kind: str, name: str,
               body: dict[str, Any]) -> DefinitionView:
        now = utcnow()

        def work(s: Session) -> DefinitionView:
            ns = load_namespace_row(s, context, namespace)
            check_mutable(context, ns)
            row = D(id=str(uuid.uuid4()), namespace_id=ns.id, kind=kind, name=name, body=body,
                    created_at=now, updated_at=now)
            s.add(row)
            s.flush()
            return definition_view(row)

        return self._inserting(context, namespace, kind, name, work)

    def update(self, context: RequestContext, namespace: str, kind: str, name: str, new_name: str,
               body: dict[str, Any]) -> DefinitionView:
        """Replace the definition ``name`` with ``body``, renaming it to ``new_name``."""
        def work(s: Session) -> DefinitionView:
            ns = load_namespace_row(s, context, namespace)
            check_mutable(context, ns)
            row = _load(s, ns.id, kind, name, namespace)
            now = utcnow()
            # A PUT replaces the whole definition: the guard is only that the row still
            # has the name it was found by.
            cas_update(s, D, where={"id": row.id, "name": row.name},
                       values={"name": new_name, "body": body, "updated_at": now})
            return DefinitionView(kind, new_name, body, row.created_at, now)

        return self._inserting(context, namespace, kind, new_name, work)

    def _inserting(self, context: RequestContext, namespace: str, kind: str, name: str, work):
        try:
            return run_in_transaction(self.db, work)
        except sa_exc.IntegrityError:
            with self.db.session(readonly=True) as s:
                load_namespace_row(s, context, namespace)  # 404 if it was deleted meanwhile
            raise duplicate(kind, name, namespace) from None

    def delete(self, context: RequestContext, namespace: str, kind: str, name: str) -> None:
        def work(s: Session) -> None:
            ns = load_namespace_row(s, context, namespace)
            check_mutable(context, ns)
            row = _load(s, ns.id, kind, name, namespace)
            s.execute(sa.delete(D).where(D.id == row.id))

        run_in_transaction(self.db, work)

    def delete_all(self, context: RequestContext, namespace: str, kind: str) -> None:
        def work(s: Session) -> None:
            ns = load_namespace_row(s, context, namespace)
            check_mutable(context, ns)
            self._unprotected(s, ns)
            s.execute(sa.delete(D).where(D.namespace_id == ns.id, D.kind == kind))

        run_in_transaction(self.db, work)

    def replace_tags(self, context: RequestContext, namespace: str, names: builtins.list[str], *, append: bool
                     ) -> builtins.list[DefinitionView]:
        """Create the tags ``names`` at once: replacing every existing tag, or added to
        them with ``append`` (409 if one exists or ``names`` repeats one)."""
        if len(set(names)) != len(names):
            raise errors.DuplicateTagsInRequest()
        now = utcnow()

        def work(s: Session) -> list[DefinitionView]:
            ns = load_namespace_row(s, context, namespace)
            check_mutable(context, ns)
            if not append:
                s.execute(sa.delete(D).where(D.namespace_id == ns.id, D.kind == "tag"))
            rows = [D(id=str(uuid.uuid4()), namespace_id=ns.id, kind="tag", name=n, body={},
                      created_at=now, updated_at=now) for n in names]
            s.add_all(rows)
            s.flush()
            return [definition_view(r) for r in rows]

        return self._inserting(context, namespace, "tag", ", ".join(names), work)

    @staticmethod
    def _unprotected(s: Session, ns: m.MetadefNamespace) -> None:
        """403 while ``ns`` is protected; bumps its generation so that a concurrent
        (un)protect and this bulk delete serialise."""
        if ns.protected:
            raise errors.NamespaceDefinitionsProtected(namespace=ns.namespace)
        cas_update(s, m.MetadefNamespace, where={"id": ns.id, "generation": ns.generation},
                   values={"generation": ns.generation + 1})
