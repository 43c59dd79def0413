"""``/servers/{server_id}/os-volume_attachments``: Nova's side of attaching a volume.

Nova drives the Block Storage attachment flow through the volume service's manager in
process, exactly the calls it would make over Cinder's API, so the rule that a
non-multiattach volume is attached at most once is enforced in one place (Cinder's
compare-and-swap).  As in Nova the API reserves the volume and casts the rest to the
server's host, which records its connector, hot-plugs the volume's file into the guest
and completes the attachment (``in-use``); a detach moves the volume to ``detaching`` and
the host unplugs the disk and deletes the attachment, or rolls back to ``in-use`` when
the guest does not let the disk go.  Like Nova it records each
attached volume as a block device mapping (what the server view's
``os-extended-volumes:volumes_attached`` and a server delete read).  Device names are
assigned ``/dev/vdb``, ``/dev/vdc``… per server; the root volume of a server booted from
a volume cannot be detached.
"""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.common.context import RequestContext
from pocketstack.common.errors import ApiError, NotFound
from pocketstack.compute import errors
from pocketstack.compute import states as st
from pocketstack.compute.api.common import (
    accepted,
    at_least,
    check_unlocked,
    get_instance,
    is_admin,
    limited,
    record_action,
    to_bool,
    versioned_body,
    volume_service,
)
from pocketstack.compute.api.schemas import queries
from pocketstack.compute.api.schemas.volume_attachments import CREATE, UPDATE, UPDATE_V285

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute
    from pocketstack.volume.contract import VolumeContract

# Nova's ``check_instance_state`` on ``attach_volume`` / ``detach_volume`` (it also allows
# SOFT_DELETED, a state no server reaches here); the task state must be idle.
_ATTACH_STATES = (st.ACTIVE, st.PAUSED, st.STOPPED, st.RESIZED, st.SHELVED, st.SHELVED_OFFLOADED)


def _check_state(req: ApiRequest, inst, action: str, vm_states: tuple[str, ...]) -> None:
    """Nova's ``check_instance_lock`` then ``check_instance_state``: 409 with its wording."""
    check_unlocked(req, inst)
    if inst.vm_state not in vm_states:
        raise errors.InstanceInvalidState(action=action, instance_id=inst.id, attribute="vm_state",
                                          state=inst.vm_state)
    if inst.task_state is not None:
        raise errors.InstanceInvalidState(action=action, instance_id=inst.id, attribute="task_state",
                                          state=inst.task_state)


def _render(req: ApiRequest, server_id: str, volume_id: str, device: str | None, mapping) -> dict:
    """An attachment; from 2.70 with the device tag of its block device mapping, from 2.79
    with its ``delete_on_termination``, from 2.89 with the ids of its Block Storage
    attachment and its mapping instead of ``id`` (a copy of ``volumeId``)."""
    out: dict[str, object] = {"serverId": server_id, "volumeId": volume_id, "device": device}
    if not at_least(req, 2, 89):
        out["id"] = volume_id
    if at_least(req, 2, 70):
        out["tag"] = mapping.tag if mapping is not None else None
    if at_least(req, 2, 79):
        out["delete_on_termination"] = bool(mapping is not None and mapping.delete_on_termination)
    if at_least(req, 2, 89):
        out["attachment_id"] = mapping.attachment_id
        out["bdm_uuid"] = mapping.id
    return out


def _shown(req: ApiRequest, mapping) -> bool:
    """From 2.89 an attachment is shown once its mapping records the Block Storage
    attachment (Nova skips it in the list and 404s its show until then)."""
    return not at_least(req, 2, 89) or (mapping is not None and mapping.attachment_id is not None)


def _next_device(used: set[str]) -> str:
    for letter in string.ascii_lowercase[1:]:
        if f"/dev/vd{letter}" not in used:
            return f"/dev/vd{letter}"
    raise errors.NoFreeDeviceName()


class VolumeAttachmentsApi:
    def __init__(self, compute: Compute):
        self.compute = compute

    def volumes(self) -> VolumeContract:
        return volume_service(self.compute)

    def attached(self, req: ApiRequest, server_id: str) -> list:
        """The server's attachments, those its host has not completed yet included (Nova
        lists a volume from the moment the POST reserved it)."""
        return self.volumes().attachments.list(req.caller, is_admin(req), instance_id=server_id)

    def mappings(self, instance_id: str) -> dict:
        """Volume id -> the server's block device mapping of it."""
        return {b.volume_id: b for b in self.compute.block_devices.for_instance(instance_id) if b.volume_id}

    def server(self, req: ApiRequest, rule: str):
        return get_instance(self.compute, req, req.path_params["server_id"], rule)

    @route.get("/v2.1/servers/{server_id}/os-volume_attachments",
               policy="os_compute_api:os-volumes-attachments:index",
               query=queries.from_2_75(queries.VOLUME_ATTACHMENTS))
    def index(self, req: ApiRequest):
        inst = self.server(req, "os_compute_api:os-volumes-attachments:index")
        mappings = self.mappings(inst.id)
        return {"volumeAttachments": [_render(req, inst.id, a.volume_id, a.mountpoint, mappings.get(a.volume_id))
                                      for a in limited(req, self.attached(req, inst.id))
                                      if _shown(req, mappings.get(a.volume_id))]}

    @route.get("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}",
               policy="os_compute_api:os-volumes-attachments:show")
    def show(self, req: ApiRequest):
        inst = self.server(req, "os_compute_api:os-volumes-attachments:show")
        mappings = self.mappings(inst.id)
        for a in self.attached(req, inst.id):
            mapping = mappings.get(a.volume_id)
            if a.volume_id == req.path_params["volume_id"] and _shown(req, mapping):
                return {"volumeAttachment": _render(req, inst.id, a.volume_id, a.mountpoint, mapping)}
        raise errors.VolumeAttachmentNotFound(volume_id=req.path_params["volume_id"])

    # The server is found (404) and authorized (403) before the body is checked (400).
    @route.post("/v2.1/servers/{server_id}/os-volume_attachments",
                policy="os_compute_api:os-volumes-attachments:create")
    def attach(self, req: ApiRequest):
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-volumes-attachments:create")
        spec = versioned_body(req, CREATE, "volumeAttachment")
        tag = spec.get("tag") if at_least(req, 2, 49) else None
        delete_on_termination = to_bool(spec.get("delete_on_termination", False))  # 2.79
        _check_state(req, inst, "attach_volume", _ATTACH_STATES)
        manager = self.volumes()
        try:
            volume = manager.volumes.get(req.caller, spec["volumeId"])
        except NotFound:
            raise errors.VolumeNotFound(volume_id=spec["volumeId"]) from None
        self.check_not_attached(inst.id, volume)
        if inst.vm_state == st.SHELVED_OFFLOADED:
            if tag:  # no host to ask whether it can tag (Nova)
                raise errors.TaggedAttachToShelved()
            if volume.multiattach:  # nor whether it can share a disk
                raise errors.MultiattachToShelvedNotSupported()
        if volume.multiattach and not at_least(req, 2, 60):
            raise errors.MultiattachNotSupportedOldMicroversion()
        used = {a.mountpoint for a in self.attached(req, inst.id)} | {"/dev/vda"}
        device = spec.get("device") or _next_device(used)
        mapping_id = compute.block_devices.add(inst.id, volume.id, device, tag=tag,
                                               delete_on_termination=delete_on_termination)
        try:
            attachment = manager.attachments.create(req.caller, volume.id, inst.id)  # the volume is reserved
            compute.block_devices.record_attachment(mapping_id, attachment.id)
        except ApiError as error:
            compute.block_devices.remove(mapping_id)
            raise errors.RefusedByAnotherService(reason=error.message) from None
        action_id = record_action(compute, req, inst, "attach_volume")
        if inst.vm_state == st.SHELVED_OFFLOADED:
            # No host, no guest: the attachment is completed here (Nova's
            # _attach_volume_shelved_offloaded); unshelve gives the new guest the disk.
            manager.attachments.update(req.caller, attachment.id, {"host": None, "mountpoint": device})
            manager.attachments.complete(req.caller, attachment.id)
        else:
            # As Nova: the host plugs the disk into the guest and completes the attachment
            # (the volume is in-use then); the answer does not wait for it.
            compute.rpc.attach_volume(inst.host, inst.id, volume.id, action_id)
        if at_least(req, 2, 101):  # 202 without a body from 2.101, as Nova
            return accepted()
        out = {"id": volume.id, "serverId": inst.id, "volumeId": volume.id, "device": device}
        if at_least(req, 2, 70):
            out["tag"] = tag
        if at_least(req, 2, 79):
            out["delete_on_termination"] = delete_on_termination
        return {"volumeAttachment": out}

    def check_not_attached(self, instance_id: str, volume) -> None:
        """Nova's ``_check_volume_already_attached``: a volume without multiattach that is
        attached to any server (its Block Storage attachments say which) is refused, as is
        a second attachment of any volume to the same server (400s)."""
        holders = {a.instance_uuid for a in self.volumes().attachments.list(RequestContext.admin(), True,
                                                                             volume_id=volume.id)
                   if a.instance_uuid}
        if holders and not volume.multiattach:
            raise errors.VolumeAttachedElsewhere(volume_id=volume.id, instance_uuids=" ".join(sorted(holders)))
        if instance_id in holders:
            raise errors.VolumeAlreadyAttached(volume_id=volume.id)

    @route.delete("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}",
                  policy="os_compute_api:os-volumes-attachments:delete")
    def detach(self, req: ApiRequest):
        compute = self.compute
        inst = self.server(req, "os_compute_api:os-volumes-attachments:delete")
        volume_id = req.path_params["volume_id"]
        mappings = [b for b in compute.block_devices.for_instance(inst.id) if b.volume_id == volume_id]
        if any(b.boot_index == 0 for b in mappings):
            raise errors.RootVolumeDetach()
        for a in self.attached(req, inst.id):
            if a.volume_id == volume_id:
                _check_state(req, inst, "detach_volume", _ATTACH_STATES)
                try:
                    self.volumes().attachments.begin_detaching(req.caller, a.id)
                except ApiError as error:  # not in-use (yet): Nova's InvalidVolume
                    raise errors.RefusedByAnotherService(reason=error.message) from None
                action_id = record_action(compute, req, inst, "detach_volume")
                if inst.vm_state == st.SHELVED_OFFLOADED:  # no guest holds it: detached here, as Nova
                    self.volumes().attachments.delete(req.caller, a.id)
                    for mapping in mappings:
                        compute.block_devices.remove(mapping.id)
                else:
                    compute.rpc.detach_volume(inst.host, inst.id, volume_id, action_id)
                return accepted()
        raise errors.VolumeAttachmentNotFound(volume_id=volume_id)

    # Up to 2.84 Nova's PUT is only the swap of one volume for another, a call Cinder makes
    # while it migrates an attached volume, so Nova refuses it (409) for a volume that is not
    # migrating.  Block Storage here never migrates a volume, so every swap of an existing
    # volume ends there, as it would in Nova.  From 2.85 a PUT naming the same volume
    # updates the attachment (its ``delete_on_termination``; the other fields must be as
    # they are, 400 otherwise) under its own rule, and a different volume is still the swap.
    @route.put("/v2.1/servers/{server_id}/os-volume_attachments/{volume_id}",
               policy="os_compute_api:os-volumes-attachments:swap")
    def update(self, req: ApiRequest):
        volume_id = req.path_params["volume_id"]
        raw = req.json()
        named = raw.get("volumeAttachment") if isinstance(raw, dict) else None
        regular = at_least(req, 2, 85) and isinstance(named, dict) and named.get("volumeId") == volume_id
        inst = self.server(req, "os_compute_api:os-volumes-attachments:" + ("update" if regular else "swap"))
        attachment = versioned_body(req, {"2.1": UPDATE, "2.85": UPDATE_V285}, "volumeAttachment")
        if at_least(req, 2, 85):
            self.update_regular(inst, volume_id, attachment)
            if attachment["volumeId"] == volume_id:
                return accepted()
        self.swap(req, volume_id)

    def update_regular(self, inst, volume_id: str, attachment: dict) -> None:
        """Nova's ``_update_volume_regular``: the server's mapping of the volume (404), the
        fields that cannot change as they are, ``delete_on_termination`` stored."""
        mapping = self.mappings(inst.id).get(volume_id)
        if mapping is None:
            raise errors.AttachedVolumeBDMNotFound(volume_id=volume_id)
        for name, current in (("id", volume_id), ("serverId", inst.id), ("device", mapping.device_name),
                              ("tag", mapping.tag)):
            if name in attachment and attachment[name] != current:
                raise errors.ImmutableAttachmentProperty(name=name)
        if "delete_on_termination" in attachment:
            self.compute.block_devices.set_delete_on_termination(mapping.id,
                                                                 to_bool(attachment["delete_on_termination"]))

    def swap(self, req: ApiRequest, old_volume_id: str):
        try:
            self.volumes().volumes.get(req.caller, old_volume_id)
        except NotFound:
            raise errors.VolumeNotFound(volume_id=old_volume_id) from None
        raise errors.VolumeNotMigrating(volume_id=old_volume_id)
