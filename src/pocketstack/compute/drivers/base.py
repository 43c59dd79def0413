"""The interface between the compute manager and a hypervisor.

The manager owns every state transition and persists it before calling the driver; a
driver only does the work and reports the resulting power state.  A QEMU/libvirt driver
implements the same methods against real guests.  All methods are blocking and are
called from worker threads, never on the event loop.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path


class GuestNotRunning(Exception):
    """The guest exists but does not run (shut off, suspended to disk): it has no console."""


class GuestAgentMissing(Exception):
    """The guest has no agent to act inside it (Nova's ``QemuGuestAgentNotEnabled``: the
    image does not ask for one with ``hw_qemu_guest_agent``)."""


class MigrationCancelled(Exception):
    """A live migration was aborted (Nova's ``live_migration_abort``): the guest runs on
    at the source, the destination keeps nothing."""


@dataclass
class MoveControl:
    """What the compute manager asks of a live migration while it runs: ``abort`` it
    (2.24) or ``force`` it to complete (2.22); the driver looks at both as it goes."""

    abort: threading.Event = field(default_factory=threading.Event)
    force: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class HostResources:
    vcpus: int
    memory_mb: int
    disk_gb: int
    hypervisor_type: str
    hypervisor_version: int
    cpu_info: dict = field(default_factory=dict)
    # Capability traits reported to Placement (Nova's ``COMPUTE_*``), e.g. COMPUTE_RESCUE_BFV.
    traits: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rescue:
    """What to boot a rescued server from: ``image_ref`` (None: the server's own image)
    and, from that image's ``hw_rescue_device``/``hw_rescue_bus``, how to attach it.  With
    either set the rescue is Nova's *stable device rescue*: the server's disks stay where
    they are and the rescue device is added, first in the boot order; without, the rescue
    disk takes the root disk's place (the root disk after it)."""

    image_ref: str | None = None
    device: str | None = None  # disk | cdrom | floppy
    bus: str | None = None  # virtio | ide | scsi | usb | sata | …

    @property
    def stable(self) -> bool:
        return bool(self.device or self.bus)

    @classmethod
    def of(cls, image_ref: str | None, image_properties: dict | None) -> Rescue:
        props = image_properties or {}
        return cls(image_ref, props.get("hw_rescue_device") or None, props.get("hw_rescue_bus") or None)

    def as_dict(self) -> dict:
        return {"image_ref": self.image_ref, "device": self.device, "bus": self.bus}


@dataclass
class GuestSpec:
    """What to run: an instance as the driver needs to see it."""

    instance_id: str
    name: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    image_ref: str
    topology: dict  # {"sockets", "cores", "threads"}
    user_data: str | None = None
    ephemeral_gb: int = 0
    swap_mb: int = 0
    root_volume: str | None = None  # boot from volume: the volume's file (raw), used as the root disk
    root_volume_serial: str | None = None
    config_drive: str | None = None  # a config-2 ISO (guestimage.configdrive) given to the guest as a CD-ROM
    # Attached volumes besides the root one: (file, volume id), the id being the disk's serial.
    volumes: list[tuple[str, str]] = field(default_factory=list)
    # The ids of those volumes (the root one included) that are multiattach: shared with
    # other guests, so opened without exclusive write access (QEMU's share-rw).
    shared_volumes: list[str] = field(default_factory=list)
    # The NICs a host running real guests plugs (vifs.nic): {"port_id", "mac_address", "bridge", "mtu"}
    nics: list[dict] = field(default_factory=list)


class Driver:
    host: str

    def resources(self) -> HostResources:
        raise NotImplementedError

    def spawn(self, spec: GuestSpec) -> int:
        """Create and start the guest; returns its power state."""
        raise NotImplementedError

    def destroy(self, instance_id: str) -> None:
        raise NotImplementedError

    def guests(self) -> list[str]:
        """The instance ids of every guest this host has (running or not)."""
        raise NotImplementedError

    def power_off(self, instance_id: str) -> int:
        raise NotImplementedError

    def power_on(self, instance_id: str) -> int:
        raise NotImplementedError

    def reboot(self, instance_id: str, hard: bool) -> int:
        raise NotImplementedError

    def cache_image(self, image_id: str) -> bool:
        """Fetch the image into this host's image cache (2.81's pre-caching): True when it
        was fetched now, False when it was there already; NotImplementedError for a
        hypervisor without an image cache."""
        raise NotImplementedError

    def power_update_event(self, instance_id: str, target: str) -> int:
        """The guest's power was changed outside Compute (``POWER_ON``/``POWER_OFF``, the
        ``power-update`` external event): take note; returns its power state.  Only
        hypervisors whose machines are powered by someone else support it (Nova: Ironic);
        the others raise NotImplementedError, as Nova's drivers do."""
        raise NotImplementedError

    def pause(self, instance_id: str) -> int:
        raise NotImplementedError

    def unpause(self, instance_id: str) -> int:
        raise NotImplementedError

    def suspend(self, instance_id: str) -> int:
        raise NotImplementedError

    def resume(self, instance_id: str) -> int:
        raise NotImplementedError

    def rescue(self, instance_id: str, rescue: Rescue | None = None) -> int:
        """Boot the rescue image with the server's disks attached (:class:`Rescue`; None:
        the server's own image, the root disk's place)."""
        raise NotImplementedError

    def unrescue(self, instance_id: str) -> int:
        raise NotImplementedError

    def set_admin_password(self, instance_id: str, password: str, image_properties: dict) -> None:
        """Set the password of the guest's administrative user (``os_admin_user``, root
        by default) inside the running guest; :class:`GuestAgentMissing` when the image
        asks for no agent, NotImplementedError when the driver cannot reach one."""
        raise NotImplementedError

    def resize(self, spec: GuestSpec) -> int:
        """Give an existing guest the CPUs, memory and (grown) root disk of ``spec`` on this
        host, keeping what is needed for :meth:`revert_resize`; returns its power state."""
        raise NotImplementedError

    def confirm_resize(self, instance_id: str) -> None:
        """Drop what a resize kept for a revert."""
        raise NotImplementedError

    def revert_resize(self, instance_id: str) -> int:
        """Back to the guest from before the resize (flavor and disk), started."""
        raise NotImplementedError

    # Moves between hosts (Nova's virt driver calls of the same names).  The manager
    # calls the source's driver, which is given the destination's: the hosts of one
    # process (or of one machine) reach each other's files directly.
    def migrate_disk_and_power_off(self, instance_id: str, dest: Driver) -> None:
        """Cold migration, the source's half: stop the guest and give ``dest`` its local
        disks, keeping this host's copy for a revert (stopped, no longer this host's guest)."""
        raise NotImplementedError

    def finish_migration(self, spec: GuestSpec, power_on: bool) -> int:
        """Cold migration, the destination's half: the guest the source handed over
        (:meth:`migrate_disk_and_power_off`) defined here, started when ``power_on``."""
        raise NotImplementedError

    def confirm_migration(self, instance_id: str) -> None:
        """Drop the copy a cold migration kept on this (source) host."""
        raise NotImplementedError

    def finish_revert_migration(self, spec: GuestSpec, power_on: bool) -> int:
        """Back to the copy a cold migration kept on this (source) host, started when
        ``power_on`` (the destination's copy is destroyed first)."""
        raise NotImplementedError

    def live_migration(self, spec: GuestSpec, dest: Driver, control: MoveControl | None = None) -> int:
        """Move the running or paused guest to ``dest`` without stopping it (its local
        disks with it); the guest is then ``dest``'s only; returns its power state there.
        On failure the guest runs on here as it was; so it does when ``control.abort`` is
        set before the switch-over (:class:`MigrationCancelled`).  ``control.force``: make
        the migration converge (the guest paused until it runs on ``dest``)."""
        raise NotImplementedError

    def recover_live_migration(self, instance_id: str, dest: Driver, resume: bool) -> bool:
        """A live migration of this host's guest to ``dest`` that a previous process left
        half done: finish it if the guest already switched over (True: it runs on ``dest``,
        resumed when ``resume``), else roll it back (False: it runs here, resumed when
        ``resume``, ``dest`` keeps nothing).  Never leaves the guest on both hosts."""
        raise NotImplementedError

    def snapshot(self, instance_id: str) -> bytes:
        """The guest's root disk contents, for an image upload."""
        raise NotImplementedError

    def snapshot_to(self, instance_id: str, dest: str) -> str:
        """Write a consistent, standalone copy of the root disk to the file ``dest`` (for
        a streamed image upload); returns its disk_format."""
        raise NotImplementedError

    def attach_volume(self, instance_id: str, device_path: str, serial: str, shared: bool = False) -> None:
        """Give the guest the volume file ``device_path`` as a disk with serial ``serial``
        (hot-plugged into a running guest; a stopped one has it at its next start);
        ``shared``: a multiattach volume other guests may write too."""
        raise NotImplementedError

    def extend_volume(self, instance_id: str, serial: str, new_size: int) -> None:
        """The volume ``serial`` of the guest grew to ``new_size`` bytes (Nova's
        ``extend_volume`` after Cinder's ``volume-extended`` event): the guest is told the
        disk's new size."""
        raise NotImplementedError

    def detach_volume(self, instance_id: str, serial: str) -> None:
        """Take the volume ``serial`` away from the guest (a no-op when it is not attached)."""
        raise NotImplementedError

    def volume_snapshot_create(self, instance_id: str, volume_id: str, create_info: dict) -> None:
        """Take an assisted snapshot of the guest's disk of ``volume_id``: switch it to the
        qcow2 overlay ``create_info["new_file"]`` a Cinder remotefs driver prepared, while
        the guest runs."""
        raise NotImplementedError("this hypervisor cannot take assisted volume snapshots")

    def volume_snapshot_delete(self, instance_id: str, volume_id: str, snapshot_id: str, delete_info: dict) -> None:
        """Merge the snapshot's overlay of ``volume_id`` back (``delete_info``: Cinder's
        ``file_to_merge``, ``merge_target_file``, ``type``)."""
        raise NotImplementedError("this hypervisor cannot delete assisted volume snapshots")

    def attach_nic(self, instance_id: str, nic: dict) -> None:
        """Give the guest a NIC for a port (``GuestSpec.nics``' shape), hot-plugged into a
        running guest; a stopped one has it at its next start."""
        raise NotImplementedError

    def detach_nic(self, instance_id: str, port_id: str) -> None:
        """Take the port's NIC away from the guest (a no-op when it has none)."""
        raise NotImplementedError

    def diagnostics(self, instance_id: str) -> dict:
        """The guest's diagnostics in compute API 2.48's shape, without ``state``, ``driver``,
        ``hypervisor_os`` and ``config_drive`` (the API adds those): hypervisor (libvirt's
        virt_type: kvm, qemu), uptime, num_cpus, num_disks, num_nics, cpu_details,
        memory_details, disk_details, nic_details."""
        raise NotImplementedError

    def prune_base_images(self, min_age: float) -> list[Path]:
        """Remove cached base images no guest uses and unused for ``min_age`` seconds;
        returns them."""
        raise NotImplementedError

    def console_output(self, instance_id: str) -> str:
        raise NotImplementedError

    def vnc_address(self, instance_id: str) -> tuple[str, int] | None:
        """Where the running guest's VNC server listens (host, TCP port), for the noVNC
        proxy; None when this hypervisor has no graphical consoles (the fake one)."""
        raise NotImplementedError

    def power_state(self, instance_id: str) -> int:
        raise NotImplementedError
