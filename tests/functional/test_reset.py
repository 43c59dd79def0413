"""Reset and snapshots of a whole cloud (``/_pocketstack``, pocketstack.testing).

Each backend gets a cloud of its own here (started as ``pocketstack up`` starts one, so
its bootstrap state is recorded): resetting the suite's shared cloud would wipe what the
other modules built.  That shared cloud, which records no bootstrap state, refuses.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from pocketstack.common import config
from pocketstack.testing.snapshot import State
from pocketstack.testing.tables import TableRows

from backends import scratch_database
from conftest import Api, unique
from test_compute_helpers import boot, call, make_flavor, make_image, wait

ADMIN_PASSWORD = "reset-admin-pw"
STATE = "/_pocketstack"


@pytest.fixture(scope="module")
def fresh(backend, module_stacks):
    """A cloud of this module's own, bootstrapped as ``pocketstack up`` does."""
    return module_stacks.entered(backend, "fresh", lambda: _fresh_cloud(backend, module_stacks.tmp_path_factory))


@contextlib.contextmanager
def _fresh_cloud(backend, tmp_path_factory):
    from pocketstack.cli.first_start import ALL_IN_ONE, prepare
    from pocketstack.cloud import Cloud

    with scratch_database(backend, tmp_path_factory.mktemp(f"reset-{backend}")) as url:
        data_dir = tmp_path_factory.mktemp("reset-data")
        settings = config.load(overrides={"data_dir": data_dir, "database_url": url, "bcrypt_rounds": 4,
                                          "port": 8780, "admin_password": ADMIN_PASSWORD,
                                          "clouds_file": str(data_dir / "clouds.yaml"), **ALL_IN_ONE}, environ={})
        cloud = Cloud(settings)
        created = prepare(cloud)
        with TestClient(cloud.asgi_app(), base_url="http://127.0.0.1:8780") as client:
            api = Api(client, cloud)
            api.demo_password = created["demo"]
            yield api


@pytest.fixture
def admin(fresh):
    return fresh.token("admin", ADMIN_PASSWORD, project="admin")


def reset(api, token):
    r = api.request("POST", f"{STATE}/reset", token)
    assert r.status_code == 200, r.text
    return r.json()["reset"]


def names(api, token, path, key, field="name"):
    r = api.request("GET", path, token)
    assert r.status_code == 200, r.text
    return sorted(item[field] for item in r.json()[key])


def inventory(api, token) -> dict:
    """What a user of the cloud can see of it, as the admin (every project)."""
    project_id = api.request("GET", "/identity/v3/auth/projects", token).json()["projects"][0]["id"]
    return {
        "users": names(api, token, "/identity/v3/users", "users"),
        "projects": names(api, token, "/identity/v3/projects", "projects"),
        "roles": names(api, token, "/identity/v3/roles", "roles"),
        "services": names(api, token, "/identity/v3/services", "services", "type"),
        "servers": names(api, token, "/compute/v2.1/servers?all_tenants=1", "servers"),
        "flavors": names(api, token, "/compute/v2.1/flavors", "flavors"),
        "keypairs": sorted(k["keypair"]["name"] for k in api.request(
            "GET", "/compute/v2.1/os-keypairs", token).json()["keypairs"]),
        "networks": names(api, token, "/network/v2.0/networks", "networks"),
        "ports": names(api, token, "/network/v2.0/ports", "ports", "id"),
        "security_groups": names(api, token, "/network/v2.0/security-groups", "security_groups"),
        "volumes": names(api, token, f"/volume/v3/{project_id}/volumes?all_tenants=1", "volumes", "id"),
        "volume_types": names(api, token, f"/volume/v3/{project_id}/types", "volume_types"),
        "images": names(api, token, "/image/v2/images", "images"),
        "resource_providers": names(api, token, "/placement/resource_providers", "resource_providers"),
        "hypervisors": names(api, token, "/compute/v2.1/os-hypervisors", "hypervisors", "hypervisor_hostname"),
    }


def data_files(api) -> list[str]:
    """Files (not directories) in the data areas a reset empties."""
    root = api.cloud.settings.data_dir
    return sorted(str(p.relative_to(root)) for area in ("volumes", "images", "object/devices")
                  for p in (root / area).rglob("*") if p.is_file())


def populate(api, admin) -> dict:
    """Servers, networks, volumes, images, containers and objects, a user and a project."""
    project = api.request("POST", "/identity/v3/projects", admin, json={"project": {"name": unique("rp")}})
    user = api.request("POST", "/identity/v3/users", admin, json={"user": {
        "name": unique("ru"), "password": "pw-1", "default_project_id": project.json()["project"]["id"]}})
    member = api.request("GET", "/identity/v3/roles?name=member", admin).json()["roles"][0]["id"]
    api.request("PUT", f"/identity/v3/projects/{project.json()['project']['id']}/users/"
                       f"{user.json()['user']['id']}/roles/{member}", admin)
    user_token = api.token(user.json()["user"]["name"], "pw-1", project=project.json()["project"]["name"])
    network = api.request("POST", "/network/v2.0/networks", user_token, json={"network": {"name": unique("rn")}})
    assert network.status_code == 201, network.text
    subnet = api.request("POST", "/network/v2.0/subnets", user_token, json={"subnet": {
        "network_id": network.json()["network"]["id"], "cidr": "10.9.0.0/24", "ip_version": 4}})
    assert subnet.status_code == 201, subnet.text
    image = make_image(api, admin)
    flavor = make_flavor(api, admin)
    server = boot(api, user_token, image, flavor["id"], networks=[{"uuid": network.json()["network"]["id"]}])
    assert wait(api, user_token, server["server"]["id"])["status"] == "ACTIVE"
    assert call(api, "POST", "/os-keypairs", user_token, json={"keypair": {"name": unique("rk")}}).status_code == 201
    volume = api.request("POST", f"/volume/v3/{project.json()['project']['id']}/volumes", user_token,
                         json={"volume": {"size": 1, "name": unique("rv")}})
    assert volume.status_code == 202, volume.text
    account = f"/object-store/v1/AUTH_{project.json()['project']['id']}"
    assert api.request("PUT", f"{account}/box", user_token).status_code == 201
    assert api.request("PUT", f"{account}/box/thing", user_token, content=b"payload").status_code == 201
    return {"token": user_token, "account": account}


def test_reset_leaves_nothing_of_what_tests_made(fresh, admin):
    before, files_before = inventory(fresh, admin), data_files(fresh)
    made = populate(fresh, admin)
    during = inventory(fresh, admin)
    assert during["servers"] and during["networks"] != before["networks"] and during["volumes"]
    assert len(data_files(fresh)) > len(files_before)

    result = reset(fresh, admin)

    assert result["state"] == "bootstrap" and result["seconds"] < 5
    assert inventory(fresh, admin) == before
    assert data_files(fresh) == files_before
    # The deleted user's token is dead; the admin's survives (same user, same keys).
    assert fresh.request("GET", "/network/v2.0/networks", made["token"]).status_code == 401
    assert fresh.request("GET", "/identity/v3/auth/projects", admin).status_code == 200
    # admin and demo log in with the passwords clouds.yaml holds.
    assert fresh.token("admin", ADMIN_PASSWORD, project="admin")
    demo = fresh.token("demo", fresh.demo_password, project="demo")
    # The simulated hosts are back, empty, and take new servers.
    hosts = call(fresh, "GET", "/os-hypervisors/detail", admin).json()["hypervisors"]
    assert hosts and all(h["state"] == "up" and h["running_vms"] == 0 for h in hosts)
    server = boot(fresh, demo, make_image(fresh, admin), make_flavor(fresh, admin)["id"])
    assert wait(fresh, demo, server["server"]["id"])["status"] == "ACTIVE"
    reset(fresh, admin)


def test_next_test_sees_a_clean_cloud(fresh, admin):
    """The same names are free again, and usage starts from zero."""
    demo = fresh.token("demo", fresh.demo_password, project="demo")
    project_id = fresh.request("GET", "/identity/v3/auth/projects", demo).json()["projects"][0]["id"]
    for _ in range(2):
        r = fresh.request("POST", "/network/v2.0/networks", demo, json={"network": {"name": "same-name"}})
        assert r.status_code == 201
        assert names(fresh, demo, "/network/v2.0/networks", "networks") == ["same-name"]
        quota = fresh.request("GET", f"/volume/v3/{project_id}/os-quota-sets/{project_id}?usage=True", admin)
        assert quota.json()["quota_set"]["volumes"]["in_use"] == 0
        reset(fresh, admin)


def test_snapshot_round_trip_by_name_and_by_file(fresh, admin):
    account = "/object-store/v1/AUTH_" + fresh.request(
        "GET", "/identity/v3/auth/projects", admin).json()["projects"][0]["id"]
    fresh.request("POST", "/network/v2.0/networks", admin, json={"network": {"name": "kept"}})
    fresh.request("PUT", f"{account}/c", admin)
    fresh.request("PUT", f"{account}/c/o", admin, content=b"in the snapshot")
    saved = fresh.request("POST", f"{STATE}/snapshots", admin, json={"snapshot": {"name": "prepared"}})
    assert saved.status_code == 201, saved.text
    assert saved.json()["snapshot"]["name"] == "prepared" and saved.json()["snapshot"]["size"] > 0
    fresh.request("POST", "/network/v2.0/networks", admin, json={"network": {"name": "later"}})
    fresh.request("PUT", f"{account}/c/o", admin, content=b"overwritten")

    restored = fresh.request("POST", f"{STATE}/snapshots/prepared/restore", admin)
    assert restored.status_code == 200, restored.text
    assert names(fresh, admin, "/network/v2.0/networks", "networks") == ["kept"]
    assert fresh.request("GET", f"{account}/c/o", admin).content == b"in the snapshot"

    # The same state as a file: download, reset, upload under another name, restore.
    data = fresh.request("GET", f"{STATE}/snapshots/prepared/file", admin)
    assert data.headers["content-type"] == "application/x-tar"
    state = State.read(io.BytesIO(data.content))
    networks = state.tables["network_network"]
    assert [row[networks.columns.index("name")] for row in networks.rows] == ["kept"]
    reset(fresh, admin)
    assert names(fresh, admin, "/network/v2.0/networks", "networks") == []
    assert fresh.request("PUT", f"{STATE}/snapshots/copy/file", admin, content=data.content).status_code == 201
    assert fresh.request("POST", f"{STATE}/snapshots/copy/restore", admin).status_code == 200
    assert names(fresh, admin, "/network/v2.0/networks", "networks") == ["kept"]
    assert fresh.request("GET", f"{account}/c/o", admin).content == b"in the snapshot"

    listed = fresh.request("GET", f"{STATE}/snapshots", admin).json()["snapshots"]
    assert [s["name"] for s in listed] == ["copy", "prepared"]
    for name in ("copy", "prepared"):
        assert fresh.request("DELETE", f"{STATE}/snapshots/{name}", admin).status_code == 204
    assert fresh.request("GET", f"{STATE}/snapshots/prepared", admin).status_code == 404
    reset(fresh, admin)


@pytest.mark.parametrize("method,path", [
    ("POST", "/reset"), ("GET", "/snapshots"), ("POST", "/snapshots"), ("GET", "/snapshots/x"),
    ("DELETE", "/snapshots/x"), ("GET", "/snapshots/x/file"), ("PUT", "/snapshots/x/file"),
    ("POST", "/snapshots/x/restore")])
def test_admin_only(fresh, method, path):
    demo = fresh.token("demo", fresh.demo_password, project="demo")
    body = {"snapshot": {"name": "x"}} if path == "/snapshots" else None
    r = fresh.request(method, STATE + path, demo, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == 403
    assert fresh.request(method, STATE + path, None, json=body).status_code == 401


@pytest.mark.parametrize("method,path,body,status", [
    ("POST", "/snapshots", {"snapshot": {"name": "../etc"}}, 400),
    ("POST", "/snapshots", {"snapshot": {}}, 400),
    ("POST", "/snapshots", {"name": "x"}, 400),
    ("GET", "/snapshots/bad..name%2F", None, 404),
    ("GET", "/snapshots/missing", None, 404),
    ("POST", "/snapshots/missing/restore", None, 404),
    ("PUT", "/snapshots/up/file", b"not a tar file", 400),
    ("PUT", "/snapshots/.hidden/file", b"", 400),
    ("DELETE", "/snapshots/bootstrap", None, 404),
])
def test_bad_requests(fresh, admin, method, path, body, status):
    kwargs = {"content": body} if isinstance(body, bytes) else {"json": body}
    r = fresh.request(method, STATE + path, admin, **kwargs)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == status


def test_duplicate_name_and_foreign_schema(fresh, admin):
    assert fresh.request("POST", f"{STATE}/snapshots", admin, json={"snapshot": {"name": "dup"}}).status_code == 201
    again = fresh.request("POST", f"{STATE}/snapshots", admin, json={"snapshot": {"name": "dup"}})
    assert again.status_code == 409
    state = fresh.cloud.state.load("dup")
    state.schema = ["0000_other"]
    out = io.BytesIO()
    state.write(out)
    r = fresh.request("PUT", f"{STATE}/snapshots/dup/file", admin, content=out.getvalue())
    assert r.status_code == 201  # stored as it is; refused when restored
    r = fresh.request("POST", f"{STATE}/snapshots/dup/restore", admin)
    assert r.status_code == 400 and "schema" in r.json()["error"]["message"]
    fresh.request("DELETE", f"{STATE}/snapshots/dup", admin)


def test_a_cloud_without_bootstrap_state_refuses(api, admin_token):
    """The suite's shared cloud was not started as a cloud for tests: no reset, no restore."""
    r = api.request("POST", f"{STATE}/reset", admin_token)
    assert r.status_code == 409 and "No bootstrap state" in r.json()["error"]["message"]


def test_reset_is_fast_for_a_small_cloud(fresh, admin):
    for i in range(10):
        fresh.request("POST", "/network/v2.0/networks", admin, json={"network": {"name": f"n{i}"}})
    started = time.monotonic()
    reset(fresh, admin)
    assert time.monotonic() - started < 2.0  # well under a second when the machine is not loaded


def test_state_is_portable_across_backends(fresh, admin, tmp_path):
    """This backend's state restores into a SQLite database, and that one's back here."""
    from pocketstack.common.db import Database
    from pocketstack.common.db.migrate import upgrade
    from pocketstack.testing.tables import TableSet

    fresh.request("POST", "/network/v2.0/networks", admin, json={"network": {"name": "portable", "shared": True}})
    state = fresh.cloud.state.capture()
    other = Database(f"sqlite:///{tmp_path}/other.db")
    try:
        upgrade(other.engine)
        TableSet(other.engine).restore(state.tables)
        moved = TableSet(other.engine).dump()
    finally:
        other.dispose()
    networks = moved["network_network"]
    assert [(r[networks.columns.index("name")], r[networks.columns.index("shared")]) for r in networks.rows] == \
        [("portable", True)]
    reset(fresh, admin)
    fresh.cloud.state.put_back(State(state.schema, moved, state.files))
    listed = fresh.request("GET", "/network/v2.0/networks", admin).json()["networks"]
    assert [(n["name"], n["shared"]) for n in listed] == [("portable", True)]
    reset(fresh, admin)


def test_a_scaled_out_process_refuses_to_reset_live(fresh):
    """Workers in other processes would keep the old state: reset such a cloud stopped."""
    from pocketstack.cloud import Cloud
    from pocketstack.testing.errors import CannotReset

    settings = config.load(overrides={"data_dir": fresh.cloud.settings.data_dir,
                                      "database_url": fresh.cloud.settings.database_url, "roles": "api",
                                      "transport_url": "amqp://guest:guest@127.0.0.1:5672/"}, environ={})
    api_process = Cloud(settings, services=["identity"])
    try:
        with pytest.raises(CannotReset, match="scaled out"):
            api_process.state.check_live()
    finally:
        api_process.close()


def test_reset_keeps_a_password_given_at_a_later_start(fresh):
    """``up --admin-password NEW`` on an existing cloud: clouds.yaml holds NEW, so a reset
    must keep it (the recorded state follows the bootstrap users at each start)."""
    from pocketstack.cli.first_start import _set_admin_password

    def restart_with(password):
        _set_admin_password(fresh.cloud, password)
        fresh.cloud.state.record_baseline()

    restart_with("changed-at-start")  # a password change revokes the admin's earlier tokens
    try:
        reset(fresh, fresh.token("admin", "changed-at-start", project="admin"))
        assert fresh.token("admin", "changed-at-start", project="admin")
    finally:
        restart_with(ADMIN_PASSWORD)
    reset(fresh, fresh.token("admin", ADMIN_PASSWORD, project="admin"))
    assert fresh.token("admin", ADMIN_PASSWORD, project="admin")


def test_a_start_with_the_same_admin_password_changes_nothing(fresh):
    """As Keystone's bootstrap: a start given admin's current password leaves the user
    alone (its tokens stay valid, its hash is not rewritten); another password replaces
    it and revokes the earlier tokens.  A SQLite database's stored hash is read before
    the models load, so the check runs beside start-up's imports."""
    from pocketstack.cli.first_start import _set_admin_password, _stored_admin_hash

    def stored_hash():
        with fresh.cloud.db.session(readonly=True) as s:
            return s.execute(sa.text("SELECT password_hash FROM identity_user WHERE name = 'admin' "
                                     "AND domain_id = 'default'")).scalar_one()

    def valid(token):
        return fresh.client.get("/identity/v3/auth/tokens", headers={
            "X-Auth-Token": token, "X-Subject-Token": token}).status_code == 200

    earlier, hashed = fresh.token("admin", ADMIN_PASSWORD, project="admin"), stored_hash()
    if fresh.cloud.settings.database_url.startswith("sqlite:///"):
        assert _stored_admin_hash(Path(fresh.cloud.settings.database_url.removeprefix("sqlite:///"))) == hashed
    _set_admin_password(fresh.cloud, ADMIN_PASSWORD)
    assert stored_hash() == hashed and valid(earlier)
    try:
        _set_admin_password(fresh.cloud, "another-admin-pw")
        assert stored_hash() != hashed and not valid(earlier)
    finally:
        _set_admin_password(fresh.cloud, ADMIN_PASSWORD)
    assert valid(fresh.token("admin", ADMIN_PASSWORD, project="admin"))


IDENTITY_INITIAL = "2d745ca08720"


def schema_at(revisions: list[str]) -> dict[str, list[str]]:
    """The tables, with their columns, of a scratch database migrated to ``revisions``."""
    from pocketstack.common.db import Database
    from pocketstack.common.db.migrate import upgrade

    with tempfile.TemporaryDirectory(prefix="pocketstack-schema-") as tmp:
        scratch = Database(f"sqlite:///{Path(tmp) / 'schema.db'}")
        try:
            for revision in revisions:
                upgrade(scratch.engine, revision)
            inspector = sa.inspect(scratch.engine)
            return {name: [c["name"] for c in inspector.get_columns(name)] for name in inspector.get_table_names()}
        finally:
            scratch.dispose()


def test_a_state_from_an_older_schema_is_upgraded(fresh, admin):
    """A recorded state or file outlives an upgrade of pocketstack: it is replayed through
    the migrations (here: identity as its first migration left it, every later table and
    column taken away -- found by migrating a scratch database, so no list to keep)."""
    from alembic.script import ScriptDirectory

    from pocketstack.common.db.migrate import alembic_config
    from pocketstack.testing.migrate import upgraded

    baseline = fresh.cloud.state.baseline()
    scripts = ScriptDirectory.from_config(alembic_config())
    [head] = [r for r in baseline.schema
              if any(s.revision == IDENTITY_INITIAL for s in scripts.iterate_revisions(r, "base"))]
    assert head != IDENTITY_INITIAL  # identity has later migrations: the replay has work to do
    older_schema = sorted(IDENTITY_INITIAL if r == head else r for r in baseline.schema)
    columns = schema_at(older_schema)
    tables = {}
    for name, rows in baseline.tables.items():
        if name in columns:
            keep = [i for i, column in enumerate(rows.columns) if column in columns[name]]
            tables[name] = TableRows([rows.columns[i] for i in keep], [[row[i] for i in keep] for row in rows.rows])
    assert "identity_state" not in tables and len(tables["identity_user"].columns) < len(
        baseline.tables["identity_user"].columns)
    older = State(older_schema, tables, baseline.files)
    moved = upgraded(older)
    assert moved.schema == baseline.schema
    assert moved.tables["identity_state"].rows == [[1, 0]]
    users = moved.tables["identity_user"]
    before = baseline.tables["identity_user"]
    assert sorted(r[users.columns.index("name")] for r in users.rows) == sorted(
        r[before.columns.index("name")] for r in before.rows)

    out = io.BytesIO()
    older.write(out)
    assert fresh.request("PUT", f"{STATE}/snapshots/older/file", admin, content=out.getvalue()).status_code == 201
    assert fresh.request("POST", f"{STATE}/snapshots/older/restore", admin).status_code == 200
    assert fresh.token("admin", ADMIN_PASSWORD, project="admin")
    older.schema = ["ffffffffffff"]
    out = io.BytesIO()
    older.write(out)
    fresh.request("PUT", f"{STATE}/snapshots/older/file", admin, content=out.getvalue())
    refused = fresh.request("POST", f"{STATE}/snapshots/older/restore", admin)
    assert refused.status_code == 400 and "unknown" in refused.json()["error"]["message"]
    fresh.request("DELETE", f"{STATE}/snapshots/older", admin)
