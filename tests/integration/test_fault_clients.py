"""Fault injection seen by real clients of a real ``pocketstack up``: openstacksdk raises
the exception class of the injected status with the injected message, keystoneauth
retries a 503 where it is configured to (honouring Retry-After), a dropped connection is
a connection error, rules given in ``faults_file`` are in place at start, and a rule set
or removed through one API process applies at once in the others."""

from __future__ import annotations

import pytest
import requests

from cloudproc import eventually, running_cloud

FAULTS = "/_pocketstack/faults"
STARTUP_RULES = """
[[rules]]
service = "compute"
method = "GET"
path = "/v2.1/os-availability-zone*"
action = "error"
status = 500
count = 1
message = "zones are on fire"
"""


@pytest.fixture(scope="module")
def cloud_proc(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    (root / "faults.toml").write_text(STARTUP_RULES)
    # Two API processes, which learn of each other's rule changes from the data
    # directory's change signal alone (no periodic database check within the test).
    env = {"POCKETSTACK_API_WORKERS": "2", "POCKETSTACK_FAULTS_REFRESH_INTERVAL": "3600"}
    with running_cloud(root, "--faults-file", str(root / "faults.toml"), env=env) as proc:
        eventually(lambda: proc.log().count("Application startup complete.") == 2, timeout=60, interval=0.1)
        yield proc


def connect(cloud_proc, **options):
    import openstack.config
    import openstack.connection

    config = openstack.config.OpenStackConfig(config_files=[str(cloud_proc.clouds_file)])
    return openstack.connection.Connection(config=config.get_one("pocketstack", **options))


@pytest.fixture
def conn(cloud_proc):
    conn = connect(cloud_proc)
    yield conn
    conn.session.delete(cloud_proc.url + FAULTS)
    conn.close()


def add(conn, cloud_proc, **rule) -> dict:
    response = conn.session.post(cloud_proc.url + FAULTS, json={"fault": rule})
    assert response.status_code == 201, response.text
    return response.json()["fault"]


def test_faults_file_rules_are_in_place_at_start(conn, cloud_proc):
    import openstack.exceptions

    rules = conn.session.get(cloud_proc.url + FAULTS).json()["faults"]
    assert [(r["id"], r["remaining"]) for r in rules] == [("file-1", 1)]
    with pytest.raises(openstack.exceptions.HttpException, match="zones are on fire") as raised:
        list(conn.compute.availability_zones())
    assert raised.value.status_code == 500
    assert list(conn.compute.availability_zones())


@pytest.mark.parametrize("service,status,exception", [
    ("compute", 404, "NotFoundException"),
    ("compute", 400, "BadRequestException"),
    ("network", 409, "ConflictException"),
    ("volume", 403, "ForbiddenException"),
])
def test_sdk_raises_the_status_class_with_the_message(conn, cloud_proc, service, status, exception):
    import openstack.exceptions

    message = f"injected {status} for {service}"
    add(conn, cloud_proc, service=service, method="GET", action="error", status=status, message=message)
    listing = {"compute": conn.compute.flavors, "network": conn.network.networks,
               "volume": conn.block_storage.volumes}[service]
    with pytest.raises(getattr(openstack.exceptions, exception), match=message) as raised:
        list(listing())
    assert raised.value.status_code == status


def test_keystoneauth_retries_a_503_where_configured(conn, cloud_proc):
    import openstack.exceptions

    rule = add(conn, cloud_proc, service="network", path="/v2.0/routers", action="error", status=503,
               retry_after=0, count=2, message="busy, come back")
    patient = connect(cloud_proc, network_status_code_retries=2)
    try:
        assert list(patient.network.routers()) == []  # two 503s, then the answer
    finally:
        patient.close()
    shown = conn.session.get(f"{cloud_proc.url}{FAULTS}/{rule['id']}").json()["fault"]
    assert (shown["fired"], shown["remaining"]) == (2, 0)
    add(conn, cloud_proc, service="network", path="/v2.0/routers", action="error", status=503, retry_after=0,
        count=1, message="busy, come back")
    with pytest.raises(openstack.exceptions.HttpException, match="busy, come back") as raised:
        list(conn.network.routers())  # no retries configured: the 503 itself
    assert raised.value.status_code == 503


def test_rules_apply_and_stop_at_once_in_every_api_process(conn, cloud_proc):
    """Which process accepts a connection is the kernel's choice: requests over new
    connections and over the SDK's kept-alive one reach both (the test cannot pin one)."""
    def statuses() -> set[int]:
        url, headers = cloud_proc.url + "/identity/v3/regions", {"X-Auth-Token": conn.session.get_token()}
        fresh = [requests.get(url, headers=headers, timeout=10).status_code for _ in range(16)]
        kept = [conn.session.get(url, raise_exc=False).status_code for _ in range(8)]
        return set(fresh + kept)

    rule = add(conn, cloud_proc, service="identity", method="GET", path="/v3/regions", action="error", status=503)
    assert statuses() == {503}
    assert conn.session.delete(f"{cloud_proc.url}{FAULTS}/{rule['id']}").status_code == 204
    assert statuses() == {200}


def test_dropped_connection_is_a_connection_error(conn, cloud_proc):
    import keystoneauth1.exceptions

    add(conn, cloud_proc, service="image", path="/v2/images", action="drop", count=2)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(cloud_proc.url + "/image/v2/images", timeout=10)
    with pytest.raises(keystoneauth1.exceptions.ConnectFailure):
        list(conn.image.images())
    assert list(conn.image.images()) == []  # the count is used up
    assert "fault injected: rule=" in cloud_proc.log()
    assert "Exception in ASGI application" not in cloud_proc.log()
