"""Image data: the upload state machine, downloads and crash recovery.

Upload states: ``queued -> saving -> active``; on failure ``saving -> killed`` with the
partial data removed.  Every transition is a compare-and-swap on the image row and the
``saving`` state is committed (with the upload's id and this store node) *before* the
first byte is read, so two concurrent uploads cannot both proceed (the loser gets 409)
and a node that crashes mid-upload finds its ``saving`` images at start-up and returns
them to ``queued`` (the client's request died with the process; it may upload again).
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterator

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import RetriesExhausted, cas_update, run_in_transaction
from pocketstack.image import access, errors
from pocketstack.image import models as m
from pocketstack.image.records import ImageView, load_view
from pocketstack.image.stores import Sink, StoreNotFound
from pocketstack.image.stores.catalog import StoreCatalog

LOG = logging.getLogger(__name__)
# Glance's image_size_cap default: 1 TiB.
SIZE_CAP = 1 << 40
HASH_ALGO = "sha512"


class Upload:
    """One upload in progress: writes to the store's sink while hashing (blocking; run
    it in a worker thread)."""

    def __init__(self, image_id: str, upload_id: str, sink: Sink, size_cap: int, store_id: str | None = None):
        self.image_id, self.upload_id, self.sink = image_id, upload_id, sink
        self.store_id = store_id  # the named store written to (None: the single store)
        self.size = 0
        self.size_cap = size_cap
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.hash = hashlib.new(HASH_ALGO)

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.size_cap:
            raise errors.ImageTooLarge(cap=self.size_cap)
        self.md5.update(data)
        self.hash.update(data)
        self.sink.write(data)


def claim_queued(db: Database, context: RequestContext, image_id: str, status: str, node: str,
                 refused: type[errors.ApiError]) -> str:
    """Move a ``queued`` image the caller may change to ``status`` (``saving`` for an
    upload, ``uploading`` for staging) by compare-and-swap, committed, with a fresh upload
    id and the node that will hold its bytes; ``refused`` (a 409) from another status."""
    upload_id = uuid.uuid4().hex

    def work(s: Session) -> None:
        image = access.check_visible(s, context, load_view(s, image_id))
        access.check_mutable(context, image)
        if image.status != "queued":
            raise refused(image_status=image.status)
        cas_update(s, m.Image, where={"id": image.id, "generation": image.generation, "status": "queued"},
                   values={"status": status, "upload_id": upload_id, "upload_node": node,
                           "generation": image.generation + 1, "updated_at": utcnow()})

    run_in_transaction(db, work)
    return upload_id


def end_upload(db: Database, image_id: str, upload_id: str, status: str, to: str) -> None:
    """Move the image from ``status`` to ``to`` and forget the upload -- only while it is
    still that upload's (a newer one, or a delete, wins): a broken upload (``killed``), an
    interrupted one or a broken staging (``queued``).  Retried whole on contention."""
    def work(s: Session) -> None:
        row = s.get(m.Image, image_id)
        if row is None or row.status != status or row.upload_id != upload_id:
            return
        cas_update(s, m.Image, where={"id": image_id, "generation": row.generation},
                   values={"status": to, "upload_id": None, "upload_node": None,
                           "generation": row.generation + 1, "updated_at": utcnow()})
    run_in_transaction(db, work)


class ImageData:
    def __init__(self, db: Database, store: StoreCatalog, size_cap: int = SIZE_CAP):
        self.db, self.store, self.size_cap = db, store, size_cap

    def begin(self, context: RequestContext, image_id: str, store_id: str | None = None) -> Upload:
        """Move the image to ``saving`` (committed) and open a sink for its bytes in
        ``store_id`` (a named store; the default store when None)."""
        if store_id is not None and self.store.get(store_id) is None:
            raise errors.UnknownStore(store=store_id)
        upload_id = claim_queued(self.db, context, image_id, "saving", self.store.node, errors.InvalidUploadTransition)
        try:
            sink = self.store.open_sink(image_id, upload_id, store_id)
        except BaseException:
            self._kill(image_id, upload_id)
            raise
        named = (store_id or self.store.default_id) if self.store.multiple else None
        return Upload(image_id, upload_id, sink, self.size_cap, named)

    def _saving(self, s: Session, upload: Upload) -> m.Image | None:
        row = s.get(m.Image, upload.image_id)
        if row is None or row.status != "saving" or row.upload_id != upload.upload_id:
            return None
        return row

    def finish(self, context: RequestContext, upload: Upload) -> ImageView:
        """Commit the data and move ``saving -> active``; 410 if the image was deleted
        meanwhile (the data is then removed)."""
        try:
            location = upload.sink.commit()
        except BaseException:
            self.fail(upload)
            raise

        def work(s: Session) -> bool:
            row = self._saving(s, upload)
            if row is None:
                return False
            cas_update(s, m.Image, where={"id": row.id, "generation": row.generation, "upload_id": upload.upload_id},
                       values={"status": "active", "size": upload.size, "checksum": upload.md5.hexdigest(),
                               "os_hash_algo": HASH_ALGO, "os_hash_value": upload.hash.hexdigest(),
                               "location": location, "stores": upload.store_id, "upload_id": None,
                               "upload_node": None, "generation": row.generation + 1, "updated_at": utcnow()})
            return True

        if not run_in_transaction(self.db, work):
            self.store.delete(location)
            raise errors.ImageDeletedDuringUpload(image_id=upload.image_id)
        with self.db.session(readonly=True) as s:
            return load_view(s, upload.image_id)

    def fail(self, upload: Upload) -> None:
        """The upload broke: drop the partial data and mark the image ``killed``."""
        upload.sink.abort()
        self._kill(upload.image_id, upload.upload_id)

    def _kill(self, image_id: str, upload_id: str) -> None:
        try:
            end_upload(self.db, image_id, upload_id, "saving", "killed")
        except Exception:  # the original failure matters more; recovery will retry
            LOG.exception("could not mark image %s killed", image_id)

    def open(self, context: RequestContext, image_id: str, offset: int = 0,
             length: int | None = None) -> tuple[ImageView, Iterator[bytes] | None]:
        with self.db.session(readonly=True) as s:
            image = access.check_visible(s, context, load_view(s, image_id))
        if image.status == "deactivated" and not context.is_admin:
            raise errors.ImageDeactivated()
        if image.status not in ("active", "deactivated") or not image.location:
            return image, None
        try:
            return image, self.store.read(image.location, offset, length)
        except StoreNotFound:
            LOG.error("data of image %s is missing from %s", image_id, image.location)
            return image, None

    def recover(self) -> None:
        """At start-up: uploads this node was running when it stopped go back to
        ``queued``; partial files and data of images that no longer exist are removed."""
        with self.db.session(readonly=True) as s:
            stuck = list(s.execute(sa.select(m.Image.id, m.Image.upload_id).where(
                m.Image.status == "saving", m.Image.upload_node == self.store.node)))
        for image_id, upload_id in stuck:
            try:
                end_upload(self.db, image_id, upload_id, "saving", "queued")
                LOG.warning("image %s: upload interrupted by a restart; back to queued", image_id)
            except RetriesExhausted:
                LOG.error("image %s kept changing during recovery; left in saving", image_id)
        self.store.discard_partials()
        with self.db.session(readonly=True) as s:
            known = set(s.scalars(sa.select(m.Image.id)))
        self.store.discard_orphans(known)
