"""The LDAP driver's reading of a domain's ``ldap`` options and Keystone's public IDs
(no directory needed)."""

from __future__ import annotations

import hashlib

import pytest

from pocketstack.identity import errors
from pocketstack.identity.domain_config import DomainConfigManager, check_config
from pocketstack.identity.ldap import Directory, Entry, LdapSettings
from pocketstack.identity.ldap_backend import public_id


def test_public_id_is_keystones_sha256():
    # keystone/identity/id_generators/sha256.py hashes the values of sorted keys:
    # domain_id, entity_type, local_id.
    assert public_id("d1", "alice", "user") == hashlib.sha256(b"d1useralice").hexdigest()
    assert public_id("d1", "alice", "user") != public_id("d1", "alice", "group") != public_id("d2", "alice", "user")
    assert len(public_id("d", "x" * 200, "user")) == 64


def test_settings_defaults_and_coercion():
    cfg = LdapSettings.from_config({"suffix": "dc=corp", "page_size": "50", "group_members_are_ids": "true",
                                    "use_tls": "False"})
    assert cfg.user_tree_dn == "ou=Users,dc=corp" and cfg.group_tree_dn == "ou=UserGroups,dc=corp"
    assert cfg.page_size == 50 and cfg.group_members_are_ids is True and cfg.use_tls is False
    assert cfg.user_objectclass == "inetOrgPerson" and cfg.user_id_attribute == "cn"
    assert LdapSettings.from_config({"page_size": "lots"}).page_size == 0


@pytest.mark.parametrize(("options", "value", "enabled"), [
    ({}, None, True),
    ({"user_enabled_default": "False"}, None, False),
    ({}, "TRUE", True),
    ({}, "FALSE", False),
    ({"user_enabled_invert": True}, "TRUE", False),
    ({"user_enabled_mask": 2}, "514", False),  # Active Directory's ACCOUNTDISABLE bit
    ({"user_enabled_mask": 2}, "512", True),
])
def test_enabled_as_keystone_reads_it(options, value, enabled):
    directory = Directory("d", LdapSettings.from_config(options))
    attributes = {"enabled": [value]} if value is not None else {}
    assert directory.enabled(Entry(dn="uid=a", local_id="a", name="a", attributes=attributes)) is enabled


@pytest.mark.parametrize(("config", "reason"), [
    (None, "No options specified"),
    ({"identity": []}, "The value of group identity specified in the config should be a dictionary of options"),
    ({"assignment": {"driver": "sql"}}, "Group assignment is not supported for domain specific configurations"),
    ({"ldap": {"user_pass": "x"}}, "Option user_pass in group ldap is not supported for domain specific "
                                   "configurations"),
])
def test_invalid_configs(config, reason):
    with pytest.raises(errors.InvalidDomainConfig) as raised:
        check_config(config)
    assert raised.value.message == f"Invalid domain specific configuration: {reason}."


def test_defaults_hide_the_sensitive_option():
    assert "password" not in DomainConfigManager.default()["ldap"]
    with pytest.raises(errors.InvalidDomainConfig):
        DomainConfigManager.default("ldap", "password")
