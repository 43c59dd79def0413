"""The federation mapping engine against the examples of Keystone's mapping guide
(doc/source/admin/federation/mapping_combinations.rst) and its RuleProcessor's rules."""

from __future__ import annotations

import pytest

from pocketstack.identity import errors
from pocketstack.identity.federation import TrustedAssertions
from pocketstack.identity.keys import KeyRepository
from pocketstack.identity.mapping_rules import DirectMappingError, NoMatch, RuleProcessor, validate_mapping
from pocketstack.identity.tokens import SCOPE_PROJECT, TokenFormatter, TokenPayload

DOMAIN = {"id": "0cd5e9"}
ASSERTION = {"UserName": "testacct", "Email": "testacct@example.com", "FirstName": "Test", "LastName": "Account",
             "orgPersonType": "Contractor;Employee", "ADFS_GROUPS": "g1;g2;admin"}


def process(rules: list[dict], assertion: dict | None = None, version: str = "1.0"):
    validate_mapping({"rules": rules, "schema_version": version})
    return RuleProcessor("m1", rules, version).process(ASSERTION if assertion is None else assertion)


def test_direct_mapping_of_a_user_name_and_a_group_by_id():
    mapped = process([{"local": [{"user": {"name": "{0}"}}, {"group": {"id": "0cd5e9"}}],
                       "remote": [{"type": "UserName"}]}])
    assert mapped.user == {"name": "testacct", "type": "ephemeral"}
    assert mapped.group_ids == ["0cd5e9"] and mapped.group_names == [] and mapped.projects == []


def test_several_remote_values_substitute_in_order():
    mapped = process([{"local": [{"user": {"name": "{0} {1}", "email": "{2}"}}],
                       "remote": [{"type": "FirstName"}, {"type": "LastName"}, {"type": "Email"}]}])
    assert mapped.user == {"name": "Test Account", "email": "testacct@example.com", "type": "ephemeral"}


def test_a_missing_attribute_fails_the_rule():
    with pytest.raises(NoMatch) as raised:
        process([{"local": [{"user": {"name": "{0}"}}], "remote": [{"type": "Surname"}]}])
    assert raised.value.message == ("Could not map any federated user properties to identity values. Check debug "
                                    "logs or the mapping used for additional details.")


@pytest.mark.parametrize("requirement, matches", [
    ({"any_one_of": ["Contractor", "SubContractor"]}, True),
    ({"any_one_of": ["SubContractor"]}, False),
    ({"not_any_of": ["Contractor"]}, False),
    ({"not_any_of": ["Manager", "Intern"]}, True),
    ({"any_one_of": [".*tractor$"], "regex": True}, True),
    ({"any_one_of": ["^tractor"], "regex": True}, False),
    ({"not_any_of": ["^Emp"], "regex": True}, False),
])
def test_conditions_select_rules_without_contributing(requirement, matches):
    rules = [{"local": [{"user": {"name": "{0}"}}],
              "remote": [{"type": "orgPersonType", **requirement}, {"type": "UserName"}]}]
    if matches:
        # The condition adds nothing to {0}: UserName is the first contribution.
        assert process(rules).user["name"] == "testacct"
    else:
        with pytest.raises(NoMatch):
            process(rules)


def test_whitelist_keeps_listed_values_as_groups_of_the_rules_domain():
    mapped = process([{"local": [{"user": {"name": "{0}"}}, {"groups": "{1}", "domain": DOMAIN}],
                       "remote": [{"type": "UserName"}, {"type": "ADFS_GROUPS", "whitelist": ["g1", "g2", "g3"]}]}])
    assert mapped.group_names == [{"name": "g1", "domain": DOMAIN}, {"name": "g2", "domain": DOMAIN}]


def test_blacklist_drops_listed_values_regex_too():
    mapped = process([{"local": [{"groups": "{0}", "domain": DOMAIN}, {"user": {"name": "x"}}],
                       "remote": [{"type": "ADFS_GROUPS", "blacklist": ["^adm"], "regex": True}]}])
    assert [g["name"] for g in mapped.group_names] == ["g1", "g2"]


def test_one_remaining_value_substitutes_as_itself():
    mapped = process([{"local": [{"user": {"name": "{0}"}}],
                       "remote": [{"type": "ADFS_GROUPS", "whitelist": ["admin"]}]}])
    assert mapped.user["name"] == "admin"


def test_group_ids_from_a_multi_valued_attribute():
    mapped = process([{"local": [{"user": {"name": "u"}}, {"group_ids": "{0}"}],
                       "remote": [{"type": "ADFS_GROUPS"}]}])
    assert mapped.group_ids == ["g1", "g2", "admin"]


def test_groups_as_json_objects_carry_their_own_domains():
    assertion = {"UserName": "bob", "Groups": "JSON:{\"name\":\"devs\",\"domain\":{\"name\":\"corp\"}}"}
    mapped = process([{"local": [{"user": {"name": "{0}"}, "groups": "{1}"}],
                       "remote": [{"type": "UserName"}, {"type": "Groups"}]}], assertion)
    assert mapped.group_names == [{"name": "devs", "domain": {"name": "corp"}}]


def test_groups_without_a_domain_are_refused():
    with pytest.raises(errors.ValidationMessage, match="Both 'groups' and 'domain' keywords must be specified"):
        process([{"local": [{"user": {"name": "{0}"}, "groups": "{0}"}], "remote": [{"type": "UserName"}]}])


def test_first_user_wins_and_groups_add_up_across_rules():
    mapped = process([
        {"local": [{"user": {"name": "{0}", "type": "local", "domain": {"name": "Default"}}}],
         "remote": [{"type": "UserName"}]},
        {"local": [{"user": {"name": "ignored"}}, {"group": {"name": "contractors", "domain": {"name": "corp"}}}],
         "remote": [{"type": "orgPersonType", "any_one_of": ["Contractor"]}]},
        {"local": [{"group": {"id": "abc"}}], "remote": [{"type": "orgPersonType", "not_any_of": ["Contractor"]}]},
    ])
    assert mapped.user == {"name": "testacct", "type": "local", "domain": {"name": "Default"}}
    assert mapped.group_names == [{"name": "contractors", "domain": {"name": "corp"}}]
    assert mapped.group_ids == []


def test_projects_for_auto_provisioning_and_the_2_0_domain_default():
    rules = [{"local": [{"user": {"name": "{0}"}, "domain": {"name": "fed"},
                         "projects": [{"name": "Production", "roles": [{"name": "reader"}]},
                                      {"name": "Staging", "roles": [{"name": "member"}], "domain": {"id": "d2"}}]}],
              "remote": [{"type": "UserName"}]}]
    mapped = process(rules, version="2.0")
    assert mapped.user["domain"] == {"name": "fed"}
    assert mapped.projects == [{"name": "Production", "roles": [{"name": "reader"}], "domain": {"name": "fed"}},
                               {"name": "Staging", "roles": [{"name": "member"}], "domain": {"id": "d2"}}]
    # 1.0 neither takes a project domain nor defaults the user's.
    with pytest.raises(errors.ValidationMessage, match="Additional properties are not allowed"):
        validate_mapping({"rules": rules, "schema_version": "1.0"})


def test_a_reference_past_the_contributions_is_the_mappings_fault():
    with pytest.raises(DirectMappingError, match="Local section in mapping m1 refers to a remote match"):
        process([{"local": [{"user": {"name": "{1}"}}], "remote": [{"type": "UserName"}]}])


def test_an_unknown_user_type_is_refused():
    with pytest.raises(errors.ValidationMessage, match="'admin' is not one of"):
        validate_mapping({"rules": [{"local": [{"user": {"name": "x", "type": "admin"}}],
                                     "remote": [{"type": "UserName"}]}]})


@pytest.mark.parametrize("mapping, message", [
    ({}, "'rules' is a required property\n"),
    ({"rules": []}, "[] should be non-empty\n"),  # jsonschema 4.2x wording
    ({"rules": [{"local": []}]}, "'remote' is a required property\n"),
    ({"rules": [{"local": [], "remote": [{"type": "a", "any_one_of": ["x"], "whitelist": ["y"]}]}]}, None),
    ({"rules": [{"local": [{"group": {"name": "g"}}], "remote": [{"type": "a"}]}]}, None),
    ({"rules": [], "schema_version": "9.9"}, "Unsupported mapping schema_version: 9.9. Supported: 1.0, 2.0, 3.0."),
])
def test_keystones_schema_messages(mapping, message):
    with pytest.raises(errors.ValidationMessage) as raised:
        validate_mapping(mapping)
    if message:
        assert raised.value.message == message


def test_schema_3_0_takes_projects_as_json_from_an_attribute():
    projects = '[{"name": "p1", "roles": [{"name": "member"}]}, {"name": "p2", "roles": [], "domain": {"id": "d"}}]'
    rules = [{"local": [{"user": {"name": "{0}"}, "domain": {"id": "fed"}, "projects_json": "{1}",
                         "projects": [{"name": "fixed", "roles": [{"name": "reader"}]}]}],
              "remote": [{"type": "UserName"}, {"type": "Projects"}]}]
    mapped = process(rules, {"UserName": "u", "Projects": projects}, version="3.0")
    assert mapped.projects == [{"name": "fixed", "roles": [{"name": "reader"}], "domain": {"id": "fed"}},
                               {"name": "p1", "roles": [{"name": "member"}], "domain": {"id": "fed"}},
                               {"name": "p2", "roles": [], "domain": {"id": "d"}}]
    with pytest.raises(errors.ValidationMessage, match="'roles' is a required property"):
        process(rules, {"UserName": "u", "Projects": '[{"name": "p"}]'}, version="3.0")
    with pytest.raises(errors.ValidationMessage, match="does not match the expected pattern"):
        process([{"local": [{"user": {"name": "u"}, "projects_json": "x"}], "remote": [{"type": "UserName"}]}],
                version="3.0")
    with pytest.raises(errors.ValidationMessage, match="Additional properties are not allowed"):
        validate_mapping({"rules": rules, "schema_version": "2.0"})


def test_trusted_assertions_come_only_from_listed_proxies():
    trusted = TrustedAssertions.from_settings("X-Federation-", "10.0.0.0/24, ::1")
    headers = [("x-federation-remote-user", "alice"), ("x-federation-oidc-claim-groups", "a"),
               ("x-federation-oidc-claim-groups", "b"), ("x-federation-name", "J\xc3\xbcrgen"), ("x-other", "x")]
    assert trusted.read(headers, "10.0.0.7") == {"REMOTE_USER": "alice", "OIDC_CLAIM_GROUPS": "a;b", "NAME": "Jürgen"}
    assert trusted.read(headers, "::1")["REMOTE_USER"] == "alice"
    for peer in ("10.0.1.7", "testclient", None):
        assert trusted.read(headers, peer) == {}
    assert TrustedAssertions.from_settings("X-Federation-", "").read(headers, "10.0.0.7") == {}
    with pytest.raises(ValueError, match="setting 'federation_trusted_proxies'"):
        TrustedAssertions.from_settings("X-Federation-", "10.0.0.0/33")


def test_a_fernet_token_carries_the_federation(tmp_path):
    keys = KeyRepository(tmp_path / "fernet-keys")
    keys.ensure()
    formatter = TokenFormatter(keys)
    payload = TokenPayload(user_id="b" * 64, methods=["token", "openid"], expires_at=2e9, scope_type=SCOPE_PROJECT,
                           scope_id="c" * 32, idp_id="acme", protocol_id="openid", group_ids=["a" * 32, "g2"])
    assert formatter.open(formatter.seal(payload)) == payload
    plain = TokenPayload(user_id="u", methods=["password"], expires_at=2e9)
    assert formatter.open(formatter.seal(plain)) == plain
