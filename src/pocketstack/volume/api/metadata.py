"""``/metadata`` of a volume or a snapshot: one handler class, included once per resource
(``include(MetadataApi(...), prefix=PREFIX + "/volumes/{volume_id}")``).

Cinder looks the resource up as the caller (404) before it enforces the rule on the
resource's project (403) and only then reads the body (400): the bodies are declared
``authorize_first``, validated once the handler's lookup has enforced the rule.  The
rules differ per resource: the routes declare ``{read}`` or ``{write}`` and
:meth:`MetadataApi.adapt_route` puts in the resource's rule names.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import RouteSpec, route
from pocketstack.common.context import RequestContext
from pocketstack.volume import errors
from pocketstack.volume.api.schemas import SET_METADATA, SET_METADATA_ITEM


class WithMetadata(Protocol):
    """What a resource with metadata offers (:class:`~pocketstack.volume.volumes.Volumes`,
    :class:`~pocketstack.volume.snapshots.Snapshots`)."""

    def get(self, context: RequestContext, resource_id: str, /) -> Any: ...

    def metadata(self, resource_ids: list[str], /) -> dict[str, dict[str, str]]: ...

    def set_metadata(self, context: RequestContext, resource_id: str, metadata: dict, replace: bool, /) -> dict: ...

    def delete_metadata(self, context: RequestContext, resource_id: str, key: str, /) -> None: ...


def item(key: str, meta: dict) -> dict:
    """``{"meta": {key: value}}`` of a ``PUT .../metadata/{key}``: the key must be the URL's."""
    if key not in meta:
        raise errors.BodyUriMismatch()
    return meta


class MetadataApi:
    """The metadata routes of one resource kind: ``records`` holds them, ``id_param`` names
    the resource's id in the path, ``read``/``write`` are the rules, ``missing`` the error
    for a key the resource does not have."""

    def __init__(self, records: WithMetadata, id_param: str, read: str, write: str,
                 missing: Callable[[str, str], errors.NotFound]):
        self.records = records
        self.id_param = id_param
        self.read = read
        self.write = write
        self.missing = missing

    def adapt_route(self, spec: RouteSpec) -> RouteSpec:
        """This resource's rule names in place of ``{read}`` and ``{write}``."""
        policy = spec.policy.format(read=self.read, write=self.write) if spec.policy else None
        return dataclasses.replace(spec, policy=policy)

    def _load(self, req: ApiRequest) -> Any:
        resource = self.records.get(req.caller, req.path_params[self.id_param])
        req.authorize(target={"project_id": resource.project_id})
        return resource

    @route.get("/metadata", policy="{read}")
    def index(self, req: ApiRequest) -> dict:
        resource = self._load(req)
        return {"metadata": self.records.metadata([resource.id])[resource.id]}

    @route.post("/metadata", policy="{write}", body=SET_METADATA, authorize_first=True)
    def add(self, req: ApiRequest) -> dict:
        resource = self._load(req)
        return {"metadata": self.records.set_metadata(req.caller, resource.id, req.data["metadata"], False)}

    @route.put("/metadata", policy="{write}", body=SET_METADATA, authorize_first=True)
    def replace(self, req: ApiRequest) -> dict:
        resource = self._load(req)
        return {"metadata": self.records.set_metadata(req.caller, resource.id, req.data["metadata"], True)}

    @route.get("/metadata/{key}", policy="{read}")
    def show(self, req: ApiRequest) -> dict:
        resource = self._load(req)
        key = req.path_params["key"]
        metadata = self.records.metadata([resource.id])[resource.id]
        if key not in metadata:
            raise self.missing(resource.id, key)
        return {"meta": {key: metadata[key]}}

    @route.put("/metadata/{key}", policy="{write}", body=SET_METADATA_ITEM, authorize_first=True)
    def set_item(self, req: ApiRequest) -> dict:
        resource = self._load(req)
        meta = item(req.path_params["key"], req.data["meta"])
        self.records.set_metadata(req.caller, resource.id, meta, False)
        return {"meta": meta}

    @route.delete("/metadata/{key}", policy="{write}")
    def delete(self, req: ApiRequest) -> Response:
        resource = self._load(req)
        self.records.delete_metadata(req.caller, resource.id, req.path_params["key"])
        return Response(status_code=200)  # Cinder answers 200 with an empty body here
