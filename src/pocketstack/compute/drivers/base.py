"""The interface between the compute manager and a hypervisor.

The manager owns every state transition and persists it before calling the driver; a
driver only does the work and reports the resulting power state.  A QEMU/libvirt driver
implements the same methods against real guests.  All methods are blocking and are
called from worker threads, never on the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class HostResources:
    vcpus: int
    memory_mb: int
    disk_gb: int
    hypervisor_type: str
    hypervisor_version: int
    cpu_info: dict = field(default_factory=dict)


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


class Driver:
    host: str

    def resources(self) -> HostResources:
        raise NotImplementedError

    def spawn(self, guest: GuestSpec) -> int:
        """Create and start the guest; returns its power state."""
        raise NotImplementedError

    def destroy(self, instance_id: str) -> None:
        raise NotImplementedError

    def power_off(self, instance_id: str) -> int:
        raise NotImplementedError

    def power_on(self, instance_id: str) -> int:
        raise NotImplementedError

    def reboot(self, instance_id: str, hard: bool) -> int:
        raise NotImplementedError

    def pause(self, instance_id: str) -> int:
        raise NotImplementedError

    def unpause(self, instance_id: str) -> int:
        raise NotImplementedError

    def suspend(self, instance_id: str) -> int:
        raise NotImplementedError

    def resume(self, instance_id: str) -> int:
        raise NotImplementedError

    def rescue(self, instance_id: str) -> int:
        raise NotImplementedError

    def unrescue(self, instance_id: str) -> int:
        raise NotImplementedError

    def snapshot(self, instance_id: str) -> bytes:
        """The guest's root disk contents, for an image upload."""
        raise NotImplementedError

    def console_output(self, instance_id: str) -> str:
        raise NotImplementedError

    def power_state(self, instance_id: str) -> int:
        raise NotImplementedError
