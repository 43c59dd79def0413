"""Default policy rules of the Block Storage API, documented: Cinder's names, defaults and
personas (``cinder/policies/``).  The routes that declare each rule are its operations
(``/openapi.json`` lists them); the per-action rules of ``POST .../action`` and the
metadata routes shared by volumes and snapshots are enforced by name in their handlers."""

from pocketstack.common.policy import Rule

READER = "rule:project_reader_or_admin"
MEMBER = "rule:project_member_or_admin"
ADMIN = "rule:admin_api"

RULES = (
    # volumes
    Rule("volume:get", READER, "Show a volume."),
    Rule("volume:get_all", READER, "List volumes (summary or detail)."),
    Rule("volume:create", MEMBER, "Create a volume (blank, from an image, a snapshot or another volume)."),
    Rule("volume:update", MEMBER, "Update a volume's name and description; attach, detach, reserve, "
                                  "unreserve it and set its bootable flag (the legacy attach actions)."),
    Rule("volume:delete", MEMBER, "Delete a volume."),
    Rule("volume:extend", MEMBER, "Extend a volume (os-extend)."),
    Rule("volume:extend_attached_volume", MEMBER, "Extend an attached (in-use) volume (os-extend, 3.42)."),
    Rule("volume:update_readonly_flag", MEMBER, "Set a volume's read-only flag (os-update_readonly_flag)."),
    Rule("volume:copy_volume_to_image", MEMBER, "Upload a volume to an image (Cinder's older name of the rule)."),
    Rule("volume:get_volume_metadata", READER, "Show a volume's metadata or one item of it."),
    Rule("volume:update_volume_metadata", MEMBER, "Set, replace or delete a volume's metadata."),
    Rule("volume:get_volume_summary", READER, "Show the count, total size and metadata of the volumes (3.12+)."),
    Rule("volume:retype", MEMBER, "Change a volume's type (os-retype)."),
    Rule("volume:reimage", MEMBER, "Re-image a volume (os-reimage, 3.68+)."),
    Rule("volume:reimage_reserved", MEMBER, "Re-image a reserved volume (os-reimage, 3.68+)."),
    Rule("volume_extension:volume_actions:upload_image", MEMBER, "Upload a volume to an image "
                                                                 "(os-volume_upload_image)."),
    Rule("volume_extension:volume_actions:initialize_connection", MEMBER,
         "Get the connection information of a volume for a connector (os-initialize_connection)."),
    Rule("volume_extension:volume_actions:terminate_connection", MEMBER,
         "End a connector's connection to a volume (os-terminate_connection)."),
    Rule("volume_extension:volume_tenant_attribute", READER, "Show a volume's project "
                                                             "(os-vol-tenant-attr:tenant_id)."),
    Rule("volume_extension:volume_host_attribute", ADMIN, "Show a volume's host and migration attributes "
                                                          "(os-vol-host-attr:host, os-vol-mig-status-attr)."),
    Rule("volume_extension:volume_admin_actions:reset_status", ADMIN, "Reset a volume's status (os-reset_status)."),
    Rule("volume_extension:volume_admin_actions:force_delete", ADMIN, "Force-delete a volume (os-force_delete)."),
    Rule("volume_extension:volume_admin_actions:force_detach", ADMIN, "Force-detach a volume (os-force_detach)."),
    Rule("volume_extension:volume_admin_actions:migrate_volume", ADMIN, "Migrate a volume to another backend "
                                                                        "(os-migrate_volume)."),
    Rule("volume_extension:volume_admin_actions:migrate_volume_completion", ADMIN,
         "Complete a generic volume migration (os-migrate_volume_completion)."),
    Rule("volume_extension:volume_manage", ADMIN, "Adopt a backend's file as a volume (os-volume-manage, "
                                                  "manageable_volumes)."),
    Rule("volume_extension:volume_unmanage", ADMIN, "Stop managing a volume, keeping its data (os-unmanage)."),
    Rule("volume_extension:list_manageable", ADMIN, "List a backend's files that volumes could manage."),
    Rule("snapshot_extension:snapshot_manage", ADMIN, "Adopt a backend's file as a snapshot (os-snapshot-manage, "
                                                      "manageable_snapshots)."),
    Rule("snapshot_extension:snapshot_unmanage", ADMIN, "Stop managing a snapshot, keeping its data "
                                                        "(os-unmanage)."),
    Rule("snapshot_extension:list_manageable", ADMIN, "List a backend's files that snapshots could manage."),
    Rule("volume_extension:volume_image_metadata:set", MEMBER, "Set a volume's image metadata "
                                                               "(os-set_image_metadata)."),
    Rule("volume_extension:volume_image_metadata:remove", MEMBER, "Remove an item of a volume's image metadata "
                                                                  "(os-unset_image_metadata)."),
    Rule("volume_extension:volume_image_metadata:show", READER, "Show a volume's image metadata "
                                                                "(os-show_image_metadata)."),
    # snapshots
    Rule("volume:get_snapshot", READER, "List and show snapshots and their metadata."),
    Rule("volume:create_snapshot", MEMBER, "Create a snapshot of a volume."),
    Rule("volume:update_snapshot", MEMBER, "Update a snapshot and set, replace or delete its metadata."),
    Rule("volume:delete_snapshot", MEMBER, "Delete a snapshot."),
    Rule("snapshot_extension:snapshot_actions:update_snapshot_status", MEMBER,
         "Report a snapshot's status and progress while it is created or deleted (os-update_snapshot_status)."),
    Rule("volume_extension:snapshot_admin_actions:reset_status", ADMIN, "Reset a snapshot's status "
                                                                        "(os-reset_status)."),
    Rule("volume_extension:snapshot_admin_actions:force_delete", ADMIN, "Force-delete a snapshot "
                                                                        "(os-force_delete)."),
    # attachments (3.27+)
    Rule("volume:attachment_create", MEMBER, "Create an attachment of a volume."),
    Rule("volume:attachment_update", MEMBER, "Update an attachment's connector, or complete it (os-complete)."),
    Rule("volume:attachment_delete", MEMBER, "Delete an attachment (detach)."),
    Rule("volume:attachment_get", READER, "List and show attachments."),
    # volume types
    Rule("volume_extension:types_manage", ADMIN, "Create, update and delete volume types, set and delete their "
                                                 "extra specs, and list their project access."),
    Rule("volume_extension:type_get", "@", "List and show volume types and their extra specs."),
    Rule("volume_extension:volume_type_access:addProjectAccess", ADMIN, "Share a private volume type with a "
                                                                        "project."),
    Rule("volume_extension:volume_type_access:removeProjectAccess", ADMIN, "Stop sharing a private volume type "
                                                                           "with a project."),
    Rule("volume_extension:volume_type_encryption:create", ADMIN, "Create a volume type's encryption specs."),
    Rule("volume_extension:volume_type_encryption:get", ADMIN, "Show a volume type's encryption specs."),
    Rule("volume_extension:volume_type_encryption:update", ADMIN, "Update a volume type's encryption specs."),
    Rule("volume_extension:volume_type_encryption:delete", ADMIN, "Delete a volume type's encryption specs."),
    # QoS specs
    Rule("volume_extension:qos_specs_manage:create", ADMIN, "Create QoS specs."),
    Rule("volume_extension:qos_specs_manage:get", ADMIN, "Show QoS specs and their associations."),
    Rule("volume_extension:qos_specs_manage:get_all", ADMIN, "List QoS specs."),
    Rule("volume_extension:qos_specs_manage:update", ADMIN, "Set and unset keys of QoS specs, associate them "
                                                            "with volume types and disassociate them."),
    Rule("volume_extension:qos_specs_manage:delete", ADMIN, "Delete QoS specs."),
    # quotas
    Rule("volume_extension:quotas:show", READER, "Show a project's quotas (with usage) and the defaults."),
    Rule("volume_extension:quotas:update", ADMIN, "Update a project's quotas."),
    Rule("volume_extension:quotas:delete", ADMIN, "Reset a project's quotas to the defaults."),
    Rule("volume_extension:quota_classes:get", ADMIN, "Show a quota class (``default``: every project's defaults)."),
    Rule("volume_extension:quota_classes:update", ADMIN, "Update a quota class's limits."),
    # group types (3.11+; listing and showing check no rule)
    Rule("group:group_types:create", ADMIN, "Create a group type."),
    Rule("group:group_types:update", ADMIN, "Update a group type."),
    Rule("group:group_types:delete", ADMIN, "Delete a group type."),
    Rule("group:access_group_types_specs", ADMIN, "See the group specs in group type show and list."),
    Rule("group:group_types_specs:get", ADMIN, "Show one group spec of a group type."),
    Rule("group:group_types_specs:get_all", ADMIN, "List the group specs of a group type."),
    Rule("group:group_types_specs:create", ADMIN, "Create or update group specs of a group type."),
    Rule("group:group_types_specs:update", ADMIN, "Update one group spec of a group type."),
    Rule("group:group_types_specs:delete", ADMIN, "Delete one group spec of a group type."),
    # generic volume groups (3.13+) and group snapshots (3.14+)
    Rule("group:get_all", READER, "List groups (summary or detail)."),
    Rule("group:create", MEMBER, "Create a group, empty or from a group snapshot or another group."),
    Rule("group:get", READER, "Show a group."),
    Rule("group:update", MEMBER, "Update a group's name and description, add and remove its volumes."),
    Rule("group:delete", MEMBER, "Delete a group (and with delete-volumes its volumes)."),
    Rule("group:reset_status", ADMIN, "Reset a group's status (3.20+)."),
    Rule("group:group_project_attribute", ADMIN, "See a group's project_id in its detail views (3.58+)."),
    Rule("group:group_snapshot_project_attribute", ADMIN,
         "See a group snapshot's project_id in its detail views (3.58+)."),
    Rule("group:get_all_group_snapshots", READER, "List group snapshots (summary or detail)."),
    Rule("group:create_group_snapshot", MEMBER, "Create a group snapshot."),
    Rule("group:get_group_snapshot", READER, "Show a group snapshot."),
    Rule("group:delete_group_snapshot", MEMBER, "Delete a group snapshot and its snapshots."),
    Rule("group:reset_group_snapshot_status", ADMIN, "Reset a group snapshot's status (3.19+)."),
    # user messages (3.3+)
    Rule("message:get_all", READER, "List the user messages (why accepted operations failed later)."),
    Rule("message:get", READER, "Show a user message."),
    Rule("message:delete", MEMBER, "Delete a user message."),
    # what the cloud offers
    Rule("volume_extension:availability_zone_list", READER, "List the availability zones."),
    Rule("scheduler_extension:scheduler_stats:get_pools", ADMIN, "List the back-end pools (and their "
                                                                 "capabilities)."),
    Rule("volume_extension:capabilities", ADMIN, "Show the capabilities of a back-end host."),
    Rule("volume_extension:services:index", ADMIN, "List the block-storage services."),
    Rule("volume_extension:hosts", ADMIN, "List the hosts of the block-storage services and show a volume "
                                          "host's usage (os-hosts)."),
    Rule("volume_extension:services:update", ADMIN,
         "Change a block-storage service (PUT os-services/disable-log-reason, freeze, thaw)."),
    Rule("volume:freeze_host", ADMIN, "Freeze a backend host (PUT os-services/freeze)."),
    Rule("volume:thaw_host", ADMIN, "Thaw a backend host (PUT os-services/thaw)."),
    # transfers
    Rule("volume:create_transfer", MEMBER, "Offer a volume for transfer to another project."),
    Rule("volume:accept_transfer", MEMBER, "Accept a volume transfer (with its auth key)."),
    Rule("volume:delete_transfer", MEMBER, "Cancel a volume transfer."),
    Rule("volume:get_transfer", READER, "Show a volume transfer."),
    Rule("volume:get_all_transfers", READER, "List volume transfers."),
    # backups
    Rule("backup:create", MEMBER, "Back up a volume (full or incremental)."),
    Rule("backup:get", READER, "Show a backup."),
    Rule("backup:get_all", READER, "List backups."),
    Rule("backup:restore", MEMBER, "Restore a backup to a new or an existing volume."),
    Rule("backup:delete", MEMBER, "Delete a backup."),
    Rule("backup:update", MEMBER, "Update a backup's name and description (3.9+)."),
    Rule("volume_extension:default_set_or_update", ADMIN, "Set or change a project's default volume type (3.62+)."),
    Rule("volume_extension:default_get", ADMIN, "Show a project's default volume type (3.62+)."),
    Rule("volume_extension:default_get_all", ADMIN, "List the projects' default volume types (3.62+)."),
    Rule("volume_extension:default_unset", ADMIN, "Unset a project's default volume type (3.62+)."),
    Rule("backup:backup_project_attribute", ADMIN, "See a backup's project (3.18+) and user (3.56+) in its "
                                                   "detail views."),
    Rule("backup:export-import", ADMIN, "Export a backup's record, or import one (a backup of the data it names)."),
    Rule("volume_extension:backup_admin_actions:reset_status", ADMIN,
         "Reset a backup's status to available or error (os-reset_status)."),
)
