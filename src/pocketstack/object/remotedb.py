"""Account and container database replicas on storage nodes: the wire protocol.

A database replica on a storage node is used exactly like a local one: the proxy holds
a :class:`RemoteBroker`, which has the methods of ``brokers.AccountBroker`` /
``ContainerBroker`` that the proxy and the replicators call, each one request::

    POST http://ip:port/<device>/db/<kind>/<partition>/<hash>/<operation>   {"args": {...}}
    -> 200 {"result": ...}      (404 unknown operation, 400 bad input, 507 no device)

The node (``server.py``) runs :func:`perform` on its own broker for the replica.  The
hash is the replica's directory name (the proxy has it from the ring lookup), so the
node needs no names to find the file.  Any failure -- node unreachable, an error
status -- raises ``OSError``, which the proxy counts as one replica failing, as it
does for object replicas.

Blocking; callers run it in threads.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx
else:  # only remote storage nodes are talked to over HTTP (pocketstack.common.lazy)
    from pocketstack.common.lazy import lazy

    httpx = lazy("httpx")

from pocketstack.object.brokers import AccountBroker, Broker, ContainerBroker, db_path
from pocketstack.object.layout import Location

BROKERS: dict[str, type[Broker]] = {"account": AccountBroker, "container": ContainerBroker}


def _report(broker: AccountBroker, name: str, info: dict) -> None:
    broker.report(name, lambda: info)


def _initialize(broker: Broker, put_timestamp: str, names: dict[str, str]) -> None:
    broker.initialize(put_timestamp, **names)


_COMMON: dict[str, Callable] = {"info": Broker.info, "list": Broker.list, "initialize": _initialize,
           "update_metadata": Broker.update_metadata, "mark_deleted": Broker.mark_deleted,
           "merge_from": Broker.merge_from, "all_rows": Broker.all_rows}
# Per kind, the operations a node performs: name -> function(broker, **args).
OPERATIONS: dict[str, dict[str, Callable]] = {
    "account": {**_COMMON, "totals": AccountBroker.totals, "report": _report},
    "container": {**_COMMON, "put_object": ContainerBroker.put_object},
}
# Only these create a missing database; the others answer this (or do nothing) then,
# as the proxy's callers expect of a replica that has not got the database.
CREATES = frozenset({"initialize", "merge_from"})
MISSING = {"list": [], "all_rows": [], "totals": {"container_count": 0, "object_count": 0, "bytes_used": 0}}


def perform(location: Location, operation: str, args: dict):
    """Run ``operation`` on the local replica at ``location`` (the node's side)."""
    broker = BROKERS[location.kind](db_path(location.directory))
    function = OPERATIONS[location.kind][operation]
    inspect.signature(function).bind(broker, **args)  # TypeError on bad arguments, whatever the state
    if operation not in CREATES and not broker.exists:
        return MISSING.get(operation)
    return function(broker, **args)


class RemoteBroker:
    """A database replica on a storage node, with the broker methods the proxy uses."""

    def __init__(self, client: httpx.Client, location: Location):
        self.client = client
        self.location = location
        self.url = (f"{location.node}/{location.device.name}/db/{location.kind}/{location.partition}/"
                    f"{location.name_hash}/")

    def _call(self, operation: str, **args):
        try:
            response = self.client.post(self.url + operation, json={"args": args})
        except httpx.HTTPError as error:
            raise OSError(f"{operation} on {self.location.node}: {error}") from error
        if response.status_code != 200:
            raise OSError(f"{operation} on {self.location.node}: {response.status_code} {response.text[:200]}")
        return response.json()["result"]

    @property
    def exists(self) -> bool:
        return self.info() is not None

    def info(self) -> dict | None:
        return self._call("info")

    def list(self, **query) -> list[dict]:
        return self._call("list", **query)

    def initialize(self, put_timestamp: str, **names: str) -> None:
        self._call("initialize", put_timestamp=put_timestamp, names=names)

    def update_metadata(self, updates: dict[str, str], timestamp: str) -> None:
        self._call("update_metadata", updates=updates, timestamp=timestamp)

    def mark_deleted(self, timestamp: str) -> None:
        self._call("mark_deleted", timestamp=timestamp)

    def merge_from(self, info: dict, rows: builtins.list[dict]) -> None:
        self._call("merge_from", info=info, rows=rows)

    def all_rows(self) -> builtins.list[dict]:
        return self._call("all_rows")

    def totals(self) -> dict:
        return self._call("totals")

    def report(self, name: str, container_info: Callable[[], dict | None]) -> None:
        """The container's counts, read here, copied into this account replica."""
        info = container_info()
        if info is not None:
            self._call("report", name=name, info=info)

    def put_object(self, name: str, created_at: str, size: int, content_type: str, etag: str,
                   deleted: bool) -> None:
        self._call("put_object", name=name, created_at=created_at, size=size, content_type=content_type,
                   etag=etag, deleted=deleted)
