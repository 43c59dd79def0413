"""Object replica I/O on one device: directly on local disk, or over HTTP to a storage node.

The proxy (``store.py``) does the same few things to every replica whatever holds
it -- read its state, stream a new ``.data`` in and commit it, write a ``.ts`` or
``.meta`` marker -- so those are one small interface, :class:`NodeClient`, picked per
ring device by :func:`client_for`.  :class:`LocalNode` is the all-in-one path
(``diskfile`` on this machine's directories); :class:`HttpNode` speaks Swift's
object-server protocol to ``pocketstack object-server``::

    PUT|GET|HEAD|DELETE|POST http://ip:port/<device>/<partition>/<account>/<container>/<object>

with ``X-Timestamp`` and the replica's metadata as JSON in ``X-Backend-Metadata``
(JSON keeps any UTF-8 metadata intact in an ASCII header).  A tombstone answers 404
with ``X-Backend-Timestamp``, as Swift's object server does.

An upload to a node streams the body in a chunked request fed from a queue by the
proxy's writer threads; the node computes the MD5 itself, and commits only when the
body ends cleanly.  If the proxy refuses the upload after the last byte (a bad
``Etag``, a short body) it breaks the request off instead, and the node throws its
temp file away -- so, as locally, nothing becomes visible before the proxy's checks.

Everything here blocks; callers run it in threads.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Protocol
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx
else:  # only remote storage nodes are talked to over HTTP (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    httpx = lazy("httpx")

from pocketstack.object import diskfile
from pocketstack.object.layout import Location

LOG = logging.getLogger(__name__)

METADATA_HEADER = "X-Backend-Metadata"
# How long a storage node may take to connect, or to accept or answer one chunk.
READ_TIMEOUT, CONNECT_TIMEOUT = 30.0, 3.0
TIMEOUT = {"timeout": READ_TIMEOUT, "connect": CONNECT_TIMEOUT}  # httpx.Timeout(**TIMEOUT)


class ReplicaWriter(Protocol):
    def write(self, chunk: bytes) -> None: ...
    def commit(self, timestamp: str, metadata: dict) -> None: ...
    def abort(self) -> None: ...


class NodeClient(Protocol):
    """What the proxy does to one object replica; failures raise ``OSError``."""

    def object_state(self, location: Location) -> diskfile.ObjectState: ...
    def open_writer(self, location: Location, timestamp: str, metadata: dict) -> ReplicaWriter: ...
    def write_marker(self, location: Location, timestamp: str, extension: str, metadata: dict) -> None: ...


class LocalNode:
    """Replicas in this process's own device directories."""

    def object_state(self, location: Location) -> diskfile.ObjectState:
        return diskfile.read_state(location)

    def open_writer(self, location: Location, timestamp: str, metadata: dict) -> ReplicaWriter:
        return diskfile.ObjectWriter(location)

    def write_marker(self, location: Location, timestamp: str, extension: str, metadata: dict) -> None:
        diskfile.write_marker(location, timestamp, extension, metadata)


def object_path(location: Location, account: str, container: str, obj: str) -> str:
    """``/<device>/<partition>/<account>/<container>/<object>``, quoted."""
    return "/" + "/".join(quote(part, safe="") for part in (location.device.name, str(location.partition),
                                                            account, container)) + "/" + quote(obj, safe="/")


def metadata_header(metadata: dict) -> str:
    return json.dumps(metadata, ensure_ascii=True)


class HttpNode:
    """Replicas on a storage node, over one shared connection pool."""

    def __init__(self, client: httpx.Client, account: str, container: str, obj: str):
        self.client = client
        self.names = (account, container, obj)

    def _url(self, location: Location) -> str:
        if location.node is None:
            raise ValueError(f"{location} is a replica of this node, not of a storage node")
        return location.node + object_path(location, *self.names)

    def object_state(self, location: Location) -> diskfile.ObjectState:
        """The replica's state; an unreachable node reads as holding nothing."""
        url = self._url(location)
        try:
            response = self.client.head(url)
        except httpx.HTTPError as error:
            LOG.warning("object node %s unreachable: %s", location.node, error)
            return diskfile.ObjectState()
        timestamp = response.headers.get("x-backend-timestamp", "")
        if response.status_code not in (200, 404) or not timestamp:
            return diskfile.ObjectState()
        try:
            metadata = json.loads(response.headers.get(METADATA_HEADER, "{}"))
        except ValueError:
            LOG.warning("object node %s sent bad %s", location.node, METADATA_HEADER)
            return diskfile.ObjectState()
        if response.status_code == 404:
            return diskfile.ObjectState(timestamp=timestamp, deleted=True, metadata=metadata)
        return diskfile.ObjectState(timestamp=timestamp, metadata=metadata,
                                    reader=lambda start, length: self._read(url, timestamp, start, length))

    def _read(self, url: str, timestamp: str, start: int, length: int) -> Iterator[bytes]:
        if length <= 0:
            return
        headers = {"Range": f"bytes={start}-{start + length - 1}", "X-Backend-Timestamp": timestamp}
        with self.client.stream("GET", url, headers=headers) as response:
            if response.status_code != 206:
                raise OSError(f"GET {url}: {response.status_code}")
            yield from response.iter_bytes()

    def open_writer(self, location: Location, timestamp: str, metadata: dict) -> ReplicaWriter:
        return _HttpWriter(self.client, self._url(location), timestamp, metadata)

    def write_marker(self, location: Location, timestamp: str, extension: str, metadata: dict) -> None:
        method = "DELETE" if extension == ".ts" else "POST"
        try:
            response = self.client.request(method, self._url(location), headers={
                "X-Timestamp": timestamp, METADATA_HEADER: metadata_header(metadata)})
        except httpx.HTTPError as error:
            raise OSError(f"{method} on {location.node}: {error}") from error
        if response.status_code >= 300:
            raise OSError(f"{method} on {location.node}: {response.status_code}")


_END = object()
_ABORT = object()


class _Aborted(Exception):
    """Raised inside the request body to break the upload off."""


class _HttpWriter:
    """One streamed PUT to a node: ``write`` hands chunks to the thread sending it."""

    def __init__(self, client: httpx.Client, url: str, timestamp: str, metadata: dict):
        self._chunks: queue.Queue = queue.Queue(maxsize=4)
        self._done: Future = Future()
        # The node takes everything from the metadata header (JSON: ASCII whatever the
        # Content-Type holds, which as a header of its own could not be sent).
        headers = {"X-Timestamp": timestamp, METADATA_HEADER: metadata_header(metadata)}
        threading.Thread(target=self._send, args=(client, url, headers), daemon=True,
                         name="object-node-put").start()

    def _body(self) -> Iterator[bytes]:
        while True:
            item = self._chunks.get()
            if item is _END:
                return
            if item is _ABORT:
                raise _Aborted
            yield item

    def _send(self, client: httpx.Client, url: str, headers: dict) -> None:
        try:
            self._done.set_result(client.put(url, content=self._body(), headers=headers))
        except BaseException as error:  # noqa: BLE001 - handed to the waiting writer
            self._done.set_exception(error)

    def _put(self, item) -> None:
        if self._done.done():
            raise OSError("storage node closed the upload")
        try:
            self._chunks.put(item, timeout=READ_TIMEOUT)
        except queue.Full as error:
            raise OSError("storage node stopped reading") from error

    def write(self, chunk: bytes) -> None:
        self._put(chunk)

    def commit(self, timestamp: str, metadata: dict) -> None:
        self._put(_END)
        try:
            response = self._done.result(timeout=READ_TIMEOUT + CONNECT_TIMEOUT)
        except Exception as error:
            raise OSError(f"upload failed: {error}") from error
        if response.status_code != 201 or response.headers.get("etag") != metadata["ETag"]:
            raise OSError(f"upload refused: {response.status_code}")

    def abort(self) -> None:
        if not self._done.done():
            try:
                self._chunks.put(_ABORT, timeout=READ_TIMEOUT)
            except queue.Full:
                pass  # the send is stuck; its own timeout ends it


_LOCAL = LocalNode()


class Nodes:
    """Picks the client for a replica's location: local disk or its storage node.

    The HTTP connection pool is made on first use, so an all-in-one cloud never has one.
    """

    def __init__(self) -> None:
        self._http: httpx.Client | None = None
        self._lock = threading.Lock()

    def client_for(self, location: Location, account: str, container: str, obj: str) -> NodeClient:
        if location.node is None:
            return _LOCAL
        return HttpNode(self.http(), account, container, obj)

    def http(self) -> httpx.Client:
        """The connection pool to the storage nodes (also for their databases, ``remotedb``)."""
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=httpx.Timeout(**TIMEOUT), limits=httpx.Limits(max_connections=256))
            return self._http

    def close(self) -> None:
        with self._lock:
            if self._http is not None:
                self._http.close()
                self._http = None
