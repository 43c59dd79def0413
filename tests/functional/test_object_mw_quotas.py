"""Swift's container_quotas and account_quotas middlewares: who may set the quotas,
what a value must look like, and the uploads (PUT, X-Copy-From, COPY) they refuse."""

from __future__ import annotations

import pytest
from test_object_access import project_id

from conftest import unique


@pytest.fixture
def demo_account(api, demo_token):
    return f"/object-store/v1/AUTH_{project_id(api, demo_token)}"


@pytest.fixture
def demo_container(api, demo_token, demo_account):
    path = f"{demo_account}/{unique('quota')}"
    assert api.request("PUT", path, demo_token).status_code == 201
    return path


def test_container_quota_values_are_digits(api, demo_token, demo_container):
    bad = api.request("POST", demo_container, demo_token, headers={"X-Container-Meta-Quota-Bytes": "ten"})
    assert (bad.status_code, bad.text) == (400, "Invalid bytes quota.")
    bad = api.request("PUT", demo_container, demo_token, headers={"X-Container-Meta-Quota-Count": "-1"})
    assert (bad.status_code, bad.text) == (400, "Invalid count quota.")
    ok = api.request("POST", demo_container, demo_token, headers={"X-Container-Meta-Quota-Bytes": "10"})
    assert ok.status_code == 204
    head = api.request("HEAD", demo_container, demo_token)
    assert head.headers["X-Container-Meta-Quota-Bytes"] == "10"


def test_container_bytes_quota(api, demo_token, demo_container):
    api.request("POST", demo_container, demo_token, headers={"X-Container-Meta-Quota-Bytes": "10"})
    assert api.request("PUT", f"{demo_container}/a", demo_token, content=b"123456").status_code == 201
    over = api.request("PUT", f"{demo_container}/b", demo_token, content=b"12345")
    assert (over.status_code, over.text) == (413, "Upload exceeds quota.")
    assert api.request("PUT", f"{demo_container}/b", demo_token, content=b"1234").status_code == 201
    head = api.request("HEAD", demo_container, demo_token)
    assert head.headers["X-Container-Bytes-Used"] == "10"
    # Copies count the source's size, whichever verb makes them.
    copy = api.request("PUT", f"{demo_container}/c", demo_token, headers={"X-Copy-From": demo_container.split(
        "/", 4)[-1] + "/b", "Content-Length": "0"})
    assert copy.status_code == 413
    copy = api.request("COPY", f"{demo_container}/a", demo_token,
                       headers={"Destination": demo_container.split("/", 4)[-1] + "/d"})
    assert copy.status_code == 413
    # Deletes always pass; removing the quota lifts it.
    assert api.request("DELETE", f"{demo_container}/a", demo_token).status_code == 204
    api.request("POST", demo_container, demo_token, headers={"X-Remove-Container-Meta-Quota-Bytes": "x"})
    assert api.request("PUT", f"{demo_container}/big", demo_token, content=b"x" * 100).status_code == 201


def test_container_count_quota(api, demo_token, demo_container):
    api.request("POST", demo_container, demo_token, headers={"X-Container-Meta-Quota-Count": "1"})
    assert api.request("PUT", f"{demo_container}/a", demo_token, content=b"x").status_code == 201
    over = api.request("PUT", f"{demo_container}/b", demo_token, content=b"")
    assert (over.status_code, over.text) == (413, "Upload exceeds quota.")
    head = api.request("HEAD", demo_container, demo_token)
    assert head.headers["X-Container-Object-Count"] == "1"


def test_only_a_reseller_admin_sets_account_quotas(api, admin_token, demo_token, demo_account):
    for headers in ({"X-Account-Meta-Quota-Bytes": "100"}, {"X-Account-Meta-Quota-Bytes": ""},
                    {"X-Remove-Account-Meta-Quota-Bytes": "x"}, {"X-Account-Quota-Count": "3"},
                    {"X-Account-Quota-Bytes-Policy-Policy-0": "3"}):
        refused = api.request("POST", demo_account, demo_token, headers=headers)
        assert refused.status_code == 403, headers
    bad = api.request("POST", demo_account, admin_token, headers={"X-Account-Quota-Count": "many"})
    assert bad.status_code == 400
    try:
        ok = api.request("POST", demo_account, admin_token,
                         headers={"X-Account-Meta-Quota-Bytes": "100", "X-Account-Quota-Count": "7"})
        assert ok.status_code == 204
        head = api.request("HEAD", demo_account, demo_token)
        assert head.headers["X-Account-Quota-Bytes"] == "100"
        assert head.headers["X-Account-Quota-Count"] == "7"
        assert not any(name.lower().startswith("x-account-sysmeta-") for name in head.headers)
    finally:
        api.request("POST", demo_account, admin_token,
                    headers={"X-Remove-Account-Meta-Quota-Bytes": "x", "X-Remove-Account-Quota-Count": "x"})
    head = api.request("HEAD", demo_account, demo_token)
    assert "X-Account-Quota-Bytes" not in head.headers and "X-Account-Quota-Count" not in head.headers


def test_account_quotas_refuse_uploads(api, admin_token, demo_token, demo_account, demo_container):
    used = int(api.request("HEAD", demo_account, demo_token).headers["X-Account-Bytes-Used"])
    count = int(api.request("HEAD", demo_account, demo_token).headers["X-Account-Object-Count"])
    try:
        api.request("POST", demo_account, admin_token, headers={"X-Account-Meta-Quota-Bytes": str(used + 5)})
        over = api.request("PUT", f"{demo_container}/big", demo_token, content=b"x" * 6)
        assert (over.status_code, over.text) == (413, "Upload exceeds quota.")
        # The reseller admin is not held to the account's quota.
        assert api.request("PUT", f"{demo_container}/admin", admin_token, content=b"x" * 6).status_code == 201
        api.request("POST", demo_account, admin_token, headers={"X-Remove-Account-Meta-Quota-Bytes": "x",
                                                                "X-Account-Quota-Count": str(count + 1)})
        assert api.request("PUT", f"{demo_container}/one", demo_token, content=b"x" * 6).status_code == 413
        api.request("POST", demo_account, admin_token, headers={"X-Remove-Account-Quota-Count": "x",
                                                                "X-Account-Quota-Bytes-Policy-Policy-0": "0"})
        policy = api.request("PUT", f"{demo_container}/two", demo_token, content=b"x")
        assert (policy.status_code, policy.text) == (413, "Upload exceeds policy quota.")
    finally:
        api.request("POST", demo_account, admin_token,
                    headers={"X-Remove-Account-Quota-Bytes-Policy-Policy-0": "x"})
    assert api.request("PUT", f"{demo_container}/three", demo_token, content=b"x" * 6).status_code == 201
