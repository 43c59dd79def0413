"""Key pairs, quotas and limits without a cloud: whose key pairs a request means, the
quota-set parsing, and the handlers on a real compute schema."""

from __future__ import annotations

import pytest
from compute_api_support import ADMIN, MEMBER, READER, call, caller, database

from pocketstack.common.errors import ApiError, Forbidden
from pocketstack.compute import errors
from pocketstack.compute.api import keypairs, quotas
from pocketstack.compute.api.keypairs import KeyPairsApi
from pocketstack.compute.api.quotas import LimitsApi, QuotaClassSetsApi, QuotaSetsApi
from pocketstack.compute.keypairs import KeyPairs
from pocketstack.compute.quotas import Quotas


def test_owner_is_the_caller_before_2_10():
    assert keypairs.owner("me", {"user_id": "other"}, at_2_10=False) == "me"
    assert keypairs.owner("me", {}, at_2_10=False, requested="other") == "me"
    assert keypairs.owner("me", {"user_id": "other"}, at_2_10=True) == "other"
    assert keypairs.owner("me", {"user_id": "q"}, at_2_10=True, requested="body") == "body"
    assert keypairs.owner("me", {}, at_2_10=True) == "me"


@pytest.fixture
def stores(tmp_path):
    db = database(tmp_path)
    limits = Quotas(db)
    return limits, KeyPairs(db, limits)


def test_keypair_create_status_and_type_by_microversion(stores):
    _, store = stores
    api = KeyPairsApi(store)
    old = call(api, "POST", "/v2.1/os-keypairs", caller(*MEMBER), body={"keypair": {"name": "k1"}})
    assert old.status_code == 200 and b'"private_key"' in old.body and b'"type"' not in old.body
    new = call(api, "POST", "/v2.1/os-keypairs", caller(*MEMBER), version="2.2",
               body={"keypair": {"name": "k2", "type": "ssh"}})
    assert new.status_code == 201 and b'"type": "ssh"' in new.body
    listed = call(api, "GET", "/v2.1/os-keypairs", caller(*MEMBER), version="2.35", query="limit=1")
    assert [k["keypair"]["name"] for k in listed["keypairs"]] == ["k1"] and "keypairs_links" in listed
    assert call(api, "DELETE", "/v2.1/os-keypairs/{name}", caller(*MEMBER), version="2.2",
                params={"name": "k1"}).status_code == 204
    with pytest.raises(errors.KeypairNotFound, match="Keypair k1 not found for user u1"):
        call(api, "GET", "/v2.1/os-keypairs/{name}", caller(*MEMBER), params={"name": "k1"})


@pytest.mark.parametrize("version,field", [("2.1", {"type": "ssh"}), ("2.9", {"user_id": "u2"}),
                                           ("2.10", {"extra": 1})])
def test_keypair_fields_before_their_microversion_are_refused(stores, version, field):
    """The declared schema of each range (Nova's create, create_v22, create_v210): a field
    the client's microversion does not know is a 400, not silently ignored."""
    error = refused_body(KeyPairsApi(stores[1]), version, {"keypair": {"name": "k", **field}})
    assert error.status == 400 and "Additional properties are not allowed" in error.message


def refused_body(api: KeyPairsApi, version: str, body: dict) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call(api, "POST", "/v2.1/os-keypairs", caller(*ADMIN), version=version, body=body)
    return raised.value


def test_another_users_keypairs_need_an_admin(stores):
    _, store = stores
    api = KeyPairsApi(store)
    with pytest.raises(Forbidden):
        call(api, "POST", "/v2.1/os-keypairs", caller(*MEMBER), version="2.10",
             body={"keypair": {"name": "k", "user_id": "u2"}})
    made = call(api, "POST", "/v2.1/os-keypairs", caller(*ADMIN), version="2.10",
                body={"keypair": {"name": "k", "user_id": "u2"}})
    assert b'"user_id": "u2"' in made.body
    assert call(api, "GET", "/v2.1/os-keypairs", caller(*MEMBER, user="u2"))["keypairs"][0]["keypair"]["name"] == "k"


def test_limit_value_and_new_limits():
    assert quotas.limit_value("cores", "-1") == -1
    with pytest.raises(errors.QuotaLimitTooLow, match="Quota limit -2 for cores must be -1 or greater."):
        quotas.limit_value("cores", -2)
    with pytest.raises(errors.FieldAboveMaximum):
        quotas.limit_value("ram", "4294967296")
    # force and the legacy network quotas are accepted, never stored for a project.
    assert quotas.new_limits({"cores": "4", "force": True, "floating_ips": 3}) == {"cores": 4}


def test_quota_sets_by_microversion(stores):
    limits, _ = stores
    api = QuotaSetsApi(limits)
    path = "/v2.1/os-quota-sets/{project_id}"
    old = call(api, "GET", path, caller(*READER), params={"project_id": "p1"})["quota_set"]
    assert old["id"] == "p1" and "floating_ips" in old and "injected_files" in old
    new = call(api, "GET", path, caller(*READER), version="2.57", params={"project_id": "p1"})["quota_set"]
    assert "floating_ips" not in new and "injected_files" not in new
    with pytest.raises(Forbidden):  # someone else's project
        call(api, "GET", path, caller(*READER), params={"project_id": "p2"})
    with pytest.raises(Forbidden):  # before the body is even read
        call(api, "PUT", path, caller(*MEMBER), params={"project_id": "p1"}, body={"nonsense": 1})
    updated = call(api, "PUT", path, caller(*ADMIN), version="2.57", params={"project_id": "p1"},
                   body={"quota_set": {"cores": 3}})["quota_set"]
    assert updated["cores"] == 3 and "id" not in updated
    detail = call(api, "GET", path + "/detail", caller(*READER), version="2.57", params={"project_id": "p1"})
    assert detail["quota_set"]["cores"] == {"limit": 3, "in_use": 0, "reserved": 0}
    assert call(api, "DELETE", path, caller(*ADMIN), params={"project_id": "p1"}).status_code == 202


def test_quota_classes_and_limits(stores):
    limits, _ = stores
    classes = QuotaClassSetsApi(limits)
    path = "/v2.1/os-quota-class-sets/{class_name}"
    before = call(classes, "PUT", path, caller(*ADMIN), params={"class_name": "default"},
                  body={"quota_class_set": {"floating_ips": 5, "instances": 7}})["quota_class_set"]
    assert before["floating_ips"] == 5 and before["instances"] == 7 and "server_groups" not in before
    after = call(classes, "GET", path, caller(*ADMIN), version="2.50", params={"class_name": "default"})
    assert "floating_ips" not in after["quota_class_set"] and "server_groups" in after["quota_class_set"]
    absolute = call(LimitsApi(limits), "GET", "/v2.1/limits", caller(*READER))["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 7 and absolute["maxSecurityGroups"] == 10
    with pytest.raises(Forbidden):
        call(LimitsApi(limits), "GET", "/v2.1/limits", caller(*READER), query="tenant_id=p2")
