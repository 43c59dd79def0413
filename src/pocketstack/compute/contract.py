"""What other services may call of Compute.

Neutron and Cinder tell Nova about a server through its REST API (``POST
/os-server-external-events``), which is how they would reach a Compute running apart.
The contract holds what they would call in process to do the same: look a server up,
and deliver one external event; and what the metadata service (``pocketstack.metadata``)
reads to tell a guest about itself.  Every method is
synchronous (call it from a worker thread) and one short transaction.  ``Cloud.contract
("compute")`` hands out the implementation (:class:`~pocketstack.compute.manager.Compute`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

# The events Nova accepts, as ``os-server-external-events`` lists them.
EVENT_NAMES = ("network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted",
               "volume-extended", "power-update", "accelerator-request-bound")
# Events that name what they are about in ``tag`` (Nova's TAG_REQUIRED): 400 without one.
TAG_REQUIRED = ("volume-extended", "power-update", "accelerator-request-bound")
POWER_UPDATE_TAGS = ("POWER_ON", "POWER_OFF")


@dataclass(frozen=True)
class InstanceRef:
    """A server as another service needs to know it: who owns it and where it runs."""

    id: str
    project_id: str
    user_id: str
    host: str | None
    vm_state: str
    task_state: str | None


@dataclass(frozen=True)
class GuestInstance:
    """A server as its guest is told about it (the metadata service, the config drive):
    Nova's instance fields that ``nova/api/metadata/base.py`` reads, resolved here so the
    metadata service never reads compute's tables."""

    id: str
    name: str
    hostname: str
    project_id: str
    reservation_id: str
    launch_index: int
    availability_zone: str | None
    image_ref: str  # "" for a server booted from a volume
    image_properties: dict[str, Any]
    flavor_name: str
    ephemeral_gb: int
    swap_mb: int
    key_name: str | None
    key_data: str | None
    user_data: bytes | None  # decoded, as the guest gets it
    metadata: dict[str, str]
    security_groups: tuple[str, ...]  # names
    volume_devices: tuple[str, ...]  # device names of the attached volumes ("/dev/vdb")
    # Files injected with the server (``personality``): (path, content), in request order.
    injected_files: tuple[tuple[str, bytes], ...] = ()
    password: str = ""  # what the guest posted to the metadata service, "" for none
    # Device tags (``networks[].tag``, ``block_device_mapping_v2[].tag``, tagged attaches):
    # (volume id, tag) of the tagged volumes, (port id, tag) of the tagged ports.
    volume_tags: tuple[tuple[str, str], ...] = ()
    port_tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HostRef:
    """A compute host as the instance-HA monitor sees it: its service's signals and the
    operator's (or the fencer's) marks."""

    host: str
    id: str  # the compute node's (and Placement provider's) UUID
    service_up: bool  # its compute service checks in (coordination membership)
    forced_down: bool
    disabled: bool
    disabled_reason: str | None


@dataclass(frozen=True)
class HostServer:
    """A server on a host, with what recovery decides by: its state, tags and metadata,
    its flavor's extra specs (the flavor embedded in the server, as Nova keeps it) and
    the properties of the image it was booted from (as Nova's image_meta)."""

    id: str
    project_id: str
    vm_state: str
    task_state: str | None
    tags: tuple[str, ...]
    metadata: tuple[tuple[str, str], ...] = ()
    flavor_extra_specs: tuple[tuple[str, str], ...] = ()
    image_properties: tuple[tuple[str, str], ...] = ()


class ComputeContract(Protocol):
    def find_instance(self, instance_id: str) -> InstanceRef | None:
        """The server with this id, or None when there is none (or it is deleted)."""

    def volume_attachment_id(self, instance_id: str, volume_id: str) -> str | None:
        """The Block Storage attachment through which the server has the volume (Nova's
        ``GET /servers/{id}/os-volume_attachments/{volume}`` ``attachment_id``), or None
        when compute knows of no such attachment."""

    def deliver_event(self, instance_id: str, name: str) -> int:
        """Deliver one external event (one of :data:`EVENT_NAMES`) for a server, as Nova's
        ``os-server-external-events`` does: 200 accepted, 404 no such server, 422 the server
        is not on a host yet.  The fake hypervisor waits for no event, so an accepted one
        completes at once."""

    def update_power(self, instance_id: str, target: str, request_id: str, project_id: str | None,
                     user_id: str | None) -> None:
        """After an accepted ``power-update`` event (2.76): record the instance action Nova
        records (``start`` for ``POWER_ON``, ``stop`` for ``POWER_OFF``) and have the
        server's host take note (a no-op unless the server is idle in the other state)."""

    def volume_extended(self, instance_id: str, volume_id: str, request_id: str, project_id: str | None,
                        user_id: str | None) -> None:
        """After an accepted ``volume-extended`` event (2.51; Cinder sends one per server
        when it extended an attached volume): record the ``extend_volume`` instance action
        and have the server's host tell the guest its disk grew (event
        ``compute_extend_volume``)."""

    def guest_instance(self, instance_id: str) -> GuestInstance | None:
        """What the server's guest is told about it, or None when there is no such server
        (or it is deleted)."""

    def set_password(self, instance_id: str, password: str) -> bool:
        """Keep the password a guest posted (Nova's metadata ``password``): once only --
        False when one is already set (until ``os-server-password`` clears it)."""

    # -- instance HA (``pocketstack.ha``) ------------------------------------------------
    def compute_hosts(self) -> list[HostRef]:
        """Every compute host with its service's liveness and its marks."""

    def host_alive(self, host: str) -> bool | None:
        """Whether the machine of ``host`` is alive as its hypervisor layer sees it (the
        fake driver's simulated machine -- for a fake host another process runs, that
        process: ``compute/drivers/fake_machine.py``; QEMU: any of its guests' processes
        runs), None when it cannot tell."""

    def guest_processes(self, host: str) -> dict[str, int]:
        """The running guests of a QEMU ``host`` on this machine with their QEMU pids (read
        from the host's state directory and /proc: no driver, any process of the machine);
        {} for fake hosts."""

    def power_off_host(self, host: str) -> None:
        """Power a simulated (fake driver) machine off: all its guests stop (a fake host
        another process of this machine runs: that process is killed).
        NotASimulatedHost for a host with real guests."""

    def fence_host(self, host: str, reason: str) -> None:
        """Persist that ``host`` is fenced: its service forced down and disabled with
        ``reason`` (Masakari's "disable the compute service"), so nothing is scheduled to
        it and its servers may be evacuated; an operator enables it again."""

    def host_servers(self, host: str) -> list[HostServer]:
        """The servers on ``host`` (not deleted)."""

    def hold_host(self, host: str, reason: str) -> None:
        """Keep ordinary boots off ``host``: its compute service disabled with ``reason``
        (instance HA's reserved hosts; Masakari has the operator disable them).  A host
        disabled already keeps its own reason."""

    def release_host(self, host: str, reason: str | None) -> bool:
        """Enable ``host``'s compute service if it is disabled with ``reason`` (held by
        :meth:`hold_host`), or disabled at all when ``reason`` is None (a reserved host
        taken by a recovery, which Masakari enables whoever disabled it); False when it
        was not."""

    def evacuate_server(self, instance_id: str, from_host: str, request_id: str,
                        hosts: frozenset[str] | None = None) -> str:
        """Start evacuating the server away from ``from_host`` -- to one of ``hosts`` when
        given (the scheduler chooses among them), anywhere else otherwise -- unless that is
        done or under way: ``started``; ``in-progress`` (an evacuation runs); ``moved`` (no longer
        on ``from_host``); ``gone`` (deleted); ``host-up`` (its compute service is up:
        refused, as Nova's API); ``invalid-state`` (busy with another task)."""

    def resume_evacuation(self, instance_id: str) -> bool:
        """Send again to the schedulers the evacuation of a server that is ``rebuilding``
        for one but placed on no destination yet -- whoever started it may have died
        between entering the state and the cast (an HA leader killed mid-recovery); a
        duplicate is harmless (the scheduler answers with the destination placed, and the
        destination host runs one rebuild of a server at a time).  False when there is
        nothing to resume."""

    def fail_server(self, instance_id: str, message: str) -> bool:
        """Put an idle server in ERROR with ``message`` as its fault (a server of a failed
        host that recovery leaves there); False when it was busy or gone."""
