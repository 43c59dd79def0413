"""Image (Glance v2) in the isolation matrix: images, their data, tags, actions and
members, interoperable import, the cache API, metadata definitions and tasks.

Glance (glance/policies/base.py, glance/api/v2/images.py) hides an image a project may
not see (404); readers read but neither write nor download (``download_image`` asks for
the member role); a project an image is shared with sees it and rules on its own
membership only; metadata definitions and tasks are written by the admin alone.
"""

from __future__ import annotations

from conftest import unique
from isolation.matrix import (
    ADMIN_ONLY,
    CREATE,
    EVERYONE,
    FORBIDDEN,
    LISTED,
    NOT_FOUND,
    OK,
    OWN_READ,
    OWN_WRITE,
    UNLISTED,
    Op,
    Resource,
    expect,
)

IMAGES = "/image/v2/images"
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
NS = "/image/v2/metadefs/namespaces"
# Glance lists every project's images to the admin.
IMAGE_LIST = expect(LISTED, LISTED, LISTED, UNLISTED, UNLISTED)
# Downloading asks for the member role: A's reader is refused.
DOWNLOAD = expect(OK, OK, FORBIDDEN, NOT_FOUND, NOT_FOUND)
# An image shared with project B: B sees it, so it is refused (403) what it may not do.
SHARED_OWNER_WRITES = expect(OK, OK, FORBIDDEN, FORBIDDEN, FORBIDDEN)
# One store: Glance answers the stores discovery and deleting from a store 404 to
# everyone (tests/functional/test_image_stores.py covers who may do what with several).
NO_STORES = expect(NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND)
# No image cache: the cache rules (admin) first, then 404 for the admin; an image the
# caller cannot see is a 404 before the rule.
NO_CACHE = expect(NOT_FOUND, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN)
NO_CACHE_ENTRY = expect(NOT_FOUND, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)


def image_of_a(visibility: str = "private", upload: bool = True):
    def make(w) -> dict:
        image = w.call("POST", IMAGES, "a_member", json={
            "name": unique("iso-img"), "disk_format": "raw", "container_format": "bare", "visibility": visibility,
            "tags": ["t1"]}).json()
        if upload:
            w.call("PUT", f"{IMAGES}/{image['id']}/file", "a_member", content=b"isolation image data",
                   headers={"Content-Type": "application/octet-stream"})
        return {"id": image["id"]}
    return make


def make_staged_image(w) -> dict:
    """A queued image of A's whose data is staged (``uploading``), ready for glance-direct."""
    image = image_of_a(upload=False)(w)
    w.call("PUT", f"{IMAGES}/{image['id']}/stage", "a_member", content=b"staged isolation data",
           headers={"Content-Type": "application/octet-stream"})
    return image


def make_shared_image(w) -> dict:
    """A shared image of A's with project B as a (pending) member."""
    image = image_of_a("shared")(w)
    w.call("POST", f"{IMAGES}/{image['id']}/members", "a_member", json={"member": str(w.project("b"))})
    return image


def make_deactivated_image(w) -> dict:
    image = image_of_a()(w)
    w.call("POST", f"{IMAGES}/{image['id']}/actions/deactivate", "a_member")
    return image


def make_namespace(w) -> dict:
    """A private metadefs namespace owned by project A (only the admin writes them)."""
    name = unique("iso-ns")
    w.call("POST", NS, json={"namespace": name, "visibility": "private", "owner": str(w.project("a")),
                             "objects": [{"name": "o1", "properties": {}}], "tags": [{"name": "t1"}],
                             "properties": {"p1": {"title": "P1", "type": "string"}}})
    return {"id": name}


def make_task(w) -> dict:
    task = w.call("POST", "/image/v2/tasks", json={"type": "import", "input": {
        "import_from": "http://127.0.0.1:9/nothing.qcow2", "import_from_format": "qcow2",
        "image_properties": {"disk_format": "qcow2", "container_format": "bare", "name": unique("iso-task")}}},
        headers={"Accept": "application/json"}).json()
    return {"id": task["id"]}


RESOURCES = [
    Resource("image", image_of_a()),
    Resource("queued_image", image_of_a(upload=False)),
    Resource("staged_image", make_staged_image),
    Resource("shared_image", make_shared_image),
    Resource("deactivated_image", make_deactivated_image),
    Resource("namespace", make_namespace),
    Resource("task", make_task),
]

OPS = [
    # -- images ------------------------------------------------------------------------------
    Op("image", "list", "GET", IMAGES, IMAGE_LIST, watch="{image}", everywhere=True),
    Op("image", "list-shared-pending", "GET", IMAGES + "?member_status=all", IMAGE_LIST, watch="{image}"),
    Op("image", "show", "GET", IMAGES + "/{image}", OWN_READ, everywhere=True),
    Op("image", "create", "POST", IMAGES, CREATE,
       body={"name": "{new}", "disk_format": "raw", "container_format": "bare"}, everywhere=True),
    Op("image", "create-public", "POST", IMAGES, ADMIN_ONLY,
       body={"name": "{new}", "disk_format": "raw", "container_format": "bare", "visibility": "public"}),
    Op("image", "update", "PATCH", IMAGES + "/{image}", OWN_WRITE, headers=PATCH,
       body=[{"op": "replace", "path": "/name", "value": "{new}"}], everywhere=True),
    Op("image", "publicize", "PATCH", IMAGES + "/{image}", expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND),
       headers=PATCH, body=[{"op": "replace", "path": "/visibility", "value": "public"}], consumes="image"),
    Op("image", "delete", "DELETE", IMAGES + "/{image}", OWN_WRITE, consumes="image", everywhere=True),
    Op("image", "download", "GET", IMAGES + "/{image}/file", DOWNLOAD, everywhere=True),
    Op("image", "upload", "PUT", IMAGES + "/{queued_image}/file", OWN_WRITE, content=b"data",
       headers={"Content-Type": "application/octet-stream"}, consumes="queued_image"),
    Op("image", "deactivate", "POST", IMAGES + "/{image}/actions/deactivate", OWN_WRITE, consumes="image"),
    Op("image", "reactivate", "POST", IMAGES + "/{deactivated_image}/actions/reactivate", OWN_WRITE,
       consumes="deactivated_image"),
    Op("image", "tasks", "GET", IMAGES + "/{image}/tasks", OWN_READ),
    # -- interoperable import, discovery, the cache API of a cache-less site -------------------
    Op("image-import", "info", "GET", "/image/v2/info/import", EVERYONE),
    Op("image-import", "stores", "GET", "/image/v2/info/stores", NO_STORES),
    Op("image-import", "stores-detail", "GET", "/image/v2/info/stores/detail", NO_STORES),
    Op("image-import", "delete-from-store", "DELETE", "/image/v2/stores/default/{image}", NO_STORES),
    Op("image-import", "stage", "PUT", IMAGES + "/{queued_image}/stage", OWN_WRITE, content=b"data",
       headers={"Content-Type": "application/octet-stream"}, consumes="queued_image"),
    Op("image-import", "glance-direct", "POST", IMAGES + "/{staged_image}/import", OWN_WRITE,
       body={"method": {"name": "glance-direct"}}, consumes="staged_image"),
    Op("image-cache", "state", "GET", "/image/v2/cache", NO_CACHE),
    Op("image-cache", "clear", "DELETE", "/image/v2/cache", NO_CACHE),
    Op("image-cache", "clean", "POST", "/image/v2/cache/clean", NO_CACHE),
    Op("image-cache", "prune", "POST", "/image/v2/cache/prune", NO_CACHE),
    Op("image-cache", "queue", "PUT", "/image/v2/cache/{image}", NO_CACHE_ENTRY),
    Op("image-cache", "delete", "DELETE", "/image/v2/cache/{image}", NO_CACHE_ENTRY),
    Op("image-tags", "add", "PUT", IMAGES + "/{image}/tags/t2", OWN_WRITE),
    Op("image-tags", "delete", "DELETE", IMAGES + "/{image}/tags/t1", OWN_WRITE, consumes="image"),
    # -- members (an image shared with B, B still pending) ------------------------------------
    Op("image-member", "list", "GET", IMAGES + "/{shared_image}/members", EVERYONE),
    # Only shared images have members (Glance's 403 to anyone who sees the image).
    Op("image-member", "list-private", "GET", IMAGES + "/{image}/members",
       expect(FORBIDDEN, FORBIDDEN, FORBIDDEN, NOT_FOUND, NOT_FOUND)),
    Op("image-member", "show", "GET", IMAGES + "/{shared_image}/members/{project_b}", EVERYONE),
    Op("image-member", "show-image", "GET", IMAGES + "/{shared_image}", EVERYONE),
    Op("image-member", "create", "POST", IMAGES + "/{shared_image}/members", SHARED_OWNER_WRITES,
       body={"member": "{project_admin}"}, consumes="shared_image"),
    Op("image-member", "accept", "PUT", IMAGES + "/{shared_image}/members/{project_b}",
       expect(OK, FORBIDDEN, FORBIDDEN, OK, FORBIDDEN), body={"status": "accepted"}, consumes="shared_image"),
    Op("image-member", "delete", "DELETE", IMAGES + "/{shared_image}/members/{project_b}", SHARED_OWNER_WRITES,
       consumes="shared_image"),
    Op("image-member", "update-image", "PATCH", IMAGES + "/{shared_image}", SHARED_OWNER_WRITES, headers=PATCH,
       body=[{"op": "replace", "path": "/name", "value": "{new}"}]),
    # -- metadata definitions (a private namespace of A's) --------------------------------------
    Op("metadef-namespace", "list", "GET", NS, IMAGE_LIST, watch="{namespace}"),
    Op("metadef-namespace", "show", "GET", NS + "/{namespace}", OWN_READ),
    Op("metadef-namespace", "create", "POST", NS, ADMIN_ONLY, body={"namespace": "{new}"}),
    Op("metadef-namespace", "update", "PUT", NS + "/{namespace}", expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND,
                                                                          NOT_FOUND),
       body={"namespace": "{namespace}", "owner": "{project_a}", "description": "changed"}),
    Op("metadef-namespace", "delete", "DELETE", NS + "/{namespace}", expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND,
                                                                             NOT_FOUND), consumes="namespace"),
    Op("metadef-object", "list", "GET", NS + "/{namespace}/objects", OWN_READ),
    Op("metadef-object", "show", "GET", NS + "/{namespace}/objects/o1", OWN_READ),
    Op("metadef-object", "create", "POST", NS + "/{namespace}/objects", expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND,
                                                                                NOT_FOUND),
       body={"name": "{new}", "properties": {}}),
    Op("metadef-property", "list", "GET", NS + "/{namespace}/properties", OWN_READ),
    Op("metadef-property", "show", "GET", NS + "/{namespace}/properties/p1", OWN_READ),
    Op("metadef-tag", "list", "GET", NS + "/{namespace}/tags", OWN_READ),
    Op("metadef-tag", "show", "GET", NS + "/{namespace}/tags/t1", OWN_READ),
    Op("metadef-tag", "create", "POST", NS + "/{namespace}/tags/{new}", expect(OK, FORBIDDEN, FORBIDDEN, NOT_FOUND,
                                                                                NOT_FOUND)),
    Op("metadef-resource-type", "list", "GET", "/image/v2/metadefs/resource_types", EVERYONE),
    Op("metadef-resource-type", "associations", "GET", NS + "/{namespace}/resource_types", OWN_READ),
    # -- tasks (the admin's API) -----------------------------------------------------------------
    Op("image-task", "list", "GET", "/image/v2/tasks", ADMIN_ONLY),
    Op("image-task", "show", "GET", "/image/v2/tasks/{task}", ADMIN_ONLY),
    Op("image-task", "create", "POST", "/image/v2/tasks", ADMIN_ONLY, headers={"Accept": "application/json"},
       body={"type": "import", "input": {"import_from": "http://127.0.0.1:9/x.qcow2", "import_from_format": "qcow2",
                                         "image_properties": {"disk_format": "qcow2", "container_format": "bare"}}}),
]
