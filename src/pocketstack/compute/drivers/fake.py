"""A hypervisor that pretends: guests are entries in a dict, operations optionally take
``fake_op_delay`` seconds, and power states move exactly as a real hypervisor's would.

Guests are kept in memory per host; after a restart a guest the database says is on this
host is re-created on first touch (like a hypervisor whose guests survived the
nova-compute restart).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pocketstack.compute import states
from pocketstack.compute.drivers.base import (
    Driver,
    GuestSpec,
    HostResources,
    MigrationCancelled,
    MoveControl,
    Rescue,
)


class GuestDiskMissing(RuntimeError):
    """An operation on a volume disk the guest does not have."""


@dataclass
class FakeGuest:
    spec: GuestSpec | None
    power_state: int = states.RUNNING
    rescue: Rescue | None = None  # how the guest is rescued, while it is
    volumes: dict[str, str] = field(default_factory=dict)  # serial -> device path
    volume_sizes: dict[str, int] = field(default_factory=dict)  # serial -> bytes, once a disk was resized
    pre_resize: GuestSpec | None = None
    console: list[str] = field(default_factory=list)
    admin_password: str | None = None  # what the last changePassword set, for tests to read


class FakeDriver(Driver):
    def __init__(self, host: str, vcpus: int, memory_mb: int, disk_gb: int, delay: float = 0.0):
        self.host = host
        self._resources = HostResources(vcpus=vcpus, memory_mb=memory_mb, disk_gb=disk_gb,
                                        hypervisor_type="fake", hypervisor_version=1000,
                                        cpu_info={"arch": "x86_64", "model": "fake", "vendor": "pocketstack",
                                                  "topology": {"sockets": 1, "cores": vcpus, "threads": 1}},
                                        # it rescues any server, its root a volume or not (2.87)
                                        traits=frozenset({"COMPUTE_RESCUE_BFV"}))
        self.delay = delay
        self.move_time = 0.0  # seconds a live migration of a guest from here takes unless forced
        self.cached_images: set[str] = set()  # 2.81's pre-cached image ids
        self._guests: dict[str, FakeGuest] = {}
        self._lock = threading.Lock()
        # The simulated machine: ``powered`` until fenced, ``responsive`` until it hangs
        # (a hung machine is still powered: its guests may run on until it is fenced).
        self.powered = True
        self.responsive = True

    def resources(self) -> HostResources:
        return self._resources

    # -- the simulated machine (instance HA's second signal, and its fence) ------------
    def host_alive(self) -> bool:
        """Whether the machine answers: what the HA monitor reads beside the service's
        heartbeat (a service that stopped checking in may leave its guests running)."""
        return self.powered and self.responsive

    def power_off_host(self) -> None:
        """The simulated power switch: every guest stops, as a machine without power."""
        with self._lock:
            self.powered = False
            guests = list(self._guests.values())
        for guest in guests:
            guest.power_state = states.SHUTDOWN
            self._log(guest, "host powered off (fenced)")

    def power_on_host(self) -> None:
        """The machine is back (repaired): it answers again; its guests stay off until told."""
        self.powered = self.responsive = True

    def _work(self) -> None:
        if self.delay:
            time.sleep(self.delay)

    def _guest(self, instance_id: str) -> FakeGuest:
        with self._lock:
            return self._guests.setdefault(instance_id, FakeGuest(spec=None))

    def _log(self, guest: FakeGuest, line: str) -> None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%H:%M:%S")
        guest.console.append(f"[{stamp}] {line}")

    def _set(self, instance_id: str, power_state: int, line: str) -> int:
        self._work()
        guest = self._guest(instance_id)
        guest.power_state = power_state
        self._log(guest, line)
        return power_state

    def spawn(self, spec: GuestSpec) -> int:
        self._work()
        guest = FakeGuest(spec=spec)
        guest.volumes.update((serial, path) for path, serial in spec.volumes)
        topo = spec.topology
        for line in (f"fake-bios: booting {spec.name} ({spec.instance_id}) on {self.host}",
                     f"cpu topology: {topo.get('sockets')} socket(s), {topo.get('cores')} core(s), "
                     f"{topo.get('threads')} thread(s); memory {spec.memory_mb} MiB",
                     "cloud-init: user-data " + ("found" if spec.user_data else "not provided"),
                     f"{spec.name} login:"):
            self._log(guest, line)
        with self._lock:
            self._guests[spec.instance_id] = guest
        return states.RUNNING

    def destroy(self, instance_id: str) -> None:
        self._work()
        with self._lock:
            self._guests.pop(instance_id, None)

    def guests(self) -> list[str]:
        with self._lock:
            return sorted(self._guests)

    def power_off(self, instance_id: str) -> int:
        return self._set(instance_id, states.SHUTDOWN, "reached target Power-Off")

    def power_on(self, instance_id: str) -> int:
        return self._set(instance_id, states.RUNNING, "booting")

    def cache_image(self, image_id: str) -> bool:
        """Nova's fake driver: remembers the ids (there are no image bytes to keep)."""
        with self._lock:
            fresh = image_id not in self.cached_images
            self.cached_images.add(image_id)
        return fresh

    def power_update_event(self, instance_id: str, target: str) -> int:
        """The simulated machine's power was switched by someone else (Nova's
        PowerUpdateFakeDriver, after Ironic's): the guest is off or running."""
        if target == "POWER_OFF":
            return self._set(instance_id, states.SHUTDOWN, "power switched off outside Compute")
        return self._set(instance_id, states.RUNNING, "power switched on outside Compute")

    def reboot(self, instance_id: str, hard: bool) -> int:
        return self._set(instance_id, states.RUNNING, "reset" if hard else "rebooting (ACPI)")

    def pause(self, instance_id: str) -> int:
        return self._set(instance_id, states.POWER_PAUSED, "paused")

    def unpause(self, instance_id: str) -> int:
        return self._set(instance_id, states.RUNNING, "unpaused")

    def suspend(self, instance_id: str) -> int:
        return self._set(instance_id, states.POWER_SUSPENDED, "suspended to disk")

    def resume(self, instance_id: str) -> int:
        return self._set(instance_id, states.RUNNING, "resumed")

    def rescue(self, instance_id: str, rescue: Rescue | None = None) -> int:
        guest = self._guest(instance_id)
        guest.rescue = rescue = rescue or Rescue()
        how = f"a {rescue.device or 'disk'} on {rescue.bus or 'the default bus'} beside its own disks" \
            if rescue.stable else "in place of its root disk"
        return self._set(instance_id, states.RUNNING,
                         f"booted rescue image {rescue.image_ref or 'of its own'} {how}")

    def unrescue(self, instance_id: str) -> int:
        self._guest(instance_id).rescue = None
        return self._set(instance_id, states.RUNNING, "booted from own disk")

    def set_admin_password(self, instance_id: str, password: str, image_properties: dict) -> None:
        """Recorded, as a guest agent would have set it; the console says for which user."""
        self._work()
        guest = self._guest(instance_id)
        guest.admin_password = password
        self._log(guest, f"password changed for {image_properties.get('os_admin_user') or 'root'}")

    def snapshot(self, instance_id: str) -> bytes:
        self._work()
        self._log(self._guest(instance_id), "disk snapshot taken")
        return f"fake disk of {instance_id}\n".encode()

    def resize(self, spec: GuestSpec) -> int:
        guest = self._guest(spec.instance_id)
        guest.pre_resize = guest.pre_resize or guest.spec
        guest.spec = spec
        return self._set(spec.instance_id, states.RUNNING, f"resized: {spec.vcpus} vCPU(s), {spec.memory_mb} MiB, "
                                                           f"{spec.disk_gb} GiB")

    def confirm_resize(self, instance_id: str) -> None:
        self._guest(instance_id).pre_resize = None

    def revert_resize(self, instance_id: str) -> int:
        guest = self._guest(instance_id)
        if guest.pre_resize is not None:
            guest.spec, guest.pre_resize = guest.pre_resize, None
        return self._set(instance_id, states.RUNNING, "resize reverted")

    # Moves: a fake guest has no disks to carry; it is re-created where it goes.
    def migrate_disk_and_power_off(self, instance_id: str, dest: Driver) -> None:
        self.power_off(instance_id)
        self.destroy(instance_id)

    def finish_migration(self, spec: GuestSpec, power_on: bool) -> int:
        power = self.spawn(spec)
        return power if power_on else self.power_off(spec.instance_id)

    def confirm_migration(self, instance_id: str) -> None:
        self.destroy(instance_id)

    def finish_revert_migration(self, spec: GuestSpec, power_on: bool) -> int:
        return self.finish_migration(spec, power_on)

    def live_migration(self, spec: GuestSpec, dest: Driver, control: MoveControl | None = None) -> int:
        control = control or MoveControl()
        paused = self.power_state(spec.instance_id) == states.POWER_PAUSED
        # The memory copy: ``move_time`` seconds, cut short by a forced completion; an
        # abort until then leaves the guest here.
        deadline = time.monotonic() + self.move_time
        while time.monotonic() < deadline and not (control.force.is_set() or control.abort.is_set()):
            time.sleep(0.01)
        if control.abort.is_set():
            raise MigrationCancelled(f"live migration of {spec.instance_id} aborted")
        power = dest.spawn(spec)
        if paused:
            power = dest.pause(spec.instance_id)
        self.destroy(spec.instance_id)
        return power

    def recover_live_migration(self, instance_id: str, dest: Driver, resume: bool) -> bool:
        # A fake move is one step (the copy spawned, then the source destroyed): the guest
        # still here means the move did not end; any copy on ``dest`` goes.
        if instance_id in self.guests():
            dest.destroy(instance_id)
            return False
        return instance_id in dest.guests()

    def snapshot_to(self, instance_id: str, dest: str) -> str:
        with open(dest, "wb") as f:
            f.write(self.snapshot(instance_id))
        return "raw"

    def attach_volume(self, instance_id: str, device_path: str, serial: str, shared: bool = False) -> None:
        self._work()
        guest = self._guest(instance_id)
        guest.volumes[serial] = device_path
        self._log(guest, f"virtio-blk: disk {serial} attached" + (" (shared)" if shared else ""))

    def extend_volume(self, instance_id: str, serial: str, new_size: int) -> None:
        """Record the disk's new size, as the guest's block layer would see it."""
        self._work()
        guest = self._guest(instance_id)
        root = guest.spec.root_volume_serial if guest.spec is not None else None
        if serial not in guest.volumes and serial != root:
            raise GuestDiskMissing(f"guest {instance_id} has no disk {serial} to resize")
        guest.volume_sizes[serial] = new_size
        self._log(guest, f"virtio-blk: disk {serial} resized to {new_size} bytes")

    def detach_volume(self, instance_id: str, serial: str) -> None:
        self._work()
        guest = self._guest(instance_id)
        if guest.volumes.pop(serial, None) is not None:
            self._log(guest, f"virtio-blk: disk {serial} detached")

    # An assisted snapshot touches no disk (there is none), but the volume must be one of
    # the guest's disks, as libvirt's "Found no disk to snapshot".
    def _volume_disk(self, instance_id: str, volume_id: str) -> FakeGuest:
        self._work()
        guest = self._guest(instance_id)
        root = guest.spec.root_volume_serial if guest.spec is not None else None
        if volume_id not in guest.volumes and volume_id != root:
            raise GuestDiskMissing(f"found no disk of volume {volume_id} in guest {instance_id}")
        return guest

    def volume_snapshot_create(self, instance_id: str, volume_id: str, create_info: dict) -> None:
        guest = self._volume_disk(instance_id, volume_id)
        self._log(guest, f"virtio-blk: disk {volume_id} now on overlay {create_info['new_file']}")

    def volume_snapshot_delete(self, instance_id: str, volume_id: str, snapshot_id: str, delete_info: dict) -> None:
        guest = self._volume_disk(instance_id, volume_id)
        self._log(guest, f"virtio-blk: disk {volume_id} snapshot {snapshot_id} merged")

    def attach_nic(self, instance_id: str, nic: dict) -> None:
        self._work()
        self._log(self._guest(instance_id), f"virtio-net: nic {nic['mac_address']} attached")

    def detach_nic(self, instance_id: str, port_id: str) -> None:
        self._work()
        self._log(self._guest(instance_id), f"virtio-net: nic of port {port_id} detached")

    def prune_base_images(self, min_age: float) -> list[Path]:
        return []  # simulated guests have no disks, so no cache of base images

    def diagnostics(self, instance_id: str) -> dict:
        spec = self._guest(instance_id).spec
        vcpus, memory_mb = (spec.vcpus, spec.memory_mb) if spec else (1, 0)
        return {"hypervisor": "fake", "uptime": 0, "num_cpus": vcpus, "num_disks": 1, "num_nics": 0,
                "nic_details": [],
                "memory_details": {"maximum": memory_mb, "used": 0},
                "cpu_details": [{"id": i, "time": 0, "utilisation": None} for i in range(vcpus)],
                "disk_details": [{"read_bytes": 0, "read_requests": 0, "write_bytes": 0, "write_requests": 0,
                                  "errors_count": 0}]}

    def console_output(self, instance_id: str) -> str:
        return "\n".join(self._guest(instance_id).console) + "\n"

    def vnc_address(self, instance_id: str) -> tuple[str, int] | None:
        """No graphical console: a simulated guest has no screen."""
        self._guest(instance_id)
        return None

    def power_state(self, instance_id: str) -> int:
        return self._guest(instance_id).power_state
