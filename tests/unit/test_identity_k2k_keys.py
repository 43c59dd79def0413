"""Keystone to Keystone's signing pair (identity/saml_idp.py): made once in the data
directory and kept, or the configured one; settings checked at start."""

from __future__ import annotations

import dataclasses
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pocketstack.common import config
from pocketstack.identity.saml_idp import IDP_PATH, SSO_PATH, SamlIdentityProvider, make_key_pair


def settings(tmp_path, **values):
    return dataclasses.replace(config.load(overrides={"data_dir": tmp_path}, environ={}), **values)


def test_a_pair_is_made_once_and_kept(tmp_path):
    first = make_key_pair(tmp_path / "saml-idp", "test idp")
    key = serialization.load_pem_private_key(open(first.key_file, "rb").read(), None)
    cert = x509.load_pem_x509_certificate(open(first.cert_file, "rb").read())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert cert.subject == cert.issuer  # self-signed
    assert stat.S_IMODE((tmp_path / "saml-idp" / "signing_key.pem").stat().st_mode) == 0o600
    before = open(first.cert_file).read()
    again = make_key_pair(tmp_path / "saml-idp", "test idp")
    assert again == first and open(again.cert_file).read() == before


def test_defaults_and_configured_values(tmp_path):
    idp = SamlIdentityProvider.from_settings(settings(tmp_path))
    assert idp.entity("https://a.example/identity") == "https://a.example/identity" + IDP_PATH
    assert idp.sso("https://a.example/identity") == "https://a.example/identity" + SSO_PATH
    assert idp.keys().key_file == str(tmp_path / "saml-idp" / "signing_key.pem")
    pair = make_key_pair(tmp_path / "mine", "mine")
    configured = SamlIdentityProvider.from_settings(settings(
        tmp_path, saml_idp_entity_id="https://idp.example/idp", saml_idp_sso_endpoint="https://idp.example/sso",
        saml_idp_certfile=pair.cert_file, saml_idp_keyfile=pair.key_file, saml_assertion_expiration=60))
    assert configured.entity("ignored") == "https://idp.example/idp" and configured.expiration == 60
    assert configured.sso("ignored") == "https://idp.example/sso" and configured.keys() == pair


@pytest.mark.parametrize("values", [{"saml_idp_certfile": "/etc/cert.pem"}, {"saml_idp_keyfile": "/etc/key.pem"},
                                    {"saml_idp_certfile": "/a,b.pem", "saml_idp_keyfile": "/k.pem"}])
def test_bad_settings_stop_the_start(tmp_path, values):
    with pytest.raises(ValueError, match="saml_idp_"):
        SamlIdentityProvider.from_settings(settings(tmp_path, **values))
