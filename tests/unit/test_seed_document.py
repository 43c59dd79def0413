"""Checking a seed file: every problem is reported with its path in the file (and line),
all at once, before anything is created."""

from __future__ import annotations

import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml

from pocketstack.seed import SeedFileError, load, parse
from pocketstack.seed.document import schema

DOCS = Path(__file__).resolve().parents[2] / "docs"


def problems(text: str, base: Path = Path("/nonexistent")) -> list[str]:
    with pytest.raises(SeedFileError) as error:
        parse(textwrap.dedent(text), base, "cloud.yaml")
    return [str(p) for p in error.value.problems]


def test_an_invalid_cidr_is_named_by_its_path_and_line():
    assert problems("""
        networks:
          - name: a
          - name: b
          - name: c
            subnets:
              - {name: s, cidr: 10.0.0.0/33}
        """) == ["networks[2].subnets[0].cidr (line 7): '10.0.0.0/33' is not a valid CIDR"]


def test_schema_problems_are_all_reported_in_file_order():
    assert problems("""
        flavors:
          - {name: tiny, vcpus: 1}
        volumes:
          - {name: v, size: big}
          - {name: w, size: 1, sizee: 2}
        """) == [
        "flavors[0] (line 3): 'ram' is a required property",
        "volumes[0].size (line 5): 'big' is not of type 'integer'",
        "volumes[1] (line 6): Additional properties are not allowed ('sizee' was unexpected)",
    ]


def test_unknown_top_level_kind_and_non_mapping_documents():
    assert problems("servers: []\n") == [
        "(top level) (line 1): Additional properties are not allowed ('servers' was unexpected)"]
    assert problems("- a\n") == ["(top level) (line 1): ['a'] is not of type 'object'"]


def test_combinations_get_a_message_that_says_what_to_do():
    assert problems("""
        role_assignments:
          - {role: member, user: a, group: b, project: p}
          - {role: member, user: a}
        keypairs:
          - {name: k, public_key: ssh-ed25519 AAAA, private_key_file: k}
        containers:
          - name: c
            objects: [{name: o}]
        """) == [
        "containers[0].objects[0] (line 9): an object takes exactly one of content and file",
        "keypairs[0] (line 6): give at most one of public_key, public_key_file and private_key_file "
        "(the key is generated and its private half written there)",
        "role_assignments[0] (line 3): name exactly one of user and group",
        "role_assignments[1] (line 4): name exactly one of project, domain and system",
    ]


def test_addresses_duplicates_files_and_volume_owners(tmp_path):
    (tmp_path / "disk.img").write_bytes(b"x")
    assert problems("""
        users:
          - {name: alice}
        projects:
          - {name: p}
          - {name: p}
        images:
          - {name: ok, file: disk.img}
          - {name: gone, file: missing.img}
        networks:
          - name: n
            subnets:
              - {name: s, cidr: 10.0.0.0/24, gateway_ip: 10.0.1.1, ip_version: 6,
                 allocation_pools: [{start: 10.0.0.10, end: nope}]}
        volumes:
          - {name: v, size: 1, project: p}
          - {name: w, size: 1, project: p, user: alice}
        """, tmp_path) == [
        "projects[1].name (line 6): 'p' is already defined at projects[0]",
        "networks[0].subnets[0].ip_version (line 13): 6 does not match the CIDR '10.0.0.0/24'",
        "networks[0].subnets[0].gateway_ip (line 13): 10.0.1.1 is not in 10.0.0.0/24",
        "networks[0].subnets[0].allocation_pools[0].end (line 14): 'nope' is not a valid IP address",
        f"images[1].file (line 9): no such file: {tmp_path / 'missing.img'}",
        "volumes[0].user (line 16): a volume in another project than admin is created by a user of that project: "
        "name one (with a password in this file)",
        "volumes[1].user (line 17): 'alice' is not a user with a password in this file "
        "(the volume is created by that user)",
    ]


def test_application_credentials_need_their_users_password_and_a_project():
    assert problems("""
        users:
          - name: a
            application_credentials: [{name: c, secret: s}]
        """) == [
        "users[0].application_credentials[0] (line 4): an application credential is created by its user: "
        "give the user a password",
        "users[0].application_credentials[0] (line 4): name its project (or give the user a default_project)"]


def test_only_ssh_keys_are_generated():
    assert problems("keypairs:\n  - {name: k, type: x509}\n") == [
        "keypairs[0].type (line 2): an x509 key pair needs its certificate (public_key or public_key_file): "
        "only SSH keys are generated"]


def test_yaml_syntax_errors_carry_their_line():
    assert problems("flavors:\n  - name: a\n     vcpus: 1\n") == [
        "(top level) (line 3): not valid YAML: mapping values are not allowed here"]


def test_an_unreadable_file_is_reported(tmp_path):
    with pytest.raises(SeedFileError, match="cannot read the file"):
        load(tmp_path / "absent.yaml")


def test_an_empty_file_seeds_nothing():
    assert parse("", Path("."), "empty.yaml").data == {}


def test_the_documented_example_follows_the_schema():
    """docs/seed-example.yaml is what docs/seeding.md shows: it must stay valid."""
    example = yaml.safe_load((DOCS / "seed-example.yaml").read_text())
    jsonschema.Draft202012Validator(schema()).validate(example)
    assert set(example) == set(schema()["properties"])


def test_the_command_prints_the_schema(capsys):
    import json

    from pocketstack.cli.main import main

    assert main(["seed", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out) == schema()
