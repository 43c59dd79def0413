"""Glance's default policy rules (its "secure RBAC" defaults), under Glance's names so
an operator's Glance policy file applies unchanged.

Visibility (who may *see* an image) is enforced by the manager before these rules run;
the rules add the role requirements: readers read, members write, admin does anything,
and only admin makes an image public.
"""

PROJECT_MEMBER = "role:member and project_id:%(project_id)s"
PROJECT_READER = "role:reader and project_id:%(project_id)s"
_VISIBLE = ("project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s"
            " or 'public':%(visibility)s or 'shared':%(visibility)s")
ADMIN_OR_PROJECT_MEMBER = f"role:admin or ({PROJECT_MEMBER})"
ADMIN_OR_PROJECT_READER = f"role:admin or ({PROJECT_READER})"
ADMIN_OR_PROJECT_READER_GET_IMAGE = f"role:admin or (role:reader and ({_VISIBLE}))"
ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE = f"role:admin or (role:member and ({_VISIBLE}))"
# Metadefs: anyone reads a public namespace, readers of its project a private one; only
# admin writes (``metadef_admin``).
ADMIN_OR_PROJECT_READER_GET_NAMESPACE = (
    "role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))")
METADEF_ADMIN = "rule:metadef_admin"

DEFAULTS: dict[str, str] = {
    "add_image": ADMIN_OR_PROJECT_MEMBER,
    "delete_image": ADMIN_OR_PROJECT_MEMBER,
    "get_image": ADMIN_OR_PROJECT_READER_GET_IMAGE,
    "get_images": ADMIN_OR_PROJECT_READER,
    "modify_image": ADMIN_OR_PROJECT_MEMBER,
    "publicize_image": "role:admin",
    "communitize_image": ADMIN_OR_PROJECT_MEMBER,
    "download_image": ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
    "upload_image": ADMIN_OR_PROJECT_MEMBER,
    "add_member": ADMIN_OR_PROJECT_MEMBER,
    "delete_member": ADMIN_OR_PROJECT_MEMBER,
    "get_member": ADMIN_OR_PROJECT_READER,
    "get_members": ADMIN_OR_PROJECT_READER,
    "modify_member": ADMIN_OR_PROJECT_MEMBER,
    "deactivate": ADMIN_OR_PROJECT_MEMBER,
    "reactivate": ADMIN_OR_PROJECT_MEMBER,
    "metadef_admin": "role:admin",
    "get_metadef_namespace": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "get_metadef_namespaces": ADMIN_OR_PROJECT_READER,
    "modify_metadef_namespace": METADEF_ADMIN,
    "add_metadef_namespace": METADEF_ADMIN,
    "delete_metadef_namespace": METADEF_ADMIN,
    "get_metadef_object": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "get_metadef_objects": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "modify_metadef_object": METADEF_ADMIN,
    "add_metadef_object": METADEF_ADMIN,
    "delete_metadef_object": METADEF_ADMIN,
    "list_metadef_resource_types": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "get_metadef_resource_type": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "add_metadef_resource_type_association": METADEF_ADMIN,
    "remove_metadef_resource_type_association": METADEF_ADMIN,
    "get_metadef_property": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "get_metadef_properties": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "modify_metadef_property": METADEF_ADMIN,
    "add_metadef_property": METADEF_ADMIN,
    "remove_metadef_property": METADEF_ADMIN,
    "get_metadef_tag": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "get_metadef_tags": ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
    "modify_metadef_tag": METADEF_ADMIN,
    "add_metadef_tag": METADEF_ADMIN,
    "add_metadef_tags": METADEF_ADMIN,
    "delete_metadef_tag": METADEF_ADMIN,
    "delete_metadef_tags": METADEF_ADMIN,
    # Tasks: the whole API is admin-only (tasks_api_access); the per-operation rules are
    # open, as in Glance.
    "tasks_api_access": "role:admin",
    "get_task": "",
    "get_tasks": "",
    "add_task": "",
}
