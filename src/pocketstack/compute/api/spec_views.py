"""What servers show from 2.98 and 2.100 of the request they were built from: the image's
properties (2.98, under ``image``) and the scheduler hints (2.100).

Nova keeps both with the instance (the image's properties in its system metadata, the
hints in its request spec); here they are the instance's ``image_properties`` and
``scheduler_hints`` columns, which a list does not read for its rows, so they are read
here, in one query for the whole page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from pocketstack.common.api.request import ApiRequest
from pocketstack.compute import errors
from pocketstack.compute.models import Instance

if TYPE_CHECKING:
    from pocketstack.compute.manager import Compute

# The image properties Nova's ``ImageMetaProps`` knows (and the legacy names it maps to
# them): only these are shown, as Nova filters the ``image_*`` system metadata.
STANDARD_PROPERTIES = frozenset("""
hw_architecture hw_auto_disk_config hw_boot_menu hw_cdrom_bus hw_cpu_cores hw_cpu_max_cores hw_cpu_max_sockets
hw_cpu_max_threads hw_cpu_policy hw_cpu_realtime_mask hw_cpu_sockets hw_cpu_thread_policy hw_cpu_threads
hw_device_id hw_disk_bus hw_disk_type hw_emulation_architecture hw_ephemeral_encryption
hw_ephemeral_encryption_format hw_ephemeral_encryption_secret_uuid hw_firmware_stateless hw_firmware_type
hw_floppy_bus hw_input_bus hw_ipxe_boot hw_locked_memory hw_machine_type hw_maxphysaddr_bits
hw_maxphysaddr_mode hw_mem_encryption hw_mem_encryption_model hw_mem_page_size hw_numa_cpus hw_numa_mem
hw_numa_nodes hw_pci_numa_affinity_policy hw_pmu hw_pointer_model hw_qemu_guest_agent hw_redirected_usb_ports
hw_rescue_bus hw_rescue_device hw_rng_model hw_scsi_model hw_serial_port_count hw_sound_model hw_time_hpet
hw_tpm_model hw_tpm_version hw_usb_model hw_video_model hw_video_ram hw_vif_model hw_vif_multiqueue_enabled
hw_viommu_model hw_virtio_packed_ring hw_vm_mode hw_watchdog_action img_bdm_v2 img_bittorrent
img_block_device_mapping img_cache_in_nova img_compression_level img_config_drive img_hide_hypervisor_id
img_hv_requested_version img_hv_type img_linked_clone img_mappings img_owner_id img_root_device_name
img_signature img_signature_certificate_uuid img_signature_hash_method img_signature_key_type img_use_agent
img_version os_admin_user os_command_line os_distro os_require_quiesce os_secure_boot
os_skip_agent_inject_files_at_boot os_skip_agent_inject_ssh os_type traits_required
architecture owner_id vmware_disktype vmware_image_version vmware_ostype auto_disk_config ipxe_boot
xenapi_device_id xenapi_image_compression_level vmware_linked_clone xenapi_use_agent
xenapi_skip_agent_inject_ssh xenapi_skip_agent_inject_files_at_boot cache_in_nova vm_mode bittorrent mappings
block_device_mapping bdm_v2 root_device_name hypervisor_version_requires hypervisor_type
""".split())


def image_properties(stored: dict[str, Any] | None) -> dict[str, str]:
    """The standard properties of the server's image, as strings (Nova's system metadata
    holds strings), without null values."""
    return {key: value if isinstance(value, str) else str(value)
            for key, value in (stored or {}).items() if key in STANDARD_PROPERTIES and value is not None}


def scheduler_hints(stored: dict[str, Any] | None) -> dict[str, list]:
    """The hints as Nova's request spec holds them: every value a list."""
    return {key: value if isinstance(value, list) else [value] for key, value in (stored or {}).items()}


def _stored(compute: Compute, instance_ids: list[str]) -> dict[str, tuple[dict, dict]]:
    with compute.instances.db.session(readonly=True) as s:
        return {row.id: (row.image_properties, row.scheduler_hints) for row in s.execute(
            sa.select(Instance.id, Instance.image_properties, Instance.scheduler_hints)
            .where(Instance.id.in_(instance_ids)))}


def add(compute: Compute, req: ApiRequest, views: list[dict]) -> list[dict]:
    """``views`` (rendered servers) with 2.98's image properties and 2.100's hints."""
    if not req.at_least(2, 98) or not views:
        return views
    stored = _stored(compute, [v["id"] for v in views])
    hints = req.at_least(2, 100)
    for view in views:
        properties, given = stored.get(view["id"], ({}, {}))
        if isinstance(view.get("image"), dict):
            view["image"]["properties"] = image_properties(properties)
        if hints:
            view["scheduler_hints"] = scheduler_hints(given)
    return views


def pinned_zone(inst, requested: str | None) -> str | None:
    """The zone a 2.104 update pins ``inst`` to (Nova's rules): null unpins; a zone may be
    asked for again when pinned to it (a no-op), and an unpinned server may be pinned to the
    zone it is in, nothing else (409)."""
    if requested is None or requested == inst.requested_az:
        return requested
    if inst.requested_az is not None:
        raise errors.PinnedZoneChange()
    current = inst.availability_zone
    if requested != current:
        raise errors.PinnedZoneElsewhere(current_az=current, requested_az=requested)
    return requested
