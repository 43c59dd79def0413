"""Which servers of a failed host are evacuated: the first source that says so decides.

1. the server: its ``automatic-recovery`` tag (on), or its metadata key
   ``ha_enabled_instance_metadata_key`` (Masakari's, default ``HA_Enabled``) -- true or
   false; a true one or the tag opts the server in;
2. its image's property ``ha_enabled`` (the flavor spec's name as Nova spells image
   properties: ``hw:cpu_policy`` / ``hw_cpu_policy``);
3. its flavor's extra spec ``ha:enabled`` (the flavor embedded in the server);
4. the cloud's ``ha_recovery_mode``: ``all`` (Masakari's ``evacuate_all_instances =
   True``) or ``tagged`` (False: only servers that opted in).

Values are read as Masakari reads ``HA_Enabled`` (``oslo_utils.strutils.bool_from_string``):
``true``, ``yes``, ``on``, ``y``, ``t``, ``1`` (any case) are true, anything else false.
With ``ha_ignore_instances_in_error_state`` (Masakari's option) a server already in
ERROR is left alone whatever it asks, as Masakari's PrepareHAEnabledInstancesTask does.
"""

from __future__ import annotations

from dataclasses import dataclass

from pocketstack.common.config import Settings
from pocketstack.compute.contract import HostServer

TAG = "automatic-recovery"
IMAGE_PROPERTY = "ha_enabled"
FLAVOR_EXTRA_SPEC = "ha:enabled"
MODES = ("all", "tagged")
TRUE_STRINGS = ("1", "t", "true", "on", "y", "yes")


@dataclass(frozen=True)
class Decision:
    recover: bool
    source: str  # what decided, as the progress details and the server's fault name it


def truthy(value: str) -> bool:
    """Masakari's reading of ``HA_Enabled`` (oslo's ``bool_from_string``, not strict)."""
    return value.strip().lower() in TRUE_STRINGS


def check(settings: Settings) -> None:
    """ValueError for a recovery setting that cannot work (at start, not at the first failure)."""
    if settings.ha_recovery_mode not in MODES:
        raise ValueError(f"setting 'ha_recovery_mode': {settings.ha_recovery_mode!r} is not one of {', '.join(MODES)}")
    if not settings.ha_enabled_instance_metadata_key.strip():
        raise ValueError("setting 'ha_enabled_instance_metadata_key' is empty")


def decide(server: HostServer, settings: Settings) -> Decision:
    """Whether recovery evacuates ``server``, and which source decided (module docstring)."""
    key = settings.ha_enabled_instance_metadata_key
    if settings.ha_ignore_instances_in_error_state and server.vm_state == "error":
        return Decision(False, "ha_ignore_instances_in_error_state: the server is in ERROR")
    metadata = dict(server.metadata)
    if TAG in server.tags:
        return Decision(True, f"server tag {TAG!r}")
    if key in metadata:
        return Decision(truthy(metadata[key]), f"server metadata {key}={metadata[key]}")
    for source, values, name in (("image property", server.image_properties, IMAGE_PROPERTY),
                                 ("flavor extra spec", server.flavor_extra_specs, FLAVOR_EXTRA_SPEC)):
        found = dict(values)
        if name in found:
            return Decision(truthy(found[name]), f"{source} {name}={found[name]}")
    return Decision(settings.ha_recovery_mode == "all", f"ha_recovery_mode={settings.ha_recovery_mode!r}")
