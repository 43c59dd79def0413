"""Publish a set of files as objects of one container, and read back what is there."""

from __future__ import annotations


def publish(conn, container: str, files: dict[str, bytes]) -> int:
    """Upload ``files`` (name -> content) into ``container`` (created if missing);
    returns how many objects were written."""
    conn.object_store.create_container(name=container)
    for name, data in files.items():
        conn.object_store.upload_object(container=container, name=name, data=data)
    return len(files)


def published(conn, container: str) -> dict[str, bytes]:
    return {obj.name: conn.object_store.download_object(obj.name, container=container)
            for obj in conn.object_store.objects(container)}
