"""Resource classes and traits: the standard names every cloud knows, plus CUSTOM_* ones.

The standard names mirror the ``os-resource-classes`` and ``os-traits`` libraries (the
subset pocketstack's services report or schedule on); they live in code, never in a
table, so they cannot be deleted.  Operators add their own names with a ``CUSTOM_``
prefix, stored in the database.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from pocketstack.common.db import Database
from pocketstack.common.db.cas import changed_rows
from pocketstack.common.errors import ApiError
from pocketstack.placement import errors
from pocketstack.placement import models as m

STANDARD_RESOURCE_CLASSES = (
    "VCPU", "MEMORY_MB", "DISK_GB", "PCI_DEVICE", "SRIOV_NET_VF", "NUMA_SOCKET", "NUMA_CORE",
    "NUMA_THREAD", "NUMA_MEMORY_MB", "IPV4_ADDRESS", "VGPU", "VGPU_DISPLAY_HEAD",
    "NET_BW_EGR_KILOBIT_PER_SEC", "NET_BW_IGR_KILOBIT_PER_SEC", "PCPU", "MEM_ENCRYPTION_CONTEXT",
    "FPGA", "PGPU", "NET_PACKET_RATE_KILOPACKET_PER_SEC", "NET_PACKET_RATE_EGR_KILOPACKET_PER_SEC",
    "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC",
)

STANDARD_TRAITS = (
    "COMPUTE_ACCELERATORS", "COMPUTE_ARCH_AARCH64", "COMPUTE_ARCH_X86_64",
    "COMPUTE_DEVICE_TAGGING", "COMPUTE_IMAGE_TYPE_QCOW2", "COMPUTE_IMAGE_TYPE_RAW",
    "COMPUTE_IMAGE_TYPE_ISO", "COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_NET_ATTACH_INTERFACE_WITH_TAG",
    "COMPUTE_NODE", "COMPUTE_RESCUE_BFV", "COMPUTE_STATUS_DISABLED", "COMPUTE_TRUSTED_CERTS",
    "COMPUTE_VOLUME_ATTACH_WITH_TAG", "COMPUTE_VOLUME_EXTEND", "COMPUTE_VOLUME_MULTI_ATTACH",
    "COMPUTE_GRAPHICS_MODEL_VGA", "COMPUTE_GRAPHICS_MODEL_VIRTIO", "COMPUTE_NET_VIF_MODEL_VIRTIO",
    "COMPUTE_NET_VIF_MODEL_E1000", "COMPUTE_STORAGE_BUS_VIRTIO", "COMPUTE_STORAGE_BUS_SCSI",
    "COMPUTE_STORAGE_BUS_IDE", "COMPUTE_SOCKET_PCI_NUMA_AFFINITY",
    "HW_CPU_HYPERTHREADING", "HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512F",
    "HW_CPU_X86_SSE", "HW_CPU_X86_SSE2", "HW_CPU_X86_SSE41", "HW_CPU_X86_SSE42", "HW_CPU_X86_AESNI",
    "HW_CPU_X86_VMX", "HW_CPU_X86_SVM", "HW_CPU_AARCH64_SVE", "HW_NIC_SRIOV", "HW_GPU_API_VULKAN",
    "MISC_SHARES_VIA_AGGREGATE", "STORAGE_DISK_HDD", "STORAGE_DISK_SSD",
)

_CUSTOM = re.compile(r"^CUSTOM_[A-Z0-9_]+$")
_STANDARD_RC = frozenset(STANDARD_RESOURCE_CLASSES)
_STANDARD_TRAITS = frozenset(STANDARD_TRAITS)


def is_custom(name: str) -> bool:
    return bool(_CUSTOM.match(name))


def check_custom_name(name: str, kind: str) -> None:
    if not is_custom(name) or len(name) > 255:
        raise errors.InvalidCustomName(kind=kind, name=name)


class Catalog:
    """Which resource class and trait names exist; CRUD for the custom ones."""

    def __init__(self, db: Database):
        self.db = db

    # -- resource classes ----------------------------------------------------------
    def resource_classes(self) -> list[str]:
        with self.db.session(readonly=True) as s:
            custom = s.scalars(sa.select(m.CustomResourceClass.name).order_by(m.CustomResourceClass.name)).all()
        return list(STANDARD_RESOURCE_CLASSES) + list(custom)

    def resource_class_exists(self, name: str) -> bool:
        if name in _STANDARD_RC:
            return True
        with self.db.session(readonly=True) as s:
            return s.get(m.CustomResourceClass, name) is not None

    def unknown_resource_classes(self, names) -> set[str]:
        wanted = {n for n in names if n not in _STANDARD_RC}
        if not wanted:
            return set()
        with self.db.session(readonly=True) as s:
            found = set(s.scalars(sa.select(m.CustomResourceClass.name)
                                  .where(m.CustomResourceClass.name.in_(wanted))))
        return wanted - found

    def create_resource_class(self, name: str, *, exist_ok: bool = False) -> bool:
        """Create ``name``; True if created.  409 on a duplicate unless ``exist_ok``."""
        check_custom_name(name, "resource class")
        return self._insert(m.CustomResourceClass, name, exist_ok, errors.DuplicateResourceClass(name=name))

    def delete_resource_class(self, name: str) -> None:
        if name in _STANDARD_RC:
            raise errors.StandardResourceClass(name=name)
        in_use = errors.ResourceClassInUse(name=name)
        self._delete(m.CustomResourceClass, name, errors.ResourceClassNotFound(name=name),
                     sa.select(m.Inventory.provider_uuid).where(m.Inventory.resource_class == name), in_use)

    # -- traits --------------------------------------------------------------------
    def traits(self) -> list[str]:
        with self.db.session(readonly=True) as s:
            custom = s.scalars(sa.select(m.CustomTrait.name).order_by(m.CustomTrait.name)).all()
        return sorted(STANDARD_TRAITS) + list(custom)

    def unknown_traits(self, names) -> set[str]:
        wanted = {n for n in names if n not in _STANDARD_TRAITS}
        if not wanted:
            return set()
        with self.db.session(readonly=True) as s:
            found = set(s.scalars(sa.select(m.CustomTrait.name).where(m.CustomTrait.name.in_(wanted))))
        return wanted - found

    def associated_traits(self) -> set[str]:
        """Traits some provider has (GET /traits?associated=true)."""
        with self.db.session(readonly=True) as s:
            return set(s.scalars(sa.select(m.ProviderTrait.trait).distinct()))

    def create_trait(self, name: str) -> bool:
        """Create a custom trait; True if it was new (PUT answers 201 vs 204)."""
        check_custom_name(name, "trait")
        return self._insert(m.CustomTrait, name, True, None)

    def delete_trait(self, name: str) -> None:
        if name in _STANDARD_TRAITS:
            raise errors.StandardTrait(name=name)
        in_use = errors.TraitInUse(name=name)
        self._delete(m.CustomTrait, name, errors.TraitNotFound(names=name),
                     sa.select(m.ProviderTrait.provider_uuid).where(m.ProviderTrait.trait == name), in_use)

    # -- helpers -------------------------------------------------------------------
    def _insert(self, model, name: str, exist_ok: bool, duplicate: ApiError | None) -> bool:
        """Insert the name; False when it exists and ``exist_ok``, else ``duplicate``."""
        try:
            with self.db.session() as s:
                s.add(model(name=name))
                s.flush()
        except sa_exc.IntegrityError:
            if exist_ok or duplicate is None:
                return False
            raise duplicate from None
        return True

    def _delete(self, model, name: str, missing: ApiError, users, in_use: ApiError) -> None:
        with self.db.session() as s:
            if s.execute(users.limit(1)).first() is not None:
                raise in_use
            gone = changed_rows(s, sa.delete(model).where(model.name == name))
        if not gone:
            raise missing
