"""The stores an Image service writes to (Glance's ``enabled_backends``): one unnamed
store by default, or several named file stores (``image_stores`` setting).

With named stores an image's data may live in several of them at once: the image row
keeps the ids of the stores holding a copy (``stores``) and the location of the copy
reads go to (``location``); each store finds its own copy of an image by the image's
id (:meth:`StoreCatalog.location_in`).  The catalog also dispatches a location to the
store that owns it, so the data layer reads and deletes without knowing which store a
location belongs to.

Setting syntax: ``id[:weight],...`` -- the first store is the default (where a plain
upload goes); a store's weight orders an image's ``stores`` (highest first, Glance's
store ``weight``).  The default store keeps the single-store directory
(``<data_dir>/images``), so images uploaded before named stores were enabled stay
readable; the others live in ``<data_dir>/image-stores/<id>``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pocketstack.image.stores import StoreNotFound
from pocketstack.image.stores.file import FileSink, FileStore

_STORE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


@dataclass(frozen=True)
class NamedStore:
    id: str
    store: FileStore
    weight: int = 0
    description: str = ""


class StoreCatalog:
    """Every store of this service, ordered by weight (highest first, then as configured).

    ``multiple`` is False for the single unnamed store: Glance then answers the store
    APIs 404 and shows no ``stores`` on images.
    """

    def __init__(self, stores: Iterable[NamedStore], default: str, multiple: bool):
        self.configured = list(stores)
        self.ordered = sorted(self.configured, key=lambda s: -s.weight)
        self.by_id = {s.id: s for s in self.configured}
        self.default_id = default
        self.multiple = multiple
        self.default = self.by_id[default].store  # where plain uploads go
        self.node = self.default.node

    @classmethod
    def single(cls, store: FileStore) -> StoreCatalog:
        return cls([NamedStore("default", store)], "default", multiple=False)

    @classmethod
    def from_setting(cls, value: str, data_dir: Path) -> StoreCatalog:
        """The catalog the ``image_stores`` setting describes; ValueError if malformed."""
        entries = [e.strip() for e in value.split(",") if e.strip()]
        if not entries:
            return cls.single(FileStore(data_dir / "images"))
        parsed: list[tuple[str, int]] = []
        for entry in entries:
            store_id, _, weight = entry.partition(":")
            if not _STORE_ID.match(store_id) or store_id.startswith("os_glance_"):
                raise ValueError(f"image_stores: bad store id {store_id!r}")
            if any(known == store_id for known, _ in parsed):
                raise ValueError(f"image_stores: store {store_id!r} listed twice")
            try:
                parsed.append((store_id, int(weight) if weight else 0))
            except ValueError:
                raise ValueError(f"image_stores: bad weight {weight!r} of store {store_id!r}") from None
        roots = [data_dir / "images"] + [data_dir / "image-stores" / store_id for store_id, _ in parsed[1:]]
        stores = [NamedStore(store_id, FileStore(root), weight, f"File store {store_id}")
                  for (store_id, weight), root in zip(parsed, roots, strict=True)]
        return cls(stores, stores[0].id, multiple=True)

    # -- which stores ----------------------------------------------------------------
    def get(self, store_id: str) -> NamedStore | None:
        return self.by_id.get(store_id)

    def sort_ids(self, ids: Iterable[str]) -> list[str]:
        """``ids`` in weight order (stores no longer configured last)."""
        rank = {s.id: n for n, s in enumerate(self.ordered)}
        return sorted(set(ids), key=lambda i: rank.get(i, len(rank)))

    def holding(self, stores: str | None, location: str | None) -> list[str]:
        """The ids of the stores holding an image's data, from its ``stores`` column; an
        image uploaded before stores were named (no ``stores``, data in the default
        store's directory) is held by the default store."""
        ids = [s for s in (stores or "").split(",") if s]
        if not ids and self.multiple and location and self.default.owns(location):
            return [self.default_id]
        return ids

    def location_in(self, store_id: str, image_id: str) -> str:
        return self.by_id[store_id].store.location_of(image_id)

    # -- the Store interface, dispatched -------------------------------------------
    def open_sink(self, image_id: str, upload_id: str, store_id: str | None = None) -> FileSink:
        return self.by_id[store_id or self.default_id].store.open_sink(image_id, upload_id)

    def _owner(self, location: str) -> FileStore:
        for named in self.configured:
            if named.store.owns(location):
                return named.store
        raise StoreNotFound(location)

    def read(self, location: str, offset: int = 0, length: int | None = None,
             chunk_size: int = 65536) -> Iterator[bytes]:
        return self._owner(location).read(location, offset, length, chunk_size)

    def delete(self, location: str) -> None:
        try:
            self._owner(location).delete(location)
        except StoreNotFound:
            pass

    def purge(self, image_id: str) -> None:
        """Remove every store's copy of the image (it was deleted)."""
        for named in self.configured:
            named.store.delete(named.store.location_of(image_id))

    def discard_partials(self) -> None:
        for named in self.configured:
            named.store.discard_partials()

    def discard_orphans(self, known_ids: set[str]) -> None:
        for named in self.configured:
            named.store.discard_orphans(known_ids)
