"""The QEMU driver's base images come from the real Image service (in process), verified
against the hash Glance recorded and inspected before use."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from pocketstack.common.context import RequestContext
from pocketstack.common.db import Database
from pocketstack.common.db.base import Base
from pocketstack.compute.drivers import disks
from pocketstack.compute.drivers.glance import ImageServiceStore
from pocketstack.image.manager import ImageManager
from pocketstack.image.stores.file import FileStore

from support import require_tools


@pytest.fixture
def manager(tmp_path: Path) -> Iterator[ImageManager]:
    db = Database(f"sqlite:///{tmp_path / 'image.db'}")
    Base.metadata.create_all(db.engine, tables=[t for t in Base.metadata.sorted_tables
                                                if t.name.startswith("image_")])
    manager = ImageManager(db, FileStore(tmp_path / "images"), FileStore(tmp_path / "image-staging"))
    yield manager
    manager.tasks.stop()
    db.engine.dispose()


def _image(manager: ImageManager, path: Path, disk_format: str) -> str:
    ctx = RequestContext.admin()
    image = manager.create_image(ctx, name=path.name, disk_format=disk_format, container_format="bare")
    manager.upload(ctx, image.id, iter([path.read_bytes()]))
    return image.id


def test_base_image_fetched_from_the_image_service_verified_and_inspected(tmp_path: Path,
                                                                         manager: ImageManager) -> None:
    require_tools({"qemu-img": "qemu-utils"}, "image inspection")
    good, evil = tmp_path / "good.qcow2", tmp_path / "evil.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(good), "8M"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", str(evil), "1M"],
                   check=True)
    good_id, evil_id = _image(manager, good, "qcow2"), _image(manager, evil, "qcow2")
    store = ImageServiceStore(lambda: manager)
    meta = store.image_meta(good_id)
    assert (meta.disk_format, meta.hash_algo) == ("qcow2", "sha512")
    cache = disks.ImageCache(tmp_path / "cache", store)
    base, fmt = cache.base(good_id)
    assert fmt == "qcow2" and base.read_bytes() == good.read_bytes()
    assert base.name == f"sha512-{meta.checksum}.qcow2"
    with pytest.raises(disks.ImageBackingFile):
        cache.base(evil_id)
    queued = manager.create_image(RequestContext.admin(), name="empty", disk_format="raw", container_format="bare")
    with pytest.raises(disks.DiskError, match="queued, not active"):
        cache.base(queued.id)
