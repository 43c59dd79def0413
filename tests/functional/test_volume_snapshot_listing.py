"""Snapshot lists the way Cinder pages them: ``offset`` with ``limit``, and
``display_name`` accepted as a sort key for ``name``."""

from __future__ import annotations

from test_volume_api import call, create_volume, new_member, wait


def test_offset_and_display_name_sort(api, admin_token):
    token = new_member(api, admin_token)
    vid = create_volume(api, token)["id"]
    for name in ("snap-c", "snap-a", "snap-d", "snap-b"):
        sid = call(api, token, "POST", "/snapshots", json={"snapshot": {"volume_id": vid, "name": name}}).json()
        wait(api, token, f"/snapshots/{sid['snapshot']['id']}", "snapshot", ("available",))

    def names(query):
        response = call(api, token, "GET", f"/snapshots?{query}")
        assert response.status_code == 200, response.text
        return [s["name"] for s in response.json()["snapshots"]]

    assert names("sort_key=display_name&sort_dir=asc") == ["snap-a", "snap-b", "snap-c", "snap-d"]
    assert names("sort_key=display_name&sort_dir=desc") == ["snap-d", "snap-c", "snap-b", "snap-a"]
    assert names("sort_key=name&sort_dir=asc&offset=1&limit=2") == ["snap-b", "snap-c"]
    assert names("sort_key=name&sort_dir=asc&offset=3&limit=3") == ["snap-d"]
    assert names("offset=4") == []
    for bad in ("offset=-1", "offset=x", "sort_key=display_nam"):
        assert call(api, token, "GET", f"/snapshots?{bad}").status_code == 400
