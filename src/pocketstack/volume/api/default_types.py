"""``/v3/[{project_id}/]default-types`` (3.62+, admin): a project's own default volume
type -- set (PUT), show, list, unset (DELETE, 204).  The path works with or without the
caller's project id, as Cinder routes it.  The project named is checked in Keystone first
(a 404), then the rule is enforced on it (a 403)."""

from __future__ import annotations

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.identity.contract import IdentityContract
from pocketstack.volume import errors
from pocketstack.volume import models as m
from pocketstack.volume.api import schemas
from pocketstack.volume.types import Types

SINCE = "3.62"
SET = "volume_extension:default_set_or_update"
GET = "volume_extension:default_get"
GET_ALL = "volume_extension:default_get_all"
UNSET = "volume_extension:default_unset"


def view(row: m.DefaultType) -> dict:
    return {"project_id": row.project_id, "volume_type_id": row.volume_type_id}


class DefaultTypesApi:
    def __init__(self, types: Types, identity: IdentityContract):
        self.types = types
        self.identity = identity

    def project(self, req: ApiRequest) -> str:
        """The project of the path, as Keystone knows it (404)."""
        project_id = req.path_params["target"]
        if not self.identity.project_exists(project_id):
            raise errors.ProjectNotFound(project_id=project_id)
        return project_id

    @route.put("/default-types/{target}", policy=SET, since=SINCE, body=schemas.SET_DEFAULT_TYPE)
    def set(self, req: ApiRequest) -> dict:
        project_id = self.project(req)
        req.authorize(target={"project_id": project_id})
        row = self.types.set_default(req.caller, project_id, req.data["default_type"]["volume_type"])
        return {"default_type": view(row)}

    @route.get("/default-types/{target}", policy=GET, since=SINCE)
    def show(self, req: ApiRequest) -> dict:
        project_id = self.project(req)
        req.authorize(target={"project_id": project_id})
        rows = self.types.defaults(project_id)
        if not rows:
            raise errors.DefaultTypeNotFound(project_id=project_id)
        return {"default_type": view(rows[0])}

    @route.get("/default-types", policy=GET_ALL, since=SINCE)
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"default_types": [view(row) for row in self.types.defaults()]}

    @route.delete("/default-types/{target}", policy=UNSET, since=SINCE)
    def unset(self, req: ApiRequest) -> Response:
        """A project Keystone no longer knows has its default unset all the same (Cinder
        then checks no rule: there is no project to check it on)."""
        try:
            project_id = self.project(req)
        except errors.ProjectNotFound:
            project_id = req.path_params["target"]
            req.permits({"project_id": project_id})  # the rule is not enforced, only consulted
        else:
            req.authorize(target={"project_id": project_id})
        self.types.unset_default(project_id)
        return Response(status_code=204)
