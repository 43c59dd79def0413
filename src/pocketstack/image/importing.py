"""Interoperable image import (Glance's ``/v2/images/{id}/stage`` and ``…/import``):
the methods ``glance-direct`` (data staged first), ``web-download`` (data fetched from a
URL), ``glance-download`` (from a region's Image service, :mod:`.glance_download`) and,
with several stores, ``copy-image``.

States, as Glance's::

    queued --stage--> uploading (staging) --staged--> uploading
      |                                       |
      +------- web-download import -----------+-- glance-direct import --> importing
                                                                            |
                            active <-- data in the store, task success -----+
                            queued <-- any failure, task failure ----------+

Staged data lives in a second file store, the *staging area* (``<data_dir>/image-staging``,
Glance's ``node_staging_uri``); while it is being written the image row holds the
upload's id, and the staging node in ``upload_node``.  An import creates an
``api_image_import`` task and moves the image to ``importing`` in one transaction,
with the task's id as the image's ``upload_id`` and the ``os_glance_import_task`` lock
property, as Glance shows it; a worker thread copies the data (staged file or URL) into
the store while hashing it, and ends image and task together in one transaction
(:mod:`.import_job`).
Every change is a compare-and-swap on the rows.  At start-up a node returns its
interrupted stagings to ``queued``, runs again its pending imports and fails those it
was running (image back to ``queued``), and removes staged files of images that no
longer wait for an import.

With one store, Glance ignores ``stores``, ``all_stores`` and ``X-Image-Meta-Store``,
refuses ``all_stores_must_succeed: false``, and keeps ``os_glance_importing_to_stores``
and ``os_glance_failed_import`` empty strings; so does this module.

With named stores (:mod:`.stores.catalog`) an import writes the data into each target
store in turn (the first from the source, the others copied from the first): the image's
``os_glance_importing_to_stores`` lists the stores still to do, a store that fails goes
to ``os_glance_failed_import``.  With ``all_stores_must_succeed`` (the default) any
failure fails the import (the copies written are removed); without it the import fails
only when no store got the data.  The ``copy-image`` method copies an ``active``
image's data into more stores, the image staying ``active`` and the new stores joining
its ``stores`` when the task ends.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urljoin

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import RetriesExhausted, cas_update, run_in_transaction
from pocketstack.common.faults import NO_FAULTS, FailPoints
from pocketstack.image import access, errors, glance_download
from pocketstack.image import models as m
from pocketstack.image.data import SIZE_CAP, Upload, claim_queued, end_upload
from pocketstack.image.import_filter import ImportFilter
from pocketstack.image.import_job import CHUNK, COPY, FAILED, IMPORTING, LOCK, ImportJob, set_properties
from pocketstack.image.records import ImageView, load_view
from pocketstack.image.stores import Store
from pocketstack.image.stores.catalog import StoreCatalog
from pocketstack.image.tasks import move_task, view

LOG = logging.getLogger(__name__)
METHODS = ("glance-direct", "web-download", glance_download.METHOD)
TASK_TYPE = "api_image_import"
FETCH_TIMEOUT = 30.0  # seconds, for each of connect, read, write and pool
MAX_REDIRECTS = 5


def methods(catalog: StoreCatalog) -> tuple[str, ...]:
    """The import methods this site offers (``copy-image`` needs several stores)."""
    return METHODS + (COPY,) if catalog.multiple else METHODS


def check_request(body: Any, offered: tuple[str, ...] = METHODS) -> str:
    """The import method of an import request body; 400 as Glance's deserializer."""
    if not isinstance(body, dict):
        raise errors.BodyNotObject()
    method = body.get("method")
    if method is None:
        raise errors.ImportMethodMissing()
    if not isinstance(method, dict) or "name" not in method:
        raise errors.ImportNameMissing()
    if method["name"] not in offered:
        raise errors.UnknownImportMethod(name=method["name"])
    for flag in ("all_stores_must_succeed", "all_stores"):
        if flag in body and not isinstance(body[flag], bool):
            raise errors.ImportFlagNotBoolean(name=flag)
    if "stores" in body and (not isinstance(body["stores"], list)
                             or not all(isinstance(i, str) for i in body["stores"])):
        raise errors.StoresNotList()
    return method["name"]


def check_importable(image: ImageView, method: str) -> None:
    """409 unless ``image`` can be imported into with ``method`` (Glance's order)."""
    if method == COPY:
        if image.status != "active":
            raise errors.CopyNeedsActive()
        if LOCK in image.properties:
            raise errors.ImageHasActiveTask()
        return
    if image.status == "active":
        raise errors.ImportActiveImage()
    if method in ("web-download", glance_download.METHOD) and image.status != "queued":
        raise errors.ImportNeedsQueued(method=method)
    if method == "glance-direct" and (image.status != "uploading" or image.upload_id is not None):
        raise errors.ImportNeedsStaging()
    for name in ("container_format", "disk_format"):
        if not getattr(image, name):
            raise errors.ImportNeedsFormat(name=name)


def target_stores(catalog: StoreCatalog, image: ImageView, body: dict[str, Any],
                  header: str | None) -> list[str | None]:
    """The stores an import writes to (Glance's ``get_stores_from_request``, then for
    ``copy-image`` without the stores already holding the image); ``[None]`` with one
    store.  An empty list: a copy to all stores the image is already in (nothing to do)."""
    if not catalog.multiple:
        return [None]
    if body.get("all_stores", False):
        if "stores" in body or header is not None:
            raise errors.AllStoresWithStores()
        wanted = [s.id for s in catalog.ordered]
    elif "stores" in body:
        if header is not None:
            raise errors.StoresWithHeader()
        wanted = list(dict.fromkeys(body["stores"]))
    else:
        wanted = [header or catalog.default_id]
    for store_id in wanted:
        if catalog.get(store_id) is None:
            raise errors.UnknownImportStore(store=store_id)
    if body["method"]["name"] == COPY:
        present = catalog.holding(image.stores, image.location)
        if not body.get("all_stores", False):
            for store_id in wanted:
                if store_id in present:
                    raise errors.AlreadyInStore(store=store_id)
        wanted = [s for s in wanted if s not in present]
    return list(wanted)


def fetch(url: str, allowed: ImportFilter, headers: dict[str, str] | None = None) -> Iterator[bytes]:
    """The bytes at ``url``, following redirects whose targets pass the filter too."""
    import httpx  # only web-download imports need it (a tenth of a second of start-up otherwise)

    with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=False, headers=headers) as client:
        for _ in range(MAX_REDIRECTS + 1):
            with client.stream("GET", url) as response:
                if response.is_redirect:
                    url = urljoin(url, response.headers["location"])
                    if not allowed.allows(url):
                        raise errors.ImportUriFiltered(uri=url)
                    continue
                response.raise_for_status()
                yield from response.iter_bytes(CHUNK)
                return
    raise errors.ImportTooManyRedirects(uri=url)


class ImageImporter:
    """Stages data and runs imports.  ``store`` holds active images' data (one or several
    named stores), ``staging`` is the staging area; ``fetcher(url, filter)`` yields a
    URL's bytes."""

    def __init__(self, db: Database, store: StoreCatalog, staging: Store, allowed: ImportFilter,
                 fetcher: Callable[..., Iterator[bytes]] = fetch, size_cap: int = SIZE_CAP,
                 faults: FailPoints = NO_FAULTS, catalogs: Callable[[str | None], list[dict]] = lambda project: []):
        self.db, self.store, self.staging, self.allowed = db, store, staging, allowed
        # The service catalog a project's token shows (glance-download finds its source
        # there), and the callers' tokens of the glance-download tasks not yet started
        # (in memory only: a restart fails those tasks).
        self.catalogs = catalogs
        self.tokens: dict[str, str | None] = {}
        self.faults = faults  # fault injection's fail points (an import is one)
        self.node = store.node  # the process running the tasks it creates
        self.fetcher, self.size_cap = fetcher, size_cap
        self.methods = methods(store)
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="image-import")

    # -- staging ---------------------------------------------------------------------
    def begin_stage(self, context: RequestContext, image_id: str) -> Upload:
        """Move the image ``queued -> uploading`` (committed) and open a staging sink."""
        upload_id = claim_queued(self.db, context, image_id, "uploading", self.staging.node,
                                 errors.InvalidStageTransition)
        try:
            sink = self.staging.open_sink(image_id, upload_id)
        except BaseException:
            self._unstage(image_id, upload_id)
            raise
        return Upload(image_id, upload_id, sink, self.size_cap)

    def finish_stage(self, upload: Upload) -> None:
        """Keep the staged data: the image stays ``uploading``, with its size, ready for
        a glance-direct import; 410 if it was deleted meanwhile."""
        try:
            location = upload.sink.commit()
        except BaseException:
            self.fail_stage(upload)
            raise

        def work(s: Session) -> bool:
            row = s.get(m.Image, upload.image_id)
            if row is None or row.status != "uploading" or row.upload_id != upload.upload_id:
                return False
            cas_update(s, m.Image, where={"id": row.id, "generation": row.generation, "upload_id": upload.upload_id},
                       values={"upload_id": None, "size": upload.size, "location": location,
                               "generation": row.generation + 1, "updated_at": utcnow()})
            return True

        if not run_in_transaction(self.db, work):
            self.staging.delete(location)
            raise errors.ImageDeletedDuringUpload(image_id=upload.image_id)

    def fail_stage(self, upload: Upload) -> None:
        """Staging broke: drop the partial data, the image goes back to ``queued``."""
        upload.sink.abort()
        self._unstage(upload.image_id, upload.upload_id)

    def _unstage(self, image_id: str, upload_id: str) -> None:
        try:
            end_upload(self.db, image_id, upload_id, "uploading", "queued")
        except Exception:  # the original failure matters more; recovery will retry
            LOG.exception("could not return image %s to queued", image_id)

    # -- importing -------------------------------------------------------------------
    def start(self, context: RequestContext, image_id: str, body: dict[str, Any],
              stores: list[str | None] | None = None) -> str:
        """Create the import task into ``stores`` (see :func:`target_stores`; the
        default store when None) and mark the image (one transaction): ``importing``, or
        for ``copy-image`` still ``active`` with the task's lock.  The copy runs in the
        background.  Returns the task's id."""
        method = check_request(body, self.methods)
        targets = stores or [self.store.default_id if self.store.multiple else None]
        task_id = str(uuid.uuid4())

        def work(s: Session) -> None:
            image = access.check_visible(s, context, load_view(s, image_id))
            if method != COPY:
                access.check_mutable(context, image)
            check_importable(image, method)
            if method == glance_download.METHOD:
                glance_download.check_params(body["method"])
            now = utcnow()
            s.add(m.ImageTask(id=task_id, type=TASK_TYPE, status="pending", owner=context.project_id,
                              input={"image_id": image_id, "import_req": body, "backend": targets},
                              result=None, message="", node=self.node, generation=0, created_at=now,
                              updated_at=now, image_id=image_id, request_id=context.request_id,
                              user_id=context.user_id))
            values: dict[str, Any] = {"updated_at": now, "generation": image.generation + 1}
            if method != COPY:
                values.update(status="importing", upload_id=task_id, upload_node=self.node)
            cas_update(s, m.Image, where={"id": image.id, "generation": image.generation}, values=values)
            named = [t for t in targets if t]
            set_properties(s, image_id, {LOCK: task_id, IMPORTING: ",".join(named), FAILED: ""})

        run_in_transaction(self.db, work)
        if method == glance_download.METHOD:
            self.tokens[task_id] = context.auth_token
        self.executor.submit(self.run, task_id)
        return task_id

    def run(self, task_id: str) -> None:
        """Run a pending import to its end (in a worker thread)."""
        try:
            if not run_in_transaction(self.db, lambda s: move_task(s, task_id, "pending", status="processing")):
                return
            with self.db.session(readonly=True) as s:
                task = view(s.get_one(m.ImageTask, task_id))
        except Exception:
            LOG.exception("import task %s could not start", task_id)
            return
        image_id = task.image_id or ""
        job = ImportJob(self, task_id, image_id, task.input, task.owner)
        try:
            job.run()
        except Exception as error:
            job.discard()
            message = error.message if isinstance(error, errors.ApiError) else f"{type(error).__name__}: {error}"
            LOG.warning("import task %s of image %s failed: %s", task_id, image_id, message)
            try:
                self._fail(task_id, image_id, message, job.copy, job.failed)
            except Exception:  # left processing: the next start-up fails it
                LOG.exception("import task %s could not be marked failed", task_id)

    def _fail(self, task_id: str, image_id: str, message: str, copy: bool = False,
              failed: list[str] | None = None) -> None:
        """The image goes back to ``queued`` without data (staged data removed) -- or,
        for ``copy-image``, stays as it is without the task's lock -- and the task to
        ``failure``: one transaction."""
        def work(s: Session) -> str | None:
            row = s.get(m.Image, image_id)
            staged = None
            lock = s.get(m.ImageProperty, (image_id, LOCK))
            progress = {LOCK: None, IMPORTING: "", FAILED: ",".join(failed or [])}
            if row is not None and copy and lock is not None and lock.value == task_id:
                cas_update(s, m.Image, where={"id": row.id, "generation": row.generation},
                           values={"generation": row.generation + 1, "updated_at": utcnow()})
                set_properties(s, row.id, progress)
            elif row is not None and row.status == "importing" and row.upload_id == task_id:
                staged = row.location
                cas_update(s, m.Image, where={"id": row.id, "generation": row.generation},
                           values={"status": "queued", "size": None, "location": None, "upload_id": None,
                                   "upload_node": None, "generation": row.generation + 1, "updated_at": utcnow()})
                set_properties(s, row.id, progress if self.store.multiple else {LOCK: None})
            move_task(s, task_id, "processing", status="failure", message=message)
            return staged

        staged = run_in_transaction(self.db, work)
        if staged:
            self.staging.delete(staged)

    # -- start-up recovery -----------------------------------------------------------
    def recover(self) -> None:
        """Stagings this node was writing go back to ``queued``; its pending imports run
        again, those it was running fail; staged files nobody waits for are removed."""
        with self.db.session(readonly=True) as s:
            stuck = list(s.execute(sa.select(m.Image.id, m.Image.upload_id).where(
                m.Image.status == "uploading", m.Image.upload_node == self.staging.node,
                m.Image.upload_id.is_not(None))))
            tasks = list(s.execute(sa.select(m.ImageTask.id, m.ImageTask.status, m.ImageTask.image_id,
                                             m.ImageTask.input).where(
                m.ImageTask.node == self.node, m.ImageTask.type == TASK_TYPE,
                m.ImageTask.status.in_(("pending", "processing")))))
        for image_id, upload_id in stuck:
            self._unstage(image_id, upload_id)
            LOG.warning("image %s: staging interrupted by a restart; back to queued", image_id)
        for task_id, status, image_id, task_input in tasks:
            if status == "pending":
                self.executor.submit(self.run, task_id)
                continue
            LOG.warning("import task %s: interrupted by a restart; failed", task_id)
            try:
                self._fail(task_id, image_id or "", "The import was interrupted by a restart of the image service.",
                           _method(task_input) == COPY)
            except RetriesExhausted:
                LOG.error("import task %s kept changing during recovery; left processing", task_id)
        self.staging.discard_partials()
        with self.db.session(readonly=True) as s:
            waiting = set(s.scalars(sa.select(m.Image.id).where(m.Image.status.in_(("uploading", "importing")))))
        self.staging.discard_orphans(waiting)

    def stop(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _method(task_input: Any) -> str | None:
    """The import method a task's input asked for."""
    return ((task_input or {}).get("import_req") or {}).get("method", {}).get("name")
