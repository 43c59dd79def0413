"""A storage node: Swift's object-server protocol over the devices of one machine.

``pocketstack object-server --devices DIR --port P`` serves the device directories
under ``DIR`` (``DIR/<device>/objects/...``, the layout in ``diskfile``) to proxies
whose object ring lists this node's ip/port; the verbs and headers are the ones
``nodes.HttpNode`` sends::

    PUT    /<device>/<partition>/<account>/<container>/<object>   X-Timestamp, X-Backend-Metadata -> 201 + Etag
    GET    ...  (Range honoured)  -> 200/206 + X-Backend-Timestamp, X-Backend-Metadata
    HEAD   ...  -> 200, or 404 (with X-Backend-Timestamp when the newest file is a tombstone)
    DELETE ...  X-Timestamp -> 204 (writes a .ts);  POST ... X-Timestamp -> 202 (writes a .meta)

It also holds account and container database replicas placed on it by the account
and container rings, and serves operations on them to the proxy (``remotedb``)::

    POST   /<device>/db/<account|container>/<partition>/<hash>/<operation>  {"args": {...}} -> 200 {"result": ...}

and answers its peers' object replication (``objreplicator``: suffix hashes, the file
names of differing suffixes, pushed files) under ``/<device>/replicate/<partition>``.

Bodies stream both ways; disk work runs in threads.  Every
``object_background_interval`` seconds the auditor checks the node's own devices, the
node pushes its object replicas to the other primaries of their partitions when the
object ring is in the swift dir, and its databases to their other replicas when the
account/container rings are (``dbreplicator``).  The node trusts its network (as
Swift's object servers do): no tokens, but every bad input is a 4xx, never a 500.  The
object's hash needs the cluster's secret suffix, read from ``hash_path_suffix`` in
the node's swift dir (by default the parent of ``--devices``), as Swift reads it from
``/etc/swift/swift.conf``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pocketstack.common.errors import RangeNotSatisfiable
from pocketstack.object import diskfile, objreplicator, remotedb, timestamps
from pocketstack.object.api import body
from pocketstack.object.auditor import Auditor
from pocketstack.object.background import every
from pocketstack.object.dbreplicator import DbReplicator
from pocketstack.object.layout import DATA_DIRS, Location
from pocketstack.object.nodes import METADATA_HEADER, metadata_header
from pocketstack.object.ring import hash_path
from pocketstack.object.rings import SUFFIX_FILE

DEVICE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$")
NAME_HASH = re.compile(r"^[0-9a-f]{32}$")
MAX_PARTITION = 2**32


class _Refused(Exception):
    def __init__(self, status: int, text: str):
        super().__init__(text)
        self.response = Response(text, status_code=status, media_type="text/plain")


def _check_hash(name_hash: str) -> None:
    """A replica's directory is named by its 32-hex-digit hash; anything else is refused."""
    if not NAME_HASH.match(name_hash):
        raise _Refused(400, "bad hash")


def _metadata(request: Request, timestamp: str) -> dict:
    try:
        metadata = json.loads(request.headers.get(METADATA_HEADER, "{}"))
    except ValueError:
        raise _Refused(400, "bad X-Backend-Metadata") from None
    if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                 for k, v in metadata.items()):
        raise _Refused(400, "X-Backend-Metadata must be a JSON object of strings")
    return {**metadata, "X-Timestamp": timestamp}


def _timestamp(request: Request) -> str:
    try:
        return timestamps.normalize(request.headers["x-timestamp"])
    except (KeyError, ValueError):
        raise _Refused(400, "missing or bad X-Timestamp") from None


class ObjectServer:
    """The ASGI app for the devices under ``devices`` (``.app``); every ``interval``
    seconds (0: never) the auditor checks those devices and, given a ``replicator``
    (``dbreplicator.DbReplicator``), their account/container databases are pushed to
    the other replicas, and, given an ``object_replicator``
    (``objreplicator.ObjectReplicator``), their object replicas too."""

    def __init__(self, devices: Path, hash_suffix: str, audit_interval: float = 0, replicator=None,
                 object_replicator=None):
        self.devices = devices
        self.hash_suffix = hash_suffix
        self.audit_interval = audit_interval
        self.replicator = replicator
        self.object_replicator = object_replicator
        path = "/{device}/{partition}/{account}/{container}/{obj:path}"
        db_path_ = "/{device}/db/{kind}/{partition}/{name_hash}/{operation}"
        replicate = "/{device}/replicate/{partition}"
        self.app = Starlette(routes=[Route(db_path_, self.handle_db, methods=["POST"]),
                                     Route(replicate, self.handle_hashes, methods=["GET"]),
                                     Route(replicate + "/{suffixes}", self.handle_listing, methods=["GET"]),
                                     Route(replicate + "/{name_hash}/{filename}", self.handle_push,
                                           methods=["PUT"]),
                                     Route(path, self.handle, methods=["PUT", "GET", "HEAD", "DELETE", "POST"])],
                             lifespan=self._lifespan)

    def local_devices(self) -> list[Path]:
        return sorted(p for p in self.devices.iterdir() if p.is_dir())

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app):
        tasks = []
        if self.audit_interval > 0:
            tasks.append(asyncio.create_task(every(self.audit_interval, Auditor(self).run_once, "audit")))
            if self.replicator is not None:
                tasks.append(asyncio.create_task(every(self.audit_interval, self.replicator.run_once,
                                                       "database replication")))
            if self.object_replicator is not None:
                tasks.append(asyncio.create_task(every(self.audit_interval, self.object_replicator.run_once,
                                                       "replication")))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for replicator in (self.replicator, self.object_replicator):
                if replicator is not None:
                    replicator.close()

    def _device(self, device: str, partition: str) -> Path:
        if not DEVICE_NAME.match(device) or not partition.isdigit() or int(partition) >= MAX_PARTITION:
            raise _Refused(400, "bad device or partition")
        root = self.devices / device
        if not root.is_dir():
            raise _Refused(507, f"device {device} is not mounted")
        return root

    def _location(self, request: Request) -> Location:
        params = request.path_params
        if not all(params[k] for k in ("account", "container", "obj")):
            raise _Refused(400, "account, container and object are required")
        root = self._device(params["device"], params["partition"])
        name_hash = hash_path(params["account"], params["container"], params["obj"], suffix=self.hash_suffix).hex()
        return Location(root, int(params["partition"]), name_hash, "object")

    async def handle_db(self, request: Request) -> Response:
        """One operation on an account or container database replica (``remotedb``)."""
        params = request.path_params
        kind, operation, name_hash = params["kind"], params["operation"], params["name_hash"]
        try:
            if operation not in remotedb.OPERATIONS.get(kind, {}):
                raise _Refused(404, f"no operation {operation} on {kind} databases")
            _check_hash(name_hash)
            root = await asyncio.to_thread(self._device, params["device"], params["partition"])
            try:
                args = json.loads(await request.body())["args"]
            except (ValueError, KeyError, TypeError):
                raise _Refused(400, 'the body must be JSON: {"args": {...}}') from None
            if not isinstance(args, dict):
                raise _Refused(400, "args must be an object")
            location = Location(root, int(params["partition"]), name_hash, kind)
            try:
                result = await asyncio.to_thread(remotedb.perform, location, operation, args)
            except (TypeError, KeyError, ValueError) as error:
                raise _Refused(400, f"bad arguments for {operation}: {error}") from None
        except _Refused as refused:
            return refused.response
        except (OSError, sqlite3.Error) as error:
            return Response(f"storage error: {error}", status_code=503, media_type="text/plain")
        return JSONResponse({"result": result})

    def _partition_dir(self, request: Request) -> Path:
        params = request.path_params
        root = self._device(params["device"], params["partition"])
        return root / DATA_DIRS["object"] / str(int(params["partition"]))

    async def handle_hashes(self, request: Request) -> Response:
        """A partition's suffix hashes (Swift's ``REPLICATE``)."""
        try:
            part_dir = await asyncio.to_thread(self._partition_dir, request)
            return JSONResponse(await asyncio.to_thread(objreplicator.suffix_hashes, part_dir))
        except _Refused as refused:
            return refused.response
        except OSError as error:
            return Response(f"storage error: {error}", status_code=503, media_type="text/plain")

    async def handle_listing(self, request: Request) -> Response:
        """The file names under the asked suffixes of a partition (``-``-separated)."""
        try:
            part_dir = await asyncio.to_thread(self._partition_dir, request)
            suffixes = request.path_params["suffixes"].split("-")
            return JSONResponse(await asyncio.to_thread(objreplicator.suffix_listing, part_dir, suffixes))
        except _Refused as refused:
            return refused.response
        except OSError as error:
            return Response(f"storage error: {error}", status_code=503, media_type="text/plain")

    async def handle_push(self, request: Request) -> Response:
        """One replica file pushed by a peer's replicator."""
        params = request.path_params
        receiver = None
        try:
            _check_hash(params["name_hash"])
            root = await asyncio.to_thread(self._device, params["device"], params["partition"])
            location = Location(root, int(params["partition"]), params["name_hash"], "object")
            try:
                metadata = json.loads(request.headers[METADATA_HEADER])
            except (KeyError, ValueError):
                raise _Refused(400, f"missing or bad {METADATA_HEADER}") from None
            if not isinstance(metadata, dict):
                raise _Refused(400, f"{METADATA_HEADER} must be a JSON object")
            receiver = await asyncio.to_thread(objreplicator.FileReceiver, location, params["filename"], metadata)
            async for chunk in request.stream():
                await asyncio.to_thread(receiver.write, chunk)
            await asyncio.to_thread(receiver.commit)
        except objreplicator.RefusedFile as refused:
            if receiver is None:  # a bad file name
                return Response(str(refused), status_code=400, media_type="text/plain")
            await asyncio.to_thread(receiver.abort)
            return Response(str(refused), status_code=422, media_type="text/plain")
        except _Refused as refused:
            return refused.response
        except ClientDisconnect:
            if receiver is not None:
                await asyncio.to_thread(receiver.abort)
            return Response(status_code=499)
        except OSError as error:
            if receiver is not None:
                await asyncio.to_thread(receiver.abort)
            return Response(f"storage error: {error}", status_code=503, media_type="text/plain")
        return Response(status_code=201)

    async def handle(self, request: Request) -> Response:
        try:
            location = await asyncio.to_thread(self._location, request)
            if request.method == "PUT":
                return await self._put(request, location)
            if request.method in ("GET", "HEAD"):
                return await self._get(request, location)
            timestamp = _timestamp(request)
            extension = ".ts" if request.method == "DELETE" else ".meta"
            await asyncio.to_thread(diskfile.write_marker, location, timestamp, extension,
                                    _metadata(request, timestamp))
            return Response(status_code=204 if extension == ".ts" else 202)
        except _Refused as refused:
            return refused.response
        except OSError as error:
            return Response(f"storage error: {error}", status_code=503, media_type="text/plain")

    async def _put(self, request: Request, location: Location) -> Response:
        timestamp = _timestamp(request)
        metadata = _metadata(request, timestamp)
        writer = await asyncio.to_thread(diskfile.ObjectWriter, location)
        md5 = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                await asyncio.to_thread(_write, writer, md5, chunk)
            etag = md5.hexdigest()
            await asyncio.to_thread(writer.commit, timestamp,
                                    {**metadata, "ETag": etag, "Content-Length": str(size)})
        except ClientDisconnect:
            # The proxy broke the upload off (it refused the body): nothing becomes visible.
            await asyncio.to_thread(writer.abort)
            return Response(status_code=499)
        except BaseException:
            await asyncio.to_thread(writer.abort)
            raise
        return Response(status_code=201, headers={"Etag": etag, "X-Backend-Timestamp": timestamp})

    async def _get(self, request: Request, location: Location) -> Response:
        state = await asyncio.to_thread(diskfile.read_state, location)
        headers = {"X-Backend-Timestamp": state.timestamp, METADATA_HEADER: metadata_header(state.metadata)}
        wanted = request.headers.get("x-backend-timestamp")
        if not state.exists or (wanted and wanted != state.timestamp):
            return Response(status_code=404, headers=headers if state.timestamp else {})
        meta = state.metadata
        headers.update({"X-Timestamp": state.timestamp, "ETag": meta.get("ETag", ""),
                        "Last-Modified": timestamps.http_date(state.timestamp)})
        pieces = [body.Piece(state, 0, int(meta.get("Content-Length", 0)))]
        try:
            # In a thread: a small body is read from disk right away.
            return await asyncio.to_thread(body.respond, request.method, request.headers.get("range"), pieces,
                                           headers, meta.get("Content-Type", "application/octet-stream"))
        except RangeNotSatisfiable:
            return Response(status_code=416, headers=headers)


def _write(writer: diskfile.ObjectWriter, md5, chunk: bytes) -> None:
    md5.update(chunk)
    writer.write(chunk)


def serve(devices: Path, host: str, port: int, swift_dir: Path | None = None, audit_interval: float = 0,
          reclaim_age: float = diskfile.RECLAIM_AGE, keep_alive: float = 900.0) -> int:
    """Run a storage node until interrupted (``pocketstack object-server``)."""
    suffix_file = (swift_dir or devices.parent) / SUFFIX_FILE
    if not devices.is_dir():
        raise ValueError(f"--devices {devices} is not a directory")
    if not suffix_file.is_file():
        raise ValueError(f"no {suffix_file} (copy the proxy's <data_dir>/object/{SUFFIX_FILE})")
    suffix = suffix_file.read_text().strip()
    replicator = DbReplicator(devices, swift_dir or devices.parent, suffix, host, port, reclaim_age)
    object_replicator = objreplicator.ObjectReplicator(devices, swift_dir or devices.parent, suffix,
                                                       replicator.is_mine, reclaim_age)
    server = ObjectServer(devices, suffix, audit_interval, replicator, object_replicator)
    # The proxy pools its connections to the nodes; idle ones must outlive its pauses
    # (Settings.client_socket_timeout says why).
    uvicorn.run(server.app, host=host, port=port, log_level="warning", timeout_keep_alive=int(keep_alive))
    return 0
