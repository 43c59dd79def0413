"""Who may touch which account: owners, other projects, container ACLs (grants and
public read), anonymous callers, and TempURLs with every signature form."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from conftest import unique
from test_compute_helpers import new_member


def project_id(api, token):
    response = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token})
    return response.json()["token"]["project"]["id"]


def user_id(api, token):
    response = api.request("GET", "/identity/v3/auth/tokens", token, headers={"X-Subject-Token": token})
    return response.json()["token"]["user"]["id"]


@pytest.fixture
def admin_container(api, admin_token):
    account = f"AUTH_{project_id(api, admin_token)}"
    name = unique("acl")
    api.request("PUT", f"/object-store/v1/{account}/{name}", admin_token)
    api.request("PUT", f"/object-store/v1/{account}/{name}/obj", admin_token, content=b"secret")
    return account, name


def test_other_projects_and_anonymous_are_refused(api, demo_token, admin_container):
    account, name = admin_container
    base = f"/object-store/v1/{account}"
    assert api.request("GET", base).status_code == 401
    assert api.request("GET", base, demo_token).status_code == 403
    assert api.request("GET", f"{base}/{name}/obj", demo_token).status_code == 403
    assert api.request("GET", f"{base}/{name}/obj").status_code == 401
    assert api.request("PUT", f"{base}/{name}/new", demo_token, content=b"x").status_code == 403
    assert api.request("GET", base, "not-a-token").status_code == 401


def test_demo_owns_its_account(api, demo_token):
    base = f"/object-store/v1/AUTH_{project_id(api, demo_token)}/{unique('mine')}"
    assert api.request("PUT", base, demo_token).status_code == 201
    assert api.request("PUT", f"{base}/o", demo_token, content=b"x").status_code == 201
    assert api.request("GET", f"{base}/o", demo_token).content == b"x"


def test_grants_by_project_and_user(api, admin_token, demo_token, admin_container):
    account, name = admin_container
    path = f"/object-store/v1/{account}/{name}"
    demo_project, demo_user = project_id(api, demo_token), user_id(api, demo_token)
    api.request("POST", path, admin_token, headers={"X-Container-Read": f"{demo_project}:{demo_user}"})
    assert api.request("GET", f"{path}/obj", demo_token).content == b"secret"
    assert api.request("GET", path, demo_token).status_code == 200
    assert api.request("PUT", f"{path}/w", demo_token, content=b"x").status_code == 403
    api.request("POST", path, admin_token, headers={"X-Container-Write": "*:*"})
    assert api.request("PUT", f"{path}/w", demo_token, content=b"x").status_code == 201
    assert api.request("DELETE", f"{path}/w", demo_token).status_code == 204
    assert api.request("POST", path, admin_token, headers={"X-Container-Read": ".bogus"}).status_code == 400


def test_public_read_and_listings(api, admin_token, admin_container):
    account, name = admin_container
    path = f"/object-store/v1/{account}/{name}"
    api.request("POST", path, admin_token, headers={"X-Container-Read": ".r:*"})
    assert api.request("GET", f"{path}/obj").content == b"secret"
    assert api.request("GET", path).status_code == 401
    assert api.request("PUT", f"{path}/x", content=b"x").status_code == 401
    api.request("POST", path, admin_token, headers={"X-Container-Read": ".r:*,.rlistings"})
    assert api.request("GET", path).text == "obj\n"


def _sig(key, method, expires, path, digest=hashlib.sha256, encode=False, prefix=False):
    body = f"{method}\n{expires}\n{'prefix:' if prefix else ''}{path}".encode()
    mac = hmac.new(key.encode(), body, digest)
    if encode:
        return f"{digest().name}:" + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
    return mac.hexdigest()


def test_tempurl(api, admin_token, admin_container):
    account, name = admin_container
    api.request("POST", f"/object-store/v1/{account}", admin_token,
                headers={"X-Account-Meta-Temp-URL-Key": "k1"})
    api.request("POST", f"/object-store/v1/{account}/{name}", admin_token,
                headers={"X-Container-Meta-Temp-URL-Key": "k2"})
    path = f"/v1/{account}/{name}/obj"
    expires = int(time.time()) + 60
    url = f"/object-store{path}"
    for key, digest, encode in (("k1", hashlib.sha1, False), ("k2", hashlib.sha256, False),
                                ("k1", hashlib.sha512, False), ("k2", hashlib.sha256, True)):
        sig = _sig(key, "GET", expires, path, digest, encode)
        got = api.request("GET", url, params={"temp_url_sig": sig, "temp_url_expires": expires})
        assert got.status_code == 200 and got.content == b"secret"
    assert api.request("GET", url, params={"temp_url_sig": _sig("k1", "GET", expires, path),
                                           "temp_url_expires": expires, }).status_code == 200
    assert api.request("HEAD", url, params={"temp_url_sig": _sig("k1", "GET", expires, path),
                                            "temp_url_expires": expires}).status_code == 200
    signed = {"temp_url_sig": _sig("k1", "GET", expires, path), "temp_url_expires": expires}
    # A TempURL GET is a download named after the object, unless ?inline or ?filename= say otherwise.
    assert api.request("GET", url, params=signed).headers["Content-Disposition"] == \
        "attachment; filename=\"obj\"; filename*=UTF-8''obj"
    assert api.request("GET", url, params={**signed, "inline": ""}).headers["Content-Disposition"] == "inline"
    assert api.request("GET", url, params={**signed, "filename": "a b.txt"}).headers["Content-Disposition"] == \
        "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
    assert "Content-Disposition" not in api.request("GET", url, admin_token).headers
    wrong = api.request("GET", url, params={"temp_url_sig": _sig("bad", "GET", expires, path),
                                            "temp_url_expires": expires})
    assert wrong.status_code == 401
    past = int(time.time()) - 10
    assert api.request("GET", url, params={"temp_url_sig": _sig("k1", "GET", past, path),
                                           "temp_url_expires": past}).status_code == 401
    assert api.request("GET", url, params={"temp_url_sig": "zz", "temp_url_expires": "x"}).status_code == 401
    put_sig = _sig("k1", "PUT", expires, f"/v1/{account}/{name}/up")
    assert api.request("PUT", f"/object-store/v1/{account}/{name}/up", content=b"via tempurl",
                       params={"temp_url_sig": put_sig, "temp_url_expires": expires}).status_code == 201
    assert api.request("GET", f"/object-store/v1/{account}/{name}/up", admin_token).content == b"via tempurl"
    prefix_sig = _sig("k1", "GET", expires, f"/v1/{account}/{name}/o", prefix=True)
    assert api.request("GET", url, params={"temp_url_sig": prefix_sig, "temp_url_expires": expires,
                                           "temp_url_prefix": "o"}).status_code == 200
    assert api.request("GET", url, params={"temp_url_sig": prefix_sig, "temp_url_expires": expires,
                                           "temp_url_prefix": "x"}).status_code == 401


# Swift's swift_owner_headers: shown to (and settable by) the account's operators only.
KEY_HEADERS = {"account": ("X-Account-Meta-Temp-Url-Key", "X-Account-Meta-Temp-Url-Key-2"),
               "container": ("X-Container-Meta-Temp-Url-Key", "X-Container-Meta-Temp-Url-Key-2",
                             "X-Container-Read", "X-Container-Write")}


@pytest.fixture
def keyed_project(api, admin_token):
    """A project whose account and container carry TempURL keys; its member (the owner),
    a reader of the same project, and a user of another project granted read and write
    on the container by ACL."""
    owner = new_member(api, admin_token)
    reader = new_member(api, admin_token, role="reader", project=owner["project"])
    grantee = new_member(api, admin_token)
    account = f"/object-store/v1/AUTH_{owner['project']['id']}"
    container = f"{account}/{unique('keys')}"
    grant = f"{grantee['project']['id']}:*"
    assert api.request("POST", account, owner["token"], headers={
        "X-Account-Meta-Temp-URL-Key": "account-key", "X-Account-Meta-Temp-URL-Key-2": "account-key-2",
        "X-Account-Meta-Color": "blue"}).status_code == 204
    assert api.request("PUT", container, owner["token"], headers={
        "X-Container-Meta-Temp-URL-Key": "container-key", "X-Container-Meta-Temp-URL-Key-2": "container-key-2",
        "X-Container-Meta-Color": "red", "X-Container-Read": f"{grant},{reader['project']['id']}:*",
        "X-Container-Write": grant}).status_code == 201
    return {"owner": owner, "reader": reader, "grantee": grantee, "account": account, "container": container}


def test_tempurl_keys_and_acls_are_shown_to_owners_only(api, keyed_project):
    account, container = keyed_project["account"], keyed_project["container"]
    for method in ("HEAD", "GET"):
        shown = api.request(method, account, keyed_project["owner"]["token"]).headers
        assert shown["X-Account-Meta-Temp-Url-Key"] == "account-key"
        assert shown["X-Account-Meta-Temp-Url-Key-2"] == "account-key-2"
        shown = api.request(method, container, keyed_project["owner"]["token"]).headers
        assert shown["X-Container-Meta-Temp-Url-Key"] == "container-key"
        assert shown["X-Container-Meta-Temp-Url-Key-2"] == "container-key-2"
        assert shown["X-Container-Write"] == f"{keyed_project['grantee']['project']['id']}:*"

        hidden = api.request(method, account, keyed_project["reader"]["token"])
        assert hidden.status_code in (200, 204) and hidden.headers["X-Account-Meta-Color"] == "blue"
        assert [h for h in KEY_HEADERS["account"] if h in hidden.headers] == []
        for user in ("reader", "grantee"):
            hidden = api.request(method, container, keyed_project[user]["token"])
            assert hidden.status_code in (200, 204) and hidden.headers["X-Container-Meta-Color"] == "red"
            assert [h for h in KEY_HEADERS["container"] if h in hidden.headers] == [], user


def test_non_owners_cannot_set_tempurl_keys(api, keyed_project):
    account, container = keyed_project["account"], keyed_project["container"]
    reader, grantee = keyed_project["reader"]["token"], keyed_project["grantee"]["token"]
    assert api.request("POST", account, reader, headers={"X-Account-Meta-Temp-URL-Key": "mine"}).status_code == 403
    for token in (reader, grantee):
        assert api.request("POST", container, token,
                           headers={"X-Container-Meta-Temp-URL-Key": "mine"}).status_code == 403
        assert api.request("PUT", container, token,
                           headers={"X-Container-Meta-Temp-URL-Key": "mine"}).status_code == 403
    owner = keyed_project["owner"]["token"]
    assert api.request("HEAD", account, owner).headers["X-Account-Meta-Temp-Url-Key"] == "account-key"
    assert api.request("HEAD", container, owner).headers["X-Container-Meta-Temp-Url-Key"] == "container-key"


def test_a_tempurl_needs_a_key_the_signer_could_see(api, keyed_project):
    """A reader or ACL grantee signs with whatever key they were shown: nothing."""
    account, container = keyed_project["account"], keyed_project["container"]
    expires = int(time.time()) + 60
    for user, kind in (("reader", "account"), ("grantee", "container"), ("reader", "container")):
        target = account if kind == "account" else container
        seen = api.request("HEAD", target, keyed_project[user]["token"]).headers
        key = seen.get(KEY_HEADERS[kind][0], "")
        obj = f"{container}/planted-by-{user}-{kind}"
        path = obj.removeprefix("/object-store")
        put = api.request("PUT", obj, content=b"planted", params={
            "temp_url_sig": _sig(key, "PUT", expires, path), "temp_url_expires": expires})
        assert put.status_code == 401, (user, kind)
        assert api.request("HEAD", obj, keyed_project["owner"]["token"]).status_code == 404


@pytest.fixture
def two_containers(api, keyed_project):
    """The keyed project's container ("public": signed for) and a private container of
    the same account with one secret object."""
    owner = keyed_project["owner"]["token"]
    private = f"{keyed_project['account']}/{unique('private')}"
    assert api.request("PUT", private, owner).status_code == 201
    assert api.request("PUT", f"{private}/secret", owner, content=b"top secret").status_code == 201
    return keyed_project["container"], private


def _signed(method, path, key):
    expires = int(time.time()) + 60
    return {"temp_url_sig": _sig(key, method, expires, path.removeprefix("/object-store")),
            "temp_url_expires": expires}


def test_tempurl_put_refuses_pointer_headers(api, keyed_project, two_containers):
    """CVE-2015-5223: a TempURL PUT must not make a pointer to data it could not read."""
    public, private = two_containers
    private_name = private.rsplit("/", 1)[1]
    obj = f"{public}/pointer"
    for header, value in (("X-Object-Manifest", f"{private_name}/sec"), ("X-Symlink-Target", f"{private_name}/secret")):
        for key in ("account-key", "container-key"):
            put = api.request("PUT", obj, content=b"", headers={header: value}, params=_signed("PUT", obj, key))
            assert put.status_code == 400
            assert put.text == f"The header '{header}' is not allowed in this tempurl"
    assert api.request("HEAD", obj, keyed_project["owner"]["token"]).status_code == 404
    # A bad signature is still a 401 first.
    assert api.request("PUT", obj, content=b"", headers={"X-Object-Manifest": f"{private_name}/sec"},
                       params=_signed("PUT", obj, "wrong")).status_code == 401


def test_tempurl_ignores_the_other_query_parameters(api, keyed_project, two_containers):
    """Swift's tempurl passes on only its own parameters: ``?multipart-manifest=put``
    uploads the JSON as a plain object, ``=get`` returns the large object's body."""
    public, private = two_containers
    owner = keyed_project["owner"]["token"]
    private_name = private.rsplit("/", 1)[1]
    manifest = json.dumps([{"path": f"/{private_name}/secret"}]).encode()
    obj = f"{public}/slo-attempt"
    put = api.request("PUT", obj, content=manifest,
                      params={**_signed("PUT", obj, "container-key"), "multipart-manifest": "put"})
    assert put.status_code == 201
    got = api.request("GET", obj, owner)
    assert got.content == manifest and "X-Static-Large-Object" not in got.headers
    # A real SLO of the owner's, fetched with ?multipart-manifest=get: the body, not the manifest.
    public_name = public.rsplit("/", 1)[1]
    assert api.request("PUT", f"{public}/seg", owner, content=b"segment").status_code == 201
    slo = f"{public}/slo"
    assert api.request("PUT", slo, owner, params={"multipart-manifest": "put"},
                       content=json.dumps([{"path": f"/{public_name}/seg"}])).status_code == 201
    got = api.request("GET", slo, params={**_signed("GET", slo, "container-key"), "multipart-manifest": "get"})
    assert got.status_code == 200 and got.content == b"segment"


def test_tempurl_scope_covers_the_key_holders_container_or_account(api, keyed_project, two_containers):
    """A container key signs for that container only, also for the segments of a large
    object (Swift: 401); an account key for the whole account."""
    public, private = two_containers
    owner = keyed_project["owner"]["token"]
    private_name = private.rsplit("/", 1)[1]
    dlo = f"{public}/dlo"
    assert api.request("PUT", dlo, owner, content=b"",
                       headers={"X-Object-Manifest": f"{private_name}/sec"}).status_code == 201
    for method in ("GET", "HEAD"):
        assert api.request(method, dlo, params=_signed("GET", dlo, "container-key")).status_code == 401
    got = api.request("GET", dlo, params=_signed("GET", dlo, "account-key"))
    assert got.status_code == 200 and got.content == b"top secret"
    slo = f"{public}/slo-private"
    assert api.request("PUT", slo, owner, params={"multipart-manifest": "put"},
                       content=json.dumps([{"path": f"/{private_name}/secret"}])).status_code == 201
    assert api.request("GET", slo, params=_signed("GET", slo, "container-key")).status_code == 409
    assert api.request("GET", slo, params=_signed("GET", slo, "account-key")).content == b"top secret"
    # A PUT TempURL copying from another container is held to the same scope.
    copy = f"{public}/copy"
    assert api.request("PUT", copy, headers={"X-Copy-From": f"{private_name}/secret"},
                       params=_signed("PUT", copy, "container-key")).status_code == 401
    assert api.request("PUT", copy, headers={"X-Copy-From": f"{private_name}/secret"},
                       params=_signed("PUT", copy, "account-key")).status_code == 201


def test_tempurl_responses_hide_private_object_metadata(api, keyed_project):
    obj = f"{keyed_project['container']}/with-meta"
    assert api.request("PUT", obj, keyed_project["owner"]["token"], content=b"x", headers={
        "X-Object-Meta-Private": "p", "X-Object-Meta-Public-Note": "n"}).status_code == 201
    for method in ("GET", "HEAD"):
        got = api.request(method, obj, params=_signed("GET", obj, "container-key"))
        assert got.status_code == 200
        assert "X-Object-Meta-Private" not in got.headers and got.headers["X-Object-Meta-Public-Note"] == "n"
        assert got.headers["Expires"]


def test_large_object_segments_need_the_callers_own_access(api, keyed_project, two_containers):
    """An ACL grantee may read and write the shared container, not the private one: a
    DLO or SLO there pointing into the private container gives nothing away, and an SLO
    delete removes only what the grantee may delete."""
    public, private = two_containers
    owner, grantee = keyed_project["owner"]["token"], keyed_project["grantee"]["token"]
    private_name = private.rsplit("/", 1)[1]
    dlo = f"{public}/grantee-dlo"
    assert api.request("PUT", dlo, grantee, content=b"",
                       headers={"X-Object-Manifest": f"{private_name}/sec"}).status_code == 201
    assert api.request("GET", dlo, grantee).status_code == 403
    assert api.request("HEAD", dlo, grantee).status_code == 403
    assert api.request("GET", dlo, owner).content == b"top secret"
    refused = api.request("PUT", f"{public}/grantee-slo", grantee, params={"multipart-manifest": "put"},
                          content=json.dumps([{"path": f"/{private_name}/secret"}]))
    assert refused.status_code == 400 and f"/{private_name}/secret, 403 Forbidden" in refused.text
    slo = f"{public}/owners-slo"
    assert api.request("PUT", slo, owner, params={"multipart-manifest": "put"},
                       content=json.dumps([{"path": f"/{private_name}/secret"}])).status_code == 201
    assert api.request("GET", slo, grantee).status_code == 409
    deleted = api.request("DELETE", slo, grantee, params={"multipart-manifest": "delete"},
                          headers={"Accept": "application/json"}).json()
    assert deleted["Number Deleted"] == 1 and deleted["Errors"] == [[f"/{private_name}/secret", "403 Forbidden"]]
    assert api.request("GET", f"{private}/secret", owner).content == b"top secret"
    # Copying out of the private container is refused the same way.
    assert api.request("PUT", f"{public}/grantee-copy", grantee,
                       headers={"X-Copy-From": f"{private_name}/secret"}).status_code == 403
