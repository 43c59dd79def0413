"""Instance states as Nova names them, and the API ``status`` they map to.

``vm_state`` is what the instance *is*, ``task_state`` what is being done to it (every
``*-ing`` task state is set by compare-and-swap before the work starts, see
:mod:`.lifecycle`), ``power_state`` what the hypervisor reports.
"""

from __future__ import annotations

# vm_state
ACTIVE = "active"
BUILDING = "building"
STOPPED = "stopped"
PAUSED = "paused"
SUSPENDED = "suspended"
RESCUED = "rescued"
RESIZED = "resized"
ERROR = "error"
DELETED = "deleted"
SHELVED = "shelved"
SHELVED_OFFLOADED = "shelved_offloaded"

# task_state
SCHEDULING = "scheduling"
NETWORKING = "networking"
BLOCK_DEVICE_MAPPING = "block_device_mapping"
SPAWNING = "spawning"
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
REBOOTING = "rebooting"
REBOOTING_HARD = "rebooting_hard"
PAUSING = "pausing"
UNPAUSING = "unpausing"
SUSPENDING = "suspending"
RESUMING = "resuming"
REBUILDING = "rebuilding"
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"
IMAGE_SNAPSHOT = "image_snapshot"
RESCUING = "rescuing"
UNRESCUING = "unrescuing"
DELETING = "deleting"
SHELVING = "shelving"
SHELVING_OFFLOADING = "shelving_offloading"
UNSHELVING = "unshelving"
MIGRATING = "migrating"
UPDATING_PASSWORD = "updating_password"

# power_state (Nova's integers)
NOSTATE = 0
RUNNING = 1
POWER_PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
POWER_SUSPENDED = 7

_STATUS: dict[str, dict[str | None, str]] = {
    ACTIVE: {None: "ACTIVE", REBOOTING: "REBOOT", REBOOTING_HARD: "HARD_REBOOT", REBUILDING: "REBUILD",
             RESIZE_PREP: "RESIZE", RESIZE_MIGRATING: "RESIZE", RESIZE_FINISH: "RESIZE", MIGRATING: "MIGRATING",
             UPDATING_PASSWORD: "PASSWORD"},
    BUILDING: {None: "BUILD"},
    STOPPED: {None: "SHUTOFF", RESIZE_PREP: "RESIZE", RESIZE_MIGRATING: "RESIZE", RESIZE_FINISH: "RESIZE",
              REBUILDING: "REBUILD"},
    RESIZED: {None: "VERIFY_RESIZE", RESIZE_REVERTING: "REVERT_RESIZE"},
    PAUSED: {None: "PAUSED", MIGRATING: "MIGRATING"},
    SUSPENDED: {None: "SUSPENDED"},
    RESCUED: {None: "RESCUE"},
    ERROR: {None: "ERROR", REBUILDING: "REBUILD"},
    DELETED: {None: "DELETED"},
    SHELVED: {None: "SHELVED"},
    SHELVED_OFFLOADED: {None: "SHELVED_OFFLOADED"},
}

# status -> vm_states, for the ``status`` list filter.
STATUS_FILTER = {
    "ACTIVE": [ACTIVE], "BUILD": [BUILDING], "SHUTOFF": [STOPPED], "PAUSED": [PAUSED],
    "SUSPENDED": [SUSPENDED], "RESCUE": [RESCUED], "VERIFY_RESIZE": [RESIZED], "ERROR": [ERROR],
    "DELETED": [DELETED], "REBOOT": [ACTIVE], "HARD_REBOOT": [ACTIVE], "REBUILD": [ACTIVE, STOPPED, ERROR],
    "PASSWORD": [ACTIVE],
    "RESIZE": [ACTIVE, STOPPED], "REVERT_RESIZE": [RESIZED], "SHELVED": [SHELVED], "MIGRATING": [ACTIVE, PAUSED],
    "SHELVED_OFFLOADED": [SHELVED_OFFLOADED],
}

POWER_STATE_NAMES = {NOSTATE: "pending", RUNNING: "running", POWER_PAUSED: "paused", SHUTDOWN: "shutdown",
                     CRASHED: "crashed", POWER_SUSPENDED: "suspended"}


def status(vm_state: str, task_state: str | None) -> str:
    by_task = _STATUS.get(vm_state, {None: "UNKNOWN"})
    return by_task.get(task_state, by_task[None])
