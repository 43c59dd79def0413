"""Object storage (Swift v1) in the isolation matrix: A's account, a container of A's
with a read ACL for ``b_acl_read`` and a write ACL for ``b_acl_write`` (both members of
project B), its objects, and the TempURL keys of both.

Swift with keystoneauth answers an authenticated stranger 403; the owner (an operator
role on the account's project; pocketstack also counts any cloud admin, as Swift does a
reseller admin) does anything, a project reader reads (``project_reader_roles``); a read
ACL grants listing and reading, a write ACL writing objects only.  Only an owner (the
``swift_owner`` of swift/common/middleware/keystoneauth.py) sees the
``swift_owner_headers`` of swift/proxy/server.py: the TempURL keys and the container
ACLs.
"""

from __future__ import annotations

import hashlib
import hmac

from conftest import unique
from isolation.matrix import FORBIDDEN, OK, Expect, Op, Resource, expect

ACCOUNT = "/object-store/v1/AUTH_{project_a}"
CONTAINER = ACCOUNT + "/{acl_container}"
ACCOUNT_KEYS = ("X-Account-Meta-Temp-Url-Key", "X-Account-Meta-Temp-Url-Key-2")
CONTAINER_KEYS = ("X-Container-Meta-Temp-Url-Key", "X-Container-Meta-Temp-Url-Key-2")
CONTAINER_ACLS = ("X-Container-Read", "X-Container-Write")


def swift(**personas: Expect) -> dict[str, Expect]:
    """Expectations of the five core personas and the two ACL grantees (default 403 for
    the personas of project B)."""
    return {**expect(personas["admin"], personas["a_member"], personas["a_reader"], FORBIDDEN, FORBIDDEN),
            "b_acl_read": personas.get("b_acl_read", FORBIDDEN), "b_acl_write": personas.get("b_acl_write", FORBIDDEN)}


def account_path(w) -> str:
    return f"/object-store/v1/AUTH_{w.project('a')}"


def make_keyed_account(w) -> dict:
    """A's account with its two TempURL keys set (by its member)."""
    w.call("POST", account_path(w), "a_member", headers={
        "X-Account-Meta-Temp-URL-Key": "account-key-1", "X-Account-Meta-Temp-URL-Key-2": "account-key-2"})
    return {"id": f"AUTH_{w.project('a')}"}


def make_acl_container(w) -> dict:
    """A container of A's: read ACL for b_acl_read, write ACL for b_acl_write, TempURL
    keys, and an object ``obj``."""
    name = unique("iso-acl")
    project_b = w.project("b")
    w.call("PUT", f"{account_path(w)}/{name}", "a_member", headers={
        "X-Container-Read": f"{project_b}:{w.persona('b_acl_read')}",
        "X-Container-Write": f"{project_b}:{w.persona('b_acl_write')}",
        "X-Container-Meta-Temp-URL-Key": "container-key-1", "X-Container-Meta-Temp-URL-Key-2": "container-key-2"})
    w.call("PUT", f"{account_path(w)}/{name}/obj", "a_member", content=b"isolation object")
    return {"id": name}


def make_swift_object(w) -> dict:
    name = unique("iso-obj")
    w.call("PUT", f"{account_path(w)}/{w.shared('acl_container')}/{name}", "a_member", content=b"doomed")
    return {"id": name}


def make_empty_container(w) -> dict:
    name = unique("iso-empty")
    w.call("PUT", f"{account_path(w)}/{name}", "a_member")
    return {"id": name}


def make_web_container(w) -> dict:
    """A private container of A's set up as a web site (index and listings), no ACL."""
    name = unique("iso-web")
    w.call("PUT", f"{account_path(w)}/{name}", "a_member", headers={
        "X-Container-Meta-Web-Index": "index.html", "X-Container-Meta-Web-Listings": "true"})
    w.call("PUT", f"{account_path(w)}/{name}/index.html", "a_member", content=b"isolation site")
    return {"id": name}


def foreign_form() -> bytes:
    """A form POST signed with a key that is none of A's (whoever sends it)."""
    expires = 9999999999
    signature = hmac.new(b"someone-elses-key", f"/v1/x/y\n\n1024\n1\n{expires}".encode(), hashlib.sha256).hexdigest()
    fields = {"redirect": "", "max_file_size": "1024", "max_file_count": "1", "expires": str(expires),
              "signature": signature}
    parts = [f'--{FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in fields.items()]
    parts.append(f'--{FORM_BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="planted"\r\n\r\n'
                 f'planted\r\n--{FORM_BOUNDARY}--\r\n')
    return "".join(parts).encode()


def make_private_link(w) -> dict:
    """A symlink in A's ACL container to an object in a private container of A's: the
    ACL grants reading the link, not its target."""
    private = unique("iso-private")
    w.call("PUT", f"{account_path(w)}/{private}", "a_member")
    w.call("PUT", f"{account_path(w)}/{private}/obj", "a_member", content=b"private object")
    name = unique("iso-link")
    w.call("PUT", f"{account_path(w)}/{w.shared('acl_container')}/{name}", "a_member", content=b"",
           headers={"X-Symlink-Target": f"{private}/obj"})
    return {"id": name}


FORM_BOUNDARY = "iso-form"
# The etag of make_acl_container's object, which a static link must name.
ACL_OBJECT_ETAG = hashlib.md5(b"isolation object").hexdigest()

RESOURCES = [
    Resource("keyed_account", make_keyed_account),
    Resource("acl_container", make_acl_container),
    Resource("swift_object", make_swift_object),
    Resource("empty_container", make_empty_container),
    Resource("web_container", make_web_container),
    Resource("private_link", make_private_link),
]

OWNER_READ = swift(admin=OK, a_member=OK, a_reader=OK)
OWNER_WRITE = swift(admin=OK, a_member=OK, a_reader=FORBIDDEN)
ACL_READ = swift(admin=OK, a_member=OK, a_reader=OK, b_acl_read=OK)
ACL_WRITE = swift(admin=OK, a_member=OK, a_reader=FORBIDDEN, b_acl_write=OK)
# Owners see the keys and ACLs; everyone else who may read sees neither.
OWNER_SEES_ACCOUNT_KEYS = Expect(shown_headers=ACCOUNT_KEYS)
NO_ACCOUNT_KEYS = Expect(hidden_headers=ACCOUNT_KEYS)
OWNER_SEES_CONTAINER_SECRETS = Expect(shown_headers=CONTAINER_KEYS + CONTAINER_ACLS)
NO_CONTAINER_KEYS = Expect(hidden_headers=CONTAINER_KEYS)
NO_CONTAINER_ACLS = Expect(hidden_headers=CONTAINER_ACLS)

ADMIN_REPORT = swift(admin=OK, a_member=FORBIDDEN, a_reader=FORBIDDEN)
# Account quotas: the reseller admin's alone (swift/common/middleware/account_quotas.py).
RESELLER = swift(admin=OK, a_member=FORBIDDEN, a_reader=FORBIDDEN)
UNSIGNED = Expect(401)

OPS = [
    # -- A's account -------------------------------------------------------------------------
    Op("swift-account", "list", "GET", ACCOUNT, swift(admin=OK, a_member=OK, a_reader=OK),
       everywhere=True),
    Op("swift-account", "head-temp-url-keys", "HEAD", "/object-store/v1/{keyed_account}",
       swift(admin=OWNER_SEES_ACCOUNT_KEYS, a_member=OWNER_SEES_ACCOUNT_KEYS, a_reader=NO_ACCOUNT_KEYS),
       everywhere=True),
    Op("swift-account", "get-temp-url-keys", "GET", "/object-store/v1/{keyed_account}",
       swift(admin=OWNER_SEES_ACCOUNT_KEYS, a_member=OWNER_SEES_ACCOUNT_KEYS, a_reader=NO_ACCOUNT_KEYS)),
    Op("swift-account", "set-metadata", "POST", ACCOUNT, OWNER_WRITE, headers={"X-Account-Meta-Iso": "x"}),
    Op("swift-account", "set-temp-url-key", "POST", "/object-store/v1/{keyed_account}", OWNER_WRITE,
       headers={"X-Account-Meta-Temp-URL-Key": "account-key-1"}),
    # -- A's container with ACLs ---------------------------------------------------------------
    Op("swift-container", "list", "GET", CONTAINER, ACL_READ, everywhere=True),
    Op("swift-container", "head-temp-url-keys", "HEAD", CONTAINER,
       swift(admin=OWNER_SEES_CONTAINER_SECRETS, a_member=OWNER_SEES_CONTAINER_SECRETS, a_reader=NO_CONTAINER_KEYS,
             b_acl_read=NO_CONTAINER_KEYS), everywhere=True),
    Op("swift-container", "get-temp-url-keys", "GET", CONTAINER,
       swift(admin=OWNER_SEES_CONTAINER_SECRETS, a_member=OWNER_SEES_CONTAINER_SECRETS, a_reader=NO_CONTAINER_KEYS,
             b_acl_read=NO_CONTAINER_KEYS)),
    Op("swift-container", "head-acls", "HEAD", CONTAINER,
       swift(admin=OWNER_SEES_CONTAINER_SECRETS, a_member=OWNER_SEES_CONTAINER_SECRETS, a_reader=NO_CONTAINER_ACLS,
             b_acl_read=NO_CONTAINER_ACLS),),
    Op("swift-container", "create", "PUT", ACCOUNT + "/{new}", OWNER_WRITE),
    Op("swift-container", "set-metadata", "POST", CONTAINER, OWNER_WRITE, headers={"X-Container-Meta-Iso": "x"}),
    Op("swift-container", "set-acl", "POST", CONTAINER, OWNER_WRITE,
       headers={"X-Container-Read": "{project_b}:{b_acl_read},{project_b}:{b_acl_write}"}, consumes="acl_container"),
    Op("swift-container", "delete", "DELETE", ACCOUNT + "/{empty_container}", OWNER_WRITE, consumes="empty_container"),
    # -- its objects ----------------------------------------------------------------------------
    Op("swift-object", "get", "GET", CONTAINER + "/obj", ACL_READ, everywhere=True),
    Op("swift-object", "head", "HEAD", CONTAINER + "/obj", ACL_READ),
    Op("swift-object", "put", "PUT", CONTAINER + "/{new}", ACL_WRITE, content=b"new object", everywhere=True),
    Op("swift-object", "post", "POST", CONTAINER + "/obj", ACL_WRITE, headers={"X-Object-Meta-Iso": "x"}),
    # A copy reads the source too: the write grantee may not.
    Op("swift-object", "copy", "COPY", CONTAINER + "/obj", OWNER_WRITE,
       headers={"Destination": "{acl_container}/{new}"}),
    Op("swift-object", "delete", "DELETE", CONTAINER + "/{swift_object}", ACL_WRITE, consumes="swift_object"),
    # -- the middlewares: quotas, static web sites, form uploads ----------------------------------
    Op("swift-account", "set-quota", "POST", ACCOUNT, RESELLER,
       headers={"X-Account-Quota-Bytes": "1000000000000"}, everywhere=True),
    Op("swift-container", "set-quota", "POST", CONTAINER, OWNER_WRITE,
       headers={"X-Container-Meta-Quota-Count": "1000"}),
    # A private container's site shows only to whoever may read it (X-Web-Mode: as a browser).
    Op("swift-staticweb", "web-mode-index", "GET", ACCOUNT + "/{web_container}/",
       swift(admin=OK, a_member=OK, a_reader=OK), headers={"X-Web-Mode": "true"}, everywhere=True),
    Op("swift-staticweb", "web-mode-listing", "GET", ACCOUNT + "/{web_container}/none/",
       swift(admin=Expect(404), a_member=Expect(404), a_reader=Expect(404)), headers={"X-Web-Mode": "true"}),
    # A form signed with anyone else's key plants nothing, whatever token comes along.
    Op("swift-formpost", "foreign-key", "POST", CONTAINER, {
        **expect(UNSIGNED, UNSIGNED, UNSIGNED, UNSIGNED, UNSIGNED), "b_acl_read": UNSIGNED, "b_acl_write": UNSIGNED},
       content=foreign_form(), headers={"Content-Type": f"multipart/form-data; boundary={FORM_BOUNDARY}"},
       everywhere=True),
    # -- symlinks: the target is read as the caller (Swift's subrequest) -------------------------
    Op("swift-symlink", "follow-to-private", "GET", CONTAINER + "/{private_link}",
       swift(admin=OK, a_member=OK, a_reader=OK), everywhere=True),
    Op("swift-symlink", "read-itself", "GET", CONTAINER + "/{private_link}?symlink=get", ACL_READ),
    # A static link checks its target now: the write grantee may write the link, not read the target.
    Op("swift-symlink", "static-link", "PUT", CONTAINER + "/{new}", OWNER_WRITE, content=b"",
       headers={"X-Symlink-Target": "{acl_container}/obj", "X-Symlink-Target-Etag": ACL_OBJECT_ETAG}),
    # -- container sync: a forged signature plants nothing, whatever token comes along
    Op("swift-sync", "forged-sync-auth", "PUT", CONTAINER + "/{new}", {
        **expect(UNSIGNED, UNSIGNED, UNSIGNED, UNSIGNED, UNSIGNED), "b_acl_read": UNSIGNED, "b_acl_write": UNSIGNED},
       content=b"planted", headers={"X-Container-Sync-Auth": "realm1 nonce forged", "X-Timestamp": "1700000000.00000"},
       everywhere=True),
    # -- the cluster's admin reports (swift-ring-builder, swift-dispersion-report): admins only
    Op("swift-cluster", "ring", "GET", "/object-store/ring/object", ADMIN_REPORT, everywhere=True),
    Op("swift-cluster", "dispersion", "GET", "/object-store/dispersion?sample=1", ADMIN_REPORT, everywhere=True),
]
