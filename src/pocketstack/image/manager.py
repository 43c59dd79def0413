"""The Image service's logic; also its in-process interface for other services
(:class:`~pocketstack.image.contract.ImageContract`).

Compute (snapshots, booting) and volume (volumes from images) call the manager as
``cloud.image`` directly instead of going through HTTP::

    images = cloud.image
    image = images.get_image(context, image_id)            # ImageView, 404 if not visible
    image = images.create_image(context, name="snap", disk_format="qcow2",
                                container_format="bare", visibility="private",
                                tags=["snapshot"], instance_uuid=server_id)
    image = images.upload(context, image.id, chunk_iterator)  # queued -> saving -> active
    image, chunks = images.open_data(context, image.id)      # iterate bytes (offset/length)
    images.members.add_member(context, image.id, project_id)  # share (shared images)
    images.delete_image(context, image.id)
    images.discard_unfinished_snapshot(image_id, server_id)  # compute's crash recovery

The metadata definitions catalog (metadefs) hangs off the manager too:
``images.namespaces`` (namespaces, resource types and their associations) and
``images.definitions`` (the objects, properties and tags inside a namespace);
``images.tasks`` runs image tasks (import from a URL); ``images.importer`` stages data
and runs interoperable imports (``glance-direct``, ``web-download``).

``context`` is a :class:`~pocketstack.common.context.RequestContext` (use
``RequestContext.admin()`` for the cloud's own work; an image's ``owner`` defaults to the
context's project, so pass ``owner=`` when creating with a project-less context —
owner-less images are visible to everyone, as in Glance).  The manager enforces Glance's
visibility and ownership rules and its state machine; API policy rules are the API
layer's job.  Errors are the named errors of :mod:`pocketstack.image.errors` (NotFound,
Forbidden, Conflict, … subclasses).  Every method is synchronous and blocking: call it from a
worker thread, never the event loop.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import ConcurrentUpdate, cas_update, run_in_transaction
from pocketstack.common.faults import NO_FAULTS, FailPoints
from pocketstack.common.pagination import apply_paging
from pocketstack.image import access, attributes, errors
from pocketstack.image import models as m
from pocketstack.image.data import ImageData
from pocketstack.image.import_filter import GLANCE_DEFAULTS, ImportFilter
from pocketstack.image.importing import ImageImporter
from pocketstack.image.listing import ImageQuery
from pocketstack.image.members import MemberManager
from pocketstack.image.metadefs.definitions import DefinitionCatalog
from pocketstack.image.metadefs.namespaces import NamespaceCatalog
from pocketstack.image.records import Change, ImageView, load_view, load_views
from pocketstack.image.schemas import BASE_ATTRIBUTES
from pocketstack.image.stores.catalog import StoreCatalog
from pocketstack.image.stores.file import FileStore
from pocketstack.image.tasks import TaskManager

MAX_TAGS = 128
MAX_PROPERTIES = 128


def bump(session: Session, image: ImageView, **values) -> None:
    """CAS-update ``image``'s row from the generation it was read at."""
    values.setdefault("updated_at", utcnow())
    cas_update(session, m.Image, where={"id": image.id, "generation": image.generation},
               values={**values, "generation": image.generation + 1})


def _check_tag(tag: str) -> None:
    if not isinstance(tag, str) or len(tag) > 255:
        raise errors.InvalidTag()


class ImageManager:
    def __init__(self, db: Database, store: StoreCatalog | FileStore, staging: FileStore,
                 allowed: ImportFilter = GLANCE_DEFAULTS, faults: FailPoints = NO_FAULTS,
                 catalogs: Callable[[str | None], list[dict]] = lambda project: []):
        self.db = db
        if isinstance(store, FileStore):
            store = StoreCatalog.single(store)
        self.store = store
        self.members = MemberManager(db)
        self.data = ImageData(db, store)
        self.namespaces = NamespaceCatalog(db)
        self.definitions = DefinitionCatalog(db)
        self.tasks = TaskManager(db, self, store.node)
        self.importer = ImageImporter(db, store, staging, allowed, faults=faults, catalogs=catalogs)

    # -- reading ---------------------------------------------------------------------
    def get_image(self, context: RequestContext, image_id: str) -> ImageView:
        with self.db.session(readonly=True) as s:
            return access.check_visible(s, context, load_view(s, image_id))

    def policy_target(self, context: RequestContext, image: ImageView) -> dict[str, Any]:
        with self.db.session(readonly=True) as s:
            return access.policy_target(s, context, image)

    def list_images(self, context: RequestContext, query: ImageQuery) -> list[ImageView]:
        with self.db.session(readonly=True) as s:
            visible = access.list_condition(context, query.visibility, query.member_status)
            marker = None
            if query.paging.marker:
                marker = s.get(m.Image, query.paging.marker)
                if marker is None or not s.scalar(sa.select(sa.literal(True)).where(
                        m.Image.id == marker.id, visible)):
                    raise errors.InvalidMarker(marker=query.paging.marker)
            stmt = sa.select(m.Image).where(visible, *query.conditions)
            rows = list(s.scalars(apply_paging(stmt, m.Image, query.paging, marker)))
            return load_views(s, rows)

    # -- creating and changing -------------------------------------------------------
    def create_image(self, context: RequestContext, /, **props: Any) -> ImageView:
        """Register an image (status ``queued``).  Base attributes and free-form string
        properties are given alike, as in Glance's POST body; ``tags`` is a list."""
        for name in props:
            attributes.check_name(name, allow_id=True)
        attributes.check_values(props)
        tags = sorted(set(props.pop("tags", None) or []))
        if len(tags) > MAX_TAGS:
            raise errors.TooManyTags(count=len(tags), limit=MAX_TAGS)
        base = {k: props.pop(k) for k in list(props) if k in BASE_ATTRIBUTES}
        if len(props) > MAX_PROPERTIES:
            raise errors.TooManyProperties(count=len(props), limit=MAX_PROPERTIES)
        now = utcnow()
        row = m.Image(id=base.pop("id", None) or str(uuid.uuid4()), status="queued",
                      visibility=base.pop("visibility", "shared"),
                      owner=base.pop("owner", context.project_id),
                      protected=bool(base.pop("protected", False)), os_hidden=bool(base.pop("os_hidden", False)),
                      min_disk=base.pop("min_disk", 0) or 0, min_ram=base.pop("min_ram", 0) or 0,
                      generation=0, created_at=now, updated_at=now, **base)
        try:
            with self.db.session() as s:
                s.add(row)
                s.flush()
                s.add_all([m.ImageProperty(image_id=row.id, name=k, value=v) for k, v in props.items()])
                s.add_all([m.ImageTag(image_id=row.id, value=t) for t in tags])
        except sa_exc.IntegrityError:
            raise errors.DuplicateImage(image_id=row.id) from None
        return self.get_image(context, row.id)

    def update_image(self, context: RequestContext, image_id: str, changes: Iterable[Change]) -> ImageView:
        """Apply JSON-patch ``changes`` atomically (all or nothing, CAS-guarded)."""
        changes = list(changes)

        def work(s: Session) -> None:
            image = access.check_visible(s, context, load_view(s, image_id))
            access.check_mutable(context, image)
            base: dict[str, Any] = {}
            props = dict(image.properties)
            tags: list[str] | None = None
            for change in changes:
                if change.add_only_new and (change.name in attributes.WRITABLE_BASE or change.name == "tags"
                                            or change.name in props):
                    raise errors.PropertyAlreadyPresent(name=change.name)
                if change.name == "tags":
                    if change.op == "remove":
                        raise errors.PropertyNotRemovable(name="tags")
                    tags = sorted(set(change.value))
                elif change.name in attributes.WRITABLE_BASE:
                    if change.op == "remove":
                        raise errors.PropertyNotRemovable(name=change.name)
                    base[change.name] = change.value
                elif change.op == "add":
                    props[change.name] = change.value
                elif change.name not in props:
                    raise errors.PropertyMissing(name=change.name)
                elif change.op == "replace":
                    props[change.name] = change.value
                else:
                    del props[change.name]
            self._check_update(context, image, base, props, tags)
            bump(s, image, **base)
            self._store_properties(s, image, props)
            if tags is not None:
                self._store_tags(s, image, tags)

        run_in_transaction(self.db, work)
        return self.get_image(context, image_id)

    @staticmethod
    def _check_update(context: RequestContext, image: ImageView, base: dict, props: dict,
                      tags: list[str] | None) -> None:
        for key in ("container_format", "disk_format"):
            if key in base and base[key] != getattr(image, key) and image.status not in ("queued", "importing"):
                raise errors.QueuedOnlyAttribute(name=key)
        if "owner" in base and base["owner"] != image.owner and not context.is_admin:
            raise errors.OwnerChangeForbidden()
        if len(props) > MAX_PROPERTIES:
            raise errors.TooManyProperties(count=len(props), limit=MAX_PROPERTIES)
        if tags is not None:
            for tag in tags:
                _check_tag(tag)
            if len(tags) > MAX_TAGS:
                raise errors.TooManyTags(count=len(tags), limit=MAX_TAGS)

    @staticmethod
    def _store_properties(s: Session, image: ImageView, props: dict[str, str]) -> None:
        old = image.properties
        stale = [k for k in old if k not in props or old[k] != props[k]]
        if stale:
            s.execute(sa.delete(m.ImageProperty).where(m.ImageProperty.image_id == image.id,
                                                       m.ImageProperty.name.in_(stale)))
        s.add_all([m.ImageProperty(image_id=image.id, name=k, value=v)
                   for k, v in props.items() if old.get(k) != v])

    @staticmethod
    def _store_tags(s: Session, image: ImageView, tags: list[str]) -> None:
        gone = [t for t in image.tags if t not in tags]
        if gone:
            s.execute(sa.delete(m.ImageTag).where(m.ImageTag.image_id == image.id, m.ImageTag.value.in_(gone)))
        s.add_all([m.ImageTag(image_id=image.id, value=t) for t in tags if t not in image.tags])

    def add_tag(self, context: RequestContext, image_id: str, tag: str) -> None:
        _check_tag(tag)

        def work(s: Session) -> None:
            image = access.check_visible(s, context, load_view(s, image_id))
            access.check_mutable(context, image)
            if tag in image.tags:
                return
            if len(image.tags) >= MAX_TAGS:
                raise errors.TagLimitReached(limit=MAX_TAGS)
            bump(s, image)
            self._store_tags(s, image, image.tags + [tag])

        run_in_transaction(self.db, work)

    def delete_tag(self, context: RequestContext, image_id: str, tag: str) -> None:
        def work(s: Session) -> None:
            image = access.check_visible(s, context, load_view(s, image_id))
            access.check_mutable(context, image)
            if tag not in image.tags:
                raise errors.TagNotFound(tag=tag, image_id=image_id)
            bump(s, image)
            self._store_tags(s, image, [t for t in image.tags if t != tag])

        run_in_transaction(self.db, work)

    def _transition(self, context: RequestContext, image_id: str, action: str, source: str, target: str) -> None:
        def work(s: Session) -> None:
            image = access.check_visible(s, context, load_view(s, image_id))
            access.check_mutable(context, image)
            if image.status == target:
                return
            if image.status != source:
                raise errors.InvalidImageTransition(action=action, image_status=image.status)
            bump(s, image, status=target)

        run_in_transaction(self.db, work)

    def deactivate(self, context: RequestContext, image_id: str) -> None:
        self._transition(context, image_id, "deactivate", "active", "deactivated")

    def reactivate(self, context: RequestContext, image_id: str) -> None:
        self._transition(context, image_id, "reactivate", "deactivated", "active")

    def delete_image(self, context: RequestContext, image_id: str) -> None:
        """Delete the image and its data.  An upload still running notices (its final
        compare-and-swap finds no row), answers 410 and removes what it wrote."""
        def work(s: Session) -> str | None:
            image = access.check_visible(s, context, load_view(s, image_id))
            access.check_mutable(context, image)
            if image.protected:
                raise errors.ImageProtected(image_id=image_id)
            result = s.execute(sa.delete(m.Image).where(m.Image.id == image.id,
                                                        m.Image.generation == image.generation))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for DML
                raise ConcurrentUpdate(f"image {image.id} changed while being deleted")
            return image.location

        location = run_in_transaction(self.db, work)
        if location:  # committed or staged data: each store ignores the other's locations
            self.importer.staging.delete(location)
        self.store.purge(image_id)  # the copies in every store

    def delete_from_store(self, context: RequestContext, store_id: str, image_id: str) -> None:
        """Remove the image's copy in ``store_id`` (Glance's ``DELETE
        /v2/stores/{store_id}/{image_id}``); never its last copy.  Reads move to the
        copy of the highest-weight store left."""
        if self.store.get(store_id) is None:
            raise errors.StoreNotOnNode(store=store_id)

        def work(s: Session) -> None:
            image = access.check_visible(s, context, load_view(s, image_id))
            access.check_mutable(context, image)
            if image.status != "active":
                raise errors.DeleteFromStoreNotActive()
            present = self.store.holding(image.stores, image.location)
            if len(present) <= 1:
                raise errors.DeleteLastStore()
            if store_id not in present:
                raise errors.ImageNotInStore(image_id=image_id, store=store_id)
            left = [i for i in present if i != store_id]
            location = image.location
            if location == self.store.location_in(store_id, image_id):
                location = self.store.location_in(left[0], image_id)
            bump(s, image, stores=",".join(left), location=location)

        run_in_transaction(self.db, work)
        self.store.delete(self.store.location_in(store_id, image_id))

    def unfinished_snapshots(self, instance_id: str) -> list[str]:
        """Ids of the snapshot images of ``instance_id`` whose data never arrived."""
        with self.db.session(readonly=True) as s:
            return list(s.scalars(
                sa.select(m.Image.id).join(m.ImageProperty, m.ImageProperty.image_id == m.Image.id)
                .where(m.ImageProperty.name == "instance_uuid", m.ImageProperty.value == instance_id,
                       m.Image.status.in_(("queued", "saving", "killed")))))

    def discard_unfinished_snapshot(self, image_id: str, instance_id: str) -> bool:
        """Delete the snapshot image of ``instance_id`` if its data never arrived
        (``queued``, ``saving`` or ``killed``); True if it was deleted.

        For compute's crash recovery: a snapshot interrupted by a restart leaves its
        image without data, and Nova deletes such an image rather than leave it queued.
        An image that is active, protected, or not that instance's snapshot (its
        ``instance_uuid`` property) is left alone.  An upload still running answers 410
        and removes what it wrote, as with any delete.
        """
        def work(s: Session) -> tuple[bool, str | None]:
            row = s.get(m.Image, image_id)
            if row is None or row.status not in ("queued", "saving", "killed") or row.protected:
                return False, None
            owner = s.get(m.ImageProperty, (image_id, "instance_uuid"))
            if owner is None or owner.value != instance_id:
                return False, None
            result = s.execute(sa.delete(m.Image).where(m.Image.id == image_id,
                                                        m.Image.generation == row.generation))
            if result.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for DML
                raise ConcurrentUpdate(f"image {image_id} changed while being discarded")
            return True, row.location

        deleted, location = run_in_transaction(self.db, work)
        if location:
            self.store.delete(location)
        return deleted

    # -- data ------------------------------------------------------------------------
    def upload(self, context: RequestContext, image_id: str, chunks: Iterable[bytes]) -> ImageView:
        """Store the image's data from ``chunks`` (queued -> saving -> active) in the
        default store; on any failure the image is ``killed`` and the partial data removed."""
        upload = self.data.begin(context, image_id)
        try:
            for chunk in chunks:
                upload.write(chunk)
        except BaseException:
            self.data.fail(upload)
            raise
        return self.data.finish(context, upload)

    def open_data(self, context: RequestContext, image_id: str, offset: int = 0,
                  length: int | None = None) -> tuple[ImageView, Iterator[bytes] | None]:
        """``(image, chunk_iterator)`` for the image's bytes from ``offset``; the iterator
        is None when the image has no data."""
        return self.data.open(context, image_id, offset, length)
