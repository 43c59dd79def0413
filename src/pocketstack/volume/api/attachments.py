"""``/v3/{project_id}/attachments`` (microversion 3.27+; ``action`` complete 3.44+)."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.errors import BadRequest, NotFound
from pocketstack.volume.api import render
from pocketstack.volume.api.common import PREFIX, all_projects, at_least, body
from pocketstack.volume.api.schemas import ANYTHING, UUID, UUID_OR_NULL, bare_action
from pocketstack.volume.api.validation import validate

# Cinder's, except that ``instance_uuid`` may be null (an attachment for no instance).
CREATE = {"type": "object", "properties": {
    "volume_uuid": UUID, "instance_uuid": UUID_OR_NULL, "connector": {"type": ["object", "null"]},
    "mode": {"type": "string", "enum": ["rw", "ro"]}}, "required": ["volume_uuid"], "additionalProperties": False}
UPDATE = {"type": "object", "properties": {"connector": {"type": "object", "minProperties": 1}},
          "required": ["connector"], "additionalProperties": False}
COMPLETE = bare_action("os-complete", ANYTHING)


def _require(req: ApiRequest, minor: int) -> None:
    if not at_least(req, 3, minor):
        raise NotFound("The resource could not be found.")


def register(router, service) -> None:
    attachments = service.attachments

    @router.post(PREFIX + "/attachments")
    def create(req: ApiRequest):
        _require(req, 27)
        spec = body(req, CREATE, "attachment")
        volume = service.volumes.get(req.context, spec["volume_uuid"])
        req.authorize("volume:attachment_create", {"project_id": volume.project_id})
        row = attachments.create(req.context, volume.id, spec.get("instance_uuid"), spec.get("connector"),
                                 spec.get("mode", "rw"))
        return {"attachment": render.attachment(row)}

    @router.get(PREFIX + "/attachments")
    @router.get(PREFIX + "/attachments/detail")
    def list_attachments(req: ApiRequest):
        _require(req, 27)
        req.authorize("volume:attachment_get", {"project_id": req.context.project_id})
        rows = attachments.list(req.context, all_projects(req), req.query.get("volume_id"),
                                req.query.get("instance_id"))
        return {"attachments": [render.attachment(a) for a in rows]}

    @router.get(PREFIX + "/attachments/{attachment_id}")
    def show(req: ApiRequest):
        _require(req, 27)
        row = attachments.get(req.context, req.path_params["attachment_id"])
        req.authorize("volume:attachment_get", {"project_id": row.project_id})
        return {"attachment": render.attachment(row)}

    @router.put(PREFIX + "/attachments/{attachment_id}")
    def update(req: ApiRequest):
        _require(req, 27)
        row = attachments.get(req.context, req.path_params["attachment_id"])
        req.authorize("volume:attachment_update", {"project_id": row.project_id})
        connector = body(req, UPDATE, "attachment")["connector"]
        return {"attachment": render.attachment(attachments.update(req.context, row.id, connector))}

    @router.post(PREFIX + "/attachments/{attachment_id}/action")
    def action(req: ApiRequest):
        _require(req, 44)
        row = attachments.get(req.context, req.path_params["attachment_id"])
        req.authorize("volume:attachment_update", {"project_id": row.project_id})
        payload = req.json()
        if not isinstance(payload, dict) or "os-complete" not in payload:
            raise BadRequest(f"There is no such action: {next(iter(payload), '') if isinstance(payload, dict) else ''}")
        validate(payload, COMPLETE)
        attachments.complete(req.context, row.id)
        return None  # 204

    @router.delete(PREFIX + "/attachments/{attachment_id}")
    def delete(req: ApiRequest):
        _require(req, 27)
        row = attachments.get(req.context, req.path_params["attachment_id"])
        req.authorize("volume:attachment_delete", {"project_id": row.project_id})
        attachments.delete(req.context, row.id)
        return {"attachments": []}
