"""``/v3/{project_id}/attachments`` (microversion 3.27+; ``action`` complete 3.44+)."""

from __future__ import annotations

from typing import Any

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import render, schemas
from pocketstack.volume.api.common import PREFIX, all_projects, own_project
from pocketstack.volume.api.validation import validate
from pocketstack.volume.attachments import UNSET_MODE, Attachments
from pocketstack.volume.volumes import Volumes

SINCE = "3.27"


def check_complete(payload: Any) -> None:
    """The attachment action body: ``{"os-complete": ...}`` and nothing else."""
    if not isinstance(payload, dict) or "os-complete" not in payload:
        raise errors.NoSuchAction(action=next(iter(payload), "") if isinstance(payload, dict) else "")
    validate(payload, schemas.ATTACHMENT_COMPLETE)


class AttachmentsApi:
    def __init__(self, attachments: Attachments, volumes: Volumes):
        self.attachments = attachments
        self.volumes = volumes

    def load(self, req: ApiRequest) -> m.Attachment:
        """The attachment of the path as the caller sees it (404), then the route's rule on
        its project (403)."""
        row = self.attachments.get(req.caller, req.path_params["attachment_id"])
        req.authorize(target={"project_id": row.project_id})
        return row

    @route.post(PREFIX + "/attachments", policy="volume:attachment_create", since=SINCE,
                body={"3.27": schemas.CREATE_ATTACHMENT, "3.54": schemas.CREATE_ATTACHMENT_354})
    def create(self, req: ApiRequest) -> dict:
        """Without a ``mode`` (3.54) the attachment's is Cinder's ``null``: the connector's
        decides when it is given (``rw`` by default)."""
        spec = req.data["attachment"]
        volume = self.volumes.get(req.caller, spec["volume_uuid"])
        req.authorize(target={"project_id": volume.project_id})
        row = self.attachments.create(req.caller, volume.id, spec.get("instance_uuid"), spec.get("connector"),
                                      spec.get("mode", UNSET_MODE))
        return {"attachment": render.attachment(row)}

    @route.get(PREFIX + "/attachments", policy="volume:attachment_get", since=SINCE)
    @route.get(PREFIX + "/attachments/detail", policy="volume:attachment_get", since=SINCE)
    def index(self, req: ApiRequest) -> dict:
        req.authorize(target=own_project(req))
        rows = self.attachments.list(req.caller, all_projects(req), req.query.get("volume_id"),
                                     req.query.get("instance_id"))
        return {"attachments": [render.attachment(a) for a in rows]}

    @route.get(PREFIX + "/attachments/{attachment_id}", policy="volume:attachment_get", since=SINCE)
    def show(self, req: ApiRequest) -> dict:
        return {"attachment": render.attachment(self.load(req))}

    @route.put(PREFIX + "/attachments/{attachment_id}", policy="volume:attachment_update", since=SINCE,
               body=schemas.UPDATE_ATTACHMENT, authorize_first=True)
    def update(self, req: ApiRequest) -> dict:
        row = self.load(req)
        connector = req.data["attachment"]["connector"]
        return {"attachment": render.attachment(self.attachments.update(req.caller, row.id, connector))}

    @route.post(PREFIX + "/attachments/{attachment_id}/action", policy="volume:attachment_update", since="3.44")
    def action(self, req: ApiRequest) -> None:
        """``os-complete``: the attachment is in use (204)."""
        row = self.load(req)
        check_complete(req.json())
        self.attachments.complete(req.caller, row.id)

    @route.delete(PREFIX + "/attachments/{attachment_id}", policy="volume:attachment_delete", since=SINCE)
    def delete(self, req: ApiRequest) -> dict:
        row = self.load(req)
        self.attachments.check_user_detach(req.caller, row)
        self.attachments.delete(req.caller, row.id)
        return {"attachments": []}
