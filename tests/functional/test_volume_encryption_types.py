"""Volume type encryption specs (``/types/{id}/encryption``, admin), and what an
encrypted type means here: no key manager, so no volume of it (Tempest's admin
test_volume_type_encryption_create_get_update_delete)."""

from __future__ import annotations

from conftest import unique
from test_volume_api import call, create_volume, member  # noqa: F401 - member is a fixture

LUKS = {"provider": "LuksEncryptor", "key_size": 256, "cipher": "aes-xts-plain64", "control_location": "front-end"}


def new_type(api, admin_token) -> str:
    return call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("enc")}}).json()[
        "volume_type"]["id"]


def test_encryption_specs_lifecycle(api, admin_token, member):  # noqa: F811
    type_id = new_type(api, admin_token)
    base = f"/types/{type_id}/encryption"
    assert call(api, admin_token, "GET", base).json() == {}
    r = call(api, admin_token, "POST", base, json={"encryption": {**LUKS, "key_size": "256"}})
    assert r.status_code == 200, r.text
    created = r.json()["encryption"]
    assert created == {**LUKS, "volume_type_id": type_id, "encryption_id": created["encryption_id"]}
    shown = call(api, admin_token, "GET", base).json()
    assert {k: shown[k] for k in LUKS} == LUKS and shown["encryption_id"] == created["encryption_id"]
    assert shown["deleted"] is False and shown["volume_type_id"] == type_id
    r = call(api, admin_token, "POST", base, json={"encryption": LUKS})
    assert r.status_code == 400 and r.json()["badRequest"]["message"] == (
        f"Volume type encryption for type {type_id} already exists.")
    update = {"key_size": 128, "provider": "SomeProvider", "cipher": "aes-xts-plain64", "control_location": "back-end"}
    r = call(api, admin_token, "PUT", f"{base}/{created['encryption_id']}", json={"encryption": update})
    assert r.status_code == 200 and r.json() == {"encryption": update}, r.text
    assert call(api, admin_token, "GET", f"{base}/cipher").json() == {"cipher": "aes-xts-plain64"}
    assert call(api, admin_token, "GET", f"{base}/provider").json() == {"provider": "SomeProvider"}
    assert call(api, admin_token, "GET", f"{base}/nothing").status_code == 404
    # no key manager: a volume of the type, or a retype to it, is refused
    r = call(api, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": type_id}})
    assert r.status_code == 400 and "has no key manager" in r.text, r.text
    plain = create_volume(api, member)
    r = call(api, member, "POST", f"/volumes/{plain['id']}/action", json={"os-retype": {"new_type": type_id}})
    assert r.status_code == 400 and "Retype cannot change encryption requirements." in r.text
    assert call(api, admin_token, "DELETE", f"{base}/{created['encryption_id']}").status_code == 202
    assert call(api, admin_token, "GET", base).json() == {}
    assert call(api, admin_token, "DELETE", f"{base}/{created['encryption_id']}").status_code == 404


def test_encryption_refusals(api, admin_token, member):  # noqa: F811
    type_id = new_type(api, admin_token)
    base = f"/types/{type_id}/encryption"
    assert call(api, admin_token, "POST", base, json={"encryption": {"provider": "p"}}).status_code == 400
    assert call(api, admin_token, "POST", base, json={"encryption": {
        **LUKS, "control_location": "middle"}}).status_code == 400
    r = call(api, admin_token, "POST", base, json={"encryption": {**LUKS, "key_size": "big"}})
    assert r.status_code == 400 and "key_size must be an integer." in r.text
    assert call(api, member, "POST", base, json={"encryption": LUKS}).status_code == 403
    assert call(api, member, "GET", base).status_code == 403
    assert call(api, admin_token, "POST", f"/types/{unique('x')}/encryption",
                json={"encryption": LUKS}).status_code == 404
    assert call(api, admin_token, "PUT", f"{base}/x", json={"encryption": {"cipher": "c"}}).status_code == 404
    # specs cannot change while volumes of the type exist
    create_volume(api, member, volume_type=type_id)
    r = call(api, admin_token, "POST", base, json={"encryption": LUKS})
    assert r.status_code == 400 and r.json()["badRequest"]["message"] == (
        "Cannot create encryption specs. Volume type in use.")
