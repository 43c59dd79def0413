"""User messages (``/messages``, 3.3+) and the scheduling failure that records one: a
volume type whose extra specs no backend matches leaves its volume in ``error`` on no
host, with Cinder's message (Tempest's admin test_user_messages)."""

from __future__ import annotations

import datetime as dt

from conftest import unique
from test_volume_api import call, create_volume, member  # noqa: F401 - member is a fixture


def unservable_type(api, admin_token) -> dict:
    r = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("bogus"), "extra_specs": {
        "storage_protocol": unique("protocol"), "vendor_name": unique("vendor")}}})
    assert r.status_code == 200, r.text
    return r.json()["volume_type"]


def test_unservable_type_fails_the_create_with_a_message(api, admin_token, member):  # noqa: F811
    vtype = unservable_type(api, admin_token)
    r = call(api, member, "POST", "/volumes", json={"volume": {"size": 1, "volume_type": vtype["id"]}})
    assert r.status_code == 202, r.text
    request_id = r.headers["x-openstack-request-id"]
    volume = create_volume(api, member, volume_type=vtype["id"])
    assert volume["status"] == "error"
    shown = call(api, admin_token, "GET", f"/volumes/{volume['id']}").json()["volume"]
    assert shown["os-vol-host-attr:host"] is None
    messages = call(api, member, "GET", "/messages").json()["messages"]
    mine = [msg for msg in messages if msg["resource_uuid"] == volume["id"]]
    assert len(mine) == 1, messages
    message = mine[0]
    assert message["event_id"] == "VOLUME_VOLUME_001_003"
    assert message["user_message"] == "schedule allocate volume:Could not find any available weighted backend."
    assert message["message_level"] == "ERROR" and message["resource_type"] == "VOLUME"
    assert message["request_id"].startswith("req-")
    created = dt.datetime.fromisoformat(message["created_at"].rstrip("Z"))
    until = dt.datetime.fromisoformat(message["guaranteed_until"].rstrip("Z"))
    assert dt.timedelta(days=29) < until - created <= dt.timedelta(days=30)
    assert set(message) == {"id", "event_id", "user_message", "message_level", "created_at", "guaranteed_until",
                            "request_id", "links", "resource_type", "resource_uuid"}
    # The first create's message carries that request's id (filters from 3.5).
    by_request = call(api, member, "GET", f"/messages?request_id={request_id}").json()["messages"]
    assert len(by_request) == 1 and by_request[0]["resource_uuid"] == r.json()["volume"]["id"]
    assert call(api, member, "GET", f"/messages/{message['id']}").json()["message"] == message
    # The volume counts until it is deleted, as in Cinder; it can be deleted.
    assert call(api, member, "DELETE", f"/volumes/{volume['id']}").status_code == 202
    assert call(api, member, "DELETE", f"/messages/{message['id']}").status_code == 204
    r = call(api, member, "GET", f"/messages/{message['id']}")
    assert r.status_code == 404 and r.json()["itemNotFound"]["message"] == (
        f"Message {message['id']} could not be found.")


def test_messages_are_the_projects_and_need_3_3(api, admin_token, member, demo_token):  # noqa: F811
    vtype = unservable_type(api, admin_token)
    volume = create_volume(api, member, volume_type=vtype["id"])
    [message] = [msg for msg in call(api, member, "GET", "/messages").json()["messages"]
                 if msg["resource_uuid"] == volume["id"]]
    assert call(api, demo_token, "GET", f"/messages/{message['id']}").status_code == 404
    assert call(api, demo_token, "DELETE", f"/messages/{message['id']}").status_code == 404
    assert message["id"] not in {m["id"] for m in call(api, demo_token, "GET", "/messages").json()["messages"]}
    assert message["id"] in {m["id"] for m in call(api, admin_token, "GET", "/messages").json()["messages"]}
    old = {"OpenStack-API-Version": "volume 3.2"}
    assert call(api, member, "GET", "/messages", headers=old).status_code == 404
    assert call(api, member, "GET", f"/messages/{message['id']}", headers=old).status_code == 404
    # Paging from 3.5: limit, sort and a marker.
    for _ in range(2):
        create_volume(api, member, volume_type=vtype["id"])
    page = call(api, member, "GET", "/messages?limit=2&sort=created_at:asc").json()
    assert len(page["messages"]) == 2 and page["messages_links"][0]["rel"] == "next"
    rest = call(api, member, "GET", f"/messages?sort=created_at:asc&marker={page['messages'][1]['id']}").json()
    assert {m["id"] for m in rest["messages"]}.isdisjoint(m["id"] for m in page["messages"])
    assert call(api, member, "GET", "/messages?offset=x").status_code == 400


def test_servable_types_still_create(api, admin_token, member):  # noqa: F811
    r = call(api, admin_token, "POST", "/types", json={"volume_type": {"name": unique("ok"), "extra_specs": {
        "volume_backend_name": "file", "vendor_name": "pocketstack", "storage_protocol": "file"}}})
    volume = create_volume(api, member, volume_type=r.json()["volume_type"]["id"])
    assert volume["status"] == "available"
