"""The Image service as the cloud runs it: the Glance v2 API under ``/image``, the
:class:`~pocketstack.image.manager.ImageManager` other services call in process
(``cloud.image``) and, at start-up, recovery of uploads and tasks a previous run left
half-done."""

from __future__ import annotations

import asyncio

from pocketstack.common.service import Service
from pocketstack.image.api import build_router
from pocketstack.image.api.errors import RememberAccept, glance_format
from pocketstack.image.api.prepare import prepare
from pocketstack.image.import_filter import ImportFilter
from pocketstack.image.manager import ImageManager
from pocketstack.image.policies import RULES
from pocketstack.image.stores.file import FileStore


class ImageService(Service):
    name = "image"
    catalog_name = "glance"
    rules = RULES

    def __init__(self, cloud):
        super().__init__(cloud)
        data_dir = cloud.settings.data_dir
        self.manager = ImageManager(cloud.db, FileStore(data_dir / "images"), FileStore(data_dir / "image-staging"),
                                    ImportFilter.from_settings(cloud.settings))

    def app(self):
        app = self.api(build_router(self.manager), glance_format, prepare=prepare, empty_id_not_found=True)
        app.add_middleware(RememberAccept)
        return app

    async def start(self) -> None:
        await asyncio.to_thread(self.manager.data.recover)
        await asyncio.to_thread(self.manager.tasks.recover)
        await asyncio.to_thread(self.manager.importer.recover)

    async def stop(self) -> None:
        self.manager.tasks.stop()
        self.manager.importer.stop()
