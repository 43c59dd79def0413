"""The Image service as the cloud runs it: the Glance v2 API under ``/image``, the
:class:`~pocketstack.image.manager.ImageManager` other services call in process
(``cloud.image``) and, at start-up, recovery of uploads and tasks a previous run left
half-done."""

from __future__ import annotations

import asyncio

from pocketstack.common.service import Counted, Service
from pocketstack.image.import_filter import ImportFilter
from pocketstack.image.manager import ImageManager
from pocketstack.image.models import Image
from pocketstack.image.policies import RULES
from pocketstack.image.stores.catalog import StoreCatalog
from pocketstack.image.stores.file import FileStore


class ImageService(Service):
    name = "image"
    catalog_name = "glance"
    rules = RULES
    counted = (Counted("images", Image, "status"),)

    def __init__(self, cloud):
        super().__init__(cloud)
        data_dir = cloud.settings.data_dir
        stores = StoreCatalog.from_setting(cloud.settings.image_stores, data_dir)
        self.manager = ImageManager(cloud.db, stores, FileStore(data_dir / "image-staging"),
                                    ImportFilter.from_settings(cloud.settings), cloud.faults,
                                    catalogs=lambda project: cloud.identity.tokens.catalog(project))

    def app(self):
        from pocketstack.image.api import build_router
        from pocketstack.image.api.errors import RememberAccept, glance_format
        from pocketstack.image.api.prepare import prepare
        app = self.api(build_router(self.manager), glance_format, prepare=prepare, empty_id_not_found=True)
        app.add_middleware(RememberAccept)
        return app

    async def start(self) -> None:
        if not self.cloud.primary:  # an extra API worker: the primary owns this node's uploads
            return
        await asyncio.to_thread(self.manager.data.recover)
        await asyncio.to_thread(self.manager.tasks.recover)
        await asyncio.to_thread(self.manager.importer.recover)

    async def stop(self) -> None:
        self.manager.tasks.stop()
        self.manager.importer.stop()
