"""Default RBAC rules for the Compute API, under Nova's rule names.

Project members manage their project's servers, readers read them, admins do
everything (including other projects' servers, flavors, quotas and hosts).  Key pairs
belong to a user.  Override any rule in the policy file.
"""

READER = "rule:project_reader_or_admin"
MEMBER = "rule:project_member_or_admin"
ADMIN = "rule:admin_api"
ANYONE = "@"
OWNER = "rule:admin_api or user_id:%(user_id)s"

_SERVER_MEMBER = ("create", "update", "delete", "start", "stop", "reboot", "resize", "confirm_resize",
                  "revert_resize", "rebuild", "create_image")
_SERVER_READER = ("index", "detail", "show")

DEFAULTS: dict[str, str] = {
    **{f"os_compute_api:servers:{name}": MEMBER for name in _SERVER_MEMBER},
    **{f"os_compute_api:servers:{name}": READER for name in _SERVER_READER},
    "os_compute_api:servers:index:get_all_tenants": ADMIN,
    "os_compute_api:servers:detail:get_all_tenants": ADMIN,
    "os_compute_api:servers:allow_all_filters": ADMIN,
    "os_compute_api:servers:show:host_status": ADMIN,
    "os_compute_api:os-extended-server-attributes": ADMIN,
    "os_compute_api:os-deferred-delete:force": MEMBER,
    "os_compute_api:os-pause-server:pause": MEMBER,
    "os_compute_api:os-pause-server:unpause": MEMBER,
    "os_compute_api:os-suspend-server:suspend": MEMBER,
    "os_compute_api:os-suspend-server:resume": MEMBER,
    "os_compute_api:os-lock-server:lock": MEMBER,
    "os_compute_api:os-lock-server:unlock": MEMBER,
    "os_compute_api:os-lock-server:unlock:unlock_override": ADMIN,
    "os_compute_api:os-rescue": MEMBER,
    "os_compute_api:os-unrescue": MEMBER,
    "os_compute_api:os-console-output": MEMBER,
    "os_compute_api:os-server-diagnostics": ADMIN,
    "os_compute_api:os-instance-actions:list": READER,
    "os_compute_api:os-instance-actions:show": READER,
    "os_compute_api:os-instance-actions:events": ADMIN,
    "os_compute_api:os-instance-actions:events:details": ADMIN,
    "os_compute_api:server-metadata:index": READER,
    "os_compute_api:server-metadata:show": READER,
    "os_compute_api:server-metadata:create": MEMBER,
    "os_compute_api:server-metadata:update": MEMBER,
    "os_compute_api:server-metadata:update_all": MEMBER,
    "os_compute_api:server-metadata:delete": MEMBER,
    "os_compute_api:os-server-tags:index": READER,
    "os_compute_api:os-server-tags:show": READER,
    "os_compute_api:os-server-tags:update": MEMBER,
    "os_compute_api:os-server-tags:update_all": MEMBER,
    "os_compute_api:os-server-tags:delete": MEMBER,
    "os_compute_api:os-server-tags:delete_all": MEMBER,
    "os_compute_api:os-server-groups:index": READER,
    "os_compute_api:os-server-groups:index:all_projects": ADMIN,
    "os_compute_api:os-server-groups:show": READER,
    "os_compute_api:os-server-groups:create": "rule:project_member",
    "os_compute_api:os-server-groups:delete": MEMBER,
    "os_compute_api:os-flavor-manage:create": ADMIN,
    "os_compute_api:os-flavor-manage:update": ADMIN,
    "os_compute_api:os-flavor-manage:delete": ADMIN,
    "os_compute_api:os-flavor-extra-specs:index": READER,
    "os_compute_api:os-flavor-extra-specs:show": READER,
    "os_compute_api:os-flavor-extra-specs:create": ADMIN,
    "os_compute_api:os-flavor-extra-specs:update": ADMIN,
    "os_compute_api:os-flavor-extra-specs:delete": ADMIN,
    "os_compute_api:os-flavor-access": ADMIN,
    "os_compute_api:os-flavor-access:add_tenant_access": ADMIN,
    "os_compute_api:os-flavor-access:remove_tenant_access": ADMIN,
    "os_compute_api:os-keypairs:index": OWNER,
    "os_compute_api:os-keypairs:show": OWNER,
    "os_compute_api:os-keypairs:create": OWNER,
    "os_compute_api:os-keypairs:delete": OWNER,
    "os_compute_api:os-quota-sets:show": READER,
    "os_compute_api:os-quota-sets:detail": READER,
    "os_compute_api:os-quota-sets:defaults": ANYONE,
    "os_compute_api:os-quota-sets:update": ADMIN,
    "os_compute_api:os-quota-sets:delete": ADMIN,
    "os_compute_api:limits": ANYONE,
    "os_compute_api:limits:other_project": ADMIN,
    "os_compute_api:os-availability-zone:list": ANYONE,
    "os_compute_api:os-availability-zone:detail": ADMIN,
    "os_compute_api:os-services:list": ADMIN,
    "os_compute_api:os-services:update": ADMIN,
    "os_compute_api:os-hypervisors:list": ADMIN,
    "os_compute_api:os-hypervisors:list-detail": ADMIN,
    "os_compute_api:os-hypervisors:show": ADMIN,
    "os_compute_api:os-hypervisors:statistics": ADMIN,
    "os_compute_api:os-hypervisors:uptime": ADMIN,
    "os_compute_api:os-aggregates:index": ADMIN,
}
