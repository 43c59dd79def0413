"""``/extensions``: the legacy extension list v2.1 still answers.

Nova lists every v2.0 extension it once had; this lists only those whose API this cloud
serves (so a client probing for one finds what really works), with Nova's names and
aliases and the constant ``namespace``/``updated`` Nova gives all of them.
"""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.compute import errors

# (name, alias, description) of each extension whose API is served here.
_EXTENSIONS = (
    ("AdminActions", "os-admin-actions", "Enable admin-only server actions (reset state, inject network info)."),
    ("Aggregates", "os-aggregates", "Admin-only aggregate administration."),
    ("AvailabilityZone", "os-availability-zone", "1. Add availability_zone to the Create Server API."),
    ("ConsoleOutput", "os-console-output", "Console log output support."),
    ("Consoles", "os-consoles", "Interactive Console support."),
    ("CreateBackup", "os-create-backup", "Create a backup of a server."),
    ("DeferredDelete", "os-deferred-delete", "Instance deferred delete."),
    ("DiskConfig", "OS-DCF", "Disk Management Extension."),
    ("ExtendedAvailabilityZone", "OS-EXT-AZ", "Extended Availability Zone support."),
    ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "Extended Server Attributes support."),
    ("ExtendedStatus", "OS-EXT-STS", "Extended Status support."),
    ("ExtendedVolumes", "os-extended-volumes", "Extended Volumes support."),
    ("FlavorAccess", "os-flavor-access", "Flavor access support."),
    ("FlavorExtraData", "OS-FLV-EXT-DATA", "Provide additional data for flavors."),
    ("FlavorExtraSpecs", "os-flavor-extra-specs", "Flavors extra specs support."),
    ("FlavorManage", "os-flavor-manage", "Flavor create/delete API support."),
    ("Hosts", "os-hosts", "Admin-only host administration."),
    ("Hypervisors", "os-hypervisors", "Admin-only hypervisor administration."),
    ("InstanceActions", "os-instance-actions", "View a log of actions and events taken on an instance."),
    ("InstanceUsageAuditLog", "os-instance-usage-audit-log", "Admin-only Task Log Monitoring."),
    ("Keypairs", "os-keypairs", "Keypair Support."),
    ("Lock", "os-lock-server", "Enable lock/unlock server actions."),
    ("Migrations", "os-migrations", "Provide data on migrations."),
    ("Networks", "os-networks", "Admin-only Network Management Extension."),
    ("PauseServer", "os-pause-server", "Enable pause/unpause server actions."),
    ("QuotaClasses", "os-quota-class-sets", "Quota classes management support."),
    ("Quotas", "os-quota-sets", "Quotas management support."),
    ("Rescue", "os-rescue", "Instance rescue mode."),
    ("SecurityGroups", "os-security-groups", "Security group support."),
    ("ServerDiagnostics", "os-server-diagnostics", "Allow Admins to view server diagnostics through server id."),
    ("ServerExternalEvents", "os-server-external-events", "Server External Event Triggers."),
    ("ServerGroups", "os-server-groups", "Server group support."),
    ("ServerPassword", "os-server-password", "Server password support."),
    ("Services", "os-services", "Services support."),
    ("SimpleTenantUsage", "os-simple-tenant-usage", "Simple tenant usage extension."),
    ("SuspendServer", "os-suspend-server", "Enable suspend/resume server actions."),
    ("TenantNetworks", "os-tenant-networks", "Tenant-based Network Management Extension."),
    ("Volumes", "os-volumes", "Volumes support."),
)


def _render(name: str, alias: str, description: str) -> dict:
    return {"name": name, "alias": alias, "description": description, "links": [],
            "namespace": "http://docs.openstack.org/compute/ext/fake_xml", "updated": "2014-12-03T00:00:00Z"}


class ExtensionsApi:
    @route.get("/v2.1/extensions")
    def index(self, req: ApiRequest):
        return {"extensions": [_render(*e) for e in _EXTENSIONS]}

    @route.get("/v2.1/extensions/{alias}")
    def show(self, req: ApiRequest):
        alias = req.path_params["alias"]
        for extension in _EXTENSIONS:
            if extension[1] == alias:
                return {"extension": _render(*extension)}
        raise errors.ExtensionNotFound(alias=alias)
