"""Image tasks (Glance's ``/v2/tasks``): the ``import`` task, which creates an image
from ``input.image_properties`` and fills it with the bytes at ``input.import_from``
(an http/https URL), in the background.

States: ``pending -> processing -> success | failure``.  Every transition is a
compare-and-swap on the task row (``generation`` and the status it leaves), and a task
records the process (``node``) that runs it: at start-up a node runs again its tasks
still ``pending`` and fails those it was ``processing`` when it stopped (deleting the
unfinished image they created).  A finished task expires 48 hours later, as Glance's
``task_time_to_live``; expired tasks are still listed (nothing purges them yet).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa
from sqlalchemy.orm import Session

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import utcnow
from pocketstack.common.db.cas import cas_update, run_in_transaction
from pocketstack.common.pagination import Paging, apply_paging
from pocketstack.image import errors
from pocketstack.image import models as m

LOG = logging.getLogger(__name__)
# ``api_image_import`` tasks are made by ``POST /v2/images/{id}/import`` (:mod:`.importing`),
# never through ``/v2/tasks``.
TYPES = ("import", "api_image_import")
CREATABLE_TYPES = ("import",)
STATUSES = ("pending", "processing", "success", "failure")
TIME_TO_LIVE = dt.timedelta(hours=48)
FETCH_TIMEOUT = 30.0  # seconds, for each of connect, read, write and pool
CHUNK = 1 << 20


@dataclass(frozen=True)
class TaskView:
    id: str
    type: str
    status: str
    owner: str | None
    input: dict
    result: dict | None
    message: str
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime | None
    image_id: str | None = None
    request_id: str | None = None
    user_id: str | None = None


def view(row: m.ImageTask) -> TaskView:
    return TaskView(row.id, row.type, row.status, row.owner, row.input, row.result, row.message,
                    row.created_at, row.updated_at, row.expires_at, row.image_id, row.request_id, row.user_id)


def _not_found(task_id: str) -> errors.NotFound:
    return errors.TaskNotFound(task_id=task_id)


def move_task(s: Session, task_id: str, source: str, **values) -> bool:
    """CAS ``task_id`` from status ``source`` (in session ``s``); False if it is no
    longer there.  A finished task gets its ``expires_at``."""
    row = s.get(m.ImageTask, task_id)
    if row is None or row.status != source:
        return False
    now = utcnow()
    if values.get("status") in ("success", "failure"):
        values["expires_at"] = now + TIME_TO_LIVE
    cas_update(s, m.ImageTask, where={"id": task_id, "generation": row.generation, "status": source},
               values={**values, "generation": row.generation + 1, "updated_at": now})
    return True


def check_input(task_type: str, task_input: Any) -> None:
    """400 unless ``task_input`` is what an ``import`` task needs."""
    if task_type not in CREATABLE_TYPES:
        raise errors.UnsupportedTaskType(task_type=task_type, allowed=", ".join(CREATABLE_TYPES))
    if not isinstance(task_input, dict):
        raise errors.TaskInputNotObject()
    for key in ("import_from", "import_from_format", "image_properties"):
        if key not in task_input:
            raise errors.TaskInputMissing(name=key)
    if not isinstance(task_input["image_properties"], dict):
        raise errors.TaskPropertiesNotObject()
    source = task_input["import_from"]
    parsed = urlparse(source) if isinstance(source, str) else None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise errors.TaskSourceNotHttp()


def fetch(url: str) -> Iterator[bytes]:
    """The bytes at ``url`` (following redirects); raises on any HTTP or network error."""
    import httpx  # only import tasks need it, not the start of every cloud

    with httpx.stream("GET", url, timeout=FETCH_TIMEOUT, follow_redirects=True) as response:
        response.raise_for_status()
        yield from response.iter_bytes(CHUNK)


class TaskManager:
    """Creates, lists and runs tasks.  ``images`` is the image manager the import uses
    (create, upload, delete), called with an admin context on the task owner's behalf."""

    def __init__(self, db: Database, images, node: str, fetcher: Callable[[str], Iterator[bytes]] = fetch):
        self.db, self.images, self.node, self.fetcher = db, images, node, fetcher
        self.executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="image-task")

    # -- reading ---------------------------------------------------------------------
    def get_task(self, context: RequestContext, task_id: str) -> TaskView:
        with self.db.session(readonly=True) as s:
            row = s.get(m.ImageTask, task_id)
            if row is None or not (context.is_admin or row.owner == context.project_id):
                raise _not_found(task_id)
            return view(row)

    def list_tasks(self, context: RequestContext, paging: Paging, filters: dict[str, str]) -> list[TaskView]:
        with self.db.session(readonly=True) as s:
            marker = self.get_task(context, paging.marker) if paging.marker else None
            stmt = sa.select(m.ImageTask).where(*(getattr(m.ImageTask, k) == v for k, v in filters.items()))
            if not context.is_admin:
                stmt = stmt.where(m.ImageTask.owner == context.project_id)
            return [view(r) for r in s.scalars(apply_paging(stmt, m.ImageTask, paging, marker))]

    def tasks_of_image(self, image_id: str) -> list[TaskView]:
        """The tasks that imported (or tried to import) into image ``image_id``, oldest
        first.  The caller has checked the image is visible."""
        stmt = (sa.select(m.ImageTask).where(m.ImageTask.image_id == image_id)
                .order_by(m.ImageTask.created_at, m.ImageTask.id))
        with self.db.session(readonly=True) as s:
            return [view(r) for r in s.scalars(stmt)]

    # -- creating and running --------------------------------------------------------
    def create_task(self, context: RequestContext, task_type: str, task_input: dict) -> TaskView:
        check_input(task_type, task_input)
        now = utcnow()
        row = m.ImageTask(id=str(uuid.uuid4()), type=task_type, status="pending", owner=context.project_id,
                          input=task_input, result=None, message="", node=self.node, generation=0,
                          created_at=now, updated_at=now)
        with self.db.session() as s:
            s.add(row)
        task = view(row)
        self.executor.submit(self.run, task.id)
        return task

    def _move(self, task_id: str, source: str, **values) -> bool:
        return run_in_transaction(self.db, lambda s: move_task(s, task_id, source, **values))

    def run(self, task_id: str) -> None:
        """Run a pending task to its end (in a worker thread)."""
        try:
            if not self._move(task_id, "pending", status="processing"):
                return
            with self.db.session(readonly=True) as s:
                row = s.get(m.ImageTask, task_id)
                if row is None:  # deleted meanwhile
                    return
                task = view(row)
        except Exception:
            LOG.exception("task %s could not start", task_id)
            return
        image_id = None
        admin = RequestContext.admin()
        try:
            props = dict(task.input["image_properties"])
            props.setdefault("owner", task.owner)
            image_id = self.images.create_image(admin, **props).id
            self._move(task_id, "processing", status="processing", result={"image_id": image_id},
                       image_id=image_id)
            self.images.upload(admin, image_id, self.fetcher(task.input["import_from"]))
            self._move(task_id, "processing", status="success", result={"image_id": image_id})
        except Exception as error:
            message = error.message if isinstance(error, errors.ApiError) else f"{type(error).__name__}: {error}"
            LOG.warning("task %s failed: %s", task_id, message)
            try:
                self._fail(task_id, image_id, message)
            except Exception:  # left processing: the next start-up fails it
                LOG.exception("task %s could not be marked failed", task_id)

    def _fail(self, task_id: str, image_id: str | None, message: str) -> None:
        if image_id is not None:
            try:
                self.images.delete_image(RequestContext.admin(), image_id)
            except errors.NotFound:
                pass
        result = {"image_id": image_id} if image_id else None
        self._move(task_id, "processing", status="failure", message=message, result=result)

    def recover(self) -> None:
        """At start-up: run again this node's pending tasks; fail those it was running."""
        with self.db.session(readonly=True) as s:
            stuck = [view(r) for r in s.scalars(sa.select(m.ImageTask).where(
                m.ImageTask.node == self.node, m.ImageTask.type == "import",
                m.ImageTask.status.in_(("pending", "processing"))))]
        for task in stuck:
            if task.status == "pending":
                self.executor.submit(self.run, task.id)
            else:
                LOG.warning("task %s: interrupted by a restart; failed", task.id)
                self._fail(task.id, (task.result or {}).get("image_id"),
                           "The task was interrupted by a restart of the image service.")

    def stop(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
