"""Glance's default policy rules (its "secure RBAC" defaults), under Glance's names so
an operator's Glance policy file applies unchanged.

Visibility (who may *see* an image) is enforced by the manager before these rules run;
the rules add the role requirements: readers read, members write, admin does anything,
and only admin makes an image public.  The routes that declare each rule are its
operations (``/openapi.json`` lists them).
"""

from pocketstack.common.policy import Rule

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

RULES = (
    Rule("add_image", ADMIN_OR_PROJECT_MEMBER,
         "Create an image (its owner's project members; making it public or community needs more)."),
    Rule("delete_image", ADMIN_OR_PROJECT_MEMBER,
         "Delete an image."),
    Rule("get_image", ADMIN_OR_PROJECT_READER_GET_IMAGE,
         "Show an image visible to the caller (and list its tasks)."),
    Rule("get_images", ADMIN_OR_PROJECT_READER,
         "List the images visible to the caller."),
    Rule("modify_image", ADMIN_OR_PROJECT_MEMBER,
         "Update an image (JSON patch), add or remove its tags, stage its data and import it."),
    Rule("publicize_image", "role:admin",
         "Make an image public (at creation or by update)."),
    Rule("communitize_image", ADMIN_OR_PROJECT_MEMBER,
         "Make an image community-visible (at creation or by update)."),
    Rule("download_image", ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE,
         "Download an image's data."),
    Rule("upload_image", ADMIN_OR_PROJECT_MEMBER,
         "Upload an image's data."),
    Rule("add_member", ADMIN_OR_PROJECT_MEMBER,
         "Share an image with another project."),
    Rule("delete_member", ADMIN_OR_PROJECT_MEMBER,
         "Stop sharing an image with a project."),
    Rule("get_member", ADMIN_OR_PROJECT_READER,
         "Show one member of an image (the owner, or the member itself)."),
    Rule("get_members", ADMIN_OR_PROJECT_READER,
         "List the members of an image."),
    Rule("modify_member", ADMIN_OR_PROJECT_MEMBER,
         "Accept or reject an image shared with the caller's project."),
    Rule("deactivate", ADMIN_OR_PROJECT_MEMBER,
         "Deactivate an image (its data can no longer be downloaded)."),
    Rule("reactivate", ADMIN_OR_PROJECT_MEMBER,
         "Reactivate a deactivated image."),
    # Multiple stores (image/stores/catalog.py).
    Rule("copy_image", "role:admin",
         "Copy an active image's data into more stores (the copy-image import method)."),
    Rule("get_image_location", ADMIN_OR_PROJECT_READER,
         "Read where an image's data is (checked before deleting it from one store)."),
    Rule("delete_image_location", "role:admin",
         "Delete an image's data from one store (DELETE /v2/stores/{store_id}/{image_id})."),
    Rule("stores_info_detail", "role:admin or role:service",
         "Show the stores' details (type, properties, weight)."),
    Rule("metadef_admin", "role:admin",
         "Who administers the metadata definitions catalog (the base of its write rules)."),
    Rule("get_metadef_namespace", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "Show a metadata definitions namespace."),
    Rule("get_metadef_namespaces", ADMIN_OR_PROJECT_READER,
         "List metadata definitions namespaces."),
    Rule("modify_metadef_namespace", METADEF_ADMIN,
         "Update a metadata definitions namespace."),
    Rule("add_metadef_namespace", METADEF_ADMIN,
         "Create a metadata definitions namespace."),
    Rule("delete_metadef_namespace", METADEF_ADMIN,
         "Delete a namespace, or all the objects or properties in it."),
    Rule("get_metadef_object", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "Show a metadata definition object."),
    Rule("get_metadef_objects", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "List the metadata definition objects of a namespace."),
    Rule("modify_metadef_object", METADEF_ADMIN,
         "Update a metadata definition object."),
    Rule("add_metadef_object", METADEF_ADMIN,
         "Create a metadata definition object."),
    Rule("delete_metadef_object", METADEF_ADMIN,
         "Delete a metadata definition object."),
    Rule("list_metadef_resource_types", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "List the metadata definition resource types."),
    Rule("get_metadef_resource_type", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "List the resource type associations of a namespace."),
    Rule("add_metadef_resource_type_association", METADEF_ADMIN,
         "Associate a resource type with a namespace."),
    Rule("remove_metadef_resource_type_association", METADEF_ADMIN,
         "Remove a resource type association from a namespace."),
    Rule("get_metadef_property", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "Show a metadata definition property."),
    Rule("get_metadef_properties", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "List the metadata definition properties of a namespace."),
    Rule("modify_metadef_property", METADEF_ADMIN,
         "Update a metadata definition property."),
    Rule("add_metadef_property", METADEF_ADMIN,
         "Create a metadata definition property."),
    Rule("remove_metadef_property", METADEF_ADMIN,
         "Delete a metadata definition property."),
    Rule("get_metadef_tag", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "Show a metadata definition tag."),
    Rule("get_metadef_tags", ADMIN_OR_PROJECT_READER_GET_NAMESPACE,
         "List the metadata definition tags of a namespace."),
    Rule("modify_metadef_tag", METADEF_ADMIN,
         "Rename a metadata definition tag."),
    Rule("add_metadef_tag", METADEF_ADMIN,
         "Create one metadata definition tag."),
    Rule("add_metadef_tags", METADEF_ADMIN,
         "Create several metadata definition tags at once (replacing or appending)."),
    Rule("delete_metadef_tag", METADEF_ADMIN,
         "Delete a metadata definition tag."),
    Rule("delete_metadef_tags", METADEF_ADMIN,
         "Delete all the metadata definition tags of a namespace."),
    # Tasks: the whole API is admin-only (tasks_api_access); the per-operation rules are
    # open, as in Glance.
    Rule("tasks_api_access", "role:admin",
         "Use the tasks API at all (checked before the per-operation task rules)."),
    Rule("get_task", "",
         "Show a task (after tasks_api_access)."),
    Rule("get_tasks", "",
         "List tasks (after tasks_api_access)."),
    Rule("add_task", "",
         "Create a task, e.g. an image import (after tasks_api_access)."),
    # The image cache API: this service has no cache, so after these rules every cache
    # route answers 404 (api/cache.py), as Glance without image_cache_dir.
    Rule("cache_image", "role:admin",
         "Queue an image for caching."),
    Rule("cache_list", "role:admin",
         "List the cache's state (cached and queued images)."),
    Rule("cache_delete", "role:admin",
         "Delete one image or all images from the cache and its queue."),
    Rule("cache_clean", "role:admin",
         "Clean invalid and stalled cached images."),
    Rule("cache_prune", "role:admin",
         "Prune cached images to reduce the cache's size."),
)
