"""A whole cloud's state as one value, and as one portable file.

A :class:`State` is every table's rows (:mod:`.tables`) and the data files
(:mod:`.files`), taken together, with the schema revision they belong to.  As a file it
is a tar archive::

    manifest.json          format, pocketstack version, schema heads, creation time,
                           each data file's size, extents and extended attributes, and
                           the names of the further regions (``--regions``)
    tables/<table>.json    {"columns": [...], "rows": [[...], ...]}  (JSON, portable)
    files/<path>           a data file's extents, concatenated
    regions/<name>/...     a further region's state (its own database and data files),
                           laid out as above

so a CI job can prepare a cloud once, save it, and start every run from it — on the same
or another database backend, as long as the schema revision matches.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pocketstack import __version__
from pocketstack.testing.files import FileEntry
from pocketstack.testing.tables import TableRows

FORMAT = "pocketstack-state"
FORMAT_VERSION = 1
REGION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")  # a path part, never ".." or "/"


class StateFileError(ValueError):
    """The file is not a state file this pocketstack can read; the message says why."""


@dataclass
class State:
    schema: list[str]
    tables: dict[str, TableRows]
    files: list[FileEntry] = field(default_factory=list)
    created_at: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    regions: dict[str, State] = field(default_factory=dict)  # further regions' states, by name

    def manifest(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": FORMAT_VERSION, "pocketstack": __version__, "schema": self.schema,
                "created_at": self.created_at, "tables": sorted(self.tables),
                "files": [_describe(f) for f in self.files], "regions": sorted(self.regions)}

    def write(self, out: IO[bytes]) -> None:
        with tarfile.open(fileobj=out, mode="w|") as tar:
            self._add_to(tar, "")

    def _add_to(self, tar: tarfile.TarFile, prefix: str) -> None:
        _add(tar, f"{prefix}manifest.json", json.dumps(self.manifest(), indent=1).encode())
        for name, rows in sorted(self.tables.items()):
            _add(tar, f"{prefix}tables/{name}.json", json.dumps(rows.to_json(), separators=(",", ":")).encode())
        for entry in self.files:
            if not entry.is_dir:
                _add(tar, f"{prefix}files/{entry.path}", b"".join(data for _, data in entry.extents))
        for name, region in sorted(self.regions.items()):
            region._add_to(tar, f"{prefix}regions/{name}/")

    def save(self, path: Path) -> None:
        """Write atomically: a reader never sees half a file (nor do two writers mix)."""
        part = path.with_name(f"{path.name}.{uuid.uuid4().hex}.part")
        try:
            with open(part, "wb") as out:
                self.write(out)
            part.replace(path)
        except BaseException:
            part.unlink(missing_ok=True)
            raise

    @classmethod
    def read(cls, source: IO[bytes]) -> State:
        try:
            with tarfile.open(fileobj=source, mode="r|") as tar:
                members = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
        except tarfile.TarError as error:
            raise StateFileError(f"not a pocketstack state file (tar): {error}") from None
        return cls._from_members(members, "")

    @classmethod
    def _from_members(cls, members: dict[str, bytes], prefix: str) -> State:
        try:
            manifest = json.loads(members[f"{prefix}manifest.json"])
        except (KeyError, ValueError):
            raise StateFileError(f"not a pocketstack state file: no readable {prefix}manifest.json") from None
        if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
            raise StateFileError(f"unsupported state file format {manifest.get('format')!r} "
                                 f"version {manifest.get('version')!r} (this pocketstack reads {FORMAT} "
                                 f"{FORMAT_VERSION})")
        try:
            tables = {name: TableRows.from_json(json.loads(members[f"{prefix}tables/{name}.json"]))
                      for name in manifest["tables"]}
            files = [_entry(item, members, prefix) for item in manifest["files"]]
            names = [str(name) for name in manifest.get("regions", [])]
        except (KeyError, ValueError, TypeError) as error:
            raise StateFileError(f"damaged state file: {error!r}") from None
        if any(not REGION_NAME.match(name) for name in names):
            raise StateFileError(f"damaged state file: a region name is not one: {names!r}")
        regions = {name: cls._from_members(members, f"{prefix}regions/{name}/") for name in names}
        return cls(list(manifest["schema"]), tables, files, manifest.get("created_at", ""), regions)

    @classmethod
    def load(cls, path: Path) -> State:
        with open(path, "rb") as source:
            return cls.read(source)


def manifest(path: Path) -> dict[str, Any]:
    """A state file's manifest alone (it is the archive's first member)."""
    with tarfile.open(path, mode="r|") as tar:
        for member in tar:
            if member.name == "manifest.json":
                return dict(json.loads(tar.extractfile(member).read()))  # type: ignore[union-attr]
            break
    raise StateFileError(f"{path}: not a pocketstack state file (no manifest.json first)")


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def _describe(entry: FileEntry) -> dict[str, Any]:
    item: dict[str, Any] = {"path": entry.path}
    if entry.is_dir:
        item["dir"] = True
    else:
        item.update(size=entry.size, extents=[[offset, len(data)] for offset, data in entry.extents])
    if entry.xattrs:
        item["xattrs"] = {name: base64.b64encode(value).decode() for name, value in entry.xattrs}
    return item


def _entry(item: dict[str, Any], members: dict[str, bytes], prefix: str) -> FileEntry:
    xattrs = tuple((str(name), base64.b64decode(value)) for name, value in sorted(item.get("xattrs", {}).items()))
    if item.get("dir"):
        return FileEntry(str(item["path"]), xattrs=xattrs)
    data, extents, at = members[f"{prefix}files/{item['path']}"], [], 0
    for offset, length in item["extents"]:
        extents.append((int(offset), data[at:at + length]))
        at += length
    return FileEntry(str(item["path"]), int(item["size"]), tuple(extents), xattrs)
