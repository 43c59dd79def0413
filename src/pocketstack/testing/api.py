"""The state API, at the root of the API server (``/_pocketstack``), admin only:

    POST   /_pocketstack/reset                        back to the bootstrapped state
    GET    /_pocketstack/snapshots                    named snapshots
    POST   /_pocketstack/snapshots                    save one: {"snapshot": {"name": ...}}
    GET    /_pocketstack/snapshots/{name}             one snapshot's name, time and size
    DELETE /_pocketstack/snapshots/{name}
    GET    /_pocketstack/snapshots/{name}/file        the state file (application/x-tar)
    PUT    /_pocketstack/snapshots/{name}/file        upload a state file as snapshot ``name``
    POST   /_pocketstack/snapshots/{name}/restore     put the cloud in that state

Errors are in Keystone's JSON format.  Saving and restoring run their database and file
work in a thread; a reset or restore runs on the loop of the process that runs the
services it restarts (the primary, when several processes serve the API).
"""

from __future__ import annotations

import io

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.testing import errors, schemas
from pocketstack.testing.keeper import StateKeeper
from pocketstack.testing.snapshot import State, StateFileError

RESET, SNAPSHOTS = "pocketstack:reset", "pocketstack:snapshots"
STATE_MEDIA_TYPE = "application/x-tar"


class StateApi:
    def __init__(self, keeper: StateKeeper):
        self.keeper = keeper

    @route.post("/reset", policy=RESET)
    async def reset(self, req: ApiRequest) -> dict:
        req.authorize()
        seconds = await self.keeper.reset()
        return {"reset": {"state": "bootstrap", "seconds": round(seconds, 4)}}

    @route.get("/snapshots", policy=SNAPSHOTS)
    def index(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"snapshots": [info.to_json() for info in self.keeper.snapshots()]}

    @route.post("/snapshots", policy=SNAPSHOTS, body=schemas.SAVE, status=201)
    def save(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"snapshot": self.keeper.save(req.data["snapshot"]["name"]).to_json()}

    @route.get("/snapshots/{name}", policy=SNAPSHOTS)
    def show(self, req: ApiRequest) -> dict:
        req.authorize()
        return {"snapshot": self.keeper.info(req.path_params["name"]).to_json()}

    @route.delete("/snapshots/{name}", policy=SNAPSHOTS, status=204)
    def delete(self, req: ApiRequest) -> None:
        req.authorize()
        self.keeper.delete(req.path_params["name"])

    @route.get("/snapshots/{name}/file", policy=SNAPSHOTS)
    def download(self, req: ApiRequest) -> Response:
        req.authorize()
        path = self.keeper.snapshot_path(req.path_params["name"])
        return Response(path.read_bytes(), media_type=STATE_MEDIA_TYPE)

    @route.put("/snapshots/{name}/file", policy=SNAPSHOTS, status=201)
    def upload(self, req: ApiRequest) -> dict:
        req.authorize()
        name = req.path_params["name"]
        self.keeper.snapshot_path(name, exists=False)  # a bad name is a 400 before the body is read
        try:
            state = State.read(io.BytesIO(req.body))
        except StateFileError as error:
            raise errors.BadStateFile(reason=str(error)) from None
        return {"snapshot": self.keeper.store(name, state).to_json()}

    @route.post("/snapshots/{name}/restore", policy=SNAPSHOTS)
    async def restore(self, req: ApiRequest) -> dict:
        req.authorize()
        name = req.path_params["name"]
        seconds = await self.keeper.reset(name)
        return {"reset": {"state": name, "seconds": round(seconds, 4)}}
