"""``pocketstack seed`` finds its admin in clouds.yaml as the ``openstack`` CLI does, and
authenticates with what the entry gives (names or ids of domains and project)."""

from __future__ import annotations

import pytest

from pocketstack.seed.runner import clouds_entry, password_auth

CLOUDS = """
clouds:
  pocketstack:
    auth: {auth_url: "http://127.0.0.1:8780/identity", username: admin, password: pw, project_name: admin,
           user_domain_name: Default, project_domain_id: default}
"""


def test_the_named_entry_is_read_from_the_given_file(tmp_path):
    (tmp_path / "clouds.yaml").write_text(CLOUDS)
    entry = clouds_entry("pocketstack", str(tmp_path / "clouds.yaml"))
    assert password_auth(entry["auth"]) == {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": "pw"}}},
        "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}


def test_an_unknown_entry_names_the_ones_there(tmp_path):
    (tmp_path / "clouds.yaml").write_text(CLOUDS)
    with pytest.raises(ValueError, match=r"no cloud named 'other' \(it has: pocketstack\)"):
        clouds_entry("other", str(tmp_path / "clouds.yaml"))


def test_the_environment_points_at_the_file(tmp_path, monkeypatch):
    (tmp_path / "elsewhere.yaml").write_text(CLOUDS)
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(tmp_path / "elsewhere.yaml"))
    monkeypatch.chdir(tmp_path)
    assert clouds_entry("pocketstack")["auth"]["username"] == "admin"


def test_a_project_id_scopes_by_id():
    assert password_auth({"username": "u", "password": "p", "project_id": "abc"})["scope"] == \
        {"project": {"id": "abc"}}
