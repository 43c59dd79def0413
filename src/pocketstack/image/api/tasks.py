"""``/v2/tasks``: create, list and show image tasks; ``/v2/images/{id}/tasks``: the
tasks of one image (Glance 2.12+).

Glance puts the whole tasks API behind ``tasks_api_access`` (admin by default) before
the per-operation rules; a task is visible to its owner's project and to admin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest, json_response
from pocketstack.common.api.routes import route
from pocketstack.image import errors
from pocketstack.image.api.common import authorize_image
from pocketstack.image.api.lists import list_links, list_paging
from pocketstack.image.api.render import isotime
from pocketstack.image.manager import ImageManager
from pocketstack.image.tasks import STATUSES, TYPES, TaskView

SORT_KEYS = ("created_at", "updated_at", "id", "type", "status")
READ_ONLY = ("id", "status", "owner", "result", "message", "created_at", "updated_at", "expires_at", "self",
             "schema", "image_id", "request_id", "user_id")


def render(view: TaskView, *, full: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"id": view.id, "type": view.type, "status": view.status, "owner": view.owner,
            "created_at": isotime(view.created_at), "updated_at": isotime(view.updated_at),
            "self": f"/v2/tasks/{view.id}", "schema": "/v2/schemas/task"}
    if view.expires_at:
        body["expires_at"] = isotime(view.expires_at)
    if full:  # lists leave out the blobs, as Glance's
        body.update(input=view.input, result=view.result, message=view.message)
    return body


def render_image_task(view: TaskView, image_id: str) -> dict:
    """A task as ``/v2/images/{id}/tasks`` lists it: Glance's task record, with the
    image it belongs to and who asked for it (null for ``/v2/tasks`` imports)."""
    body = render(view)
    del body["self"], body["schema"]
    body.update(image_id=image_id, request_id=view.request_id, user_id=view.user_id)
    body.setdefault("expires_at", None)
    return body


def task_to_create(body: Any) -> tuple[Any, Any]:
    """``(type, input)`` of a create-task body: 403 for a read-only attribute, 400 for a
    body that is not an object or lacks one of the two (the manager checks their values)."""
    if not isinstance(body, dict):
        raise errors.BodyNotObject()
    for key in READ_ONLY:
        if key in body:
            raise errors.ReadOnlyAttribute(name=key)
    for key in ("type", "input"):
        if key not in body:
            raise errors.RequiredProperty(name=key)
    return body["type"], body["input"]


def task_filters(query: Mapping[str, str]) -> dict[str, str]:
    """The ``type`` and ``status`` filters of a task listing; 400 for a value Glance
    does not know."""
    filters = {}
    for key, allowed in (("type", TYPES), ("status", STATUSES)):
        value = query.get(key)
        if value is not None:
            if value not in allowed:
                raise errors.InvalidFilterValue(name=key, value=value)
            filters[key] = value
    return filters


def _authorize(req: ApiRequest, rule: str) -> None:
    target = {"project_id": req.caller.project_id}
    req.authorize("tasks_api_access", target)
    req.authorize(rule, target)


class TasksApi:
    def __init__(self, manager: ImageManager):
        self.manager = manager
        self.tasks = manager.tasks

    @route.post("/v2/tasks", policy="add_task", status=201)
    def create(self, req: ApiRequest) -> Response:
        _authorize(req, "add_task")
        task_type, task_input = task_to_create(req.json())
        task = self.tasks.create_task(req.caller, task_type, task_input)
        return json_response(render(task), status=201, headers={"Location": f"{req.service_url}/v2/tasks/{task.id}"})

    @route.get("/v2/tasks", policy="get_tasks")
    def index(self, req: ApiRequest) -> dict:
        _authorize(req, "get_tasks")
        paging = list_paging(req, SORT_KEYS)
        views = self.tasks.list_tasks(req.caller, paging, task_filters(req.query))
        return {"tasks": [render(v, full=False) for v in views], "schema": "/v2/schemas/tasks",
                **list_links(req, "/v2/tasks", len(views), paging.limit, views[-1].id if views else None)}

    @route.get("/v2/tasks/{task_id}", policy="get_task")
    def show(self, req: ApiRequest) -> dict:
        _authorize(req, "get_task")
        return render(self.tasks.get_task(req.caller, req.path_params["task_id"]))

    @route.get("/v2/images/{image_id}/tasks", policy="get_image")
    def image_tasks(self, req: ApiRequest) -> dict:
        # As Glance: the image must be visible to the caller (else 404); no task policy.
        image = authorize_image(req, self.manager, "get_image")
        return {"tasks": [render_image_task(v, image.id) for v in self.tasks.tasks_of_image(image.id)]}
