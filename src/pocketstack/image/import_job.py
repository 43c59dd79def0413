"""One import task's work (:class:`~pocketstack.image.importing.ImageImporter` runs it
in a worker thread): the data into each target store in turn -- the first from the
source (staged file, URL, remote image) while hashing, the others as byte copies of the
first -- the image's progress properties after each store, and its final state (one
transaction with the task's success).  The reserved import properties live here too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.image import errors, glance_download
from pocketstack.image import models as m
from pocketstack.image.data import HASH_ALGO, Upload
from pocketstack.image.tasks import move_task

if TYPE_CHECKING:
    from pocketstack.image.importing import ImageImporter

LOG = logging.getLogger(__name__)
COPY = "copy-image"  # offered with named stores only
LOCK = "os_glance_import_task"
IMPORTING = "os_glance_importing_to_stores"
FAILED = "os_glance_failed_import"
CHUNK = 1 << 20


class ImportJob:
    """One import task's copying: the data into each target store in turn, the image's
    progress properties after each, and the image's final state."""

    def __init__(self, importer: ImageImporter, task_id: str, image_id: str, task_input: dict[str, Any],
                 owner: str | None = None):
        self.importer, self.task_id, self.image_id, self.owner = importer, task_id, image_id, owner
        request = task_input["import_req"]
        self.method = request["method"]
        self.copy = self.method["name"] == COPY
        self.must_succeed = request.get("all_stores_must_succeed", True)
        self.targets: list[str | None] = list(task_input.get("backend") or [None])
        self.written: list[tuple[str | None, str]] = []  # (store, location) this task committed
        self.failed: list[str] = []
        self.upload: Upload | None = None  # the first copy's, which hashed the data
        self.remote: glance_download.RemoteImage | None = None  # a glance-download's source
        self.token = importer.tokens.pop(task_id, None)

    def run(self) -> None:
        importer = self.importer
        source = self._source()
        importer.faults.check("image", "import")
        if self.method["name"] == glance_download.METHOD:
            self.remote = glance_download.remote_image(self.method, importer.catalogs(self.owner), self.token,
                                                       importer.allowed)
        for store_id in self.targets:
            try:
                location = self._write(store_id, source)
            except errors.ImageDeletedDuringImport:
                raise
            except Exception as error:
                if store_id is None:
                    raise
                self.failed.append(store_id)
                if self.must_succeed:
                    raise
                LOG.warning("import task %s: store %s failed: %s", self.task_id, store_id, error)
            else:
                self.written.append((store_id, location))
                if not self.copy and len(self.written) == 1:
                    source = location  # the other stores copy the first one's data
            self._progress(store_id)
        if not self.written:
            raise errors.ImportFailedEverywhere(stores=",".join(self.failed))
        staged = run_in_transaction(importer.db, self._finish)
        if staged is False:
            raise errors.ImageDeletedDuringImport()
        if isinstance(staged, str):
            importer.staging.delete(staged)

    def _source(self) -> str | None:
        """The location the data comes from: the staged data (glance-direct), the image's
        data (copy-image), None for a URL (web-download)."""
        with self.importer.db.session(readonly=True) as s:
            image = s.get(m.Image, self.image_id)
            if image is None or not self._holds(s, image):
                raise errors.ImageDeletedDuringImport()
            return None if self.method["name"] in ("web-download", glance_download.METHOD) else image.location

    def _holds(self, s: Session, row: m.Image) -> bool:
        """Whether the image is still this task's to change (not deleted, not re-locked)."""
        if not self.copy:
            return row.status == "importing" and row.upload_id == self.task_id
        lock = s.get(m.ImageProperty, (row.id, LOCK))
        return lock is not None and lock.value == self.task_id

    def _chunks(self, source: str | None) -> Iterator[bytes]:
        importer = self.importer
        if self.remote is not None and self.upload is None:
            return importer.fetcher(self.remote.file_url, importer.allowed, {"X-Auth-Token": self.token or ""})
        if source is None:
            return importer.fetcher(self.method["uri"], importer.allowed)
        if self.upload is None and not self.copy:
            return importer.staging.read(source, chunk_size=CHUNK)
        return importer.store.read(source, chunk_size=CHUNK)

    def _write(self, store_id: str | None, source: str | None) -> str:
        """Copy the data into ``store_id``; the first copy of a new image hashes it."""
        sink = self.importer.store.open_sink(self.image_id, self.task_id, store_id)
        try:
            if self.upload is None and not self.copy:
                upload = Upload(self.image_id, self.task_id, sink, self.importer.size_cap, store_id)
                for chunk in self._chunks(source):
                    upload.write(chunk)
                if self.remote is not None and upload.size != self.remote.size:
                    raise errors.GlanceDownloadSizeMismatch(task_id=self.task_id, data_size=upload.size,
                                                            expected=self.remote.size)
                location = sink.commit()
                self.upload = upload
                return location
            for chunk in self._chunks(source):
                sink.write(chunk)
            return sink.commit()
        except BaseException:
            sink.abort()
            raise

    def _progress(self, store_id: str | None) -> None:
        """``store_id`` is done: off ``os_glance_importing_to_stores`` (onto
        ``os_glance_failed_import`` if it failed)."""
        if store_id is None:
            return
        position = self.targets.index(store_id)

        def work(s: Session) -> None:
            row = s.get(m.Image, self.image_id)
            if row is None or not self._holds(s, row):
                raise errors.ImageDeletedDuringImport()
            left = [t for t in self.targets[position + 1:] if t]
            set_properties(s, row.id, {IMPORTING: ",".join(left), FAILED: ",".join(self.failed)})
            cas_update(s, m.Image, where={"id": row.id, "generation": row.generation},
                       values={"generation": row.generation + 1, "updated_at": utcnow()})

        run_in_transaction(self.importer.db, work)

    def _finish(self, s: Session) -> str | None | bool:
        """The image gets its data (``active``) or, for copy-image, its new stores; the
        task succeeds.  False if the image is no longer this task's; else the staged
        location to remove."""
        row = s.get(m.Image, self.image_id)
        if row is None or not self._holds(s, row):
            return False
        catalog = self.importer.store
        done = [store for store, _ in self.written if store]
        values: dict[str, Any] = {"generation": row.generation + 1, "updated_at": utcnow()}
        staged = None
        if self.copy:
            values["stores"] = ",".join(catalog.sort_ids(catalog.holding(row.stores, row.location) + done))
        else:
            upload = self.upload
            assert upload is not None
            first = dict(self.written)
            reads_from = first[catalog.sort_ids(done)[0]] if done else self.written[0][1]
            staged = row.location
            values.update(status="active", size=upload.size, checksum=upload.md5.hexdigest(),
                          os_hash_algo=HASH_ALGO, os_hash_value=upload.hash.hexdigest(), location=reads_from,
                          stores=",".join(catalog.sort_ids(done)) if done else None, upload_id=None,
                          upload_node=None)
        properties: dict[str, str | None] = {LOCK: None}
        if self.remote is not None:
            values.update(self.remote.attributes)
            properties.update(self.remote.properties)
        cas_update(s, m.Image, where={"id": row.id, "generation": row.generation}, values=values)
        set_properties(s, row.id, properties)
        move_task(s, self.task_id, "processing", status="success", result={"image_id": row.id})
        return staged

    def discard(self) -> None:
        """The import failed: remove the copies it wrote."""
        for _, location in self.written:
            self.importer.store.delete(location)
        self.written = []


def set_properties(s: Session, image_id: str, values: dict[str, str | None]) -> None:
    """Set (or, for None, remove) the reserved import properties of an image."""
    s.execute(sa.delete(m.ImageProperty).where(m.ImageProperty.image_id == image_id,
                                               m.ImageProperty.name.in_(list(values))))
    s.add_all([m.ImageProperty(image_id=image_id, name=k, value=v) for k, v in values.items() if v is not None])
