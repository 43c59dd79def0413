"""What a client asks before it uses the API: ``/extensions`` (the Cinder extensions this
cloud implements, by their Cinder aliases) and ``/os-availability-zone``."""

from __future__ import annotations

from pocketstack.common.api.request import ApiRequest
from pocketstack.common.api.routes import route
from pocketstack.volume.api.common import PREFIX, own_project

UPDATED = "2012-01-01T00:00:00+00:00"
# alias -> (name, description): only what the API below really serves.
EXTENSIONS = {
    "os-admin-actions": ("AdminActions", "Enable admin actions (reset status, force delete)."),
    "os-availability-zone": ("AvailabilityZones", "Describe Availability Zones."),
    "backups": ("Backups", "Backups support."),
    "capabilities": ("Capabilities", "Capabilities support."),
    "os-extended-snapshot-attributes": ("ExtendedSnapshotAttributes", "Extended snapshot attributes."),
    "os-hosts": ("Hosts", "Admin-only host administration."),
    "os-quota-class-sets": ("QuotaClasses", "Quota classes management support."),
    "encryption": ("VolumeTypeEncryption", "Encryption support for volume types."),
    "os-quota-sets": ("Quotas", "Quota management support."),
    "qos-specs": ("Qos_specs_manage", "QoS specs support."),
    "scheduler-stats": ("Scheduler_stats", "Scheduler stats support."),
    "os-services": ("Services", "Services support."),
    "os-types-extra-specs": ("TypesExtraSpecs", "Type extra specs support."),
    "os-types-manage": ("TypesManage", "Types manage support."),
    "os-vol-host-attr": ("VolumeHostAttribute", "Expose host as an attribute of a volume."),
    "os-vol-image-meta": ("VolumeImageMetadata", "Show image metadata associated with the volume."),
    "os-vol-mig-status-attr": ("VolumeMigStatusAttribute", "Expose migration_status as an attribute of a volume."),
    "os-vol-tenant-attr": ("VolumeTenantAttribute", "Expose the internal project_id as an attribute of a volume."),
    "os-volume-actions": ("VolumeActions", "Enable volume actions."),
    "os-volume-transfer": ("VolumeTransfer", "Volume transfer management support."),
    "os-volume-type-access": ("VolumeTypeAccess", "Volume type access support."),
}


class DiscoveryApi:
    @route.get(PREFIX + "/extensions")
    def extensions(self, req: ApiRequest) -> dict:
        return {"extensions": [{"alias": alias, "name": name, "description": description, "links": [],
                                "updated": UPDATED} for alias, (name, description) in sorted(EXTENSIONS.items())]}

    @route.get(PREFIX + "/os-availability-zone", policy="volume_extension:availability_zone_list")
    def zones(self, req: ApiRequest) -> dict:
        req.authorize(target=own_project(req))
        return {"availabilityZoneInfo": [{"zoneName": "nova", "zoneState": {"available": True}}]}
