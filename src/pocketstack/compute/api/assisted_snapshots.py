"""``/os-assisted-volume-snapshots``: the service API Cinder's remotefs volume drivers
(NFS, GlusterFS…) call so that the hypervisor of the server a volume is attached to
takes or deletes a snapshot of it (a qcow2 overlay the driver prepared), while the guest
keeps writing.

As Nova: a service user's (or the admin's) request names the volume; the server it is
attached to is found from its block device mapping (none, or several servers of a
multi-attach volume: 400), the server must be on a host with no task running (400 --
Nova's historical answer, not 409), and the work is cast to that host, which reports the
outcome on the Block Storage snapshot.  The answer does not wait: 200 with the snapshot's
id and volume on create, 204 on delete.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.responses import Response

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.errors import NotFound
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api.common import body
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.api.schemas.assisted_snapshots import CREATE
from pocketstack.compute.transitions import load

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute
    from pocketstack.compute.models import Instance

RULE = "os_compute_api:os-assisted-volume-snapshots:{}"
PATH = "/v2.1/os-assisted-volume-snapshots"


class AssistedSnapshotsApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    def attached_instance(self, volume_id: str, action: str) -> tuple[Instance, str]:
        """The one server the volume is attached to, ready for a host operation (Nova's
        ``_get_bdm_by_volume_id`` with ``check_instance_host`` and an idle task), and its
        host."""
        mappings = self.compute.block_devices.for_volume(volume_id)
        if not mappings:
            raise errors.VolumeBDMNotFound(volume_id=volume_id)
        if len(mappings) > 1:
            raise errors.VolumeBDMIsMultiAttach(volume_id=volume_id)
        try:
            inst = load(self.compute.db, mappings[0].instance_id)
        except NotFound:
            raise errors.VolumeBDMNotFound(volume_id=volume_id) from None
        if inst.host is None or inst.vm_state == st.BUILDING:
            raise errors.AssistedSnapshotInstanceNotReady(instance_id=inst.id, vm_state=inst.vm_state)
        if inst.task_state is not None:
            raise errors.AssistedSnapshotInvalidState(action=action, instance_id=inst.id, attribute="task_state",
                                                      state=inst.task_state)
        return inst, inst.host

    @route.post(PATH, policy=RULE.format("create"))
    def create(self, req: ApiRequest) -> dict:
        req.authorize(target={})
        snapshot = body(req, CREATE, "snapshot")
        volume_id, create_info = snapshot["volume_id"], snapshot["create_info"]
        inst, host = self.attached_instance(volume_id, "volume_snapshot_create")
        self.compute.rpc.volume_snapshot_create(host, inst.id, volume_id, create_info)
        return {"snapshot": {"id": create_info.get("id"), "volumeId": volume_id}}

    @route.delete(PATH + "/{snapshot_id}", policy=RULE.format("delete"),
                  query=queries.from_2_75(queries.ASSISTED_SNAPSHOT_DELETE))
    def delete(self, req: ApiRequest) -> Response:
        req.authorize(target={})
        try:
            delete_info = json.loads(req.query["delete_info"])
            volume_id = delete_info["volume_id"]
        except KeyError as error:
            raise errors.AssistedSnapshotDeleteInfoInvalid(reason=f"missing {error}") from None
        except (ValueError, TypeError) as error:
            raise errors.AssistedSnapshotDeleteInfoInvalid(reason=str(error)) from None
        if not isinstance(volume_id, str):
            raise errors.AssistedSnapshotDeleteInfoInvalid(reason="volume_id must be a string")
        inst, host = self.attached_instance(volume_id, "volume_snapshot_delete")
        self.compute.rpc.volume_snapshot_delete(host, inst.id, volume_id, req.path_params["snapshot_id"],
                                                delete_info)
        return Response(status_code=204)
