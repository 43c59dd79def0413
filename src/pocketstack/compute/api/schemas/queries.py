"""The query parameters each listing knows, from the microversion at which Nova's query
schemas turn ``additionalProperties`` off (2.75 for most): any other name is then a 400.
Declared on a route as ``query=``; the names are Nova's schemas' properties."""

from __future__ import annotations

PAGING = frozenset({"limit", "marker"})

# nova/api/openstack/compute/schemas/servers.py index_query_v275 (with its joined-table
# names and the 2.26 tag, 2.66 changes-before and 2.73 locked filters).
SERVERS = frozenset({
    "user_id", "project_id", "tenant_id", "launch_index", "image_ref", "image", "kernel_id", "ramdisk_id",
    "hostname", "key_name", "power_state", "vm_state", "task_state", "host", "node", "flavor",
    "reservation_id", "launched_at", "terminated_at", "availability_zone", "name", "display_name",
    "description", "display_description", "locked_by", "uuid", "root_device_name", "config_drive",
    "access_ip_v4", "access_ip_v6", "auto_disk_config", "progress", "sort_key", "sort_dir", "all_tenants",
    "soft_deleted", "deleted", "status", "changes-since", "ip", "ip6", "created_at",
    "block_device_mapping", "services", "metadata", "system_metadata", "info_cache", "security_groups",
    "pci_devices", "tags", "tags-any", "not-tags", "not-tags-any", "changes-before", "locked", *PAGING})
FLAVORS = frozenset({"is_public", "minRam", "minDisk", "sort_key", "sort_dir", *PAGING})
FLAVORS_V2102 = FLAVORS | {"name"}  # a regular expression on the name
KEYPAIRS = frozenset({"user_id", *PAGING})
KEYPAIR = frozenset({"user_id"})
LIMITS = frozenset({"tenant_id"})
QUOTA_SET = frozenset({"user_id"})
SERVER_GROUPS = frozenset({"all_projects", "limit", "offset"})
SERVICES = frozenset({"host", "binary"})
USAGES = frozenset({"start", "end", "detailed", *PAGING})
USAGE = frozenset({"start", "end", *PAGING})
VOLUME_ATTACHMENTS = frozenset({"limit", "offset"})
# os-migrations (index_query_v259, v266, v280): strict from 2.59.
MIGRATIONS_V259 = frozenset({"hidden", "host", "instance_uuid", "source_compute", "status", "migration_type",
                             "changes-since", *PAGING})
MIGRATIONS_V266 = MIGRATIONS_V259 | {"changes-before"}
MIGRATIONS_V280 = MIGRATIONS_V266 | {"user_id", "project_id"}
# A server's instance actions (index_query_v258, v266): strict from 2.58.
INSTANCE_ACTIONS_V258 = frozenset({"changes-since", *PAGING})
INSTANCE_ACTIONS_V266 = INSTANCE_ACTIONS_V258 | {"changes-before"}
# os-hypervisors from 2.53 (index_query_v253, show_query_v253).
HYPERVISORS = frozenset({"hypervisor_hostname_pattern", "with_servers", *PAGING})
HYPERVISOR = frozenset({"with_servers"})
ASSISTED_SNAPSHOT_DELETE = frozenset({"delete_info"})


def from_2_75(names: frozenset[str]) -> dict[str, frozenset[str]]:
    """``query=`` for a route whose unknown parameters are a 400 from 2.75."""
    return {"2.75": names}
