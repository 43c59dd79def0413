"""sampleapp.publish against a real (pocketstack) object store, as the admin."""

from sampleapp.publish import publish, published


def test_publish_writes_every_file(openstack_connection):
    files = {"index.html": b"<h1>hi</h1>", "data/report.csv": b"a,b\n1,2\n"}
    assert publish(openstack_connection, "site", files) == 2
    assert published(openstack_connection, "site") == files


def test_each_test_starts_from_a_clean_cloud(openstack_connection):
    # The previous test's container is gone: pocketstack_reset = "each" (pyproject.toml).
    assert [c.name for c in openstack_connection.object_store.containers()] == []
